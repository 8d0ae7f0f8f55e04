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
  let lambda = 0, floored = 0, epsRel = 0;
  if (mode === 'approx') {
    regulariser('exact', opts, power); // validates eps, snr, beta even though approx ignores them
    hrr.engine.conjugate(B, hrr.S1);
  } else {
    lambda = regulariser(mode, opts, power);
    // beta itself when beta set λ (λ/P̄ rounds, and beta is what was asked for)
    epsRel = (mode === 'exact' ? opts.eps : opts.snr) === undefined ? opts.beta ?? DEFAULT_BETA : lambda / power;
    floored = hrr.engine.inverseFilter(B, hrr.S1, mode === 'exact' ? 'floor' : 'add', lambda);
  }
  hrr.engine.convolveSpectrum(c, hrr.S1, out);
  return { vector: checkResult(out, { c }), epsUsed: lambda, floored, epsRel };
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
