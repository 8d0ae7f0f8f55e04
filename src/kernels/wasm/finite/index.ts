/**
 * allFinite(p, n): 1 when the n float32 at byte offset p are all finite, else 0. A binary32 is
 * NaN or ±Inf exactly when its eight exponent bits (23–30) are all ones (IEEE 754-2019 §3.4),
 * so each lane ORs ((x & 0x7f800000) == 0x7f800000) into a mask: integer ops only, two
 * independent masks, one test at the end.
 * This module imports PFFFT's memory (src/kernels/fft/pffft.ts), so the check reads the
 * transform's output where it lies, before it is copied out.
 */
export function allFinite(p: usize, n: i32): i32 {
  const exp = i32x4.splat(0x7f800000);
  let m0 = i32x4.splat(0), m1 = i32x4.splat(0);
  const n8 = n & ~7;
  let i: i32 = 0;
  for (; i < n8; i += 8) {
    const o = p + (<usize>i << 2);
    m0 = v128.or(m0, i32x4.eq(v128.and(v128.load(o), exp), exp));
    m1 = v128.or(m1, i32x4.eq(v128.and(v128.load(o, 16), exp), exp));
  }
  if (v128.any_true(v128.or(m0, m1))) return 0;
  for (; i < n; i++) if ((load<u32>(p + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return 0;
  return 1;
}
