/**
 * The pointwise spectral filter of unbind (src/kernels/hrr/unbind.ts) over PFFFT's unordered
 * SIMD layout: blocks of 8 floats, four real parts then the four matching imaginary parts
 * (src/kernels/fft/pffft.ts). For each bin, in float64 exactly as the JS loop does:
 *   p = re² + im²;  s = 1 / max(p, λ)  (floor)  or  1 / (p + λ)  (add);  W = (re·s, −im·s)
 * rounded once to float32, so the result is bit-identical to the JS reference. Block 0's
 * slots 0 and 4 (DC and Nyquist, real bins) are treated as a pair here and fixed by the caller.
 * Returns how many of the (re, im) pairs had p < λ.
 */
export function pffftInverseFilter(B: usize, W: usize, D: i32, floor: bool, lambda: f64): i32 {
  const L = f64x2.splat(lambda);
  const one = f64x2.splat(1.0);
  let floored: i32 = 0;
  for (let b: i32 = 0; b < D; b += 8) {
    const re4 = v128.load(B + (<usize>b << 2));
    const im4 = v128.load(B + (<usize>b << 2), 16);
    // lanes 0, 1 and lanes 2, 3 of each float32x4, promoted to float64x2
    const reLo = f64x2.promote_low_f32x4(re4);
    const imLo = f64x2.promote_low_f32x4(im4);
    const reHi = f64x2.promote_low_f32x4(v128.shuffle<i32>(re4, re4, 2, 3, 0, 1));
    const imHi = f64x2.promote_low_f32x4(v128.shuffle<i32>(im4, im4, 2, 3, 0, 1));
    const pLo = f64x2.add(f64x2.mul(reLo, reLo), f64x2.mul(imLo, imLo));
    const pHi = f64x2.add(f64x2.mul(reHi, reHi), f64x2.mul(imHi, imHi));
    floored += popcnt<i32>(i64x2.bitmask(f64x2.lt(pLo, L))) + popcnt<i32>(i64x2.bitmask(f64x2.lt(pHi, L)));
    // max(p, λ) as the JS `p > λ ? p : λ` (both finite here)
    const sLo = floor ? f64x2.div(one, v128.bitselect(pLo, L, f64x2.gt(pLo, L))) : f64x2.div(one, f64x2.add(pLo, L));
    const sHi = floor ? f64x2.div(one, v128.bitselect(pHi, L, f64x2.gt(pHi, L))) : f64x2.div(one, f64x2.add(pHi, L));
    const wrLo = f32x4.demote_f64x2_zero(f64x2.mul(reLo, sLo));
    const wrHi = f32x4.demote_f64x2_zero(f64x2.mul(reHi, sHi));
    const wiLo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.neg(imLo), sLo));
    const wiHi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.neg(imHi), sHi));
    v128.store(W + (<usize>b << 2), v128.shuffle<i32>(wrLo, wrHi, 0, 1, 4, 5));
    v128.store(W + (<usize>b << 2), v128.shuffle<i32>(wiLo, wiHi, 0, 1, 4, 5), 16);
  }
  return floored;
}
