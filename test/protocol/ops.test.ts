/**
 * The op table's field checks (parseRequest), on the main thread before anything is queued:
 * each bad field gets its code, each good request its route, kind and role tokens.
 */
import { describe, expect, it } from 'vitest';
import { OP_NAMES, OPS, parseRequest, type Limits } from '../../src/protocol/ops.js';
import { bytes } from '../../src/protocol/vectors.js';

const D = 256;
const L: Limits = {
  dim: D, maxFrameBytes: 1 << 20, sinkhornMaxSize: 64, graphMaxNodes: 1000, graphMaxEdges: 5000,
  maxPayloadBytes: 1024, maxTextChars: 100, maxTokens: 16, maxBundle: 4, maxK: 50,
};
const v = (fill = 0.5, n = D) => bytes(new Float32Array(n).fill(fill));
const f64 = (...x: number[]) => bytes(Float64Array.from(x));
const u32 = (...x: number[]) => bytes(Uint32Array.from(x));

function code(f: Record<string, unknown>): string {
  try { parseRequest(f, L); } catch (e) { return (e as { code?: string }).code ?? `not a HoloError: ${String(e)}`; }
  return 'ok';
}

describe('parseRequest', () => {
  it('knows exactly the documented ops', () => {
    expect(OP_NAMES.sort()).toEqual(['anchor.delete', 'anchor.put', 'bind', 'bundle', 'cleanup', 'cosine', 'dimension', 'drill', 'encode', 'forget',
      'graph.delete', 'graph.put', 'heat', 'hello', 'knobs', 'recall', 'recall.many', 'remember', 'role', 'sinkhorn', 'stats', 'status', 'unbind'].sort());
  });

  it('needs a string op, and answers unknown_op for one it does not know (own keys only)', () => {
    expect(code({ id: 1 })).toBe('bad_request');
    expect(code({ id: 1, op: 7 })).toBe('bad_request');
    expect(code({ id: 1, op: null })).toBe('bad_request');
    for (const op of ['nope', 'BIND', 'toString', '__proto__', 'constructor', 'hasOwnProperty', '', 'x'.repeat(10_000)]) {
      expect([op.slice(0, 20), code({ id: 1, op })]).toEqual([op.slice(0, 20), 'unknown_op']);
    }
  });

  it('routes and tags each op', () => {
    expect(parseRequest({ op: 'bind', a: v(), role: 'agent' }, L)).toMatchObject({ kind: 'hrr', route: 'any', tokens: ['agent'] });
    expect(parseRequest({ op: 'encode', text: 'Dog bites dog' }, L)).toMatchObject({ kind: 'hrr', tokens: ['dog', 'bites'] });
    expect(parseRequest({ op: 'sinkhorn', n: 1, m: 1, cost: f64(0), epsilon: 1 }, L)).toMatchObject({ kind: 'ot', route: 'any' });
    expect(parseRequest({ op: 'heat', graph: 'g', signal: f64(1), t: 1 }, L)).toMatchObject({ kind: 'graph', route: 'graph', routeKey: 'g' });
    expect(parseRequest({ op: 'heat', n: 1, src: u32(), dst: u32(), signal: f64(1), t: [0, 1] }, L)).toMatchObject({ kind: 'graph', route: 'any' });
    expect(parseRequest({ op: 'graph.put', graph: 'g', n: 2, src: u32(0), dst: u32(1) }, L)).toMatchObject({ route: 'graph', write: true });
    expect(parseRequest({ op: 'remember', tenant: 't', key: 'k', vector: v() }, L)).toMatchObject({ kind: 'memory', route: 'tenant', routeKey: 't', write: true });
    expect(parseRequest({ op: 'recall', tenant: 't', text: 'a b' }, L)).toMatchObject({ route: 'tenant', params: { k: 10 } });
    expect(parseRequest({ op: 'hello' }, L)).toMatchObject({ kind: 'inline' });
    for (const op of OP_NAMES) expect(['inline', 'hrr', 'ot', 'graph', 'memory']).toContain(OPS[op].kind);
  });

  it('treats nil fields as absent', () => {
    expect(code({ op: 'bind', a: v(), b: v(), role: null })).toBe('ok');
    expect(code({ op: 'unbind', c: v(), b: v(), mode: null, eps: null })).toBe('ok');
    expect(code({ op: 'bind', a: null, b: v() })).toBe('bad_request');
  });

  it('checks vectors: bin type, whole float32s, exactly D', () => {
    expect(code({ op: 'cosine', a: v(), b: v() })).toBe('ok');
    expect(code({ op: 'cosine', a: 'x'.repeat(4 * D), b: v() })).toBe('bad_request');
    expect(code({ op: 'cosine', a: Array(D).fill(0), b: v() })).toBe('bad_request');
    expect(code({ op: 'cosine', a: v(), b: new Uint8Array(4 * D + 1) })).toBe('bad_request');
    expect(code({ op: 'cosine', a: v(), b: v(0.5, D - 1) })).toBe('bad_dimension');
    expect(code({ op: 'cosine', a: v(), b: v(0.5, D + 1) })).toBe('bad_dimension');
    expect(code({ op: 'cosine', a: v(), b: v(0.5, 2 * D) })).toBe('bad_dimension');
    expect(code({ op: 'cosine', a: v() })).toBe('bad_request');
  });

  it('bind and unbind take exactly one of b and role, and a known mode', () => {
    expect(code({ op: 'bind', a: v() })).toBe('bad_request');
    expect(code({ op: 'bind', a: v(), b: v(), role: 'x' })).toBe('bad_request');
    expect(code({ op: 'bind', a: v(), role: '' })).toBe('bad_request');
    expect(code({ op: 'bind', a: v(), role: 5 })).toBe('bad_request');
    expect(code({ op: 'bind', a: v(), role: 'r'.repeat(1025) })).toBe('too_large');
    for (const mode of ['exact', 'wiener', 'approx']) expect(code({ op: 'unbind', c: v(), role: 'r', mode })).toBe('ok');
    expect(code({ op: 'unbind', c: v(), role: 'r', mode: 'EXACT' })).toBe('bad_request');
    for (const k of ['eps', 'snr', 'beta']) {
      for (const bad of [0, -1, Number.NaN, Infinity, '1']) expect([k, bad, code({ op: 'unbind', c: v(), role: 'r', [k]: bad })]).toEqual([k, bad, 'bad_request']);
    }
  });

  it('bundle: a non-empty list of at most maxBundle vectors; weights as list or float64 bin of the same length', () => {
    expect(code({ op: 'bundle', vectors: [v(), v()], weights: [1, 2] })).toBe('ok');
    expect(code({ op: 'bundle', vectors: [v(), v()], weights: f64(1, 2) })).toBe('ok');
    expect(code({ op: 'bundle', vectors: [] })).toBe('bad_request');
    expect(code({ op: 'bundle', vectors: v() })).toBe('bad_request');
    expect(code({ op: 'bundle', vectors: [v(), v(), v(), v(), v()] })).toBe('too_large');
    expect(code({ op: 'bundle', vectors: [v(), v(0.5, 3)] })).toBe('bad_dimension');
    expect(code({ op: 'bundle', vectors: [v(), v()], weights: [1] })).toBe('bad_dimension');
    expect(code({ op: 'bundle', vectors: [v(), v()], weights: f64(1) })).toBe('bad_dimension');
    expect(code({ op: 'bundle', vectors: [v(), v()], weights: [1, Number.NaN] })).toBe('bad_request');
    expect(code({ op: 'bundle', vectors: [v(), v()], weights: [1, '2'] })).toBe('bad_request');
    expect(code({ op: 'bundle', vectors: [v(), v()], weights: f64(1, Infinity) })).toBe('bad_request');
  });

  it('encode and text: non-empty, bounded, with letters or digits', () => {
    expect(code({ op: 'encode', text: '' })).toBe('bad_request');
    expect(code({ op: 'encode', text: '!!! ...' })).toBe('bad_request');
    expect(code({ op: 'encode', text: 'a'.repeat(101) })).toBe('too_large');
    expect(code({ op: 'encode', text: ['a'] })).toBe('bad_request');
  });

  it('sinkhorn: n, m ≤ sinkhornMaxSize (too_large), cost of n·m float64, finite, epsilon > 0', () => {
    const ok = { op: 'sinkhorn', n: 2, m: 2, cost: f64(0, 1, 1, 0), epsilon: 0.1 };
    expect(code(ok)).toBe('ok');
    expect(code({ ...ok, n: 65, cost: f64(...new Array(65 * 2).fill(1)) })).toBe('too_large');
    expect(code({ ...ok, m: 65 })).toBe('too_large');
    expect(code({ ...ok, n: 0 })).toBe('bad_request');
    expect(code({ ...ok, n: 1.5 })).toBe('bad_request');
    expect(code({ ...ok, cost: f64(0, 1, 1) })).toBe('bad_dimension');
    expect(code({ ...ok, cost: f64(0, 1, Number.NaN, 0) })).toBe('bad_request');
    expect(code({ ...ok, epsilon: 0 })).toBe('bad_request');
    expect(code({ ...ok, epsilon: undefined })).toBe('bad_request');
    expect(code({ ...ok, a: f64(1) })).toBe('bad_dimension');
    expect(code({ ...ok, maxIter: 0 })).toBe('bad_request');
    expect(code({ ...ok, maxIter: 100_001 })).toBe('too_large');
  });

  it('heat: t a finite number ≥ 0 or a list of 1..64 of them; K in [1, 200]; edges checked', () => {
    const inline = { op: 'heat', n: 2, src: u32(0), dst: u32(1), signal: f64(1, 0) };
    expect(code({ ...inline, t: 1 })).toBe('ok');
    expect(code({ ...inline, t: [0, 0.5, 2] })).toBe('ok');
    expect(code({ ...inline })).toBe('bad_request');
    for (const t of [-1, Number.NaN, Infinity, [], new Array(65).fill(1), [1, -1], '1']) expect(code({ ...inline, t })).toBe('bad_request');
    expect(code({ ...inline, t: 1, K: 0 })).toBe('bad_request');
    expect(code({ ...inline, t: 1, K: 201 })).toBe('too_large');
    expect(code({ ...inline, t: 1, signal: f64(1) })).toBe('bad_dimension');
    expect(code({ ...inline, t: 1, dst: u32(1, 0) })).toBe('bad_dimension');
    expect(code({ ...inline, t: 1, n: 1001 })).toBe('too_large');
    expect(code({ ...inline, t: 1, src: u32(...new Array(5001).fill(0)), dst: u32(...new Array(5001).fill(1)) })).toBe('too_large');
    expect(code({ ...inline, t: 1, weight: f64(-0.5) })).toBe('ok'); // weights' sign is the kernel's check
    expect(code({ op: 'heat', graph: '', signal: f64(1), t: 1 })).toBe('bad_request');
  });

  it('memory ops: tenant and key names, exactly one of vector or text, payload size, k', () => {
    const base = { op: 'remember', tenant: 'alice', key: 'k1' };
    expect(code({ ...base, text: 'hello world' })).toBe('ok');
    expect(code({ ...base })).toBe('bad_request');
    expect(code({ ...base, text: 'x', vector: v() })).toBe('bad_request');
    expect(code({ ...base, tenant: '', text: 'x' })).toBe('bad_request');
    expect(code({ ...base, tenant: 't'.repeat(257), text: 'x' })).not.toBe('ok');
    expect(code({ ...base, text: 'x', payload: { a: [1, 2, 3] } })).toBe('ok');
    expect(code({ ...base, text: 'x', payload: 'p'.repeat(2000) })).toBe('too_large');
    expect(code({ op: 'recall', tenant: 'a', text: 'x', k: 0 })).toBe('bad_request');
    expect(code({ op: 'recall', tenant: 'a', text: 'x', k: 51 })).toBe('too_large');
    expect(code({ op: 'cleanup', tenant: 'a', vector: v(0.5, 3) })).toBe('bad_dimension');
  });

  it('admin ops: known knobs and scenarios only', () => {
    expect(parseRequest({ op: 'knobs', set: { unbindBeta: 0.01, rerank: true } }, L).params).toEqual({ set: { unbindBeta: 0.01, rerank: true }, reload: false });
    expect(code({ op: 'knobs' })).toBe('ok');
    expect(code({ op: 'knobs', reload: true })).toBe('ok');
    expect(code({ op: 'knobs', reload: 1 })).toBe('bad_request');
    expect(code({ op: 'knobs', set: { nope: 1 } })).toBe('bad_request');
    expect(code({ op: 'knobs', set: { port: 1 } })).toBe('bad_request'); // restart-only
    // values are checked when applied, by the knob table's validator (test/knobs/table.test.ts)
    expect(code({ op: 'knobs', set: [1] })).toBe('bad_request');
    expect(code({ op: 'status' })).toBe('ok');
    expect(code({ op: 'drill', scenario: 'worker-crash', worker: 1 })).toBe('ok');
    expect(code({ op: 'drill', scenario: 'meltdown' })).toBe('bad_request');
    expect(code({ op: 'drill', scenario: 'worker-crash', worker: -1 })).toBe('bad_request');
  });
});
