/**
 * Coalescing identity: sameRequest decides (op and every field, arrays byte for byte, array
 * types distinct); coalesceKey is only a cheap hint that must agree for identical requests and
 * may collide for different ones (it samples ≤ 64 words of each array).
 */
import { describe, expect, it } from 'vitest';
import { Coalescer, coalesceKey, sameRequest } from '../../src/batch/coalescer.js';
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
