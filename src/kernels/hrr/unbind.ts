import { HoloError } from '../../errors.js';
import { checkVector } from '../check.js';
import { checkResult, involution } from './bind.js';
import { dot } from './cosine.js';
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
export function unbind(hrr: Hrr, c: Float32Array, b: Float32Array, opts: UnbindOptions = {}, out = new Float32Array(hrr.D)): UnbindResult {
  const mode = opts.mode ?? 'exact';
  checkVector('c', c, hrr.D);
  checkVector('b', b, hrr.D);
  const power = dot(b, b);
  if (power === 0) throw new HoloError('bad_request', 'cannot unbind by a zero vector');
  if (mode === 'approx') {
    hrr.engine.convolve(c, involution(b, hrr.v1), out);
    return { vector: checkResult(out), epsUsed: 0, floored: 0 };
  }
  const lambda = regulariser(mode, opts, power);
  hrr.engine.forward(b, hrr.S1);
  const floored = hrr.engine.inverseFilter(hrr.S1, hrr.S1, mode === 'exact' ? 'floor' : 'add', lambda);
  hrr.engine.convolveSpectrum(c, hrr.S1, out);
  return { vector: checkResult(out), epsUsed: lambda, floored };
}

/**
 * unbindSpectrum(c, R) = irfft(C · conj(R)): the exact inverse of a role (unitary spectrum R,
 * |R_k| = 1, so conj(R) = 1/R and no regulariser is needed).
 */
export function unbindRole(hrr: Hrr, c: Float32Array, R: Float32Array, out = new Float32Array(hrr.D)): UnbindResult {
  checkVector('c', c, hrr.D);
  if (R.length !== hrr.D) throw new HoloError('bad_dimension', `spectrum has length ${R.length}, expected ${hrr.D}`);
  hrr.engine.conjugate(R, hrr.S2);
  hrr.engine.convolveSpectrum(c, hrr.S2, out);
  return { vector: checkResult(out), epsUsed: 0, floored: 0 };
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
