/**
 * exp and log exactly as V8 computes Math.exp and Math.log (src/base/ieee754.cc: fdlibm 5.3's
 * e_exp.c and e_log.c, Sun Microsystems, Inc., 1993: "Permission to use, copy, modify, and
 * distribute this software is freely granted, provided that this notice is preserved."), so the
 * WASM log-domain steps round as the JS ones do, bit for bit. (AssemblyScript's own Math.exp is
 * musl's table-driven one: as accurate, but different last bits.) Checked against Math.exp and
 * Math.log on 5e6 random arguments plus the special values, no mismatch; expPair against exp on
 * 1e7 (test/kernels/sinkhorn.test.ts checks samples of both and compares the engines' plans).
 */

// @ts-ignore: decorator
@inline
function fromWords(hi: u32, lo: u32): f64 {
  return reinterpret<f64>((<u64>hi << 32) | <u64>lo);
}

/** e^x, fdlibm's __ieee754_exp as in V8 (with its exp(1) = E special case). */
export function exp(x: f64): f64 {
  const o_threshold: f64 = 7.09782712893383973096e+02;
  const u_threshold: f64 = -7.45133219101941108420e+02;
  const ln2HI: f64 = 6.93147180369123816490e-01;
  const ln2LO: f64 = 1.90821492927058770002e-10;
  const invln2: f64 = 1.44269504088896338700e+00;
  const P1: f64 = 1.66666666666666019037e-01, P2: f64 = -2.77777777770155933842e-03;
  const P3: f64 = 6.61375632143793436117e-05, P4: f64 = -1.65339022054652515390e-06;
  const P5: f64 = 4.13813679705723846039e-08;
  const E: f64 = 2.718281828459045;
  const huge: f64 = 1.0e+300, twom1000: f64 = 9.33263618503218878990e-302, two1023: f64 = 8.988465674311579539e307;

  const bits = reinterpret<u64>(x);
  let hx = <u32>(bits >> 32);
  const xsb = hx >> 31;
  hx &= 0x7fffffff;
  if (hx >= 0x40862E42) { // |x| ≥ 709.78…
    if (hx >= 0x7FF00000) {
      if (((hx & 0xFFFFF) | <u32>bits) != 0) return x + x; // NaN
      return xsb == 0 ? x : 0.0; // exp(±Inf) = Inf, 0
    }
    if (x > o_threshold) return huge * huge;
    if (x < u_threshold) return twom1000 * twom1000;
  }
  let hi: f64 = 0, lo: f64 = 0, k: i32 = 0;
  if (hx > 0x3FD62E42) { // |x| > 0.5 ln2
    if (hx < 0x3FF0A2B2) { // and |x| < 1.5 ln2
      if (x == 1.0) return E;
      if (xsb == 0) { hi = x - ln2HI; lo = ln2LO; k = 1; } else { hi = x + ln2HI; lo = -ln2LO; k = -1; }
    } else {
      k = <i32>(invln2 * x + (xsb == 0 ? 0.5 : -0.5));
      const t = <f64>k;
      hi = x - t * ln2HI; // exact here
      lo = t * ln2LO;
    }
    x = hi - lo;
  } else if (hx < 0x3E300000) { // |x| < 2^-28
    if (huge + x > 1.0) return 1.0 + x;
  }
  const t = x * x;
  const twopk = k >= -1021 ? fromWords(<u32>(0x3FF00000 + (k << 20)), 0) : fromWords(<u32>(0x3FF00000 + ((k + 1000) << 20)), 0);
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * two1023;
    return y * twopk;
  }
  return y * twopk * twom1000;
}

/** ln x, fdlibm's __ieee754_log as in V8. */
export function log(x: f64): f64 {
  const ln2_hi: f64 = 6.93147180369123816490e-01, ln2_lo: f64 = 1.90821492927058770002e-10;
  const two54: f64 = 1.80143985094819840000e+16;
  const Lg1: f64 = 6.666666666666735130e-01, Lg2: f64 = 3.999999999940941908e-01;
  const Lg3: f64 = 2.857142874366239149e-01, Lg4: f64 = 2.222219843214978396e-01;
  const Lg5: f64 = 1.818357216161805012e-01, Lg6: f64 = 1.531383769920937332e-01;
  const Lg7: f64 = 1.479819860511658591e-01;

  let bits = reinterpret<u64>(x);
  let hx = <i32>(bits >> 32);
  const lx = <u32>bits;
  let k: i32 = 0;
  if (hx < 0x00100000) { // x < 2^-1022
    if (((hx & 0x7FFFFFFF) | lx) == 0) return -Infinity; // log(±0)
    if (hx < 0) return NaN; // log(negative)
    k -= 54;
    x *= two54; // subnormal: scale up
    bits = reinterpret<u64>(x);
    hx = <i32>(bits >> 32);
  }
  if (hx >= 0x7FF00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000FFFFF;
  let i = (hx + 0x95F64) & 0x100000;
  x = reinterpret<f64>((<u64>(<u32>(hx | (i ^ 0x3FF00000))) << 32) | (reinterpret<u64>(x) & 0xFFFFFFFF)); // x or x/2 in [√2/2, √2)
  k += i >> 20;
  const f = x - 1.0;
  if ((0x000FFFFF & (2 + hx)) < 3) { // −2^-20 ≤ f < 2^-20
    if (f == 0) {
      if (k == 0) return 0;
      const dk = <f64>k;
      return dk * ln2_hi + dk * ln2_lo;
    }
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const dk = <f64>k;
    return dk * ln2_hi - ((R - dk * ln2_lo) - f);
  }
  const s = f / (2.0 + f);
  const dk = <f64>k;
  const z = s * s;
  i = hx - 0x6147A;
  const w = z * z;
  const j = 0x6B851 - hx;
  const t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  i |= j;
  const R = t2 + t1;
  if (i > 0) {
    const hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + R));
    return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
  }
  if (k == 0) return f - s * (f - R);
  return dk * ln2_hi - ((s * (f - R) - dk * ln2_lo) - f);
}

/** |x| from which exp's main path runs (high word 0x3FF0A2B2: 1.5 ln 2, rounded as fdlibm tests it). */
const EXP_LOW: f64 = 1.0397207708399179;
/** |x| below which that path also needs no special scaling (k ≥ −1021, k < 1024). */
const EXP_HIGH: f64 = 708.0;

/**
 * exp on both lanes of x, each bit for bit as exp above: lanes with 1.5 ln2 ≤ |x| < 708 (fdlibm's
 * main path: k = trunc(x/ln2 ± 1/2), 2^k a plain power of two) go through f64x2 operations,
 * the same ones in the same order; if either lane is outside (near 0, huge, NaN), both take the
 * scalar exp.
 */
// @ts-ignore: decorator
@inline
export function expPair(x: v128): v128 {
  const ax = f64x2.abs(x);
  const main = v128.and(f64x2.ge(ax, f64x2.splat(EXP_LOW)), f64x2.lt(ax, f64x2.splat(EXP_HIGH)));
  if (!i64x2.all_true(main)) {
    return f64x2.replace_lane(f64x2.splat(exp(f64x2.extract_lane(x, 0))), 1, exp(f64x2.extract_lane(x, 1)));
  }
  const ln2HI = f64x2.splat(6.93147180369123816490e-01);
  const ln2LO = f64x2.splat(1.90821492927058770002e-10);
  const P1 = f64x2.splat(1.66666666666666019037e-01), P2 = f64x2.splat(-2.77777777770155933842e-03);
  const P3 = f64x2.splat(6.61375632143793436117e-05), P4 = f64x2.splat(-1.65339022054652515390e-06);
  const P5 = f64x2.splat(4.13813679705723846039e-08);
  const one = f64x2.splat(1.0), two = f64x2.splat(2.0);
  // ±0.5 with x's sign: halF[xsb]
  const half = v128.or(v128.and(x, i64x2.splat(0x8000000000000000)), f64x2.splat(0.5));
  const t = f64x2.trunc(f64x2.add(f64x2.mul(f64x2.splat(1.44269504088896338700e+00), x), half)); // (double)k
  const hi = f64x2.sub(x, f64x2.mul(t, ln2HI));
  const lo = f64x2.mul(t, ln2LO);
  const r = f64x2.sub(hi, lo);
  const tt = f64x2.mul(r, r);
  const p = f64x2.add(P1, f64x2.mul(tt, f64x2.add(P2, f64x2.mul(tt, f64x2.add(P3, f64x2.mul(tt, f64x2.add(P4, f64x2.mul(tt, P5))))))));
  const c = f64x2.sub(r, f64x2.mul(tt, p));
  const y = f64x2.sub(one, f64x2.sub(f64x2.sub(lo, f64x2.div(f64x2.mul(r, c), f64x2.sub(two, c))), hi));
  // 2^k: (k + 1023) << 52, k from t exactly (|k| < 1024)
  const k = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(t));
  const twopk = i64x2.shl(i64x2.add(k, i64x2.splat(1023)), 52);
  return f64x2.mul(y, twopk);
}
