/**
 * Coalescing identity: sameRequest decides (op and every field, arrays byte for byte, array
 * types distinct); coalesceKey is only a cheap hint that must agree for identical requests and
 * may collide for different ones (it samples ≤ 64 words of each array).
 */
import { describe, expect, it } from 'vitest';
import { Coalescer, coalesceKey, requestHash, sameRequest } from '../../src/batch/coalescer.js';
import type { Parsed } from '../../src/protocol/ops.js';

const D = 8192;

function vec(seed: number): Float32Array {
  const x = new Float32Array(new SharedArrayBuffer(D * 4));
  let s = seed >>> 0;
  for (let i = 0; i < D; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = s / 2 ** 32 - 0.5; }
  return x;
}

function copyOf<T extends Float32Array | Float64Array>(x: T): T {
  return x.slice() as T; // same values, another buffer
}

function bind(a: Float32Array, b: Float32Array): Parsed {
  return { op: 'bind', kind: 'hrr', route: 'any', params: { a, b } };
}

describe('sameRequest', () => {
  it('is true for equal fields in other buffers and false for one differing bit', () => {
    const a = vec(1), b = vec(2);
    expect(sameRequest(bind(a, b), bind(copyOf(a), copyOf(b)))).toBe(true);
    const a2 = copyOf(a);
    new Uint32Array(a2.buffer)[D - 1] ^= 1; // last word, one bit
    expect(sameRequest(bind(a, b), bind(a2, b))).toBe(false);
    expect(sameRequest(bind(a, b), bind(b, a))).toBe(false);
  });

  it('tells ops, array types, lengths, scalars and -0 apart', () => {
    const a = vec(1), b = vec(2);
    expect(sameRequest(bind(a, b), { ...bind(a, b), op: 'cosine' })).toBe(false);
    const f64 = new Float64Array(a.buffer.slice(0) as ArrayBuffer);
    const asF64: Parsed = { op: 'bind', kind: 'hrr', route: 'any', params: { a: f64, b } };
    expect(sameRequest(bind(a, b), asF64)).toBe(false); // same bytes, other type
    const short: Parsed = { op: 'bind', kind: 'hrr', route: 'any', params: { a: a.subarray(0, D - 1), b } };
    expect(sameRequest(bind(a, b), short)).toBe(false);
    const unbind = (extra: Record<string, unknown>): Parsed => ({ op: 'unbind', kind: 'hrr', route: 'any', params: { c: a, b, mode: 'exact', eps: undefined, ...extra } });
    expect(sameRequest(unbind({}), unbind({}))).toBe(true);
    expect(sameRequest(unbind({ mode: 'wiener' }), unbind({}))).toBe(false);
    expect(sameRequest(unbind({ eps: 0 }), unbind({ eps: -0 }))).toBe(false);
    expect(sameRequest(unbind({ eps: 1e-3 }), unbind({}))).toBe(false);
    expect(sameRequest(unbind({ x: 1 }), unbind({}))).toBe(false); // field count differs
  });

  it('compares lists element by element (bundle vectors, heat times)', () => {
    const a = vec(1), b = vec(2);
    const bundle = (vs: Float32Array[], t: number[]): Parsed => ({ op: 'bundle', kind: 'hrr', route: 'any', params: { vectors: vs, weights: null, t } });
    expect(sameRequest(bundle([a, b], [1, 2]), bundle([copyOf(a), copyOf(b)], [1, 2]))).toBe(true);
    expect(sameRequest(bundle([a, b], [1, 2]), bundle([b, a], [1, 2]))).toBe(false);
    expect(sameRequest(bundle([a, b], [1, 2]), bundle([a], [1, 2]))).toBe(false);
    expect(sameRequest(bundle([a], [1, 2]), bundle([a], [1, 3]))).toBe(false);
  });
});

describe('coalesceKey', () => {
  it('is equal for identical requests and carries the epoch', () => {
    const a = vec(1), b = vec(2);
    expect(coalesceKey(bind(a, b), 0)).toBe(coalesceKey(bind(copyOf(a), copyOf(b)), 0));
    expect(coalesceKey(bind(a, b), 0)).not.toBe(coalesceKey(bind(a, b), 1));
    expect(coalesceKey(bind(a, b), 0)).not.toBe(coalesceKey(bind(b, a), 0));
  });

  it('does not depend on field order', () => {
    const a = vec(1), b = vec(2);
    const p1: Parsed = { op: 'bind', kind: 'hrr', route: 'any', params: { a, b } };
    const p2: Parsed = { op: 'bind', kind: 'hrr', route: 'any', params: { b, a } };
    expect(coalesceKey(p1, 3)).toBe(coalesceKey(p2, 3));
  });

  it('may collide for arrays differing off its sample; sameRequest then keeps them apart', () => {
    const a = vec(1), b = vec(2);
    const a2 = copyOf(a);
    a2[1] += 1; // D/64 = 128: element 1 is not sampled
    expect(coalesceKey(bind(a, b), 0)).toBe(coalesceKey(bind(a2, b), 0));
    const c = new Coalescer<{ parsed: Parsed }>();
    const e1 = { parsed: bind(a, b) };
    const key = coalesceKey(e1.parsed, 0);
    c.add(key, e1);
    expect(c.find(key, bind(a2, b))).toBeUndefined();
    expect(c.find(key, bind(copyOf(a), copyOf(b)))).toBe(e1);
    const e2 = { parsed: bind(a2, b) };
    c.add(key, e2);
    expect(c.find(key, bind(copyOf(a2), b))).toBe(e2);
    c.remove(key, e1);
    expect(c.find(key, bind(a, b))).toBeUndefined();
    expect(c.size).toBe(1);
    c.remove(key, e2);
    expect(c.size).toBe(0);
  });

  it('changes with a sampled element', () => {
    const a = vec(1), b = vec(2);
    const a2 = copyOf(a);
    a2[128] += 1;
    expect(coalesceKey(bind(a, b), 0)).not.toBe(coalesceKey(bind(a2, b), 0));
  });
});

describe('requestHash: coalescing cannot be steered (issue #9 item 6)', () => {
  /** 2,048 vectors equal on every sampled word (multiples of 128), each different off the sample. */
  const colliding = (n: number) => {
    const base = vec(7);
    return Array.from({ length: n }, (_, i) => {
      const x = copyOf(base);
      x[1 + (i % 127)] += 1 + Math.floor(i / 127); // never a sampled index
      return x;
    });
  };

  it('vectors colliding on the sample share the bucket key but never the full key', () => {
    const b = vec(2);
    const vs = colliding(2048);
    const keys = new Set(vs.map((a) => coalesceKey(bind(a, b), 0)));
    expect(keys.size).toBe(1); // the old key: every one of them collided
    const hashes = new Set(vs.map((a) => requestHash(bind(a, b))));
    expect(hashes.size).toBe(2048);
    // equal requests in other buffers have equal full keys; one flipped bit changes it
    expect(requestHash(bind(copyOf(vs[0]), copyOf(b)))).toBe(requestHash(bind(vs[0], b)));
    const flipped = copyOf(vs[0]);
    new Uint32Array(flipped.buffer)[D - 1] ^= 1;
    expect(requestHash(bind(flipped, b))).not.toBe(requestHash(bind(vs[0], b)));
  });

  it('2,048 colliding requests in flight: no byte comparison chain, each finds only its own twin', () => {
    const b = vec(2);
    const vs = colliding(2048);
    const c = new Coalescer<{ parsed: Parsed }>();
    const entries = vs.map((a) => ({ parsed: bind(a, b) }));
    for (const e of entries) {
      const key = coalesceKey(e.parsed, 0);
      expect(c.find(key, e.parsed)).toBeUndefined();
      c.add(key, e);
    }
    // one comparison while the bucket held a single request; the old coalescer made 2047·2048/2
    // ≈ 2.1 M full comparisons here
    expect(c.compared).toBe(1);
    for (let i = 0; i < vs.length; i += 97) {
      const before = c.compared;
      expect(c.find(coalesceKey(entries[i].parsed, 0), bind(copyOf(vs[i]), copyOf(b)))).toBe(entries[i]);
      expect(c.compared - before).toBe(1);
    }
    for (const e of entries) c.remove(coalesceKey(e.parsed, 0), e);
    expect(c.size).toBe(0);
  });

  it('a burst of identical requests joins the first without hashing', () => {
    const a = vec(1), b = vec(2);
    const c = new Coalescer<{ parsed: Parsed }>();
    const first = { parsed: bind(a, b) };
    const key = coalesceKey(first.parsed, 0);
    c.add(key, first);
    for (let i = 0; i < 100; i++) expect(c.find(key, bind(copyOf(a), copyOf(b)))).toBe(first);
    expect(c.hashed).toBe(0);
    expect(c.compared).toBe(100);
  });

  it('a bucket back to one request is back to one comparison: its twins join without hashing', () => {
    const b = vec(2);
    const [x, y] = colliding(2);
    const c = new Coalescer<{ parsed: Parsed }>();
    const ex = { parsed: bind(x, b) }, ey = { parsed: bind(y, b) };
    const key = coalesceKey(ex.parsed, 0);
    c.add(key, ex);
    c.add(key, ey); // the second of the bucket: both hashed
    c.remove(key, ey);
    const hashed = c.hashed;
    for (let i = 0; i < 10; i++) expect(c.find(key, bind(copyOf(x), copyOf(b)))).toBe(ex);
    expect(c.hashed).toBe(hashed);
    expect(c.find(key, bind(copyOf(y), copyOf(b)))).toBeUndefined();
  });

  it('bins and lists of arrays count too (bundle vectors)', () => {
    const a = vec(1), b = vec(2);
    const bundle = (vs: Float32Array[]): Parsed => ({ op: 'bundle', kind: 'hrr', route: 'any', params: { vectors: vs, weights: null } });
    expect(requestHash(bundle([a, b]))).toBe(requestHash(bundle([copyOf(a), copyOf(b)])));
    expect(requestHash(bundle([a, b]))).not.toBe(requestHash(bundle([b, a])));
  });
});

