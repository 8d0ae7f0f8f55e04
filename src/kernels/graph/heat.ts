/**
 * Graph heat diffusion exp(−tL)x by a Chebyshev expansion (derivation: docs/math/heat.md).
 *
 * L's spectrum lies in [0, 2], so L~ = L − I has its spectrum in [−1, 1], where
 *   e^{−t(1+s)} = e^{−t} (I_0(t) + 2 Σ_{k≥1} (−1)^k I_k(t) T_k(s))
 * (Jacobi–Anger, DLMF 10.35.2: e^{z cos θ} = I_0(z) + 2 Σ I_k(z) cos kθ at z = −t, s = cos θ,
 * I_k(−t) = (−1)^k I_k(t)). Hence exp(−tL)x = Σ_k c_k T_k(L~)x, c_k = 2 e^{−t} (−1)^k I_k(t),
 * c_0 halved, and T_{k+1}(L~)x = 2 L~ T_k(L~)x − T_{k−1}(L~)x needs one sparse pass per term.
 * The pass is fused: one CSR sweep forms row i of L~·b, the new Chebyshev vector and the
 * running sum(s), in place over the vector two terms back. Two scratch vectors, no allocation
 * inside the loop.
 *
 * Two engines run the sweeps (ChebyshevLoops, chosen once per thread by kernelEngine): 'wasm'
 * (src/kernels/wasm/assembly/heat.ts: the same loop without V8's per-entry map and bounds
 * checks; the CSR is copied into WASM memory on a graph's first heat call and kept there while
 * the Graph lives, so a call copies only x in and y out), and 'js' below, the reference and the
 * fallback. Every row sum runs left to right in both, so they agree bit for bit. Measured
 * (bench/heat.bench.ts, K = 24): 1k nodes, 20 entries per row: wasm 227 µs, js 597 µs, C 288 µs;
 * 10k nodes, 200 per row: wasm 26.6 ms, js 53.1 ms, C 39.6 ms. The WASM engine keeps its copy of
 * the CSR: a Graph must not be modified in place after its first heat call (replacing its
 * val, col or rowPtr arrays is noticed and recopied).
 */
import { HoloError } from '../../errors.js';
import { checkFinite } from '../check.js';
import { kernelEngine } from '../wasm/engine.js';
import { wasmChebyshevLoops } from '../wasm/heat-loops.js';
import { besselIe, MAX_BESSEL_T } from './bessel.js';
import type { Graph } from './csr.js';

/** Default number of Chebyshev terms: truncation bound 1.1e-16 at t = 5, 2.9e-11 at t = 10. */
export const DEFAULT_K = 24;
export const MAX_K = 200;
/** Largest diffusion time accepted; K ≤ 200 reaches 1e-9 only up to t ≈ 1063 anyway. */
export const MAX_T = MAX_BESSEL_T;
/** Most diffusion times in one heatMulti call (each one costs an (n,) output). */
export const MAX_TIMES = 64;

export interface HeatOptions {
  /** number of Chebyshev terms T_0..T_{K−1}, integer in [1, 200]; default 24 */
  K?: number;
}

/**
 * heat(G, x, t) ≈ exp(−tL) x, L = I − D^{−1/2} A D^{−1/2} the normalised Laplacian of G.
 *   y = Σ_{k<K} c_k T_k(L − I) x,  c_k = 2 e^{−t} (−1)^k I_k(t),  c_0 = e^{−t} I_0(t)
 * G: from buildGraph (n nodes); x: Float64Array (n,), a signal per node; t: diffusion time,
 * dimensionless (L is), finite, in [0, 1e6]; out: (n,) result buffer, may alias x.
 * Isolated nodes (degree 0) have L_ii = 0 (scipy's normed convention), so y_i = x_i exactly.
 * Ref: Hammond, Vandergheynst & Gribonval 2011, Wavelets on graphs via spectral graph theory,
 * Appl. Comput. Harmon. Anal. 30(2):129–150, §6 (Chebyshev approximation of spectral filters).
 * Accuracy: ‖y − exp(−tL)x‖₂ ≤ 2 Σ_{k≥K} e^{−t} I_k(t) · ‖x‖₂ (= heatBound(t, K)) plus rounding
 * ~1e-15·K·‖x‖. For 1e-9 take K ≥ ⌈6.5√t⌉ + 8 (heatTerms gives the exact minimum); the default
 * K = 24 meets 1e-9 up to t ≈ 12.5. Σ_{k<K}|c_k| ≤ 1, so ‖y‖₂ ≤ ‖x‖₂ for every K and t.
 * Both engines (js, wasm) return the same result bit for bit.
 * Example: the single edge 0–1 (L = [[1, −1], [−1, 1]]), x = [1, 0], t = 1:
 * y = [(1 + e^{−2})/2, (1 − e^{−2})/2] ≈ [0.5676676416183063, 0.43233235838169365].
 * @throws HoloError bad_dimension (x.length ≠ n, out.length ≠ n) | bad_request (x not finite,
 *   t NaN, ±Inf or < 0, K not an integer in [1, 200]) | too_large (t > 1e6)
 */
export function heat(graph: Graph, x: Float64Array, t: number, opts: HeatOptions & { out?: Float64Array } = {}): Float64Array {
  const K = checkArgs(graph, x, opts);
  checkTime(t);
  const out = opts.out ?? new Float64Array(graph.n);
  if (out.length !== graph.n) {
    throw new HoloError('bad_dimension', `out has length ${out.length}, expected n = ${graph.n}`);
  }
  chebyshev(graph, x, [heatCoefficients(t, K)], [out], K);
  return out;
}

/**
 * heatMulti(G, x, ts) ≈ [exp(−t L) x for t in ts]: the T_k(L~)x are formed once and combined
 * per t, so m times cost one sweep per term plus m multiply-adds per node per term.
 * Same arguments, accuracy and conventions as heat; each result equals heat(G, x, t, {K})
 * bit for bit (same operations in the same order). ts: at most 64 times.
 * @throws HoloError as heat, and too_large (more than 64 times)
 */
export function heatMulti(graph: Graph, x: Float64Array, ts: number[], opts: HeatOptions = {}): Float64Array[] {
  const K = checkArgs(graph, x, opts);
  if (ts.length > MAX_TIMES) throw new HoloError('too_large', `${ts.length} times exceed ${MAX_TIMES}`);
  for (const t of ts) checkTime(t);
  const cs: Float64Array[] = [];
  const ys: Float64Array[] = [];
  for (const t of ts) {
    cs.push(heatCoefficients(t, K));
    ys.push(new Float64Array(graph.n));
  }
  if (ts.length > 0) chebyshev(graph, x, cs, ys, K);
  return ys;
}

/**
 * heatBound(t, K) = 2 Σ_{k≥K} e^{−t} I_k(t): the bound on ‖heat(G, x, t) − exp(−tL)x‖₂ / ‖x‖₂
 * from truncating after K terms (|T_k| ≤ 1 on [−1, 1]), for every graph.
 */
export function heatBound(t: number, K: number): number {
  checkTime(t);
  checkK(K);
  return besselIe(t, K).tail;
}

/**
 * heatTerms(t, tol) → the smallest K with heatBound(t, K) ≤ tol, or 201 if K ≤ 200 cannot reach
 * tol. Example: heatTerms(5, 1e-9) = 17, heatTerms(20, 1e-9) = 30. tol: relative, > 0.
 */
export function heatTerms(t: number, tol = 1e-9): number {
  checkTime(t);
  if (!(tol > 0)) throw new HoloError('bad_request', `tol must be > 0, got ${tol}`);
  const { values, tail } = besselIe(t, MAX_K);
  let bound = tail;
  if (bound > tol) return MAX_K + 1;
  let K = MAX_K;
  // bound(K−1) = bound(K) + 2 e^{−t} I_{K−1}(t): walk down while still within tol.
  while (K > 1 && bound + 2 * values[K - 1] <= tol) {
    bound += 2 * values[K - 1];
    K--;
  }
  return K;
}

function checkArgs(graph: Graph, x: Float64Array, opts: HeatOptions): number {
  if (x.length !== graph.n) {
    throw new HoloError('bad_dimension', `x has length ${x.length}, expected n = ${graph.n}`);
  }
  checkFinite('x', x);
  const K = opts.K ?? DEFAULT_K;
  checkK(K);
  return K;
}

function checkK(K: number): void {
  if (!Number.isInteger(K) || K < 1 || K > MAX_K) {
    throw new HoloError('bad_request', `K must be an integer in [1, ${MAX_K}], got ${K}`);
  }
}

function checkTime(t: number): void {
  if (typeof t !== 'number' || !(t >= 0) || t === Infinity) {
    throw new HoloError('bad_request', `t must be finite and ≥ 0, got ${t}`);
  }
  if (t > MAX_T) throw new HoloError('too_large', `t = ${t} exceeds ${MAX_T}`);
}

/**
 * heatCoefficients(t, K) → c (K,): c_k = 2 e^{−t} (−1)^k I_k(t), c_0 = e^{−t} I_0(t), the
 * Chebyshev coefficients of s ↦ e^{−t(1+s)} on [−1, 1]. Example: t = 1, K = 3 gives
 * [0.46575960759364043, −0.41582083069941683, 0.09987755378844707].
 * @throws HoloError bad_request (t, K as heat) | too_large (t > 1e6)
 */
export function heatCoefficients(t: number, K: number): Float64Array {
  checkTime(t);
  checkK(K);
  const c = besselIe(t, K).values;
  for (let k = 1; k < K; k++) c[k] = (k & 1 ? -2 : 2) * c[k];
  return c;
}

/**
 * The Chebyshev sweeps behind one small interface: JS_LOOPS below (the reference), the WASM ones
 * in src/kernels/wasm/heat-loops.ts.
 */
export interface ChebyshevLoops {
  /**
   * ys[j] = Σ_{k<K} cs[j][k] T_k(L~) x for every j, isolated rows aside (chebyshev sets them).
   * ys[j] may alias x. Returns false, having written nothing, when it cannot run this call (WASM
   * memory full); the JS loops then do.
   */
  run(graph: Graph, x: Float64Array, cs: Float64Array[], ys: Float64Array[], K: number): boolean;
}

const JS_LOOPS: ChebyshevLoops = {
  run(graph, x, cs, ys, K) {
    sweeps(graph, x, cs, ys, K);
    return true;
  },
};

/** ys[j] = Σ_k cs[j][k] T_k(L~) x on the thread's engine; isolated nodes keep x exactly. */
function chebyshev(graph: Graph, x: Float64Array, cs: Float64Array[], ys: Float64Array[], K: number): void {
  // Isolated rows of L are zero: exp(−tL) is the identity there, exactly. Their x is read first,
  // since ys[j] may alias x.
  const { isolated } = graph;
  const xIso = isolated.length === 0 ? null : Float64Array.from(isolated, (q) => x[q]);
  if (kernelEngine() !== 'wasm' || !wasmChebyshevLoops().run(graph, x, cs, ys, K)) JS_LOOPS.run(graph, x, cs, ys, K);
  if (xIso) for (let j = 0; j < ys.length; j++) for (let q = 0; q < isolated.length; q++) ys[j][isolated[q]] = xIso[q];
}

/**
 * The JS loops: ys[j] = Σ_k cs[j][k] T_k(L~) x. a holds T_{k−1}, b holds T_k; each sweep
 * overwrites a with T_{k+1} = 2 L~ b − a (row i of a is read once, before it is written) and
 * then swaps.
 */
function sweeps(graph: Graph, x: Float64Array, cs: Float64Array[], ys: Float64Array[], K: number): void {
  const { n, rowPtr, col, val } = graph;
  const m = ys.length;
  let a = Float64Array.from(x); // T_0; a copy, so that ys[j] may alias x
  let b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = rowSum(col, val, a, rowPtr[i], rowPtr[i + 1]); // T_1 = L~ x
  for (let j = 0; j < m; j++) {
    const y = ys[j], c0 = cs[j][0], c1 = K > 1 ? cs[j][1] : 0;
    for (let i = 0; i < n; i++) y[i] = c0 * a[i] + c1 * b[i];
  }
  for (let k = 2; k < K; k++) {
    if (m === 1) sweep1(n, rowPtr, col, val, a, b, ys[0], cs[0][k]);
    else sweepMany(n, rowPtr, col, val, a, b, ys, cs, k);
    const tmp = a; a = b; b = tmp;
  }
}

/**
 * Σ_{p in [p, end)} val[p]·b[col[p]], added left to right (the plain loop's order, so C's
 * baseline and any reference sum the same way). Unrolled by 8 only because TurboFan re-checks
 * each typed array's map, base and length on every iteration; one iteration per 8 entries shares
 * those checks (measured 1.8 → 1.2 ns per entry; bench/heat.bench.ts). TurboFan inlines it.
 */
function rowSum(col: Int32Array, val: Float64Array, b: Float64Array, p: number, end: number): number {
  let s = 0;
  for (const e8 = end - 7; p < e8; p += 8) {
    s += val[p] * b[col[p]];
    s += val[p + 1] * b[col[p + 1]];
    s += val[p + 2] * b[col[p + 2]];
    s += val[p + 3] * b[col[p + 3]];
    s += val[p + 4] * b[col[p + 4]];
    s += val[p + 5] * b[col[p + 5]];
    s += val[p + 6] * b[col[p + 6]];
    s += val[p + 7] * b[col[p + 7]];
  }
  for (; p < end; p++) s += val[p] * b[col[p]];
  return s;
}

/** a ← 2 L~ b − a; y += ck a. The hot loop: monomorphic, no closures, no allocation. */
function sweep1(
  n: number, rowPtr: Int32Array, col: Int32Array, val: Float64Array,
  a: Float64Array, b: Float64Array, y: Float64Array, ck: number,
): void {
  for (let i = 0; i < n; i++) {
    const v = 2 * rowSum(col, val, b, rowPtr[i], rowPtr[i + 1]) - a[i];
    a[i] = v;
    y[i] += ck * v;
  }
}

/** sweep1 for several outputs: ys[j] += cs[j][k] a. */
function sweepMany(
  n: number, rowPtr: Int32Array, col: Int32Array, val: Float64Array,
  a: Float64Array, b: Float64Array, ys: Float64Array[], cs: Float64Array[], k: number,
): void {
  const m = ys.length;
  for (let i = 0; i < n; i++) {
    const v = 2 * rowSum(col, val, b, rowPtr[i], rowPtr[i + 1]) - a[i];
    a[i] = v;
    for (let j = 0; j < m; j++) ys[j][i] += cs[j][k] * v;
  }
}
