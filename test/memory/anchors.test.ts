import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AnchorBook, ANCHOR_DEFAULTS } from '../../src/memory/anchors.js';
import { cosine, normalize } from '../../src/kernels/hrr/cosine.js';
import { bits, code, rng } from './support.js';

const D = 1024;

/** Standard normal by Box–Muller. */
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function randomUnit(r: () => number, n = D): Float32Array {
  return normalize(Float32Array.from({ length: n }, () => gauss(r)));
}

describe('AnchorBook', () => {
  it('has the documented defaults', () => {
    expect(ANCHOR_DEFAULTS).toEqual({ D: 8192, anchorsMax: 1024, initialSlots: 16 });
  });

  it('cleanup recovers the right anchor from a noisy copy', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = rng(seed);
        const book = new AnchorBook({ D });
        const anchors = Array.from({ length: 64 }, () => randomUnit(r));
        anchors.forEach((a, i) => book.put(`a${i}`, a, 0));
        const pick = Math.floor(r() * anchors.length);
        // Noise of the same norm as the anchor: cosine(noisy, anchor) ≈ 1/√2 ≈ 0.71, while
        // unrelated anchors sit near 0 ± 1/√D·(1/√2) ≈ ±0.02.
        const noise = randomUnit(r);
        const noisy = anchors[pick].map((x, i) => x + noise[i]);
        const c = book.cleanup(noisy, 10);
        expect(c.key).toBe(`a${pick}`);
        expect(c.score).toBeCloseTo(cosine(noisy, anchors[pick]), 5);
        expect(c.score).toBeGreaterThan(0.6);
        expect(c.margin).toBeGreaterThan(0.4);
        expect(book.get(`a${pick}`)!.lastMatchedMs).toBe(10);
      }),
      { seed: 7, numRuns: 40 },
    );
  });

  it('cleanup on an empty book is not_found; a book of one has margin = score', () => {
    const book = new AnchorBook({ D });
    const r = rng(2);
    expect(code(() => book.cleanup(randomUnit(r), 0))).toBe('not_found');
    const a = randomUnit(r);
    book.put('only', a, 0);
    const c = book.cleanup(a, 1);
    expect(c.key).toBe('only');
    expect(c.margin).toBe(c.score);
    expect(code(() => book.cleanup(new Float32Array(D), 1))).toBe('bad_request');
    expect(code(() => book.put('z', new Float32Array(D), 1))).toBe('bad_request');
    expect(code(() => book.put('', a, 1))).toBe('bad_request');
    expect(code(() => book.put('z', new Float32Array(8).fill(1), 1))).toBe('bad_dimension');
    expect(book.size).toBe(1);
  });

  it('saturation = used / capacity; at saturation the least recently matched anchor ages out', () => {
    const r = rng(3);
    const book = new AnchorBook({ D, anchorsMax: 3 });
    const v = Array.from({ length: 5 }, () => randomUnit(r));
    expect(book.saturation()).toBe(0);
    expect(book.put('a', v[0], 1).evicted).toBeNull();
    expect(book.put('b', v[1], 2).evicted).toBeNull();
    expect(book.put('c', v[2], 3).evicted).toBeNull();
    expect(book.saturation()).toBe(1);
    // 'a' is the oldest put, but a cleanup win makes it the most recent.
    expect(book.cleanup(v[0], 4).key).toBe('a');
    // Overwriting a held name evicts nothing.
    expect(book.put('c', v[2], 5).evicted).toBeNull();
    expect(book.put('d', v[3], 6).evicted).toBe('b');
    expect(book.put('e', v[4], 7).evicted).toBe('a');
    expect(book.agedOut).toBe(2);
    expect(new Set([...book.entries()].map((e) => e.name))).toEqual(new Set(['c', 'd', 'e']));
    expect(book.saturation()).toBe(1);
    expect(book.delete('d')).toBe(true);
    expect(book.delete('d')).toBe(false);
    expect(book.saturation()).toBeCloseTo(2 / 3, 15);
  });

  it('delete and overwrite keep every vector bit-identical to a Map model', () => {
    const r = rng(4);
    const book = new AnchorBook({ D: 256, anchorsMax: 1000, initialSlots: 1 });
    const model = new Map<string, number[]>();
    for (let step = 0; step < 400; step++) {
      const name = `n${Math.floor(r() * 30)}`;
      if (r() < 0.65) {
        const v = Float32Array.from({ length: 256 }, () => r() - 0.5);
        book.put(name, v, step);
        model.set(name, bits(normalize(v)));
      } else {
        expect(book.delete(name)).toBe(model.delete(name));
      }
    }
    expect(book.size).toBe(model.size);
    for (const [name, want] of model) expect(bits(book.get(name)!.vector)).toEqual(want);
  });

  it('entries → load round trip; load beyond anchorsMax keeps the most recently matched', () => {
    const r = rng(5);
    const a = new AnchorBook({ D: 256 });
    for (let i = 0; i < 6; i++) a.put(`x${i}`, randomUnit(r, 256), i);
    const b = new AnchorBook({ D: 256 });
    expect(b.load(a.entries())).toEqual({ evicted: [] });
    for (const e of a.entries()) expect(b.get(e.name)).toEqual(e);
    const small = new AnchorBook({ D: 256, anchorsMax: 4 });
    expect(small.load(a.entries()).evicted.sort()).toEqual(['x0', 'x1']);
    expect(small.saturation()).toBe(1);
    expect(small.put('y', randomUnit(r, 256), 100).evicted).toBe('x2');
  });
});
