/**
 * The recall scans over a tenant's slab and codes, on the WASM kernels (kernels/wasm/scan.ts)
 * or, where they cannot load, on JS loops that give the same answers:
 *
 *   exact   f32x4 dot products over every row (float32, kernels/wasm/scan/index.ts), the best
 *           min(count, max(k, 2) + GUARD) kept in the module, those rescored in float64, sorted.
 *   binary  Hamming distance between 1-bit sign codes (D/8 bytes per item) by popcount, the
 *           nearest min(count, max(k, 2)·oversampling) kept, those rescored in float64, sorted.
 *
 * Scores returned are always the float64 rescoring, cosine(query, item) = qInv·Σ f64(x)·f64(q)
 * (two f64x2 lanes): equal to recall.ts's reference within 1e-12 (summation order only). The
 * exact mode's float32 selection differs from float64 by at most ~(D/4)·2⁻²⁴·Σ|x_i q_i| ≈ 2e-4
 * (D = 8192, worst case; ~1e-6 typical), so it can only swap items whose cosines are that close,
 * and GUARD = 8 spare candidates absorb it unless more than 8 items tie within it at rank k.
 * Bit-equal rows get bit-equal float32 scores (every row is summed in one order, whatever its
 * slot), so exact ties keep slot order as in the reference.
 *
 * Binary mode is approximate: an item whose sign code is not among the nearest candidates is
 * missed. Its accuracy is measured (test/memory/scan.test.ts, bench/memory.bench.ts), not assumed.
 */
import { HoloError } from '../errors.js';
import { scanKernels, slabHeap } from '../kernels/wasm/scan.js';
import type { Block } from '../kernels/wasm/slab-heap.js';
import { checkScan, type TopK } from './recall.js';

export type RecallMode = 'exact' | 'binary';

export interface ScanOptions {
  mode: RecallMode;
  /** binary: candidates rescored = max(k, 2) · oversampling (integer ≥ 1) */
  oversampling: number;
}

export interface ScanResult extends TopK {
  /** rows rescored in float64 */
  candidates: number;
}

/** Spare candidates of the exact mode's float32 selection (see above). */
export const GUARD = 8;

/**
 * Helper threads that run the exact float32 selection over part of a slab (worker/scan-helpers.ts),
 * reading the same shared memory. `start` hands helper h rows [0, rows) at slabPtr and returns at
 * once; `wait` blocks until it is done: the rows it filled into ts/ti, or −1 if it failed (the
 * caller then scans those rows itself).
 */
export interface ScanSplitter {
  readonly helpers: number;
  start(h: number, slabPtr: number, rows: number, D: number, q: number, m: number, ts: number, ti: number): void;
  wait(h: number): number;
}

let splitter: ScanSplitter | null = null;
let splitMinBytes = Infinity;

/**
 * Splits exact scans of slabs of at least minBytes over the calling thread and `s`'s helpers
 * (null: never split). The owner thread waits for its helpers inside the scan, so no write to the
 * slab can happen while they read it.
 */
export function setScanSplitter(s: ScanSplitter | null, minBytes: number): void {
  splitter = s;
  splitMinBytes = minBytes;
}

/** u64 words of one sign code. */
export function codeWords(D: number): number {
  return (D + 63) >> 6;
}

let scratch: Block | null = null;

/** This thread's scratch block of at least `bytes` (grow-only). */
function scratchOf(bytes: number): Block {
  if (scratch === null || scratch.bytes < bytes) {
    if (scratch !== null) slabHeap().free(scratch);
    scratch = slabHeap().alloc(Math.max(bytes, 64 * 1024));
  }
  return scratch;
}

/** Writes the sign code of slab row `slot` into codes row `slot`. */
export function writeCode(slab: Block, codes: Block, slot: number, D: number): void {
  const W = codeWords(D);
  const K = scanKernels();
  if (K !== null && slab.ptr >= 0 && codes.ptr >= 0) {
    K.signCode(slab.ptr + slot * D * 4, D, codes.ptr + slot * W * 8);
    return;
  }
  signCodeJs(slab.f32, slot * D, D, codes.u8, slot * W * 8);
}

/** JS sign code, the same bits as the kernel: bit b of word w = sign bit of x[64w + b]. */
function signCodeJs(x: Float32Array, off: number, D: number, out: Uint8Array, o: number): void {
  const bits = new Uint32Array(x.buffer, x.byteOffset + off * 4, D);
  out.fill(0, o, o + codeWords(D) * 8);
  for (let i = 0; i < D; i++) if (bits[i] >>> 31) out[o + (i >> 3)] |= 1 << (i & 7);
}

/**
 * The min(k, count) items nearest to `query` by `opts.mode`, with float64 scores and margin
 * (recall.ts's conventions: ties in slot order, a missing runner-up counts as 0).
 * slab: count rows of D float32, unit norm; codes: count sign codes (writeCode).
 * @throws HoloError bad_dimension (query length) | bad_request (k, oversampling, NaN/Inf, zero query)
 */
export function scan(slab: Block, codes: Block, count: number, D: number, query: Float32Array, k: number, opts: ScanOptions): ScanResult {
  const qInv = checkScan(slab.f32, count, D, query); // the exact scan's checks (recall.ts), 1/‖query‖
  if (!Number.isInteger(k) || k < 1) throw new HoloError('bad_request', `k must be an integer ≥ 1, got ${k}`);
  if (!Number.isInteger(opts.oversampling) || opts.oversampling < 1) {
    throw new HoloError('bad_request', `oversampling must be an integer ≥ 1, got ${opts.oversampling}`);
  }
  const keep = Math.max(k, 2);
  let m = Math.min(count, opts.mode === 'exact' ? keep + GUARD : keep * opts.oversampling);
  let idx: Int32Array = new Int32Array(m);
  let sc: Float64Array = new Float64Array(m);
  if (m > 0) {
    const K = scanKernels();
    if (K !== null && slab.ptr >= 0 && codes.ptr >= 0) {
      if (opts.mode === 'exact' && splitter !== null && count * D * 4 >= splitMinBytes) {
        ({ idx, sc } = selectSplit(K, splitter, slab, count, D, query, qInv, m));
        m = idx.length;
      } else {
        selectWasm(K, slab, codes, count, D, query, qInv, m, opts.mode, idx, sc);
      }
    } else {
      selectJs(slab, codes, count, D, query, qInv, m, opts.mode, idx, sc);
    }
  }
  // Sort the rescored candidates: score descending, slot ascending on ties.
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => sc[b] - sc[a] || idx[a] - idx[b]);
  const n = Math.min(k, count);
  const index = new Int32Array(n), score = new Float64Array(n);
  for (let i = 0; i < n; i++) { index[i] = idx[order[i]]; score[i] = sc[order[i]]; }
  const top1 = m > 0 ? sc[order[0]] : 0, top2 = m > 1 ? sc[order[1]] : 0;
  return { index, score, margin: m > 0 ? top1 - top2 : 0, candidates: m };
}

function selectWasm(
  K: NonNullable<ReturnType<typeof scanKernels>>, slab: Block, codes: Block, count: number, D: number,
  query: Float32Array, qInv: number, m: number, mode: RecallMode, idx: Int32Array, sc: Float64Array,
): void {
  const W = codeWords(D);
  // scratch: q (D f32) | qc (W u64) | top scores or distances (m × 4) | top slots (m × 4) | rescored (m × 8)
  const qBytes = (D * 4 + 15) & ~15, qcBytes = W * 8, mBytes = (m * 4 + 15) & ~15;
  const s = scratchOf(qBytes + qcBytes + 2 * mBytes + m * 8);
  const q = s.ptr, qc = q + qBytes, tv = qc + qcBytes, ti = tv + mBytes, out = ti + mBytes;
  new Float32Array(s.u8.buffer, q, D).set(query);
  const got = mode === 'exact'
    ? K.scanTopK(slab.ptr, count, D, q, m, tv, ti)
    : (K.signCode(q, D, qc), K.hammingTopK(codes.ptr, count, W, qc, m, tv, ti));
  if (got !== m) throw new HoloError('internal', `scan filled ${got} of ${m} candidates`);
  K.rescore(slab.ptr, D, q, qInv, ti, m, out);
  idx.set(new Int32Array(s.u8.buffer, ti, m));
  sc.set(new Float64Array(s.u8.buffer, out, m));
}

/**
 * The exact selection split in P = helpers + 1 row ranges: helper h scans range h + 1 while this
 * thread scans range 0; each keeps its best m in float32; the union (≤ P·m) is rescored in
 * float64. Every item of the unsplit selection's best m is in its range's best m, so the answer
 * is the unsplit one (or closer to the float64 order where float32 misordered a near-tie).
 */
function selectSplit(
  K: NonNullable<ReturnType<typeof scanKernels>>, S: ScanSplitter, slab: Block, count: number, D: number,
  query: Float32Array, qInv: number, m: number,
): { idx: Int32Array; sc: Float64Array } {
  const P = Math.min(S.helpers + 1, Math.ceil(count / m));
  const qBytes = (D * 4 + 15) & ~15, mBytes = (m * 4 + 15) & ~15;
  // scratch: q | per range: scores (m × 4), slots (m × 4) | all slots (P·m × 4) | rescored (P·m × 8)
  const s = scratchOf(qBytes + 2 * P * mBytes + ((P * m * 4 + 15) & ~15) + P * m * 8);
  const q = s.ptr, part = (p: number) => q + qBytes + 2 * p * mBytes;
  const all = part(P), out = all + ((P * m * 4 + 15) & ~15);
  new Float32Array(s.u8.buffer, q, D).set(query);
  const rows = Math.ceil(count / P);
  const from = (p: number) => Math.min(count, p * rows);
  for (let p = 1; p < P; p++) S.start(p - 1, slab.ptr + from(p) * D * 4, from(p + 1) - from(p), D, q, m, part(p), part(p) + mBytes);
  const filled: number[] = [K.scanTopK(slab.ptr, from(1), D, q, m, part(0), part(0) + mBytes)];
  for (let p = 1; p < P; p++) {
    const n = from(p + 1) - from(p);
    let got = S.wait(p - 1);
    if (got < 0) got = K.scanTopK(slab.ptr + from(p) * D * 4, n, D, q, m, part(p), part(p) + mBytes); // helper failed
    filled.push(got);
  }
  const allIdx = new Int32Array(s.u8.buffer, all, P * m);
  let c = 0;
  for (let p = 0; p < P; p++) {
    const ti = new Int32Array(s.u8.buffer, part(p) + mBytes, filled[p]);
    for (let i = 0; i < filled[p]; i++) allIdx[c++] = ti[i] + from(p);
  }
  K.rescore(slab.ptr, D, q, qInv, all, c, out);
  return { idx: allIdx.slice(0, c), sc: new Float64Array(s.u8.buffer, out, c).slice() };
}

/**
 * The same selection in JS (float64 for exact, which only changes near-ties; popcount by bytes):
 * the m smallest keys (−dot product, or Hamming distance) kept in a sorted list as the rows go
 * by, ties in slot order, O(n·m) for the small m a recall asks, then rescored in float64.
 */
function selectJs(
  slab: Block, codes: Block, count: number, D: number, query: Float32Array, qInv: number, m: number,
  mode: RecallMode, idx: Int32Array, sc: Float64Array,
): void {
  const x = slab.f32;
  const keys = new Float64Array(m);
  let filled = 0;
  const offer = (key: number, j: number) => {
    let at: number;
    if (filled < m) at = filled++;
    else if (key < keys[m - 1]) at = m - 1;
    else return;
    while (at > 0 && keys[at - 1] > key) { keys[at] = keys[at - 1]; idx[at] = idx[at - 1]; at--; }
    keys[at] = key;
    idx[at] = j;
  };
  const dot = (j: number) => {
    let s = 0;
    for (let i = 0; i < D; i++) s += x[j * D + i] * query[i];
    return s;
  };
  if (mode === 'exact') {
    for (let j = 0; j < count; j++) offer(-dot(j), j);
  } else {
    const W8 = codeWords(D) * 8;
    const qc = new Uint8Array(W8);
    signCodeJs(query, 0, D, qc, 0);
    for (let j = 0; j < count; j++) {
      let d = 0;
      for (let b = 0; b < W8; b++) d += POPCOUNT8[codes.u8[j * W8 + b] ^ qc[b]];
      offer(d, j);
    }
  }
  for (let c = 0; c < m; c++) sc[c] = (mode === 'exact' ? -keys[c] : dot(idx[c])) * qInv;
}

const POPCOUNT8 = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let v = b; v; v >>= 1) c += v & 1;
  return c;
});
