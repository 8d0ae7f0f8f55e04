/**
 * The fused Chebyshev sweep of src/kernels/graph/heat.ts (sweeps, sweep1, sweepMany) over the
 * CSR of L~ = L − I. Each row sum runs left to right as in the JS rowSum, so the result equals
 * the JS one bit for bit. Pointers: rowPtr (n+1) and col (nnz) int32, val (nnz) float64.
 *
 * No SIMD here: a CSR row is a gather (WASM has no gather load), and what made the JS slow
 * was V8's per-entry checks, which WASM does not have. Measured on the bench's 1k-node graph
 * (~20 entries per row, K = 24; µs per call, C -O3: ~264): scalar row sum unrolled by 4: 217–223
 * (kept); not unrolled: 247–252; unrolled by 8: 237–241; two rows in the two f64x2 lanes:
 * 248–252; f64x2 over pairs of entries (two scalar loads + replace_lane for b[col]): 203–209,
 * but it adds the even and odd entries apart (results move by ~1e-16), and 6% does not pay for
 * losing bit-for-bit equality with the JS.
 */

/** Σ_{p in [p, end)} val[p]·b[col[p]], left to right. p, end: entry indices. */
// @ts-ignore: decorator
@inline
function rowSum(col: usize, val: usize, b: usize, p: i32, end: i32): f64 {
  let s: f64 = 0;
  let pc = col + ((<usize>p) << 2), pv = val + ((<usize>p) << 3);
  const ec = col + ((<usize>end) << 2);
  const ec4 = ec - 12;
  for (; pc < ec4; pc += 16, pv += 32) {
    s += load<f64>(pv) * load<f64>(b + ((<usize>load<i32>(pc)) << 3));
    s += load<f64>(pv, 8) * load<f64>(b + ((<usize>load<i32>(pc, 4)) << 3));
    s += load<f64>(pv, 16) * load<f64>(b + ((<usize>load<i32>(pc, 8)) << 3));
    s += load<f64>(pv, 24) * load<f64>(b + ((<usize>load<i32>(pc, 12)) << 3));
  }
  for (; pc < ec; pc += 4, pv += 8) s += load<f64>(pv) * load<f64>(b + ((<usize>load<i32>(pc)) << 3));
  return s;
}

/** b = L~ a (T_1 from T_0). */
function first(n: i32, rowPtr: usize, col: usize, val: usize, a: usize, b: usize): void {
  for (let i = 0; i < n; i++) {
    const rp = rowPtr + ((<usize>i) << 2);
    store<f64>(b + ((<usize>i) << 3), rowSum(col, val, a, load<i32>(rp), load<i32>(rp, 4)));
  }
}

/**
 * y = Σ_{k<K} c_k T_k(L~) x. On entry a holds x (T_0); a and b (n,) are scratch, y (n,) the
 * output (no aliasing), c (K,) the coefficients. Isolated nodes are the caller's business.
 */
export function chebyshev1(n: i32, rowPtr: usize, col: usize, val: usize, a: usize, b: usize, y: usize, c: usize, K: i32): void {
  first(n, rowPtr, col, val, a, b);
  const c0 = load<f64>(c), c1 = K > 1 ? load<f64>(c, 8) : 0;
  const end = (<usize>n) << 3;
  for (let i: usize = 0; i < end; i += 8) store<f64>(y + i, c0 * load<f64>(a + i) + c1 * load<f64>(b + i));
  for (let k = 2; k < K; k++) {
    const ck = load<f64>(c + ((<usize>k) << 3));
    // a ← 2 L~ b − a; y += ck a
    let p = load<i32>(rowPtr);
    for (let i = 0; i < n; i++) {
      const e = load<i32>(rowPtr + ((<usize>(i + 1)) << 2));
      const off = (<usize>i) << 3;
      const v = 2 * rowSum(col, val, b, p, e) - load<f64>(a + off);
      store<f64>(a + off, v);
      store<f64>(y + off, load<f64>(y + off) + ck * v);
      p = e;
    }
    const t = a; a = b; b = t;
  }
}

/**
 * chebyshev1 for m coefficient sets at once: ys (m·n) holds output j at ys + j·n, cs (m·K) the
 * coefficients of output j at cs + j·K. ys[j] = Σ_k cs[j][k] T_k(L~) x.
 */
export function chebyshevMany(n: i32, rowPtr: usize, col: usize, val: usize, a: usize, b: usize, ys: usize, cs: usize, m: i32, K: i32): void {
  first(n, rowPtr, col, val, a, b);
  const yStride = (<usize>n) << 3, cStride = (<usize>K) << 3;
  for (let j = 0; j < m; j++) {
    const y = ys + (<usize>j) * yStride, c = cs + (<usize>j) * cStride;
    const c0 = load<f64>(c), c1 = K > 1 ? load<f64>(c, 8) : 0;
    for (let i: usize = 0; i < yStride; i += 8) store<f64>(y + i, c0 * load<f64>(a + i) + c1 * load<f64>(b + i));
  }
  for (let k = 2; k < K; k++) {
    const ck = cs + ((<usize>k) << 3);
    let p = load<i32>(rowPtr);
    for (let i = 0; i < n; i++) {
      const e = load<i32>(rowPtr + ((<usize>(i + 1)) << 2));
      const off = (<usize>i) << 3;
      const v = 2 * rowSum(col, val, b, p, e) - load<f64>(a + off);
      store<f64>(a + off, v);
      for (let j = 0; j < m; j++) {
        const yp = ys + (<usize>j) * yStride + off;
        store<f64>(yp, load<f64>(yp) + load<f64>(ck + (<usize>j) * cStride) * v);
      }
      p = e;
    }
    const t = a; a = b; b = t;
  }
}
