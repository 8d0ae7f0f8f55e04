import { describe, expect, it } from 'vitest';
import { VectorArena } from '../../src/protocol/arena.js';
import { parseRequest, type Limits } from '../../src/protocol/ops.js';

const D = 256;
const L: Limits = {
  dim: D, maxFrameBytes: 1 << 20, sinkhornMaxSize: 64, graphMaxNodes: 1000, graphMaxEdges: 1000,
  maxPayloadBytes: 1024, maxTextChars: 100, maxTokens: 16, maxBundle: 4, maxK: 50,
};
const bin = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
const vec = (s: number) => Float32Array.from({ length: D }, (_, i) => Math.sin(s + i));

describe('VectorArena', () => {
  it('hands out distinct shared views and reuses what comes back', () => {
    const a = new VectorArena(D, 4);
    const vs = Array.from({ length: 6 }, () => a.take());
    expect(a.taken).toBe(6);
    for (const v of vs) expect(v.buffer).toBeInstanceOf(SharedArrayBuffer);
    const offsets = new Set(vs.map((v) => `${vs.indexOf(v) < 4 ? 0 : 1}:${v.byteOffset}`));
    expect(offsets.size).toBe(6); // no two views overlap
    a.give(vs[2]);
    expect(a.taken).toBe(5);
    expect(a.take()).toBe(vs[2]);
    a.give(new Float32Array(D)); // not the pool's: ignored
    a.give(new Float32Array(new SharedArrayBuffer(D * 4))); // shared, but not the pool's
    expect(a.taken).toBe(6);
  });

  it('parseRequest copies vectors into the pool, and gives them back when a later field is bad', () => {
    const arena = new VectorArena(D);
    const La = { ...L, arena };
    const x = vec(1);
    const p = parseRequest({ id: 1, op: 'bind', a: bin(x), b: bin(vec(2)) }, La);
    expect(arena.taken).toBe(2);
    expect(Array.from(p.params.a as Float32Array)).toEqual(Array.from(x));
    arena.release(p.params);
    expect(arena.taken).toBe(0);
    // 'a' is taken, then 'b' has the wrong length: the parse fails and 'a' returns.
    expect(() => parseRequest({ id: 2, op: 'bind', a: bin(x), b: new Uint8Array(12) }, La)).toThrow();
    expect(arena.taken).toBe(0);
    const q = parseRequest({ id: 3, op: 'bundle', vectors: [bin(x), bin(vec(3))] }, La);
    expect(arena.taken).toBe(2);
    arena.release(q.params);
    expect(arena.taken).toBe(0);
  });
});
