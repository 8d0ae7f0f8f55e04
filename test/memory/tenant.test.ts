import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TenantMemory, TENANT_DEFAULTS } from '../../src/memory/tenant.js';
import { normalize } from '../../src/kernels/hrr/cosine.js';
import { bits, code, rng } from './support.js';

const D = 256;

function randomVector(r: () => number, n = D): Float32Array {
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

describe('TenantMemory basics', () => {
  it('has the documented defaults', () => {
    expect(TENANT_DEFAULTS).toEqual({
      D: 8192, capacity: 4096, initialSlots: 4, maxPayloadBytes: 65536, highWater: 0.9, lowWater: 0.8, evictionPolicy: 'oldest',
      scan: { mode: 'binary', oversampling: 16 }, noveltyOversampling: 16,
    });
  });

  it('stores a unit copy, computes novelty against what it held, recalls with payload', () => {
    const m = new TenantMemory({ D });
    const r = rng(1);
    const a = randomVector(r);
    const first = m.remember('a', a, { nowMs: 0, payload: Uint8Array.of(1, 2, 3) });
    expect(first.novelty).toBe(1);
    expect(first.salience).toBeCloseTo(0.7, 15);
    // The same direction under another key: nothing new.
    const dup = m.remember('b', a.map((x) => 2 * x), { nowMs: 1, reward: 1 });
    expect(dup.novelty).toBeCloseTo(0, 6);
    expect(dup.salience).toBeCloseTo(0.5 * dup.novelty + 0.3 + 0.2, 12);
    const got = m.get('a')!;
    expect(bits(got.vector)).toEqual(bits(normalize(a)));
    const hit = m.recall(a, 1, 5);
    expect(hit.hits[0].key).toBe('a'); // bit-equal scores: lower slot first
    expect([...hit.hits[0].payload!]).toEqual([1, 2, 3]);
    expect(hit.hits[0].score).toBeCloseTo(1, 6);
    expect(hit.margin).toBeCloseTo(0, 6);
    expect(m.get('a')!.lastAccessMs).toBe(5);
    expect(m.get('a')!.createdMs).toBe(0);
  });

  it('copies the payload', () => {
    const m = new TenantMemory({ D });
    const p = Uint8Array.of(9, 9);
    m.remember('k', randomVector(rng(2)), { nowMs: 0, payload: p });
    p[0] = 0;
    expect([...m.get('k')!.payload!]).toEqual([9, 9]);
  });

  it('recall on an empty memory returns nothing with margin 0', () => {
    const m = new TenantMemory({ D });
    expect(m.recall(randomVector(rng(3)), 4, 0)).toEqual({ hits: [], margin: 0, candidates: 0 });
  });

  it('rejects bad input with the right code', () => {
    const m = new TenantMemory({ D, maxPayloadBytes: 4 });
    const v = randomVector(rng(4));
    expect(code(() => m.remember('', v, { nowMs: 0 }))).toBe('bad_request');
    expect(code(() => m.remember('\uD800x', v, { nowMs: 0 }))).toBe('bad_request');
    expect(code(() => m.remember('x'.repeat(1025), v, { nowMs: 0 }))).toBe('too_large');
    expect(code(() => m.remember('k', new Float32Array(D), { nowMs: 0 }))).toBe('bad_request');
    expect(code(() => m.remember('k', new Float32Array(D - 1).fill(1), { nowMs: 0 }))).toBe('bad_dimension');
    expect(code(() => m.remember('k', v.map((x, i) => (i === 7 ? Infinity : x)), { nowMs: 0 }))).toBe('bad_request');
    expect(code(() => m.remember('k', v, { nowMs: 0, payload: new Uint8Array(5) }))).toBe('too_large');
    expect(code(() => m.remember('k', v, { nowMs: NaN }))).toBe('bad_request');
    expect(code(() => m.remember('k', v, { nowMs: 0, reward: Infinity }))).toBe('bad_request');
    expect(code(() => m.recall(new Float32Array(D), 1, 0))).toBe('bad_request');
    expect(m.size).toBe(0);
    expect(code(() => new TenantMemory({ D, lowWater: 0.9, highWater: 0.9 }))).toBe('bad_request');
    expect(code(() => new TenantMemory({ D: 1000 }))).toBe('bad_dimension');
    expect(code(() => new TenantMemory({ D, capacity: 0 }))).toBe('bad_request');
  });

  it('grows the slab by doubling, up to capacity', () => {
    const m = new TenantMemory({ D, capacity: 20, initialSlots: 2, highWater: 1, lowWater: 0.5 });
    const r = rng(5);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      m.remember(`k${i}`, randomVector(r), { nowMs: i });
      seen.push(m.stats().slots);
    }
    expect([...new Set(seen)]).toEqual([2, 4, 8, 16, 20]);
  });
});

describe('TenantMemory memory pressure', () => {
  for (const [capacity, evictionPolicy] of [[100, 'oldest'], [37, 'oldest'], [10, 'oldest'], [100, 'salience'], [37, 'salience']] as const) {
    it(`'${evictionPolicy}': evicts exactly when passing highWater, down to lowWater (capacity ${capacity})`, () => {
      const m = new TenantMemory({ D, capacity, evictionPolicy });
      const r = rng(capacity);
      const high = Math.floor(0.9 * capacity + 1e-9); // most items with utilization ≤ 0.9
      const low = Math.floor(0.8 * capacity + 1e-9);
      for (let i = 0; i < high; i++) {
        expect(m.remember(`k${i}`, randomVector(r), { nowMs: 1000 + 60_000 * i, reward: r() }).evicted).toEqual([]);
      }
      expect(m.stats().utilization).toBeLessThanOrEqual(0.9);
      const now = 1000 + 60_000 * high;
      const before = Array.from({ length: high }, (_, i) => ({ key: `k${i}`, s: m.currentSalience(`k${i}`, now)! }));
      const res = m.remember(`k${high}`, randomVector(r), { nowMs: now });
      // 'oldest': the oldest leave, oldest first. 'salience': the lowest current salience first.
      const expected = evictionPolicy === 'oldest'
        ? Array.from({ length: high + 1 - low }, (_, i) => `k${i}`)
        : before.sort((a, b) => a.s - b.s).slice(0, high + 1 - low).map((x) => x.key);
      expect(res.evicted).toEqual(expected);
      expect(m.stats().items).toBe(low);
      expect(m.stats().utilization).toBeLessThanOrEqual(0.8);
      expect((low + 1) / capacity).toBeGreaterThan(0.8);
      expect(m.evictions).toBe(high + 1 - low);
      expect(m.has(`k${high}`)).toBe(true);
      for (const k of res.evicted) expect(m.get(k)).toBeUndefined();
    });
  }

  it("'salience': evicts the lowest current salience, recency recomputed at nowMs", () => {
    // α = 0 takes novelty out, so the expected order follows from reward and age alone.
    const sal = { alpha: 0, beta: 0.3, gamma: 0.2, tauSeconds: 10 };
    const m = new TenantMemory({ D, capacity: 20, evictionPolicy: 'salience', salience: sal });
    const r = rng(11);
    const rewards: number[] = [];
    const lastAccess: number[] = [];
    for (let i = 0; i < 18; i++) {
      rewards.push(Math.round(r() * 10) / 10);
      lastAccess.push(i * 3000);
      m.remember(`k${i}`, randomVector(r), { nowMs: i * 3000, reward: rewards[i] });
    }
    // Touch a few old items so their recency comes back.
    const hot = [0, 1, 2];
    for (const i of hot) {
      m.recall(m.get(`k${i}`)!.vector, 1, 60_000);
      lastAccess[i] = 60_000;
    }
    const now = 61_000;
    const current = (i: number) => Math.min(1, Math.max(0, 0.3 * rewards[i] + 0.2 * Math.exp(-(now - lastAccess[i]) / 10_000)));
    // The new item has the lowest salience of all, yet its own write never evicts it.
    const res = m.remember('new', randomVector(r), { nowMs: now, reward: -10 });
    expect(m.stats().items).toBe(16);
    const expected = Array.from({ length: 18 }, (_, i) => i)
      .sort((a, b) => current(a) - current(b) || a - b)
      .slice(0, 3)
      .map((i) => `k${i}`);
    expect(res.evicted).toEqual(expected);
    expect(m.has('new')).toBe(true);
    expect(m.currentSalience('new', now)).toBe(0);
  });

  it('a write that finds the slab full evicts first (capacity 1)', () => {
    const m = new TenantMemory({ D, capacity: 1, lowWater: 0, highWater: 0.5 });
    const r = rng(12);
    expect(m.remember('a', randomVector(r), { nowMs: 0 }).evicted).toEqual([]);
    expect(m.remember('b', randomVector(r), { nowMs: 1 }).evicted).toEqual(['a']);
    expect(m.remember('b', randomVector(r), { nowMs: 2 }).evicted).toEqual([]);
    expect(m.size).toBe(1);
  });
});

describe('TenantMemory slab consistency', () => {
  it('forget / overwrite / evict keep every vector bit-identical to a Map model', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom<'oldest' | 'salience'>('oldest', 'salience'), (seed, evictionPolicy) => {
        const r = rng(seed);
        const m = new TenantMemory({ D, capacity: 24, initialSlots: 2, evictionPolicy });
        const model = new Map<string, { bits: number[]; payload?: number[] }>();
        for (let step = 0; step < 200; step++) {
          const op = r();
          const key = `k${Math.floor(r() * 40)}`;
          if (op < 0.6) {
            const v = randomVector(r);
            const payload = r() < 0.5 ? Uint8Array.from({ length: Math.floor(r() * 5) }, () => Math.floor(r() * 256)) : undefined;
            const res = m.remember(key, v, { nowMs: step, payload, reward: r() });
            model.set(key, { bits: bits(normalize(v)), payload: payload && [...payload] });
            expect(res.evicted).not.toContain(key);
            for (const k of res.evicted) {
              expect(model.has(k)).toBe(true);
              model.delete(k);
            }
          } else if (op < 0.85) {
            expect(m.forget(key)).toBe(model.delete(key));
          } else if (model.size > 0) {
            const keys = [...model.keys()];
            const k = keys[Math.floor(r() * keys.length)];
            const q = Float32Array.from(m.get(k)!.vector);
            const hit = m.recall(q, 3, step).hits;
            expect(hit[0].score).toBeCloseTo(1, 6);
            expect(hit.length).toBe(Math.min(3, model.size));
          }
          expect(m.size).toBe(model.size);
          expect(m.stats().utilization).toBeLessThanOrEqual(0.9);
        }
        for (const [k, want] of model) {
          const got = m.get(k)!;
          expect(bits(got.vector)).toEqual(want.bits);
          expect(got.payload && [...got.payload]).toEqual(want.payload);
        }
        expect(new Set([...m.entries()].map((e) => e.key))).toEqual(new Set(model.keys()));
      }),
      { seed: 7, numRuns: 40 },
    );
  });
});

describe('TenantMemory persistence', () => {
  it('entries → load rebuilds the same memory bit for bit', () => {
    const r = rng(21);
    const a = new TenantMemory({ D, evictionPolicy: 'salience' });
    for (let i = 0; i < 30; i++) {
      a.remember(`k${i}`, randomVector(r), { nowMs: i * 10, reward: r(), payload: i % 2 ? Uint8Array.of(i) : undefined });
    }
    const b = new TenantMemory({ D, evictionPolicy: 'salience' });
    expect(b.load(a.entries(), 1000)).toEqual({ evicted: [] });
    for (const e of a.entries()) {
      const f = b.get(e.key)!;
      expect(bits(f.vector)).toEqual(bits(e.vector));
      expect({ ...f, vector: null }).toEqual({ ...e, vector: null });
      expect(b.currentSalience(e.key, 5000)).toBe(a.currentSalience(e.key, 5000));
    }
    const q = randomVector(r);
    expect(b.recall(q, 5, 2000).hits.map((h) => h.key).sort()).toEqual(a.recall(q, 5, 2000).hits.map((h) => h.key).sort());
  });

  it('load derives a missing novelty from the stored salience', () => {
    const r = rng(22);
    const a = new TenantMemory({ D });
    a.remember('x', randomVector(r), { nowMs: 0 });
    a.remember('y', randomVector(r), { nowMs: 0, reward: 0.5 });
    const b = new TenantMemory({ D });
    b.load([...a.entries()].map((e) => ({ ...e, novelty: undefined })), 0);
    for (const k of ['x', 'y']) expect(b.currentSalience(k, 9e6)).toBeCloseTo(a.currentSalience(k, 9e6)!, 12);
  });

  it('load keeps only lowWater·capacity records when given too many', () => {
    const r = rng(23);
    const recs = Array.from({ length: 15 }, (_, i) => ({
      key: `k${i}`, vector: normalize(randomVector(r)), salience: 0.5, reward: 0, createdMs: i, lastAccessMs: i, novelty: 1,
    }));
    const m = new TenantMemory({ D, capacity: 10 });
    const res = m.load(recs, 100);
    expect(m.size).toBe(8);
    expect(res.evicted).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect(code(() => m.load([{ ...recs[0], vector: randomVector(r).map((x) => x * 3) }], 0))).toBe('bad_request');
    expect(m.size).toBe(8);
  });
});
