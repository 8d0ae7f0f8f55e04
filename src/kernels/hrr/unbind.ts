import { HoloError } from '../../errors.js';
import { checkFinite, checkLength } from '../check.js';
import { checkResult } from './bind.js';
import { dotF32 } from './cosine.js';
import type { Hrr } from './hrr.js';

export type UnbindMode = 'exact' | 'wiener' | 'approx';

export interface UnbindOptions {
  /** default 'exact' */
  mode?: UnbindMode;
  /**
   * Regularisation strength relative to b's mean spectral power P̄ = mean_k |B_k|² = ‖b‖²
   * (Parseval, over all D bins). Used when eps (exact) or snr (wiener) is not given:
   * exact: λ = eps = beta·P̄; wiener: λ = 1/snr = beta·P̄. Default 1e-3.
   */
  beta?: number;
  /** exact mode: absolute floor λ on |B_k|². Overrides beta. */
  eps?: number;
  /** wiener mode: signal-to-noise power ratio; λ = 1/snr. Overrides beta. */
  snr?: number;
  /** also compute relErr (unbindError: one pass over the D/2+1 bins) */
  report?: boolean;
}

export interface UnbindResult {
  vector: Float32Array;
  /** λ actually used (exact: the floor eps; wiener: 1/snr; approx: 0). */
  epsUsed: number;
  /** How many of the D/2+1 bins had |B_k|² < λ (where the floor bit). */
  floored: number;
  /**
   * λ / P̄ with P̄ = mean_k |B_k|² = ‖b‖²: the regulariser in units of b's own mean bin power
   * (= beta when beta set it), the same for b and s·b. 0 in approx mode.
   */
  epsRel: number;
  /** with opts.report: the filter's relative reconstruction error (unbindError) */
  relErr?: number;
}

export const DEFAULT_BETA = 1e-3;

/**
 * unbind(c, b) ≈ a, where c = bind(a, b). One code path: the spectral filter W depends on mode.
 *   exact:  â = irfft(C · conj(B) / max(|B|², λ)),  λ = eps  (default beta·‖b‖²)
 *   wiener: â = irfft(C · conj(B) / (|B|² + λ)),    λ = 1/snr (default beta·‖b‖²)
 *   approx: â = bind(c, b†), b†[i] = b[−i mod D]    Plate's involution (λ = 0)
 * Smaller beta (or eps, or larger snr) is closer to the exact inverse and amplifies the noise in
 * weak bins more; beta = eps/‖b‖² = 1/(snr·‖b‖²) is the one dimensionless knob.
 * c, b: Float32Array (D,); b non-zero. eps, snr, beta: positive, finite.
 * Ref: Plate 1995, IEEE Trans. Neural Networks 6(3):623–641; Wiener 1949 (deconvolution).
 * Accuracy: for unitary b every mode returns a with cosine ≥ 0.9999 (float32); for a random
 * Gaussian b at D = 8192, exact (beta 1e-3) recovers a at cosine ≥ 0.99 and approx at ≈ 0.7
 * (test/kernels/hrr.test.ts measures both).
 * @throws HoloError bad_dimension (length ≠ D) | bad_request (NaN, Inf, zero b, bad eps/snr/beta)
 */
export function unbind(hrr: Hrr, c: Float32Array, b: Float32Array, opts: UnbindOptions = {}, out: Float32Array = new Float32Array(hrr.D)): UnbindResult {
  checkLength('c', c, hrr.D);
  checkLength('b', b, hrr.D);
  const power = dotF32(b, b);
  if (!Number.isFinite(power)) checkFinite('b', b);
  if (power === 0) throw new HoloError('bad_request', 'cannot unbind by a zero vector');
  hrr.engine.forward(b, hrr.S2);
  return unbindSpectrum(hrr, c, hrr.S2, power, opts, out);
}

/**
 * unbindSpectrum(c, B, P̄): unbind with b given by its spectrum B (engine layout) and its
 * mean power P̄ = ‖b‖². The one code path behind unbind and unbindRole: the filter W is
 * conj(B) (approx; the spectrum of b† is conj(B)), conj(B)/max(|B|², λ) (exact) or
 * conj(B)/(|B|² + λ) (wiener), then â = irfft(C · W).
 */
export function unbindSpectrum(hrr: Hrr, c: Float32Array, B: Float32Array, power: number, opts: UnbindOptions = {}, out: Float32Array = new Float32Array(hrr.D)): UnbindResult {
  checkLength('c', c, hrr.D);
  if (B.length !== hrr.D) throw new HoloError('bad_dimension', `spectrum has length ${B.length}, expected ${hrr.D}`);
  const mode = opts.mode ?? 'exact';
  let lambda = 0, floored = 0, epsRel = 0, relErr: number | undefined;
  if (mode === 'approx') {
    regulariser('exact', opts, power); // validates eps, snr, beta even though approx ignores them
    if (opts.report) relErr = unbindError(hrr, B, mode, 0);
    hrr.engine.conjugate(B, hrr.S1);
  } else {
    lambda = regulariser(mode, opts, power);
    // beta itself when beta set λ (λ/P̄ rounds, and beta is what was asked for)
    epsRel = (mode === 'exact' ? opts.eps : opts.snr) === undefined ? opts.beta ?? DEFAULT_BETA : lambda / power;
    if (opts.report) relErr = unbindError(hrr, B, mode, lambda);
    floored = hrr.engine.inverseFilter(B, hrr.S1, mode === 'exact' ? 'floor' : 'add', lambda);
  }
  const finite = hrr.engine.convolveSpectrum(c, hrr.S1, out);
  return { vector: checkResult(finite, out, { c }), epsUsed: lambda, floored, epsRel, relErr };
}

/**
 * unbindRole(c, R): unbind a role given its role spectrum R (|R_k| = 1, ‖role‖ = 1). In every
 * mode with the default beta this is irfft(C · conj(R)), the exact inverse: no regulariser bites
 * because every bin has power 1 ≥ λ (exact); wiener divides by 1 + λ.
 */
export function unbindRole(hrr: Hrr, c: Float32Array, R: Float32Array, opts: UnbindOptions = {}, out: Float32Array = new Float32Array(hrr.D)): UnbindResult {
  return unbindSpectrum(hrr, c, R, 1, opts, out);
}

/** λ for exact or wiener mode from the options; validates them. */
export function regulariser(mode: UnbindMode, opts: UnbindOptions, power: number): number {
  if (mode !== 'exact' && mode !== 'wiener') {
    throw new HoloError('bad_request', `unknown unbind mode '${String(mode)}' (exact | wiener | approx)`);
  }
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v))) {
      throw new HoloError('bad_request', `${name} must be a positive finite number, got ${String(v)}`);
    }
  };
  positive('beta', opts.beta);
  positive('eps', opts.eps);
  positive('snr', opts.snr);
  const beta = opts.beta ?? DEFAULT_BETA;
  if (mode === 'exact') return opts.eps ?? beta * power;
  return opts.snr !== undefined ? 1 / opts.snr : beta * power;
}

/**
 * unbindError(B, mode, λ) → ‖â − a‖ / ‖a‖ of unbind for every a with a flat spectrum (|A_k|
 * constant: a basis vector e_i, an impulse) and c = bind(a, b) exactly, and the expected value
 * for a white random a: the filter's response is H_k = |B_k|²/max(|B_k|², λ) (exact),
 * |B_k|²/(|B_k|² + λ) (wiener), |B_k|² (approx), so by Parseval
 *   relErr² = (1/D) Σ_{k<D} (1 − H_k)²,
 * bins 1..D/2−1 counted twice (a real signal's spectrum is Hermitian). For a unitary b
 * (|B_k| = 1): 0 (exact, λ ≤ 1), λ/(1 + λ) (wiener), 0 (approx).
 * B: b's spectrum (engine layout); λ as unbind used it (epsUsed).
 */
export function unbindError(hrr: Hrr, B: Float32Array, mode: UnbindMode, lambda: number): number {
  const D = hrr.D, layout = hrr.engine.layout;
  const m = mode === 'approx' ? 0 : mode === 'exact' ? 1 : 2;
  // The sum does not depend on bin order, so the engine's own layout is read in place (no
  // reorder, no allocation): DC and Nyquist are real and counted once, every other bin twice.
  let s: number;
  if (layout === 'pffft-simd4') {
    // D/8 blocks of four real parts then their four imaginary parts; block 0 slots 0 and 4: DC, Nyquist.
    s = binError(B[0] * B[0], m, lambda) + binError(B[4] * B[4], m, lambda);
    let pairs = 0;
    for (let b = 0; b < D; b += 8) {
      for (let i = b === 0 ? 1 : 0; i < 4; i++) { const re = B[b + i], im = B[b + i + 4]; pairs += binError(re * re + im * im, m, lambda); }
    }
    s += 2 * pairs;
  } else if (layout === 'fftjs-ccs') {
    // X[0] = Re F_0, X[1] = Re F_{D/2}, then (Re, Im) pairs.
    s = binError(B[0] * B[0], m, lambda) + binError(B[1] * B[1], m, lambda);
    let pairs = 0;
    for (let k = 2; k < D; k += 2) pairs += binError(B[k] * B[k] + B[k + 1] * B[k + 1], m, lambda);
    s += 2 * pairs;
  } else {
    const Z = hrr.engine.toComplex(B);
    s = 0;
    for (let k = 0; k <= D / 2; k++) s += (k === 0 || k === D / 2 ? 1 : 2) * binError(Z[2 * k] * Z[2 * k] + Z[2 * k + 1] * Z[2 * k + 1], m, lambda);
  }
  return Math.sqrt(s / D);
}

/** (1 − H)² for one bin of power p: m = 0 approx (H = p), 1 exact (H = min(1, p/λ)), 2 wiener (H = p/(p + λ)). */
function binError(p: number, m: number, lambda: number): number {
  const e = m === 0 ? 1 - p : m === 1 ? (p >= lambda ? 0 : 1 - p / lambda) : lambda / (p + lambda);
  return e * e;
}
