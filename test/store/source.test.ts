/**
 * Item and anchor sources (issue #13) in the record layout shared by the stores: a text or a
 * record round-trips with the vector bit-exact and the payload after it intact; records
 * without a source decode as before; a truncated source is `internal`.
 */
import { describe, expect, it } from 'vitest';
import { decodeAnchor, decodeItem, encodeAnchor, encodeItem } from '../../src/store/records.js';
import type { ItemRecord } from '../../src/store/store.js';

const vec = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i + 1) / 4);
const bits = (x: Float32Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];

describe('sources in stored records', () => {
  it('round-trips a text and a record source, payload intact', () => {
    const rec = { who: 'alice', to: { role: 'bob' }, 'é ✓': 'multi byte' };
    for (const source of [{ text: 'a text ✓' }, { record: rec }]) {
      const r: ItemRecord = { key: 'k', vector: vec, payload: new Uint8Array([1, 2, 3]), salience: 0.5, reward: 0, createdMs: 1, lastAccessMs: 2, novelty: 1, source };
      const back = decodeItem('k', encodeItem(r));
      expect(back.source).toEqual(source);
      expect(bits(back.vector)).toEqual(bits(vec));
      expect([...back.payload!]).toEqual([1, 2, 3]);
      const a = decodeAnchor('n', encodeAnchor({ name: 'n', vector: vec, lastMatchedMs: 5, source }));
      expect(a.source).toEqual(source);
      expect(bits(a.vector)).toEqual(bits(vec));
    }
    expect(Object.keys((decodeItem('k', encodeItem({ key: 'k', vector: vec, salience: 0, reward: 0, createdMs: 0, lastAccessMs: 0, source: { record: rec } })).source as { record: object }).record)).toEqual(Object.keys(rec));
  });

  it('no source: decodes without one; truncated source: internal', () => {
    const r = decodeItem('k', encodeItem({ key: 'k', vector: vec, salience: 0, reward: 0, createdMs: 0, lastAccessMs: 0 }));
    expect(r.source).toBeUndefined();
    expect(decodeAnchor('n', encodeAnchor({ name: 'n', vector: vec, lastMatchedMs: 0 })).source).toBeUndefined();
    const b = encodeAnchor({ name: 'n', vector: vec, lastMatchedMs: 0, source: { text: 'hello' } });
    expect(() => decodeAnchor('n', b.subarray(0, b.length - 2))).toThrow(/source truncated/);
    expect(() => encodeItem({ key: 'k', vector: vec, salience: 0, reward: 0, createdMs: 0, lastAccessMs: 0, source: { nope: 1 } as never })).toThrow(/source must be/);
  });
});
