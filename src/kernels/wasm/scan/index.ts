/**
 * The recall scans (src/kernels/wasm/scan.ts loads this as dist/scan.wasm): exact top-k by dot
 * product over a float32 slab, sign codes, Hamming top-k over codes, and float64 rescoring.
 * The module IMPORTS its memory: one shared WebAssembly.Memory per thread that holds every
 * tenant's slab and codes (allocated by src/kernels/wasm/slab-heap.ts), so a scan reads the
 * slab in place, and the memory can grow without detaching anything (a shared memory's grow
 * never detaches; the fixed 256 MiB of kernels.wasm was fixed for exactly that reason).
 * No static data, no allocator: every pointer is a byte offset chosen by the caller, and the
 * first 64 KiB of the memory are left to this module.
 *
 * Top lists: `m` entries, scores non-increasing (distances non-decreasing), an item enters a
 * full list only when strictly better than its last entry, and equal scores keep slot order:
 * the same rule as src/memory/recall.ts, so ties resolve identically.
 */

// ---- exact scan: f32x4, eight rows per pass, one accumulator per row ----
// Eight rows at a time keep eight independent streams of loads in flight, which is what an
// out-of-cache scan needs (measured against 1, 2, 4, 6, 10 and 12 rows, 1–8 accumulators per
// row, 4–32 floats per step and FMA: issue #10's note); sixteen XMM registers hold the eight
// accumulators, the query step and a temporary without a spill.

/** (l0 + l1) + (l2 + l3) of one accumulator: the fixed order every row is finished in. */
@inline function hsum(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

/** One row's dot product: the same lanes and order as each row of scanTopK's passes (slot-independent scores). */
function dot1(r: usize, q: usize, D: i32): f32 {
  let a = f32x4.splat(0);
  const D4 = D & ~3;
  let i: i32 = 0;
  for (; i < D4; i += 4) {
    const o = <usize>i << 2;
    a = f32x4.add(a, f32x4.mul(v128.load(r + o), v128.load(q + o)));
  }
  let s = hsum(a);
  for (; i < D; i++) s += load<f32>(r + (<usize>i << 2)) * load<f32>(q + (<usize>i << 2));
  return s;
}

/** Inserts (s, j) into the top list (scores at ts, slots at ti), filled entries so far; returns the new fill. */
@inline function offer(ts: usize, ti: usize, m: i32, filled: i32, s: f32, j: i32): i32 {
  let at: i32;
  if (filled < m) at = filled++;
  else if (s > load<f32>(ts + (<usize>(m - 1) << 2))) at = m - 1;
  else return filled;
  while (at > 0 && load<f32>(ts + (<usize>(at - 1) << 2)) < s) {
    store<f32>(ts + (<usize>at << 2), load<f32>(ts + (<usize>(at - 1) << 2)));
    store<i32>(ti + (<usize>at << 2), load<i32>(ti + (<usize>(at - 1) << 2)));
    at--;
  }
  store<f32>(ts + (<usize>at << 2), s);
  store<i32>(ti + (<usize>at << 2), j);
  return filled;
}

/**
 * The best min(m, n) rows of slab (n rows of D float32) by s_j = Σ_i slab[j·D + i]·q[i],
 * float32 arithmetic (lanes i mod 4 summed apart, in index order, then combined as hsum does),
 * into ts (f32 scores) and ti (i32 slots), best first. Returns how many were filled.
 */
export function scanTopK(slab: usize, n: i32, D: i32, q: usize, m: i32, ts: usize, ti: usize): i32 {
  let filled: i32 = 0;
  const rowBytes = <usize>D << 2;
  const D4 = D & ~3;
  const n8 = n & ~7;
  let j: i32 = 0;
  for (; j < n8; j += 8) {
    const r0 = slab + <usize>j * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const r3 = r2 + rowBytes;
    const r4 = r3 + rowBytes;
    const r5 = r4 + rowBytes;
    const r6 = r5 + rowBytes;
    const r7 = r6 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    let i: i32 = 0;
    for (; i < D4; i += 4) {
      const o = <usize>i << 2;
      const x = v128.load(q + o);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(r0 + o), x));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(r1 + o), x));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(r2 + o), x));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(r3 + o), x));
      a4 = f32x4.add(a4, f32x4.mul(v128.load(r4 + o), x));
      a5 = f32x4.add(a5, f32x4.mul(v128.load(r5 + o), x));
      a6 = f32x4.add(a6, f32x4.mul(v128.load(r6 + o), x));
      a7 = f32x4.add(a7, f32x4.mul(v128.load(r7 + o), x));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    let s4 = hsum(a4), s5 = hsum(a5), s6 = hsum(a6), s7 = hsum(a7);
    for (; i < D; i++) {
      const o = <usize>i << 2;
      const x = load<f32>(q + o);
      s0 += load<f32>(r0 + o) * x;
      s1 += load<f32>(r1 + o) * x;
      s2 += load<f32>(r2 + o) * x;
      s3 += load<f32>(r3 + o) * x;
      s4 += load<f32>(r4 + o) * x;
      s5 += load<f32>(r5 + o) * x;
      s6 += load<f32>(r6 + o) * x;
      s7 += load<f32>(r7 + o) * x;
    }
    filled = offer(ts, ti, m, filled, s0, j);
    filled = offer(ts, ti, m, filled, s1, j + 1);
    filled = offer(ts, ti, m, filled, s2, j + 2);
    filled = offer(ts, ti, m, filled, s3, j + 3);
    filled = offer(ts, ti, m, filled, s4, j + 4);
    filled = offer(ts, ti, m, filled, s5, j + 5);
    filled = offer(ts, ti, m, filled, s6, j + 6);
    filled = offer(ts, ti, m, filled, s7, j + 7);
  }
  for (; j < n; j++) filled = offer(ts, ti, m, filled, dot1(slab + <usize>j * rowBytes, q, D), j);
  return filled;
}

// ---- float64 rescoring of chosen rows ----

/**
 * out[c] = qInv · Σ_i f64(slab[idx[c]·D + i])·f64(q[i]) for c < count: the exact cosine of the
 * chosen rows to the query (q float32 as received, qInv = 1/‖q‖ in float64), two f64x2 lanes.
 */
export function rescore(slab: usize, D: i32, q: usize, qInv: f64, idx: usize, count: i32, out: usize): void {
  const rowBytes = <usize>D << 2;
  const D4 = D & ~3;
  for (let c: i32 = 0; c < count; c++) {
    const r = slab + <usize>load<i32>(idx + (<usize>c << 2)) * rowBytes;
    let a = f64x2.splat(0), b = f64x2.splat(0);
    let i: i32 = 0;
    for (; i < D4; i += 4) {
      const o = <usize>i << 2;
      const x = v128.load(r + o), y = v128.load(q + o);
      a = f64x2.add(a, f64x2.mul(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(y)));
      b = f64x2.add(b, f64x2.mul(
        f64x2.promote_low_f32x4(v128.shuffle<i32>(x, x, 2, 3, 0, 1)),
        f64x2.promote_low_f32x4(v128.shuffle<i32>(y, y, 2, 3, 0, 1))));
    }
    const s2 = f64x2.add(a, b);
    let s = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
    for (; i < D; i++) s += <f64>load<f32>(r + (<usize>i << 2)) * <f64>load<f32>(q + (<usize>i << 2));
    store<f64>(out + (<usize>c << 3), s * qInv);
  }
}

// ---- 1-bit codes ----

/**
 * Sign code of a vector: bit b of 64-bit word w is the sign bit of x[64w + b] (1 for negative,
 * −0 included), words = ceil(D/64), the bits past D are 0. i32x4.bitmask reads four sign bits.
 */
export function signCode(x: usize, D: i32, out: usize): void {
  const W = (D + 63) >> 6;
  for (let w: i32 = 0; w < W; w++) {
    let word: u64 = 0;
    const base = w << 6;
    const end = min(base + 64, D);
    let i = base;
    for (; i + 4 <= end; i += 4) word |= <u64>i32x4.bitmask(v128.load(x + (<usize>i << 2))) << <u64>(i - base);
    for (; i < end; i++) word |= <u64>(load<u32>(x + (<usize>i << 2)) >>> 31) << <u64>(i - base);
    store<u64>(out + (<usize>w << 3), word);
  }
}

/**
 * The min(m, n) codes (W u64 words each, contiguous) nearest to qc in Hamming distance
 * popcount(code_j XOR qc), into td (i32 distances, non-decreasing) and ti (slots); ties keep slot
 * order. Returns how many were filled.
 */
export function hammingTopK(codes: usize, n: i32, W: i32, qc: usize, m: i32, td: usize, ti: usize): i32 {
  let filled: i32 = 0;
  let worst: i32 = i32.MAX_VALUE;
  const rowBytes = <usize>W << 3;
  const W2 = W & ~1;
  for (let j: i32 = 0; j < n; j++) {
    const r = codes + <usize>j * rowBytes;
    let d0: i64 = 0, d1: i64 = 0;
    let w: i32 = 0;
    for (; w < W2; w += 2) {
      const o = <usize>w << 3;
      d0 += popcnt<i64>(load<u64>(r + o) ^ load<u64>(qc + o));
      d1 += popcnt<i64>(load<u64>(r + o, 8) ^ load<u64>(qc + o, 8));
    }
    if (w < W) d0 += popcnt<i64>(load<u64>(r + (<usize>w << 3)) ^ load<u64>(qc + (<usize>w << 3)));
    const d = <i32>(d0 + d1);
    let at: i32;
    if (filled < m) at = filled++;
    else if (d < worst) at = m - 1;
    else continue;
    while (at > 0 && load<i32>(td + (<usize>(at - 1) << 2)) > d) {
      store<i32>(td + (<usize>at << 2), load<i32>(td + (<usize>(at - 1) << 2)));
      store<i32>(ti + (<usize>at << 2), load<i32>(ti + (<usize>(at - 1) << 2)));
      at--;
    }
    store<i32>(td + (<usize>at << 2), d);
    store<i32>(ti + (<usize>at << 2), j);
    if (filled == m) worst = load<i32>(td + (<usize>(m - 1) << 2));
  }
  return filled;
}
