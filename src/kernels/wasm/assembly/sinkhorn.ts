/**
 * iterate of src/kernels/ot/sinkhorn.ts in WASM: the scaling half-steps (uStep, vStep) with
 * f64x2 products, the log-domain steps (logRow, logCol, absorb), and the loop around them.
 * Every value sees exactly the operations of the JS code in the same order (WASM has no FMA
 * contraction; exp and log are V8's fdlibm ones, ./fdlibm.ts, two lanes at a time in expPair),
 * so the iterates equal the JS ones bit for bit. Arguments are byte pointers into this memory;
 * n, m as in the JS.
 */
import { exp, expPair, log } from './fdlibm';

const TAU: f64 = 1e50;
const INV_TAU: f64 = 1 / TAU;

/**
 * out = Mᵀx for M (rows, cols) row-major, each out_c as the JS gemvT forms it: over blocks of
 * eight rows, out_c += ((x0 M0c + x1 M1c) + (x2 M2c + x3 M3c)) + ((x4 M4c + x5 M5c) + (x6 M6c +
 * x7 M7c)), then out_c += x_r M_rc for the rows left, starting from 0. Here out_c stays in a
 * register through the blocks, four columns at a time in two f64x2; leftover rows and columns
 * are done by gemvTail. Measured 0.70 µs for 64×64 against 0.87 µs when this one function also
 * held the leftovers (TurboFan then kept fewer values in registers) and ~0.85 µs for the
 * block-into-memory order of the JS; with no FMA in WASM SIMD, 4096 multiplies and adds on two
 * ports take ~0.7 µs at 2.9 GHz: this is the bound.
 */
function gemvT(M: usize, rows: i32, cols: i32, x: usize, out: usize): void {
  const stride = (<usize>cols) << 3;
  const blk = stride << 3;
  const blocksEnd = M + (<usize>(rows >> 3)) * blk; // where the 8-row blocks end
  const c4 = (<usize>(cols & ~3)) << 3;
  for (let c: usize = 0; c < c4; c += 32) {
    let A = f64x2.splat(0), B = f64x2.splat(0);
    let xp = x;
    let o = M + c;
    for (; o < blocksEnd + c; o += blk, xp += 64) {
      const x0 = v128.load64_splat(xp), x1 = v128.load64_splat(xp, 8);
      const x2 = v128.load64_splat(xp, 16), x3 = v128.load64_splat(xp, 24);
      const x4 = v128.load64_splat(xp, 32), x5 = v128.load64_splat(xp, 40);
      const x6 = v128.load64_splat(xp, 48), x7 = v128.load64_splat(xp, 56);
      const s01 = f64x2.add(f64x2.mul(x0, v128.load(o)), f64x2.mul(x1, v128.load(o + stride)));
      const s23 = f64x2.add(f64x2.mul(x2, v128.load(o + 2 * stride)), f64x2.mul(x3, v128.load(o + 3 * stride)));
      const s45 = f64x2.add(f64x2.mul(x4, v128.load(o + 4 * stride)), f64x2.mul(x5, v128.load(o + 5 * stride)));
      const s67 = f64x2.add(f64x2.mul(x6, v128.load(o + 6 * stride)), f64x2.mul(x7, v128.load(o + 7 * stride)));
      A = f64x2.add(A, f64x2.add(f64x2.add(s01, s23), f64x2.add(s45, s67)));
      const t01 = f64x2.add(f64x2.mul(x0, v128.load(o, 16)), f64x2.mul(x1, v128.load(o + stride, 16)));
      const t23 = f64x2.add(f64x2.mul(x2, v128.load(o + 2 * stride, 16)), f64x2.mul(x3, v128.load(o + 3 * stride, 16)));
      const t45 = f64x2.add(f64x2.mul(x4, v128.load(o + 4 * stride, 16)), f64x2.mul(x5, v128.load(o + 5 * stride, 16)));
      const t67 = f64x2.add(f64x2.mul(x6, v128.load(o + 6 * stride, 16)), f64x2.mul(x7, v128.load(o + 7 * stride, 16)));
      B = f64x2.add(B, f64x2.add(f64x2.add(t01, t23), f64x2.add(t45, t67)));
    }
    v128.store(out + c, A);
    v128.store(out + c, B, 16);
  }
  if ((rows & 7) != 0 || (cols & 3) != 0) gemvTail(M, rows, cols, x, out);
}

/**
 * gemvT's leftovers, in the JS order: the last 0–3 columns over every row (blocks of eight, then
 * single rows), then the last 0–7 rows added into the first cols & ~3 columns.
 */
function gemvTail(M: usize, rows: i32, cols: i32, x: usize, out: usize): void {
  const stride = (<usize>cols) << 3;
  const blk = stride << 3;
  const r8 = rows & ~7;
  const blocksEnd = M + (<usize>r8) * stride;
  const rowsEnd = M + (<usize>rows) * stride;
  const c4 = (<usize>(cols & ~3)) << 3;
  for (let c = c4; c < stride; c += 8) {
    let s: f64 = 0;
    let o = M + c, xp = x;
    for (; o < blocksEnd + c; o += blk, xp += 64) {
      s += ((load<f64>(xp) * load<f64>(o) + load<f64>(xp, 8) * load<f64>(o + stride)) +
        (load<f64>(xp, 16) * load<f64>(o + 2 * stride) + load<f64>(xp, 24) * load<f64>(o + 3 * stride))) +
        ((load<f64>(xp, 32) * load<f64>(o + 4 * stride) + load<f64>(xp, 40) * load<f64>(o + 5 * stride)) +
        (load<f64>(xp, 48) * load<f64>(o + 6 * stride) + load<f64>(xp, 56) * load<f64>(o + 7 * stride)));
    }
    for (; o < rowsEnd + c; o += stride, xp += 8) s += load<f64>(xp) * load<f64>(o);
    store<f64>(out + c, s);
  }
  for (let o = blocksEnd, xp = x + ((<usize>r8) << 3); o < rowsEnd; o += stride, xp += 8) {
    const xr = v128.load64_splat(xp);
    for (let c: usize = 0; c < c4; c += 16) {
      v128.store(out + c, f64x2.add(v128.load(out + c), f64x2.mul(xr, v128.load(o + c))));
    }
  }
}

/**
 * The u half-step: kv = Kv (from KT, (m, n) row-major), u2 = ar / kv; writes the row violation
 * Σ_i |u_i kv_i − ar_i| of the current plan (added in i order) to errOut and returns 1 if every
 * u2_i is in [1/TAU, TAU] (0 also for 0, Inf, NaN).
 */
function uStep(KT: usize, v: usize, kv: usize, ar: usize, u: usize, u2: usize, n: i32, m: i32, errOut: usize): i32 {
  gemvT(KT, m, n, v, kv);
  const lo = f64x2.splat(INV_TAU), hi = f64x2.splat(TAU);
  let err: f64 = 0;
  let band = i64x2.splat(-1);
  const end = (<usize>n) << 3;
  let i: usize = 0;
  for (; i + 8 < end; i += 16) {
    const k = v128.load(kv + i), a = v128.load(ar + i);
    const d = f64x2.abs(f64x2.sub(f64x2.mul(v128.load(u + i), k), a));
    err += f64x2.extract_lane(d, 0);
    err += f64x2.extract_lane(d, 1);
    const x = f64x2.div(a, k);
    v128.store(u2 + i, x);
    band = v128.and(band, v128.and(f64x2.ge(x, lo), f64x2.le(x, hi)));
  }
  let ok: i32 = i64x2.all_true(band) ? 1 : 0;
  if (i < end) {
    const k = load<f64>(kv + i), a = load<f64>(ar + i);
    err += Math.abs(load<f64>(u + i) * k - a);
    const x = a / k;
    store<f64>(u2 + i, x);
    if (!(x >= INV_TAU && x <= TAU)) ok = 0;
  }
  store<f64>(errOut, err);
  return ok;
}

/** The v half-step: ktu = Kᵀu (from K, (n, m) row-major), v2 = bc / ktu; 1 if all in band. */
function vStep(K: usize, u: usize, ktu: usize, bc: usize, v2: usize, n: i32, m: i32): i32 {
  gemvT(K, n, m, u, ktu);
  const lo = f64x2.splat(INV_TAU), hi = f64x2.splat(TAU);
  let band = i64x2.splat(-1);
  const end = (<usize>m) << 3;
  let j: usize = 0;
  for (; j + 8 < end; j += 16) {
    const x = f64x2.div(v128.load(bc + j), v128.load(ktu + j));
    v128.store(v2 + j, x);
    band = v128.and(band, v128.and(f64x2.ge(x, lo), f64x2.le(x, hi)));
  }
  let ok: i32 = i64x2.all_true(band) ? 1 : 0;
  if (j < end) {
    const x = load<f64>(bc + j) / load<f64>(ktu + j);
    store<f64>(v2 + j, x);
    if (!(x >= INV_TAU && x <= TAU)) ok = 0;
  }
  return ok;
}

/** Kernel entries below FLUSH times their row's or column's largest are set to 0 (sinkhorn.ts). */
const FLUSH: f64 = 1e-200;

/**
 * The log-domain u half-step, JS logRow step for step: lg = G + log v; per row i the exponents
 * lg_j − C_ij/ε into K, their max M, exp(· − M) and their sum s, K row scaled to ar_i (entries
 * below FLUSH flushed), lf_i = log ar_i − M − log s; then F = lf, G = lg. Returns 0 (F, G
 * untouched) at the first non-finite M or lf_i. C: (n, m) in this memory.
 */
function logRow(K: usize, C: usize, lg: usize, G: usize, v: usize, ar: usize, lf: usize, F: usize,
  invEps: f64, n: i32, m: i32): i32 {
  const mb = (<usize>m) << 3;
  const ie = f64x2.splat(invEps);
  for (let j: usize = 0; j < mb; j += 8) store<f64>(lg + j, load<f64>(G + j) + log(load<f64>(v + j)));
  for (let i = 0, r: usize = 0; i < n; i++, r += mb) {
    const Kr = K + r, Cr = C + r;
    // M = the largest exponent: pmax(M, x) = M < x ? x : M is the JS `if (x > M) M = x` per
    // lane, so M is the JS value (up to the sign of a zero maximum, which no later step sees).
    let M2 = f64x2.splat(-Infinity);
    let j: usize = 0;
    for (; j + 8 < mb; j += 16) {
      const x = f64x2.sub(v128.load(lg + j), f64x2.mul(v128.load(Cr + j), ie));
      v128.store(Kr + j, x);
      M2 = f64x2.pmax(M2, x);
    }
    const M0 = f64x2.extract_lane(M2, 0), M1 = f64x2.extract_lane(M2, 1);
    let M = M0 < M1 ? M1 : M0;
    if (j < mb) {
      const x = load<f64>(lg + j) - load<f64>(Cr + j) * invEps;
      store<f64>(Kr + j, x);
      if (x > M) M = x;
    }
    if (M - M != 0) return 0;
    let s: f64 = 0;
    const Mv = f64x2.splat(M);
    j = 0;
    for (; j + 8 < mb; j += 16) {
      const e = expPair(f64x2.sub(v128.load(Kr + j), Mv));
      v128.store(Kr + j, e);
      s += f64x2.extract_lane(e, 0);
      s += f64x2.extract_lane(e, 1);
    }
    if (j < mb) {
      const e = exp(load<f64>(Kr + j) - M);
      store<f64>(Kr + j, e);
      s += e;
    }
    const ai = load<f64>(ar + ((<usize>i) << 3));
    const c = ai / s;
    scale(Kr, mb, f64x2.splat(c));
    const l = log(ai) - M - log(s);
    store<f64>(lf + ((<usize>i) << 3), l);
    if (l - l != 0) return 0;
  }
  memory.copy(F, lf, (<usize>n) << 3);
  memory.copy(G, lg, mb);
  return 1;
}

/**
 * The log-domain v half-step, JS logCol step for step: lf = F + log u; exponents lf_i − C_ij/ε
 * and column maxima mx, exps and column sums sm, lg_j = log bc_j − mx_j − log sm_j, columns
 * scaled to bc_j (entries below FLUSH flushed); then F = lf, G = lg. Returns 0 on a non-finite
 * mx_j or lg_j, F and G untouched.
 */
function logCol(K: usize, C: usize, lf: usize, F: usize, u: usize, bc: usize, lg: usize, G: usize,
  mx: usize, sm: usize, invEps: f64, n: i32, m: i32): i32 {
  const mb = (<usize>m) << 3, nb = (<usize>n) << 3;
  for (let i: usize = 0; i < nb; i += 8) store<f64>(lf + i, load<f64>(F + i) + log(load<f64>(u + i)));
  for (let j: usize = 0; j < mb; j += 8) { store<f64>(mx + j, -Infinity); store<f64>(sm + j, 0); }
  const ie = f64x2.splat(invEps);
  for (let i: usize = 0, r: usize = 0; i < nb; i += 8, r += mb) {
    const li = load<f64>(lf + i), Kr = K + r, Cr = C + r;
    const lv = f64x2.splat(li);
    let j: usize = 0;
    for (; j + 8 < mb; j += 16) {
      const x = f64x2.sub(lv, f64x2.mul(v128.load(Cr + j), ie));
      v128.store(Kr + j, x);
      v128.store(mx + j, f64x2.pmax(v128.load(mx + j), x)); // the JS `if (x > mx[j]) mx[j] = x`
    }
    if (j < mb) {
      const x = li - load<f64>(Cr + j) * invEps;
      store<f64>(Kr + j, x);
      if (x > load<f64>(mx + j)) store<f64>(mx + j, x);
    }
  }
  for (let j: usize = 0; j < mb; j += 8) { const x = load<f64>(mx + j); if (x - x != 0) return 0; }
  for (let i: usize = 0, r: usize = 0; i < nb; i += 8, r += mb) {
    const Kr = K + r;
    let j: usize = 0;
    for (; j + 8 < mb; j += 16) {
      const e = expPair(f64x2.sub(v128.load(Kr + j), v128.load(mx + j)));
      v128.store(Kr + j, e);
      v128.store(sm + j, f64x2.add(v128.load(sm + j), e));
    }
    if (j < mb) {
      const e = exp(load<f64>(Kr + j) - load<f64>(mx + j));
      store<f64>(Kr + j, e);
      store<f64>(sm + j, load<f64>(sm + j) + e);
    }
  }
  for (let j: usize = 0; j < mb; j += 8) {
    const b = load<f64>(bc + j), s = load<f64>(sm + j);
    const l = log(b) - load<f64>(mx + j) - log(s);
    store<f64>(lg + j, l);
    if (l - l != 0) return 0;
    store<f64>(sm + j, b / s);
  }
  for (let i: usize = 0, r: usize = 0; i < nb; i += 8, r += mb) scaleBy(K + r, mb, sm);
  memory.copy(F, lf, nb);
  memory.copy(G, lg, mb);
  return 1;
}

/** K[j] = K[j] < FLUSH ? 0 : K[j]·c for the mb bytes at K (the flush of the log steps). */
// @ts-ignore: decorator
@inline
function scale(K: usize, mb: usize, c: v128): void {
  const flush = f64x2.splat(FLUSH), zero = f64x2.splat(0);
  let j: usize = 0;
  for (; j + 8 < mb; j += 16) {
    const e = v128.load(K + j);
    v128.store(K + j, v128.bitselect(zero, f64x2.mul(e, c), f64x2.lt(e, flush)));
  }
  if (j < mb) {
    const e = load<f64>(K + j);
    store<f64>(K + j, e < FLUSH ? 0 : e * f64x2.extract_lane(c, 0));
  }
}

/** K[j] = K[j] < FLUSH ? 0 : K[j]·c[j] for the mb bytes at K. */
// @ts-ignore: decorator
@inline
function scaleBy(K: usize, mb: usize, c: usize): void {
  const flush = f64x2.splat(FLUSH), zero = f64x2.splat(0);
  let j: usize = 0;
  for (; j + 8 < mb; j += 16) {
    const e = v128.load(K + j);
    v128.store(K + j, v128.bitselect(zero, f64x2.mul(e, v128.load(c + j)), f64x2.lt(e, flush)));
  }
  if (j < mb) {
    const e = load<f64>(K + j);
    store<f64>(K + j, e < FLUSH ? 0 : e * load<f64>(c + j));
  }
}

/** After a log step: ok → KT = Kᵀ, u = v = 1; else K = KTᵀ (undo the failed step). */
function absorb(K: usize, KT: usize, u: usize, v: usize, n: i32, m: i32, ok: i32): void {
  const mb = (<usize>m) << 3, nb = (<usize>n) << 3;
  if (ok) {
    for (let i: usize = 0, r: usize = 0; i < nb; i += 8, r += mb) {
      for (let j: usize = 0, t = KT + i; j < mb; j += 8, t += nb) store<f64>(t, load<f64>(K + r + j));
    }
    for (let i: usize = 0; i < nb; i += 8) store<f64>(u + i, 1);
    for (let j: usize = 0; j < mb; j += 8) store<f64>(v + j, 1);
  } else {
    for (let i: usize = 0, r: usize = 0; i < nb; i += 8, r += mb) {
      for (let j: usize = 0, t = KT + i; j < mb; j += 8, t += nb) store<f64>(K + r + j, load<f64>(t));
    }
  }
}

/**
 * The JS iterate, step for step: from u = v = 1 and G = 0, at most maxIter (u, v) iterations;
 * a u step whose row violation is ≤ tolN stops the loop; a scaling out of [1/TAU, TAU] is redone
 * as a log step and absorbed. u, u2 and v, v2 swap as in the JS. Writes to out (8 doubles):
 * iterations, stopped, haveK, numericalError, absorptions, then 1 if the final u sits at u2
 * (and v at v2), i.e. the JS Work's u/u2 (v/v2) references ended up swapped.
 */
export function iterate(K: usize, KT: usize, C: usize, ar: usize, bc: usize, F: usize, G: usize, lf: usize,
  lg: usize, mx: usize, sm: usize, u: usize, u2: usize, v: usize, v2: usize, kv: usize, ktu: usize,
  invEps: f64, n: i32, m: i32, maxIter: i32, tolN: f64, out: usize): void {
  const u0 = u, v0 = v;
  for (let i: usize = 0; i < (<usize>n) << 3; i += 8) store<f64>(u + i, 1);
  for (let j: usize = 0; j < (<usize>m) << 3; j += 8) { store<f64>(v + j, 1); store<f64>(G + j, 0); }
  let haveK = 0, stopped = 0, numericalError = 0, absorptions = 0, iterations = 0;
  for (let it = 1; it <= maxIter; it++) {
    let ok = haveK;
    if (haveK) {
      ok = uStep(KT, v, kv, ar, u, u2, n, m, out);
      if (load<f64>(out) <= tolN) { stopped = 1; break; }
      if (ok) { const t = u; u = u2; u2 = t; }
    }
    if (!ok) {
      const good = logRow(K, C, lg, G, v, ar, lf, F, invEps, n, m);
      absorb(K, KT, u, v, n, m, good);
      if (!good) { numericalError = 1; break; }
      haveK = 1; absorptions++;
    }
    ok = vStep(K, u, ktu, bc, v2, n, m);
    if (ok) { const t = v; v = v2; v2 = t; } else {
      const good = logCol(K, C, lf, F, u, bc, lg, G, mx, sm, invEps, n, m);
      absorb(K, KT, u, v, n, m, good);
      if (!good) { numericalError = 1; break; }
      absorptions++;
    }
    iterations = it;
  }
  store<f64>(out, iterations);
  store<f64>(out, stopped, 8);
  store<f64>(out, haveK, 16);
  store<f64>(out, numericalError, 24);
  store<f64>(out, absorptions, 32);
  store<f64>(out, u != u0 ? 1 : 0, 40);
  store<f64>(out, v != v0 ? 1 : 0, 48);
}
