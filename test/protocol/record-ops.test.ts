/**
 * remember / anchor.put with `record` and `shadowVector` (issue #13): field checks on the main
 * thread, the role tokens a record needs, and the rule that shadowVector exists only while a
 * dimension rollout runs (Limits.shadowDim) and has D′ floats.
 */
import { describe, expect, it } from 'vitest';
import { parseRequest, type Limits } from '../../src/protocol/ops.js';
import { bytes } from '../../src/protocol/vectors.js';

const L: Limits = {
  dim: 256, maxFrameBytes: 1 << 20, sinkhornMaxSize: 64, graphMaxNodes: 1000, graphMaxEdges: 5000,
  maxPayloadBytes: 1024, maxTextChars: 100, maxTokens: 16, maxBundle: 4, maxK: 50,
};
const v = (n: number) => bytes(new Float32Array(n).fill(0.5));

function code(f: Record<string, unknown>, lim: Limits = L): string {
  try { parseRequest({ id: 1, ...f }, lim); } catch (e) { return (e as { code: string }).code; }
  return 'ok';
}

describe('record and shadowVector fields', () => {
  it('parses a record: slot → text | {role}, with the slots, role fillers and words as tokens', () => {
    const p = parseRequest({ id: 1, op: 'remember', tenant: 't', key: 'k', record: { who: 'Alice Smith', to: { role: 'bob' } } }, L);
    expect(p.params.record).toEqual({ who: 'Alice Smith', to: { role: 'bob' } });
    expect(new Set(p.tokens)).toEqual(new Set(['who', 'alice', 'smith', 'to', 'bob']));
    const a = parseRequest({ id: 1, op: 'anchor.put', tenant: 't', name: 'n', record: { x: 'y' } }, L);
    expect(a.params.record).toEqual({ x: 'y' });
  });

  it('refuses malformed records with their codes', () => {
    const base = { op: 'remember', tenant: 't', key: 'k' };
    expect(code({ ...base, record: {} })).toBe('bad_request');
    expect(code({ ...base, record: [] })).toBe('bad_request');
    expect(code({ ...base, record: 'text' })).toBe('bad_request');
    expect(code({ ...base, record: { s: 7 } })).toBe('bad_request');
    expect(code({ ...base, record: { s: '!!!' } })).toBe('bad_request'); // no tokens
    expect(code({ ...base, record: { s: { role: 'a', extra: 1 } } })).toBe('bad_request');
    expect(code({ ...base, record: { s: { role: '' } } })).toBe('bad_request');
    const many: Record<string, string> = {};
    for (let i = 0; i < 257; i++) many[`s${i}`] = 'x';
    expect(code({ ...base, record: many })).toBe('too_large');
    const words: Record<string, string> = {};
    for (let i = 0; i < 10; i++) words[`s${i}`] = `w${i}`; // 20 distinct tokens > maxTokens 16
    expect(code({ ...base, record: words })).toBe('too_large');
    expect(code({ ...base, record: { s: 'x'.repeat(101) } })).toBe('too_large'); // maxTextChars
    expect(code({ ...base, record: { s: 'x' }, text: 'y' })).toBe('bad_request');
    expect(code({ ...base, record: { s: 'x' }, vector: v(256) })).toBe('bad_request');
  });

  it('accepts shadowVector only with vector, only during a rollout, at D′', () => {
    const base = { op: 'remember', tenant: 't', key: 'k', vector: v(256) };
    expect(code({ ...base, shadowVector: v(1024) })).toBe('bad_request'); // no rollout
    const roll = { ...L, shadowDim: 1024 };
    expect(code({ ...base, shadowVector: v(1024) }, roll)).toBe('ok');
    expect(code({ ...base, shadowVector: v(256) }, roll)).toBe('bad_dimension');
    expect(code({ op: 'remember', tenant: 't', key: 'k', text: 'a b', shadowVector: v(1024) }, roll)).toBe('bad_request');
    const p = parseRequest({ id: 1, ...base, shadowVector: v(1024) }, roll);
    expect((p.params.shadowVector as Float32Array).length).toBe(1024);
  });

  it('the dimension admin op checks its action and numbers', () => {
    expect(code({ op: 'dimension', action: 'status' })).toBe('ok');
    expect(code({ op: 'dimension', action: 'shadow' })).toBe('bad_request'); // dim required
    expect(code({ op: 'dimension', action: 'shadow', dim: 1.5 })).toBe('bad_request');
    expect(code({ op: 'dimension', action: 'explode' })).toBe('bad_request');
    expect(code({ op: 'dimension', action: 'shadow', dim: 4096, share: 0 })).toBe('bad_request');
    expect(code({ op: 'dimension', action: 'shadow', dim: 4096, share: 2 })).toBe('too_large');
  });
});
