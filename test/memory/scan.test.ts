/**
 * The WASM recall scans (src/memory/scan.ts over kernels/wasm/scan/index.ts) against the JS
 * reference topK (src/memory/recall.ts) and against their own JS fallback; the slab heap; and
 * the binary index's accuracy floors for the default oversampling (docs/MEMORY.md).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { centres, clusteredQuery, fillClustered, nearDuplicate } from '../../bench/recall-data.js';
import { scanStatus, slabHeap } from '../../src/kernels/wasm/scan.js';
import { SlabHeap, type Block } from '../../src/kernels/wasm/slab-heap.js';
import { normalize } from '../../src/kernels/hrr/cosine.js';
import { topK } from '../../src/memory/recall.js';
import { codeWords, scan, writeCode, type ScanOptions } from '../../src/memory/scan.js';
import { TENANT_DEFAULTS, TenantMemory } from '../../src/memory/tenant.js';
import { rng } from './support.js';

const EXACT: ScanOptions = { mode: 'exact', oversampling: 1 };
const TOL = 1e-12; // float64 rescoring vs the reference: summation order only

/** A slab in heap h with count unit rows (uniform), `dupes` rows replaced by copies of others, and codes. */
function slabOf(h: SlabHeap, count: number, D: number, dupes: number, r: () => number): { slab: Block; codes: Block } {
  const slab = h.alloc(count * D * 4), codes = h.alloc(count * codeWords(D) * 8);
  const x = slab.f32;
  for (let j = 0; j < count; j++) {
    let nn = 0;
    for (let i = 0; i < D; i++) { const v = r() * 2 - 1; x[j * D + i] = v; nn += v * v; }
    const s = 1 / Math.sqrt(nn);
    for (let i = 0; i < D; i++) x[j * D + i] *= s;
  }
  for (let d = 0; d < dupes && count > 1; d++) {
    const from = Math.floor(r() * count), to = Math.floor(r() * count);
    x.copyWithin(to * D, from * D, (from + 1) * D);
  }
  for (let j = 0; j < count; j++) writeCode(slab, codes, j, D);
  return { slab, codes };
}

describe('exact scan in WASM', () => {
  it('loaded (npm run build compiles dist/scan.wasm): these tests check the WASM path', () => {
    expect(scanStatus()).toEqual({ loaded: true });
  });

  it('equals the JS reference topK: indices exactly, scores and margin within 1e-12 (random, ties, k > n, n = 0/1, D remainders)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 70 }), fc.integer({ min: 1, max: 41 }), fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 0, max: 8 }), fc.integer(),
      (count, D, k, dupes, seed) => {
        const r = rng(seed);
        const { slab, codes } = slabOf(slabHeap(), count, D, dupes, r);
        const q = Float32Array.from({ length: D }, () => r() * 2 - 1);
        if (q.every((v) => v === 0)) q[0] = 1;
        // A duplicated row as query makes bit-equal top scores: ties must keep slot order.
        if (count > 0 && dupes > 0) q.set(slab.f32.subarray(0, D));
        const ref = topK(slab.f32, count, D, q, k);
        const got = scan(slab, codes, count, D, q, k, EXACT);
        expect([...got.index]).toEqual([...ref.index]);
        for (let i = 0; i < ref.score.length; i++) expect(Math.abs(got.score[i] - ref.score[i])).toBeLessThanOrEqual(TOL);
        expect(Math.abs(got.margin - ref.margin)).toBeLessThanOrEqual(TOL);
        slabHeap().free(slab);
        slabHeap().free(codes);
      }), { seed: 10, numRuns: 300 });
  });

  it('bit-equal rows tie in slot order, at slots of both 8-row blocks and in the remainder', () => {
    const D = 37, count = 21, r = rng(4);
    const { slab, codes } = slabOf(slabHeap(), count, D, 0, r);
    for (const j of [1, 2, 3, 7, 9, 15, 16, 19, 20]) slab.f32.copyWithin(j * D, 0, D);
    for (let j = 0; j < count; j++) writeCode(slab, codes, j, D);
    const got = scan(slab, codes, count, D, slab.f32.slice(0, D), 10, EXACT);
    expect([...got.index]).toEqual([0, 1, 2, 3, 7, 9, 15, 16, 19, 20]);
    expect(new Set(got.score).size).toBe(1);
    expect(got.margin).toBe(0);
  });

  it('n = 0 gives no hits and margin 0; n = 1 gives margin = top1; k > n returns all', () => {
    const h = slabHeap(), D = 8, r = rng(5);
    const q = Float32Array.from({ length: D }, () => r() - 0.5);
    const empty = slabOf(h, 0, D, 0, r);
    expect(scan(empty.slab, empty.codes, 0, D, q, 3, EXACT)).toMatchObject({ margin: 0, candidates: 0 });
    const one = slabOf(h, 1, D, 0, r);
    const s1 = scan(one.slab, one.codes, 1, D, q, 3, EXACT);
    expect(s1.index.length).toBe(1);
    expect(s1.margin).toBe(s1.score[0]);
    const five = slabOf(h, 5, D, 0, r);
    expect(scan(five.slab, five.codes, 5, D, q, 50, { mode: 'binary', oversampling: 3 }).index.length).toBe(5);
  });

  it('the JS fallback (plain buffers) gives the same indices and scores as the WASM path', () => {
    const plain = new SlabHeap(null);
    for (const [count, D] of [[50, 64], [33, 100], [7, 5]]) {
      const w = slabOf(slabHeap(), count, D, 2, rng(count));
      const j = slabOf(plain, count, D, 2, rng(count));
      expect(j.slab.ptr).toBe(-1);
      expect([...j.codes.u8.subarray(0, count * codeWords(D) * 8)]).toEqual([...w.codes.u8.subarray(0, count * codeWords(D) * 8)]);
      const q = Float32Array.from({ length: D }, (_, i) => Math.sin(i + 1));
      for (const opts of [EXACT, { mode: 'binary', oversampling: 2 } as ScanOptions]) {
        const a = scan(w.slab, w.codes, count, D, q, 6, opts), b = scan(j.slab, j.codes, count, D, q, 6, opts);
        expect([...a.index]).toEqual([...b.index]);
        for (let i = 0; i < a.score.length; i++) expect(Math.abs(a.score[i] - b.score[i])).toBeLessThanOrEqual(TOL);
      }
    }
  });

  it('sign codes: bit i is the sign bit of x[i] (−0 counts as negative), bits past D are 0', () => {
    const D = 70;
    const h = slabHeap();
    const slab = h.alloc(D * 4), codes = h.alloc(codeWords(D) * 8);
    for (let i = 0; i < D; i++) slab.f32[i] = i % 3 === 0 ? -1 : i % 3 === 1 ? 1 : -0;
    writeCode(slab, codes, 0, D);
    for (let i = 0; i < 128; i++) {
      const bit = (codes.u8[i >> 3] >> (i & 7)) & 1;
      expect(bit).toBe(i < D && i % 3 !== 1 ? 1 : 0);
    }
  });
});

describe('slab heap', () => {
  it('reuses freed blocks by size class, splits larger ones, counts bytes held, and old views survive a grow', () => {
    // A heap of its own (4 MiB to start), so the free lists hold only this test's blocks.
    const W = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBuffer; grow(p: number): number } } }).WebAssembly;
    const h = new SlabHeap(new W.Memory({ initial: 64, maximum: 1024, shared: true }));
    const before = h.bytesHeld;
    const a = h.alloc(1000); // class 1024
    expect(a.bytes).toBe(1024);
    a.f32[3] = 42;
    const big = h.alloc(8 << 20); // forces the memory to grow past its 4 MiB start
    expect(a.f32[3]).toBe(42); // a view made before the grow still reads the same memory
    expect(h.bytesHeld - before).toBe(1024 + (8 << 20));
    h.free(a);
    const b = h.alloc(700);
    expect(b.ptr).toBe(a.ptr); // same class, reused
    expect(b.f32[3]).toBe(0); // zero-filled
    h.free(big);
    const half = h.alloc(4 << 20), quarter = h.alloc(2 << 20);
    expect(half.ptr).toBe(big.ptr); // split from the freed 8 MiB block
    expect(quarter.ptr).toBe(big.ptr + (4 << 20));
    for (const x of [b, half, quarter]) h.free(x);
    h.free(b); // twice: ignored
    expect(h.bytesHeld).toBe(before);
  });
});

describe('binary index accuracy (default oversampling)', () => {
  const over = TENANT_DEFAULTS.scan.oversampling;
  const D = 2048, n = 4096;
  const h = slabHeap();
  const slab = h.alloc(n * D * 4), codes = h.alloc(n * codeWords(D) * 8);
  const C = centres(256, D, 7); // 16 items per centre
  fillClustered(slab.f32, n, D, C, 11);
  for (let j = 0; j < n; j++) writeCode(slab, codes, j, D);

  it(`top-1 ≥ 0.999 on 1000 near-duplicate queries (cosine ≈ 0.9), clustered data, ${n} items, D = ${D}`, () => {
    let hit = 0;
    for (let t = 0; t < 1000; t++) {
      const j = (t * 7919) % n;
      if (scan(slab, codes, n, D, nearDuplicate(slab.f32, j, D, 5000 + t), 10, { mode: 'binary', oversampling: over }).index[0] === j) hit++;
    }
    expect(hit / 1000).toBeGreaterThanOrEqual(0.999);
  });

  it('recall@10 against the exact scan ≥ 0.95 on clustered data (200 queries)', () => {
    let inter = 0;
    for (let t = 0; t < 200; t++) {
      const q = clusteredQuery(C, (t * 37) % 256, D, 1000 + t);
      const e = new Set(scan(slab, codes, n, D, q, 10, EXACT).index);
      for (const i of scan(slab, codes, n, D, q, 10, { mode: 'binary', oversampling: over }).index) if (e.has(i)) inter++;
    }
    expect(inter / 2000).toBeGreaterThanOrEqual(0.95);
  });
});

describe("remember's novelty from the binary index", () => {
  // novelty_index = 1 − (best rescored cosine among the 2·noveltyOversampling nearest codes);
  // novelty_exact = 1 − max_j cosine. The index can only miss the nearest item, so
  // novelty_index ≥ novelty_exact, equal whenever the nearest item's code is among the candidates.
  const D = 1024, n = 2000;
  const C = centres(64, D, 21);
  const rows = new Float32Array(n * D);
  fillClustered(rows, n, D, C, 22);
  const m = new TenantMemory({ D, capacity: 4096 });
  for (let j = 0; j < n; j++) m.remember(`k${j}`, rows.subarray(j * D, (j + 1) * D), { nowMs: j });
  const slab = new Float32Array(n * D);
  let j = 0;
  for (const e of m.entries()) slab.set(e.vector, D * j++);

  function errors(probes: Float32Array[]): number[] {
    return probes.map((x, t) => {
      // The reference scans the vector remember scans: x normalised to float32 (normalize).
      const exact = 1 - topK(slab, n, D, normalize(x), 1).score[0];
      const got = m.remember(`probe${t}`, x, { nowMs: n + t }).novelty;
      m.forget(`probe${t}`);
      return got - exact;
    });
  }

  it('is exact (within 1e-12) for near-duplicates and for writes into a cluster of 31 mates (≤ 32 candidates), never below the exact novelty', () => {
    const near = Array.from({ length: 100 }, (_, t) => nearDuplicate(slab, (t * 13) % n, D, 300 + t));
    const clustered = Array.from({ length: 100 }, (_, t) => clusteredQuery(C, t % 64, D, 600 + t));
    for (const e of [...errors(near), ...errors(clustered)]) expect(Math.abs(e)).toBeLessThanOrEqual(1e-12);
  });

  it('overstates the novelty of an unrelated write by at most 0.05 (random probes, max cosine ≈ 0.1)', () => {
    const r = rng(77);
    const probes = Array.from({ length: 100 }, () => Float32Array.from({ length: D }, () => r() - 0.5));
    const errs = errors(probes);
    for (const e of errs) expect(e).toBeGreaterThanOrEqual(-1e-12);
    expect(Math.max(...errs)).toBeLessThanOrEqual(0.05);
    console.log(`novelty error on unrelated writes: max ${Math.max(...errs).toFixed(4)}, mean ${(errs.reduce((a, b) => a + b, 0) / errs.length).toFixed(4)}, exact in ${errs.filter((e) => Math.abs(e) <= 1e-12).length}/100`);
  });
});
