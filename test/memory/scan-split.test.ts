/**
 * An exact scan split over helper threads (src/worker/scan-helpers.ts, memory/scan.ts selectSplit)
 * equals the JS reference topK, as the unsplit scan does; and a dead helper's rows are scanned by
 * the caller. The helpers are real worker_threads reading this thread's shared slab memory
 * (they run the compiled dist/src/worker/scan-helper.js: npm run build first).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { slabHeap } from '../../src/kernels/wasm/scan.js';
import { topK } from '../../src/memory/recall.js';
import { codeWords, scan, setScanSplitter, writeCode } from '../../src/memory/scan.js';
import { startScanHelpers, type ScanHelpers } from '../../src/worker/scan-helpers.js';
import { rng } from './support.js';

describe('exact scan split over helper threads', () => {
  const opened: ScanHelpers[] = [];
  afterAll(async () => {
    setScanSplitter(null, Infinity);
    for (const h of opened) await h.close();
  });

  const D = 200, n = 3001, r = rng(9);
  const h = slabHeap();
  const slab = h.alloc(n * D * 4), codes = h.alloc(n * codeWords(D) * 8);
  for (let i = 0; i < n * D; i++) slab.f32[i] = r() - 0.5;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < D; i++) s += slab.f32[j * D + i] ** 2;
    for (let i = 0; i < D; i++) slab.f32[j * D + i] /= Math.sqrt(s);
    writeCode(slab, codes, j, D);
  }
  // Ties across range boundaries: copies of row 5 at slots in every range.
  for (const j of [1000, 1001, 2000, 2999, 3000]) slab.f32.copyWithin(j * D, 5 * D, 6 * D);

  for (const helpers of [1, 3]) {
    it(`${helpers} helper(s): indices equal the reference, scores within 1e-12 (k = 1, 10, 50; ties across ranges)`, () => {
      const s = startScanHelpers(helpers)!;
      expect(s).not.toBeNull();
      opened.push(s);
      setScanSplitter(s, 0);
      try {
        for (let t = 0; t < 6; t++) {
          const q = t === 0 ? slab.f32.slice(5 * D, 6 * D) : Float32Array.from({ length: D }, () => r() - 0.5);
          for (const k of [1, 10, 50]) {
            const ref = topK(slab.f32, n, D, q, k);
            const got = scan(slab, codes, n, D, q, k, { mode: 'exact', oversampling: 1 });
            expect([...got.index]).toEqual([...ref.index]);
            for (let i = 0; i < k; i++) expect(Math.abs(got.score[i] - ref.score[i])).toBeLessThanOrEqual(1e-12);
            expect(got.candidates).toBe((helpers + 1) * (Math.max(k, 2) + 8));
          }
        }
      } finally {
        setScanSplitter(null, Infinity);
      }
    });
  }

  it('a helper that has exited: its rows are scanned by the caller, same answer', async () => {
    const s = startScanHelpers(1)!;
    await s.close(); // the thread is gone
    setScanSplitter(s, 0);
    try {
      const q = Float32Array.from({ length: D }, () => r() - 0.5);
      const ref = topK(slab.f32, n, D, q, 10);
      expect([...scan(slab, codes, n, D, q, 10, { mode: 'exact', oversampling: 1 }).index]).toEqual([...ref.index]);
    } finally {
      setScanSplitter(null, Infinity);
    }
  });
});
