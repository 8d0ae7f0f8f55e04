import { HoloError } from '../../errors.js';
import { checkVector } from '../check.js';
import type { Hrr } from './hrr.js';

/**
 * bind(a, b) = a ⊛ b, circular convolution: (a ⊛ b)[j] = Σ_i a[i] · b[(j − i) mod D],
 * computed as irfft(rfft(a) · rfft(b)) in O(D log D).
 * a, b: Float32Array (D,). out: (D,), may alias a or b; allocated when omitted.
 * Ref: Plate 1995, IEEE Trans. Neural Networks 6(3):623–641, §II.
 * Accuracy: max |error| ≤ 1e-6·‖a‖‖b‖ with pffft (float32; measured ≤ 5e-8 against numpy at
 * D = 256…8192); with fft.js the float64 result rounded once to float32 (≤ 1 ulp per element).
 * Example: D = 4 (for illustration; servers use D ≥ 256): bind([1,2,3,4], [0,1,0,0]) = [4,1,2,3]
 * (δ₁ rotates by one). test/kernels/hrr.test.ts asserts the same at D = 256.
 * @throws HoloError bad_dimension (length ≠ D) | bad_request (NaN, Inf)
 */
export function bind(hrr: Hrr, a: Float32Array, b: Float32Array, out: Float32Array = new Float32Array(hrr.D)): Float32Array {
  checkVector('a', a, hrr.D);
  checkVector('b', b, hrr.D);
  hrr.engine.convolve(a, b, out);
  return checkResult(out);
}

/**
 * bindSpectrum(a, R) = irfft(rfft(a) · R): bind with a precomputed spectrum (for a role, its
 * role spectrum), so the call costs one forward and one inverse transform.
 * R: Float32Array (D,) in hrr.engine's layout.
 */
export function bindSpectrum(hrr: Hrr, a: Float32Array, R: Float32Array, out: Float32Array = new Float32Array(hrr.D)): Float32Array {
  checkVector('a', a, hrr.D);
  if (R.length !== hrr.D) throw new HoloError('bad_dimension', `spectrum has length ${R.length}, expected ${hrr.D}`);
  hrr.engine.convolveSpectrum(a, R, out);
  return checkResult(out);
}

/** Finite inputs can still overflow float32 (|x| near 3.4e38): say so instead of returning Inf. */
export function checkResult(out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v - v !== 0) throw new HoloError('bad_request', 'result overflowed float32: inputs are too large');
  }
  return out;
}

/**
 * Plate's involution b†[i] = b[−i mod D]: the approximate inverse, exact for unitary b.
 * NengoSPA's example: [1, 2, 3, 4, 5] ↦ [1, 5, 4, 3, 2]. out must not alias b.
 */
export function involution(b: Float32Array, out: Float32Array = new Float32Array(b.length)): Float32Array {
  const D = b.length;
  out[0] = b[0];
  for (let i = 1; i < D; i++) out[i] = b[D - i];
  return out;
}
