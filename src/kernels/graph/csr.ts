/**
 * An undirected weighted graph in CSR form, stored ready for the heat kernel: the off-diagonal
 * entries of L~ = L − I = −D^{−1/2} A D^{−1/2}, so one pass over a row is one row of L~·x.
 *
 * Conventions (those of scipy.sparse.csgraph.laplacian(A, normed=True), so fixtures agree):
 *  - each edge (u, v, w) with u ≠ v adds w to A[u,v] and A[v,u]; duplicate edges sum;
 *  - self loops are accepted and ignored: they add nothing to A's off-diagonal or to the degree
 *    (scipy zeroes A's diagonal first; in D − A a self loop cancels out anyway);
 *  - zero-weight edges are accepted and dropped (they add nothing);
 *  - isolated nodes (degree 0, e.g. only self loops) get a zero row in L, so L_ii = 0 there, not 1.
 */
import { HoloError } from '../../errors.js';

/** Default limits on untrusted graph sizes; both are checked before anything is allocated. */
export const MAX_NODES = 1_000_000;
export const MAX_EDGES = 10_000_000;

export interface Graph {
  /** number of nodes */
  n: number;
  /** (n + 1,) row starts into col/val */
  rowPtr: Int32Array;
  /** (nnz,) column of each stored entry, strictly ascending within a row, never the diagonal */
  col: Int32Array;
  /** (nnz,) L~[u,v] = −A[u,v] / sqrt(d_u d_v), in [−1, 0); symmetric */
  val: Float64Array;
  /** (n,) weighted degree d_u = Σ_v A[u,v], self loops excluded; in the weights' unit */
  degree: Float64Array;
  /** ascending indices of the nodes with degree 0 */
  isolated: Int32Array;
  /** stored off-diagonal entries: twice the number of distinct non-loop edges of positive weight */
  nnz: number;
}

/**
 * Peak bytes buildGraph allocates for n nodes and m edges, inputs aside: rowPtr and the fill
 * cursors (8·n), the bucket pass's four arrays over the 2·m directed entries (4 + 8 + 4 + 8 bytes
 * each: 48·m), then degree, square roots and isolated list (20·n) once the first pair is gone.
 * Bounded above by 32·n + 48·m. Checked before anything is allocated (setting graphMaxBytes).
 */
export function graphBuildBytes(n: number, m: number): number {
  return 32 * n + 48 * m;
}

/**
 * Bytes a stored Graph keeps: rowPtr (4·n), degree (8·n), isolated (≤ 4·n), col and val (12·nnz),
 * and the heat kernel's WASM copy of the CSR (4·n + 12·nnz): 20·n + 24·nnz.
 */
export function graphKeptBytes(g: Pick<Graph, 'n' | 'nnz'>): number {
  return 20 * g.n + 24 * g.nnz;
}

export interface GraphLimits {
  /** largest n accepted; default MAX_NODES */
  maxNodes?: number;
  /** largest edge-list length accepted; default MAX_EDGES, never above 2^30 − 1 */
  maxEdges?: number;
}

/**
 * buildGraph(n, src, dst, weight) → the CSR of L~ = L − I, L = I − D^{−1/2} A D^{−1/2}.
 *   A[u,v] = Σ_{edges e = (u,v) or (v,u), u ≠ v} w_e,   d_u = Σ_v A[u,v]
 * n: node count; src, dst: Uint32Array (m,) edge ends in [0, n); weight: Float64Array (m,),
 * finite and ≥ 0 (unit: any, it cancels in L), or null/omitted for all ones.
 * Cost: O(n + m) time (two bucket passes, no sort); memory peaks at ~48 bytes per edge while
 * building, the Graph keeps 24 per distinct edge plus ~16 per node.
 * Ref: Hammond, Vandergheynst & Gribonval 2011, Appl. Comput. Harmon. Anal. 30(2):129–150, §6.
 * Example: the path 0–1–2 (src [0, 1], dst [1, 2]) gives degree [1, 2, 1], rowPtr [0, 1, 3, 4],
 * col [1, 0, 2, 1] and every val = −1/√2 ≈ −0.7071067811865475.
 * @throws HoloError too_large (n > maxNodes, m > maxEdges) | bad_dimension (src, dst, weight
 *   lengths differ) | bad_request (n not a positive integer, index ≥ n, weight negative, NaN or
 *   ±Inf, a degree that overflows to Infinity)
 */
export function buildGraph(
  n: number,
  src: Uint32Array,
  dst: Uint32Array,
  weight?: Float64Array | null,
  limits: GraphLimits = {},
): Graph {
  const maxNodes = limits.maxNodes ?? MAX_NODES;
  // 2·m entries must fit the Int32Array offsets, whatever the configured limit says.
  const maxEdges = Math.min(limits.maxEdges ?? MAX_EDGES, 2 ** 30 - 1);
  if (!Number.isInteger(n) || n < 1) {
    throw new HoloError('bad_request', `n must be a positive integer, got ${n}`);
  }
  if (n > maxNodes) throw new HoloError('too_large', `n = ${n} exceeds maxNodes = ${maxNodes}`);
  const m = src.length;
  if (dst.length !== m) {
    throw new HoloError('bad_dimension', `src has ${m} edges but dst has ${dst.length}`);
  }
  if (weight != null && weight.length !== m) {
    throw new HoloError('bad_dimension', `src has ${m} edges but weight has ${weight.length}`);
  }
  if (m > maxEdges) throw new HoloError('too_large', `${m} edges exceed maxEdges = ${maxEdges}`);
  for (let e = 0; e < m; e++) {
    if (src[e] >= n || dst[e] >= n) {
      throw new HoloError('bad_request', `edge ${e} (${src[e]}, ${dst[e]}) has a node index ≥ n = ${n}`);
    }
  }
  if (weight != null) {
    for (let e = 0; e < m; e++) {
      const w = weight[e];
      if (!(w >= 0) || w === Infinity) {
        const why = Number.isNaN(w) ? 'is NaN' : w < 0 ? 'is negative' : 'is not finite';
        throw new HoloError('bad_request', `weight[${e}] = ${w} ${why}: weights must be finite and ≥ 0`);
      }
    }
  }

  // Pass 1: count the entries each row receives (both directions, loops and zeros skipped).
  const rowPtr = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) {
    const u = src[e], v = dst[e];
    if (u === v || (weight != null && weight[e] === 0)) continue;
    rowPtr[u + 1]++;
    rowPtr[v + 1]++;
  }
  for (let i = 0; i < n; i++) rowPtr[i + 1] += rowPtr[i];
  const { colS, wS } = sortedRows(n, src, dst, weight, rowPtr);

  // Pass 4: merge duplicates in place and sum the degrees.
  const degree = new Float64Array(n);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const start = rowPtr[i], end = rowPtr[i + 1];
    rowPtr[i] = nnz;
    let d = 0;
    for (let p = start; p < end; p++) {
      const c = colS[p], w = wS[p];
      d += w;
      if (nnz > rowPtr[i] && colS[nnz - 1] === c) wS[nnz - 1] += w;
      else { colS[nnz] = c; wS[nnz] = w; nnz++; }
    }
    if (d === Infinity) {
      throw new HoloError('bad_request', `degree of node ${i} overflows to Infinity: weights too large`);
    }
    degree[i] = d;
  }
  rowPtr[n] = nnz;

  // Scale: L~[u,v] = −w / (sqrt(d_u) sqrt(d_v)); two square roots so d_u d_v cannot overflow.
  // w ≤ min(d_u, d_v), so the ratio is ≤ 1; clamp the one-ulp overshoot of w/(√w·√w).
  const sq = new Float64Array(n);
  let nIso = 0;
  for (let i = 0; i < n; i++) {
    sq[i] = Math.sqrt(degree[i]);
    if (degree[i] === 0) nIso++;
  }
  const isolated = new Int32Array(nIso);
  for (let i = 0, j = 0; i < n; i++) if (degree[i] === 0) isolated[j++] = i;
  for (let i = 0; i < n; i++) {
    const si = sq[i];
    for (let p = rowPtr[i], end = rowPtr[i + 1]; p < end; p++) {
      const r = wS[p] / (si * sq[colS[p]]);
      wS[p] = r > 1 ? -1 : -r;
    }
  }
  // Without duplicates the work arrays are already the right size: keep them, copy nothing.
  const col = nnz === colS.length ? colS : colS.slice(0, nnz);
  const val = nnz === wS.length ? wS : wS.slice(0, nnz);
  return { n, rowPtr, col, val, degree, isolated, nnz };
}

/**
 * Passes 2 and 3: bucket each entry (u, v) into column v's bucket, remembering its row u; then
 * walk the columns in order and drop (u, v) into row u. Rows come out sorted by column, which
 * makes duplicates adjacent without a sort (A is symmetric, so column and row buckets share
 * rowPtr). Its own function so that the first pair of buffers dies on return: peak memory is
 * 48 bytes per edge here, 24 after.
 */
function sortedRows(
  n: number, src: Uint32Array, dst: Uint32Array, weight: Float64Array | null | undefined, rowPtr: Int32Array,
): { colS: Int32Array; wS: Float64Array } {
  const raw = rowPtr[n];
  const fill = rowPtr.slice(0, n);
  const rowOf = new Int32Array(raw);
  const wOf = new Float64Array(raw);
  for (let e = 0; e < src.length; e++) {
    const u = src[e], v = dst[e];
    const w = weight == null ? 1 : weight[e];
    if (u === v || w === 0) continue;
    let p = fill[v]++;
    rowOf[p] = u; wOf[p] = w;
    p = fill[u]++;
    rowOf[p] = v; wOf[p] = w;
  }
  fill.set(rowPtr.subarray(0, n));
  const colS = new Int32Array(raw);
  const wS = new Float64Array(raw);
  for (let c = 0; c < n; c++) {
    for (let p = rowPtr[c], end = rowPtr[c + 1]; p < end; p++) {
      const q = fill[rowOf[p]]++;
      colS[q] = c;
      wS[q] = wOf[p];
    }
  }
  return { colS, wS };
}
