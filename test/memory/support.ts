/**
 * Helpers shared by the memory tests (test/memory/*.test.ts).
 */
import { HoloError } from '../../src/errors.js';

export { rng } from '../../bench/seeded.js';

/** A float32 vector's bits as plain numbers, for bit-for-bit comparison. */
export function bits(v: Float32Array): number[] {
  return [...new Uint32Array(v.buffer, v.byteOffset, v.length)];
}

/** The HoloError code f throws: 'none' if it returns, a description if it throws something else. */
export function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof HoloError ? e.code : `not a HoloError: ${String(e)}`;
  }
  return 'none';
}
