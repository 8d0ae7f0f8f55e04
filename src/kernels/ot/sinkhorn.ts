/**
 * Entropic optimal transport by Sinkhorn's matrix scaling (Cuturi 2013), stabilised for small
 * epsilon by absorbing the scalings into log-domain potentials (Schmitzer 2016). Derivation and
 * choices: docs/math/sinkhorn.md.
 *
 * The trick, once. The plan is P = diag(u) K diag(v) with K_ij = exp((f_i + g_j − C_ij)/ε):
 * f, g are dual potentials in cost units, u, v scalings near 1. A plain iteration is two
 * matrix–vector products (u ← a / Kv, v ← b / Kᵀu), only multiplies. When a new scaling leaves
 * [1/τ, τ] (or is 0, Inf or NaN) that half-step is redone in the log domain with a log-sum-exp
 * (f_i ← ε log a_i − ε LSE_j((g_j − C_ij)/ε), or the same over i for g), which cannot underflow,
 * and K is rebuilt with u = v = 1 ("absorption": n·m exps). So the loop multiplies and only the
 * rare absorption takes exp/log. Measured on 64×64, 100 iterations: ~0.6 ms against ~9–11 ms for
 * a plain log-domain loop (POT's sinkhorn_log: 2·n·m exps per iteration), same plan to 1e-16.
 * The same loop in C (bench/native/sinkhorn.c, -O3 -march=native) is still ~4–5× faster: gcc
 * vectorises the products (AVX2/FMA), V8 runs them scalar at ~0.5 ns per multiply-add.
 *
 * And V8's Math.exp costs ~17 ns, so the first log step alone (n·m exps) takes ~70 µs.
 *
 * Hence two engines for the loops (SinkhornLoops, chosen once per thread by kernelEngine):
 * 'wasm' (src/kernels/wasm/assembly/sinkhorn.ts), the products in f64x2 SIMD and the log steps
 * with fdlibm's exp and log compiled in, the whole of iterate in one call on a Work that lives in
 * the module's memory (only C is copied there, once per problem); and 'js', iterate below, the
 * reference and the fallback.
 * Every value sees the same operations in the same order in both (no FMA in WASM; the WASM exp
 * and log are V8's fdlibm ones), so the two engines return the same results bit for bit.
 * Measured (bench/sinkhorn.bench.ts, 64×64, 100 iterations, shared 2-core Xeon, Node 20):
 * wasm 214–231 µs, js 667–695 µs, C 129–162 µs: 1.4–1.7× C. The products run at the f64x2 bound
 * (~0.7 µs each: no FMA, two 128-bit ports); C has AVX2 FMA, four lanes per instruction.
 */
import { HoloError } from '../../errors.js';
import { kernelEngine } from '../wasm/engine.js';
import { wasmSinkhornLoops } from '../wasm/sinkhorn-loops.js';

/**
 * Absorb when a scaling leaves [1/TAU, TAU]. Masses are normalised to 1 inside, so K ≤ 1 after an
 * absorption; with FLUSH below, every product u·K·v stays a normal float64 (docs/math/sinkhorn.md).
 */
const TAU = 1e50;
const INV_TAU = 1 / TAU;
/** a and b must carry the same mass within this relative gap. */
const MASS_RTOL = 1e-9;

export interface SinkhornOptions {
  /** regulariser ε > 0, in cost units (POT's `reg`); stable down to 1e-3·max|C| and below */
  epsilon: number;
  /** most (u, v) iterations; default 1000 */
  maxIter?: number;
  /** stop when the plan's marginal violation (see SinkhornResult) ≤ tol, in mass units; default 1e-9 */
  tol?: number;
  /** largest allowed n and m; default 64 */
  maxSize?: number;
}

export interface SinkhornResult {
  /** (n, m) row-major transport plan, ≥ 0 */
  plan: Float64Array;
  /** ⟨plan, C⟩ = Σ_ij plan_ij C_ij, in cost units × mass (no entropy term, as POT's sinkhorn2) */
  cost: number;
  /** completed (u, v) iterations */
  iterations: number;
  /** Σ_i |Σ_j plan_ij − a_i| + Σ_j |Σ_i plan_ij − b_j|, recomputed on the returned plan */
  marginalError: number;
  /** the stop test passed (or marginalError ≤ tol at maxIter); marginalError, recomputed on the
   *  plan, can then exceed tol by rounding only (~1e-16·(n+m)·mass) */
  converged: boolean;
  /** a log-domain step produced a non-finite value: the plan is the last good iterate */
  numericalError: boolean;
  /** how many half-steps were redone in the log domain (absorptions) */
  absorptions: number;
}

export interface SinkhornProblem {
  a: Float64Array | null;
  b: Float64Array | null;
  C: Float64Array;
  n: number;
  m: number;
}

/** Validated options with defaults filled in. */
interface Settings {
  eps: number;
  maxIter: number;
  tol: number;
  maxSize: number;
}

function settings(opts: SinkhornOptions): Settings {
  const eps = opts?.epsilon;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || !(eps > 0)) {
    throw new HoloError('bad_request', `epsilon must be a finite number > 0, got ${eps}`);
  }
  const maxIter = opts.maxIter ?? 1000;
  if (!Number.isInteger(maxIter) || maxIter < 1) {
    throw new HoloError('bad_request', `maxIter must be a positive integer, got ${maxIter}`);
  }
  const tol = opts.tol ?? 1e-9;
  if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0) {
    throw new HoloError('bad_request', `tol must be a finite number ≥ 0, got ${tol}`);
  }
  const maxSize = opts.maxSize ?? 64;
  if (!Number.isInteger(maxSize) || maxSize < 1) {
    throw new HoloError('bad_request', `maxSize must be a positive integer, got ${maxSize}`);
  }
  return { eps, maxIter, tol, maxSize };
}

/** Checks one histogram (null: uniform of mass 1); returns its mass. */
function checkHistogram(name: string, h: Float64Array | null, k: number): number {
  if (h === null) return 1;
  if (!(h instanceof Float64Array)) throw new HoloError('bad_request', `${name} must be a Float64Array or null`);
  if (h.length !== k) throw new HoloError('bad_dimension', `${name} has length ${h.length}, expected ${k}`);
  let s = 0;
  for (let i = 0; i < k; i++) {
    const x = h[i];
    if (x - x !== 0) throw new HoloError('bad_request', `${name}[${i}] is ${x}: masses must be finite`);
    if (x < 0) throw new HoloError('bad_request', `${name}[${i}] is ${x}: masses must be ≥ 0`);
    s += x;
  }
  if (!(s > 0)) throw new HoloError('bad_request', `${name} has total mass 0: it must be positive`);
  return s;
}

/** Every precondition, before anything is allocated; returns the mass Σa. */
function checkProblem(p: SinkhornProblem, st: Settings): number {
  const { a, b, C, n, m } = p;
  for (const [name, k] of [['n', n], ['m', m]] as const) {
    if (!Number.isInteger(k) || k < 1) throw new HoloError('bad_dimension', `${name} must be a positive integer, got ${k}`);
    if (k > st.maxSize) {
      throw new HoloError('too_large', `${name} = ${k} exceeds the limit ${st.maxSize} (option maxSize, configurable)`);
    }
  }
  if (!(C instanceof Float64Array)) throw new HoloError('bad_request', 'C must be a Float64Array');
  if (C.length !== n * m) throw new HoloError('bad_dimension', `C has length ${C.length}, expected n·m = ${n * m}`);
  for (let k = 0; k < C.length; k++) {
    const x = C[k];
    if (x - x !== 0) throw new HoloError('bad_request', `C[${k}] is ${x}: costs must be finite`);
  }
  const sa = checkHistogram('a', a, n);
  const sb = checkHistogram('b', b, m);
  if (Math.abs(sa - sb) > MASS_RTOL * Math.max(sa, sb)) {
    throw new HoloError('bad_request', `a and b must have equal mass (within ${MASS_RTOL} relative): Σa = ${sa}, Σb = ${sb}`);
  }
  return sa;
}

/**
 * Scratch for problems of up to capN × capM; reused across a batch. K is the kernel, KT its
 * transpose (so both products read contiguously); a failed log step leaves KT intact and K is
 * restored from it. Cz holds C restricted to the support when a or b has zeros (and, for the
 * WASM log steps, a copy of a dense C). The float64 arrays are views of one block from the
 * engine (`block`, given back by release); `outcome` (8,) is where the WASM loop reports.
 */
export class Work {
  readonly K: Float64Array; readonly KT: Float64Array; readonly Cz: Float64Array;
  readonly ar: Float64Array; readonly bc: Float64Array; readonly F: Float64Array; readonly G: Float64Array;
  readonly lf: Float64Array; readonly lg: Float64Array; readonly mx: Float64Array; readonly sm: Float64Array;
  u: Float64Array; u2: Float64Array; v: Float64Array; v2: Float64Array;
  readonly kv: Float64Array; readonly ktu: Float64Array; readonly outcome: Float64Array;
  readonly I: Int32Array; readonly J: Int32Array;
  readonly block: Float64Array;
  constructor(readonly capN: number, readonly capM: number, block: Float64Array) {
    this.block = block;
    let o = 0;
    const take = (k: number) => block.subarray(o, (o += k));
    this.K = take(capN * capM); this.KT = take(capN * capM); this.Cz = take(capN * capM);
    const f = () => take(capN), g = () => take(capM);
    this.ar = f(); this.F = f(); this.lf = f(); this.u = f(); this.u2 = f(); this.kv = f();
    this.bc = g(); this.G = g(); this.lg = g(); this.v = g(); this.v2 = g(); this.ktu = g();
    this.mx = g(); this.sm = g(); this.outcome = take(8);
    this.I = new Int32Array(capN); this.J = new Int32Array(capM);
  }

  /** Doubles in the block of a Work for capN × capM. */
  static size(capN: number, capM: number): number {
    return 3 * capN * capM + 6 * capN + 8 * capM + 8;
  }
}

/**
 * The loop behind one small interface: JS_LOOPS below (the reference), the WASM SIMD one in
 * src/kernels/wasm/sinkhorn-loops.ts. Validation, support compression and the plan stay in
 * solveWith, which reads and writes the same Work either way.
 */
export interface SinkhornLoops {
  /** A block of len doubles for a Work (WASM: in its memory; any contents), or null if none can be had. */
  scratch(len: number): Float64Array | null;
  /** Gives back a block from scratch; the Work on it must not be used again. */
  release(block: Float64Array): void;
  /** iterate below: C is the (n, m) cost on the support (the problem's C, or w.Cz). */
  iterate(w: Work, C: Float64Array, invEps: number, n: number, m: number, maxIter: number, tolN: number): Outcome;
}

/**
 * Kernel entries below FLUSH times their row's (logRow) or column's (logCol) largest are set to
 * 0: with u, v in [1/TAU, TAU] they carry < 1e-100 of that row's or column's mass, and it keeps
 * the loop clear of subnormal operands (they made the C baseline ~8× slower at ε = 1e-3·max C).
 */
const FLUSH = 1e-200;

/**
 * Log-domain u half-step from g + ε log v: f_i = ε(log a_i − LSE_j(lg_j − C_ij/ε)) with
 * lg = (g + ε log v)/ε, written into F (units of ε) and K (rows summing to a_i). C: (n, m) on
 * the support. Returns false if a value is not finite; F, G, u, v are then untouched.
 */
function logRow(w: Work, C: Float64Array, invEps: number, n: number, m: number): boolean {
  const { K, ar, F, G, lf, lg, v } = w;
  for (let j = 0; j < m; j++) lg[j] = G[j] + Math.log(v[j]);
  for (let i = 0, r = 0; i < n; i++, r += m) {
    // K holds the exponents, then their exps, then the scaled kernel row.
    let M = -Infinity;
    for (let j = 0; j < m; j++) { const x = lg[j] - C[r + j] * invEps; K[r + j] = x; if (x > M) M = x; }
    if (M - M !== 0) return false;
    let s = 0;
    for (let j = 0; j < m; j++) { const e = Math.exp(K[r + j] - M); K[r + j] = e; s += e; }
    const c = ar[i] / s;
    for (let j = 0; j < m; j++) { const e = K[r + j]; K[r + j] = e < FLUSH ? 0 : e * c; }
    lf[i] = Math.log(ar[i]) - M - Math.log(s);
    if (lf[i] - lf[i] !== 0) return false;
  }
  F.set(lf.subarray(0, n)); G.set(lg.subarray(0, m));
  return true;
}

/** The column twin of logRow: g_j = ε(log b_j − LSE_i(lf_i − C_ij/ε)), K columns sum to b_j. */
function logCol(w: Work, C: Float64Array, invEps: number, n: number, m: number): boolean {
  const { K, bc, F, G, lf, lg, u, mx, sm } = w;
  for (let i = 0; i < n; i++) lf[i] = F[i] + Math.log(u[i]);
  mx.fill(-Infinity, 0, m); sm.fill(0, 0, m);
  // Row-major passes (exponents and column maxima, exps and sums, scale): nothing read by column.
  for (let i = 0, r = 0; i < n; i++, r += m) {
    for (let j = 0; j < m; j++) { const x = lf[i] - C[r + j] * invEps; K[r + j] = x; if (x > mx[j]) mx[j] = x; }
  }
  for (let j = 0; j < m; j++) if (mx[j] - mx[j] !== 0) return false;
  for (let i = 0, r = 0; i < n; i++, r += m) {
    for (let j = 0; j < m; j++) { const e = Math.exp(K[r + j] - mx[j]); K[r + j] = e; sm[j] += e; }
  }
  for (let j = 0; j < m; j++) {
    lg[j] = Math.log(bc[j]) - mx[j] - Math.log(sm[j]);
    if (lg[j] - lg[j] !== 0) return false;
    sm[j] = bc[j] / sm[j];
  }
  for (let i = 0, r = 0; i < n; i++, r += m) {
    for (let j = 0; j < m; j++) { const e = K[r + j]; K[r + j] = e < FLUSH ? 0 : e * sm[j]; }
  }
  F.set(lf.subarray(0, n)); G.set(lg.subarray(0, m));
  return true;
}

/** After a log step: on success K's transpose goes to KT and u = v = 1; else K = KTᵀ again. */
function absorb(w: Work, n: number, m: number, ok: boolean): void {
  const { K, KT } = w;
  if (ok) {
    for (let i = 0, r = 0; i < n; i++, r += m) for (let j = 0; j < m; j++) KT[j * n + i] = K[r + j];
    w.u.fill(1, 0, n); w.v.fill(1, 0, m);
  } else {
    for (let i = 0, r = 0; i < n; i++, r += m) for (let j = 0; j < m; j++) K[r + j] = KT[j * n + i];
  }
}

/**
 * out = Mᵀx for M (rows, cols) row-major: rows of M scaled and added, eight at a time. Measured
 * ~2× faster in V8 than one dot product per row: no add chain, one load and store of out[c] per
 * eight multiply-adds, all reads contiguous. Kv uses it on KT, Kᵀu on K.
 */
function gemvT(M: Float64Array, rows: number, cols: number, x: Float64Array, out: Float64Array): void {
  out.fill(0, 0, cols);
  const r8 = rows - (rows % 8);
  let r = 0, o = 0;
  for (; r < r8; r += 8, o += 8 * cols) {
    const x0 = x[r], x1 = x[r + 1], x2 = x[r + 2], x3 = x[r + 3];
    const x4 = x[r + 4], x5 = x[r + 5], x6 = x[r + 6], x7 = x[r + 7];
    const o1 = o + cols, o2 = o1 + cols, o3 = o2 + cols, o4 = o3 + cols, o5 = o4 + cols, o6 = o5 + cols, o7 = o6 + cols;
    for (let c = 0; c < cols; c++) {
      out[c] += ((x0 * M[o + c] + x1 * M[o1 + c]) + (x2 * M[o2 + c] + x3 * M[o3 + c])) +
        ((x4 * M[o4 + c] + x5 * M[o5 + c]) + (x6 * M[o6 + c] + x7 * M[o7 + c]));
    }
  }
  for (; r < rows; r++, o += cols) {
    const xr = x[r];
    for (let c = 0; c < cols; c++) out[c] += xr * M[o + c];
  }
}

/** The reference loops, in plain JS. */
const JS_LOOPS: SinkhornLoops = { scratch: (len) => new Float64Array(len), release: () => {}, iterate };

/**
 * A Work for capN × capM on the thread's engine, given to fn and released after. Should the
 * WASM memory not grow that far, the JS loops serve this call (same results).
 */
function withWork<T>(capN: number, capM: number, fn: (w: Work, loops: SinkhornLoops) => T): T {
  let loops = kernelEngine() === 'wasm' ? wasmSinkhornLoops() : JS_LOOPS;
  let block = loops.scratch(Work.size(capN, capM));
  if (block === null) {
    loops = JS_LOOPS;
    block = JS_LOOPS.scratch(Work.size(capN, capM))!;
  }
  try {
    return fn(new Work(capN, capM, block), loops);
  } finally {
    loops.release(block);
  }
}

export interface Outcome { iterations: number; stopped: boolean; haveK: boolean; numericalError: boolean; absorptions: number }

/**
 * The iteration on the compressed problem (ar, bc > 0, mass 1, C on the support), ending with the plan
 * u_i K_ij v_j in w.u, w.K, w.v. Stop test, every iteration and free: the row violation
 * Σ_i |u_i (Kv)_i − a_i| of the current plan (its columns equal b to rounding after the v step)
 * is a by-product of the next u step's Kv.
 */
function iterate(w: Work, C: Float64Array, invEps: number, n: number, m: number, maxIter: number, tolN: number): Outcome {
  const { ar, bc, kv, ktu } = w;
  w.u.fill(1, 0, n); w.v.fill(1, 0, m); w.G.fill(0, 0, m);
  let haveK = false, stopped = false, numericalError = false, absorptions = 0, iterations = 0;
  for (let it = 1; it <= maxIter; it++) {
    // u ← a / Kv into u2, then swap; row sums of the current plan are u_i (Kv)_i.
    let ok = haveK;
    if (haveK) {
      const u = w.u, u2 = w.u2;
      gemvT(w.KT, m, n, w.v, kv);
      let err = 0;
      for (let i = 0; i < n; i++) {
        err += Math.abs(u[i] * kv[i] - ar[i]);
        const x = ar[i] / kv[i];
        u2[i] = x;
        if (!(x >= INV_TAU && x <= TAU)) ok = false; // also catches 0, Inf, NaN
      }
      if (err <= tolN) { stopped = true; break; }
      if (ok) { w.u = u2; w.u2 = u; }
    }
    if (!ok) {
      const good = logRow(w, C, invEps, n, m);
      absorb(w, n, m, good);
      if (!good) { numericalError = true; break; }
      haveK = true; absorptions++;
    }
    // v ← b / Kᵀu into v2, then swap.
    const v = w.v, v2 = w.v2;
    gemvT(w.K, n, m, w.u, ktu);
    ok = true;
    for (let j = 0; j < m; j++) {
      const x = bc[j] / ktu[j];
      v2[j] = x;
      if (!(x >= INV_TAU && x <= TAU)) ok = false;
    }
    if (ok) { w.v = v2; w.v2 = v; } else {
      const good = logCol(w, C, invEps, n, m);
      absorb(w, n, m, good);
      if (!good) { numericalError = true; break; }
      absorptions++;
    }
    iterations = it;
  }
  return { iterations, stopped, haveK, numericalError, absorptions };
}

/** Validated problem → result, using scratch w (large enough for its support). */
function solveWith(w: Work, loops: SinkhornLoops, p: SinkhornProblem, st: Settings, mass: number): SinkhornResult {
  const { a, b, C, n, m } = p;
  // Zero masses: their rows/columns of the plan are 0 (u_i = 0 in exact Sinkhorn), so the
  // iteration runs on the support only, with masses divided by Σa (plan scaled back at the end).
  let nn = 0, mm = 0;
  for (let i = 0; i < n; i++) { const x = a === null ? 1 / n : a[i] / mass; if (x > 0) { w.I[nn] = i; w.ar[nn++] = x; } }
  for (let j = 0; j < m; j++) { const x = b === null ? 1 / m : b[j] / mass; if (x > 0) { w.J[mm] = j; w.bc[mm++] = x; } }
  let Cw = C;
  if (nn < n || mm < m) {
    Cw = w.Cz;
    for (let i = 0; i < nn; i++) {
      const src = w.I[i] * m, dst = i * mm;
      for (let j = 0; j < mm; j++) Cw[dst + j] = C[src + w.J[j]];
    }
  }
  const o = loops.iterate(w, Cw, 1 / st.eps, nn, mm, st.maxIter, st.tol / mass);

  const plan = new Float64Array(n * m);
  if (o.haveK) {
    const { K, u, v, I, J } = w;
    const dense = Cw === C;
    for (let i = 0; i < nn; i++) {
      const dst = I[i] * m, r = i * mm, ui = u[i] * mass;
      if (dense) for (let j = 0; j < m; j++) plan[dst + j] = ui * K[r + j] * v[j];
      else for (let j = 0; j < mm; j++) plan[dst + J[j]] = ui * K[r + j] * v[j];
    }
  }
  let cost = 0, rowErr = 0, colErr = 0;
  const colSum = w.ktu.fill(0, 0, m); // Kᵀu scratch, free now; Work holds ≥ m columns
  for (let i = 0, r = 0; i < n; i++, r += m) {
    let s = 0;
    for (let j = 0; j < m; j++) { const x = plan[r + j]; s += x; cost += x * C[r + j]; colSum[j] += x; }
    rowErr += Math.abs(s - (a === null ? 1 / n : a[i]));
  }
  for (let j = 0; j < m; j++) colErr += Math.abs(colSum[j] - (b === null ? 1 / m : b[j]));
  const marginalError = rowErr + colErr;
  return {
    plan, cost, iterations: o.iterations, marginalError, converged: o.stopped || marginalError <= st.tol,
    numericalError: o.numericalError, absorptions: o.absorptions,
  };
}

/**
 * Entropic OT plan P = argmin_{P ≥ 0, P1 = a, Pᵀ1 = b} ⟨P, C⟩ − ε H(P), H(P) = −Σ P_ij (log P_ij − 1),
 * by Sinkhorn iterations P = diag(u) exp(−C/ε) diag(v): u ← a / Kv, v ← b / Kᵀu, with
 * log-domain absorption (module comment).
 *   a: Float64Array (n,) masses ≥ 0, or null for uniform 1/n; b: (m,) or null for 1/m.
 *   C: Float64Array (n, m) row-major costs, any finite sign (negative costs are fine: the plan
 *      is unchanged by adding a constant to C; only `cost` shifts).
 *   ε: opts.epsilon, absolute, in cost units. n, m ≤ opts.maxSize (default 64).
 * Σa and Σb must be positive and agree within 1e-9 relative; they are not renormalised, and
 * |Σa − Σb| is a floor on marginalError. Zero entries give zero rows/columns of the plan.
 * Stops at the first iteration whose plan has row violation ≤ tol (checked every iteration;
 * columns are exact after each v step), or after maxIter; marginalError is then measured on the
 * returned plan. If a log-domain step ever yields a non-finite value (only for ε so small that
 * C/ε overflows), the last good plan is returned with numericalError: true (all zeros if there
 * was none); the plan never holds NaN or Inf.
 *
 * Example (POT's sinkhorn_knopp docstring): a = b = [0.5, 0.5], C = [[0, 1], [1, 0]], ε = 1:
 *   plan = [[0.36552929, 0.13447071], [0.13447071, 0.36552929]]  (0.5e/(1+e) on the diagonal),
 *   cost = 0.26894142.
 * Ref: M. Cuturi, Sinkhorn Distances: Lightspeed Computation of Optimal Transport, NIPS 2013.
 *      B. Schmitzer, Stabilized Sparse Scaling Algorithms for Entropy Regularized Transport
 *      Problems, SIAM J. Sci. Comput. 41(3), 2019 (arXiv:1610.06519, 2016).
 * Accuracy: float64; converged plans match POT's ot.bregman.sinkhorn_log within 1e-9 per entry
 *   (test/kernels/sinkhorn.test.ts), down to ε = 1e-3·max|C|. Both engines (js, wasm) return
 *   the same result bit for bit.
 * @throws HoloError too_large (n or m > maxSize) | bad_dimension (n, m not positive integers,
 *   lengths) | bad_request (NaN/Inf in C, a, b or ε; ε ≤ 0; negative mass; zero or unequal
 *   total mass; bad maxIter, tol or maxSize)
 */
export function sinkhorn(
  a: Float64Array | null, b: Float64Array | null, C: Float64Array, n: number, m: number, opts: SinkhornOptions,
): SinkhornResult {
  const st = settings(opts);
  const p = { a, b, C, n, m };
  const mass = checkProblem(p, st);
  return withWork(n, m, (w, loops) => solveWith(w, loops, p, st, mass));
}

/**
 * sinkhorn over many problems with one set of options, sharing one scratch (sized for the
 * largest) so a batch allocates once plus one plan per problem. Results equal one-by-one calls
 * bit for bit. Every problem is validated before any is solved.
 * @throws HoloError as sinkhorn, message prefixed with `problems[k]`.
 */
export function sinkhornBatch(problems: readonly SinkhornProblem[], opts: SinkhornOptions): SinkhornResult[] {
  const st = settings(opts);
  const masses = new Float64Array(problems.length);
  let capN = 1, capM = 1;
  problems.forEach((p, k) => {
    try {
      masses[k] = checkProblem(p, st);
    } catch (e) {
      if (e instanceof HoloError) throw new HoloError(e.code, `problems[${k}]: ${e.message}`);
      throw e;
    }
    capN = Math.max(capN, p.n); capM = Math.max(capM, p.m);
  });
  return withWork(capN, capM, (w, loops) => problems.map((p, k) => solveWith(w, loops, p, st, masses[k])));
}
