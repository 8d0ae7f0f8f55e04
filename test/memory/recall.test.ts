import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scanAll, topK } from '../../src/memory/recall.js';
import { HoloError } from '../../src/errors.js';
import { rng } from './support.js';

const FC = { seed: 7, numRuns: 40 };

/** count unit rows of length D (float32-rounded), then `dupes` rows overwritten by copies of others. */
function slabOf(count: number, D: number, dupes: number, r: () => number): Float32Array {
  const slab = new Float32Array(count * D);
  for (let j = 0; j < count; j++) {
    let nn = 0;
    for (let i = 0; i < D; i++) {
      const x = r() * 2 - 1;
      slab[j * D + i] = x;
      nn += x * x;
    }
    const s = 1 / Math.sqrt(nn);
    for (let i = 0; i < D; i++) slab[j * D + i] *= s;
  }
  for (let d = 0; d < dupes && count > 1; d++) {
    const from = Math.floor(r() * count), to = Math.floor(r() * count);
    slab.copyWithin(to * D, from * D, (from + 1) * D);
  }
  return slab;
}

/** Brute-force reference: every score in float64 (one accumulator), sorted (score desc, slot asc). */
function reference(slab: Float32Array, count: number, D: number, q: Float32Array) {
  let qq = 0;
  for (let i = 0; i < D; i++) qq += q[i] * q[i];
  const all: { j: number; s: number }[] = [];
  for (let j = 0; j < count; j++) {
    let s = 0;
    for (let i = 0; i < D; i++) s += slab[j * D + i] * q[i];
    all.push({ j, s: s / Math.sqrt(qq) });
  }
  const sorted = [...all].sort((a, b) => b.s - a.s || a.j - b.j);
  return { all, sorted };
}

describe('topK', () => {
  it('worked example: rows e0, e1, query (3, 4, 0, 0)', () => {
    const slab = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]);
    const r = topK(slab, 2, 4, Float32Array.from([3, 4, 0, 0]), 5);
    expect([...r.index]).toEqual([1, 0]);
    expect(r.score[0]).toBeCloseTo(0.8, 15);
    expect(r.score[1]).toBeCloseTo(0.6, 15);
    expect(r.margin).toBeCloseTo(0.2, 15);
  });

  it('matches a float64 brute-force sort on random data, ties and k > count included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 37 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer(),
        (count, D, k, dupes, seed) => {
          const r = rng(seed);
          const slab = slabOf(count, D, dupes, r);
          // Half the runs query with a stored row, so exact-duplicate ties sit at the top.
          const q = count > 0 && r() < 0.5
            ? slab.slice(0, D).map((x) => x * 3)
            : Float32Array.from({ length: D }, () => r() * 2 - 1);
          const got = topK(slab, count, D, q, k);
          const ref = reference(slab, count, D, q);
          const n = Math.min(k, count);
          expect(got.index.length).toBe(n);
          expect(got.score.length).toBe(n);
          // 4 accumulators vs 1: sums of the same float32 products differ by rounding only.
          const tol = 1e-12;
          for (let i = 0; i < n; i++) {
            expect(Math.abs(got.score[i] - ref.sorted[i].s)).toBeLessThanOrEqual(tol);
            expect(Math.abs(ref.all[got.index[i]].s - got.score[i])).toBeLessThanOrEqual(tol);
            if (i > 0) {
              expect(got.score[i]).toBeLessThanOrEqual(got.score[i - 1]);
              // Bit-equal scores keep slot order.
              if (got.score[i] === got.score[i - 1]) expect(got.index[i]).toBeGreaterThan(got.index[i - 1]);
            }
          }
          expect(new Set(got.index).size).toBe(n);
          // Nothing left out scores above the k-th.
          const chosen = new Set(got.index);
          for (const { j, s } of ref.all) if (!chosen.has(j)) expect(s).toBeLessThanOrEqual(got.score[n - 1] + tol);
          const top1 = ref.sorted[0]?.s ?? 0, top2 = ref.sorted[1]?.s ?? 0;
          expect(Math.abs(got.margin - (count === 0 ? 0 : top1 - top2))).toBeLessThanOrEqual(2 * tol);
        },
      ),
      FC,
    );
  });

  it('k = 1 still measures the margin against the true second best', () => {
    const slab = Float32Array.from([1, 0, 0, 0, 0.6, 0.8, 0, 0, 0, 0, 1, 0]);
    const r = topK(slab, 3, 4, Float32Array.from([1, 0, 0, 0]), 1);
    expect([...r.index]).toEqual([0]);
    expect(r.margin).toBeCloseTo(1 - 0.6, 7);
  });

  it('fewer than two items: the missing runner-up counts as 0', () => {
    const slab = Float32Array.from([0.6, 0.8, 0, 0]);
    expect(topK(slab, 1, 4, Float32Array.from([1, 0, 0, 0]), 3).margin).toBeCloseTo(0.6, 7);
    const none = topK(new Float32Array(0), 0, 4, Float32Array.from([1, 0, 0, 0]), 3);
    expect(none.index.length).toBe(0);
    expect(none.margin).toBe(0);
  });

  it('writes into the out buffers when they are large enough', () => {
    const slab = slabOf(20, 8, 0, rng(1));
    const out = { index: new Int32Array(5), score: new Float64Array(5) };
    const r = topK(slab, 20, 8, slab.slice(8, 16), 5, out);
    expect(r.index.buffer).toBe(out.index.buffer);
    expect(r.score.buffer).toBe(out.score.buffer);
    expect(r.index[0]).toBe(1);
    const small = topK(slab, 20, 8, slab.slice(8, 16), 1, { index: new Int32Array(2), score: new Float64Array(2) });
    expect(small.index.length).toBe(1);
  });

  it('rejects a zero query, NaN, a wrong length, a bad k and a short slab', () => {
    const slab = new Float32Array(8).fill(0.5);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as HoloError).code;
      }
      return 'none';
    };
    expect(code(() => topK(slab, 2, 4, new Float32Array(4), 1))).toBe('bad_request');
    expect(code(() => topK(slab, 2, 4, Float32Array.from([1, NaN, 0, 0]), 1))).toBe('bad_request');
    expect(code(() => topK(slab, 2, 4, new Float32Array(3).fill(1), 1))).toBe('bad_dimension');
    expect(code(() => topK(slab, 2, 4, new Float32Array(4).fill(1), 0))).toBe('bad_request');
    expect(code(() => topK(slab, 2, 4, new Float32Array(4).fill(1), 1.5))).toBe('bad_request');
    expect(code(() => topK(slab, 3, 4, new Float32Array(4).fill(1), 1))).toBe('bad_dimension');
  });
});

describe('scanAll', () => {
  it('returns every score in slot order', () => {
    const slab = slabOf(30, 16, 0, rng(3));
    const q = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i));
    const ref = reference(slab, 30, 16, q);
    const s = scanAll(slab, 30, 16, q);
    for (let j = 0; j < 30; j++) expect(Math.abs(s[j] - ref.all[j].s)).toBeLessThanOrEqual(1e-15);
  });
});
