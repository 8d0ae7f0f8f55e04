/**
 * Preconditions shared by every kernel: the dimension rule and finiteness. Kernels call these
 * before touching memory, so bad input becomes a typed HoloError, never a silent NaN.
 */
import { HoloError } from '../errors.js';

/** Smallest and largest supported HRR dimension D (powers of two). */
export const MIN_DIM = 256;
export const MAX_DIM = 16384;

/** True when D is a power of two in [MIN_DIM, MAX_DIM]. */
export function isSupportedDim(D: number): boolean {
  return Number.isInteger(D) && D >= MIN_DIM && D <= MAX_DIM && (D & (D - 1)) === 0;
}

/** @throws HoloError bad_dimension unless D is a power of two in [256, 16384]. */
export function checkDim(D: number): void {
  if (!isSupportedDim(D)) {
    throw new HoloError('bad_dimension', `D must be a power of two in [${MIN_DIM}, ${MAX_DIM}], got ${D}`);
  }
}

/** @throws HoloError bad_dimension if x.length !== D. */
export function checkLength(name: string, x: ArrayLike<number>, D: number): void {
  if (x.length !== D) {
    throw new HoloError('bad_dimension', `${name} has length ${x.length}, expected ${D}`);
  }
}

/** @throws HoloError bad_request if any element of x is NaN or ±Inf. */
export function checkFinite(name: string, x: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    // v - v is 0 for finite v and NaN for NaN or ±Inf: one comparison per element.
    if (v - v !== 0) {
      throw new HoloError('bad_request', `${name}[${i}] is ${v}: vectors must be finite`);
    }
  }
}

/**
 * True when every element of x is finite (monomorphic: Float32Array only). x·0 is 0 for finite
 * x and NaN for NaN or ±Inf; four independent sums keep the adds pipelined. The JS form of
 * finite.wasm's allFinite, for the fft.js engine and where that module is missing.
 */
export function allFiniteJs(x: Float32Array): boolean {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = x.length, n4 = n - (n & 3);
  let i = 0;
  for (; i < n4; i += 4) {
    s0 += x[i] * 0; s1 += x[i + 1] * 0; s2 += x[i + 2] * 0; s3 += x[i + 3] * 0;
  }
  for (; i < n; i++) s0 += x[i] * 0;
  return s0 + s1 + s2 + s3 === 0;
}

/** checkLength + checkFinite: the usual pair for an input vector. */
export function checkVector(name: string, x: ArrayLike<number>, D: number): void {
  checkLength(name, x, D);
  checkFinite(name, x);
}
