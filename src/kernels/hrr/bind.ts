import { HoloError } from '../../errors.js';
import { checkFinite, checkLength } from '../check.js';
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
  checkLength('a', a, hrr.D);
  checkLength('b', b, hrr.D);
  return checkResult(hrr.engine.convolve(a, b, out), out, { a, b });
}

/**
 * bindSpectrum(a, R) = irfft(rfft(a) · R): bind with a precomputed spectrum (for a role, its
 * role spectrum), so the call costs one forward and one inverse transform.
 * R: Float32Array (D,) in hrr.engine's layout. sameSpectrum: R is the array of the previous
 * bindSpectrum on this hrr and unchanged since (FftEngine.convolveSpectrum); a server binding a
 * batch to a role from its immutable role table passes true.
 */
export function bindSpectrum(hrr: Hrr, a: Float32Array, R: Float32Array, out: Float32Array = new Float32Array(hrr.D), sameSpectrum = false): Float32Array {
  checkLength('a', a, hrr.D);
  if (R.length !== hrr.D) throw new HoloError('bad_dimension', `spectrum has length ${R.length}, expected ${hrr.D}`);
  return checkResult(hrr.engine.convolveSpectrum(a, R, out, sameSpectrum), out, { a });
}

/**
 * Checks the result, not the inputs, on the hot path: a NaN or ±Inf anywhere in an input
 * reaches every output bin through the transform, so one pass over the output catches it (the
 * engine makes that pass, `finite`: PFFFT's inside WASM where the output lies, fft.js's in JS).
 * Only when it fails are the inputs scanned, to name the culprit; finite inputs whose result
 * is not finite overflowed float32 (|x| near 3.4e38).
 * @throws HoloError bad_request
 */
export function checkResult(finite: boolean, out: Float32Array, inputs: Record<string, Float32Array> = {}): Float32Array {
  if (!finite) {
    for (const [name, x] of Object.entries(inputs)) checkFinite(name, x);
    throw new HoloError('bad_request', 'result overflowed float32: inputs are too large');
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
