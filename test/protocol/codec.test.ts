/**
 * Frames and wire arrays without a server: decodeFrame's strictness (one msgpack map, nothing
 * else), frameId's fallback, and float32/float64/uint32 bins decoded bit for bit from any byte
 * offset (msgpack hands out bins at odd offsets), on both sides (server vectors.ts, client).
 */
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { bin, f32 as clientF32, f64 as clientF64 } from '../../src/client/client.js';
import { decodeFrame, encodeError, encodeFrame, encodeOk, frameId } from '../../src/protocol/codec.js';
import { bytes, copyBytes, f32, f64, u32 } from '../../src/protocol/vectors.js';
import { toWire } from '../../src/protocol/results.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

function code(f: () => unknown): string {
  try { f(); } catch (e) { return (e as { code?: string }).code ?? `not a HoloError: ${String(e)}`; }
  return 'no error';
}

/** float32 bit patterns a codec must not touch: ±0, subnormals, extremes, NaN payloads, ±Inf. */
const SPECIAL_BITS = [
  0x00000000, 0x80000000, // +0, −0
  0x00000001, 0x807fffff, 0x00400000, // smallest subnormal, largest negative subnormal, a middle one
  0x00800000, 0x7f7fffff, 0xff7fffff, // smallest normal, ±max float
  0x3f800000, 0x3f800001, // 1 and the next float
  0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00001, 0xffc12345, // ±Inf, quiet and signalling NaNs with payloads
];

describe('decodeFrame', () => {
  it('decodes one map with string keys', () => {
    const f = decodeFrame(encodeFrame({ id: 7, op: 'hello', x: [1, 'a', null], b: new Uint8Array([1, 2]) }));
    expect(f).toMatchObject({ id: 7, op: 'hello', x: [1, 'a', null] });
    expect(f.b).toBeInstanceOf(Uint8Array);
    expect([...(f.b as Uint8Array)]).toEqual([1, 2]);
  });

  it('rejects everything that is not exactly one map, with bad_request', () => {
    const one = encodeFrame({ id: 1, op: 'hello' });
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['garbage', Uint8Array.from([0xc1, 0xff, 0x00, 0x13])],
      ['truncated map', encodeFrame({ id: 1, op: 'bind', a: new Uint8Array(64) }).subarray(0, 20)],
      ['truncated header', Uint8Array.from([0xde, 0x00])], // map16 without its length
      ['array', packr.pack([1, 2, 3])],
      ['array of a map', packr.pack([{ id: 1, op: 'hello' }])],
      ['two maps', Buffer.concat([one, one])],
      ['trailing nil', Buffer.concat([one, Uint8Array.from([0xc0])])],
      ['nil', packr.pack(null)],
      ['number', packr.pack(42)],
      ['string', packr.pack('{"id":1,"op":"hello"}')],
      ['bin', packr.pack(new Uint8Array(8))],
      ['unknown extension', Uint8Array.from([0xd4, 0x01, 0x00])],
      ['map as key', Uint8Array.from([0x81, 0x81, 0xa1, 0x61, 0x01, 0x02])],
      ['JSON text', new TextEncoder().encode('{"id":1,"op":"hello"}')],
    ];
    for (const [name, b] of cases) expect([name, code(() => decodeFrame(b))]).toEqual([name, 'bad_request']);
  });

  it('does not let a __proto__ key reach an object prototype', () => {
    // {"id": 1, "__proto__": {"polluted": 1}}
    const b = Uint8Array.from([0x82, 0xa2, 0x69, 0x64, 0x01, 0xa9, ...new TextEncoder().encode('__proto__'), 0x81, 0xa8, ...new TextEncoder().encode('polluted'), 0x01]);
    const f = decodeFrame(b);
    expect(Object.getPrototypeOf(f)).toBe(Object.prototype);
    expect((f as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('frameId', () => {
  it('reads an unsigned safe integer id, else 0', () => {
    expect(frameId({ id: 5 })).toBe(5);
    expect(frameId({ id: 0 })).toBe(0);
    expect(frameId({ id: Number.MAX_SAFE_INTEGER })).toBe(Number.MAX_SAFE_INTEGER);
    for (const id of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, '5', null, undefined, [5], Number.NaN]) expect(frameId({ id })).toBe(0);
    expect(frameId(undefined)).toBe(0);
  });

  it('reads an id sent as uint64 (BigInt after decoding); a float64 id is refused by the profile', () => {
    // msgpackr packs a JS number ≥ 2^32 as float64: not an integer on the wire, so not an id (issue #9 item 7)
    expect(code(() => decodeFrame(encodeFrame({ id: 2 ** 40 + 3, op: 'hello' })))).toBe('bad_request');
    expect(frameId(decodeFrame(encodeFrame({ id: BigInt(2 ** 40 + 3), op: 'hello' })))).toBe(2 ** 40 + 3);
    // {id: uint64 2^40 + 3}
    const u64 = Uint8Array.from([0x81, 0xa2, 0x69, 0x64, 0xcf, 0, 0, 1, 0, 0, 0, 0, 3]);
    expect(frameId(decodeFrame(u64))).toBe(2 ** 40 + 3);
    expect(frameId({ id: 5n })).toBe(5);
    expect(frameId({ id: 2n ** 60n })).toBe(0);
    expect(frameId({ id: -1n })).toBe(0);
  });
});

describe('reply frames', () => {
  it('puts an id above 2^32 on the wire as a 64-bit integer, not a float64', () => {
    for (const id of [2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      for (const frame of [encodeOk(id, {}), encodeError(id, 'internal', 'x')]) {
        // fixmap, fixstr "id", then the id's type byte: uint64 (0xcf) or int64 (0xd3), not float64 (0xcb)
        expect([id, frame[1], frame[2], frame[3]]).toEqual([id, 0xa2, 0x69, 0x64]);
        expect([0xcf, 0xd3]).toContain(frame[4]);
        expect(new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' }).unpack(frame).id).toBe(BigInt(id));
      }
    }
    expect(encodeOk(7, {})[4]).toBe(7); // small ids stay positive fixints
  });

  it('encodes ok and error replies as plain maps', () => {
    expect(unpackr.unpack(encodeOk(9, { cosine: 0.5 }))).toEqual({ id: 9, ok: true, cosine: 0.5 });
    expect(unpackr.unpack(encodeError(0, 'too_large', 'big'))).toEqual({ id: 0, ok: false, error: { code: 'too_large', message: 'big' } });
  });

  it('puts typed arrays on the wire as bins of their bytes (toWire), lists as lists', () => {
    const v = Float32Array.from([1, -0, 3.5]);
    const w = toWire({ vector: v, list: [Float64Array.from([2])], n: 3, skip: undefined });
    expect('skip' in w).toBe(false);
    const back = unpackr.unpack(encodeOk(1, w)) as Record<string, unknown>;
    expect(clientF32(back.vector as Uint8Array)).toEqual(v);
    expect(Object.is(clientF32(back.vector as Uint8Array)[1], -0)).toBe(true);
    expect(clientF64((back.list as Uint8Array[])[0])).toEqual(Float64Array.from([2]));
  });
});

describe('replies with big bins (written into the reused reply buffer)', () => {
  it('decode to the same map as msgpackr packs, for ids of every width and several bins', () => {
    for (const n of [256, 8192]) {
      const v = new Float32Array(n).map((_, i) => Math.sin(i) * 1e3);
      const w = new Float64Array(n / 2).map((_, i) => i - 0.5);
      for (const id of [0, 7, 300, 70000, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
        const result = { vector: bytes(v), epsUsed: 0.25, floored: 3, second: bytes(w), tag: 'x' };
        const enc = encodeOk(id, result);
        const want = unpackr.unpack(new Packr({ useRecords: false, variableMapSize: true }).pack({ id: id > 0xffffffff ? BigInt(id) : id, ok: true, ...result }));
        const got = unpackr.unpack(Buffer.from(enc)) as Record<string, unknown>; // bins as Buffers, like want
        expect(got).toEqual(want);
        expect(enc[0] & 0xf0).toBe(0x80); // one fixmap, id and ok first
        expect(clientF32(got.vector as Uint8Array)).toEqual(v);
      }
    }
  });

  it('a reply with 16+ fields (map16 header) and a big bin decodes whole', () => {
    const fields: Record<string, unknown> = { vector: bytes(new Float32Array(512).fill(2)) };
    for (let i = 0; i < 20; i++) fields[`f${i}`] = i;
    const got = unpackr.unpack(encodeOk(1, fields)) as Record<string, unknown>;
    expect(Object.keys(got).length).toBe(23);
    expect(got.f19).toBe(19);
    expect(clientF32(got.vector as Uint8Array)).toEqual(new Float32Array(512).fill(2));
  });
});

describe('copyBytes (aligned copies into and out of shared memory)', () => {
  it('copies every offset pair exactly, shared or not', () => {
    const src = new Uint8Array(4096 + 16).map((_, i) => (i * 37 + 11) & 255);
    for (const shared of [true, false]) {
      const dstBuf = shared ? new SharedArrayBuffer(4096 + 16) : new ArrayBuffer(4096 + 16);
      for (const so of [0, 1, 4, 5, 8]) {
        for (const dof of [0, 3, 8]) {
          const dst = new Uint8Array(dstBuf, dof, 4096);
          dst.fill(0);
          copyBytes(src.subarray(so, so + 4096), dst);
          expect(Buffer.compare(Buffer.from(dst), Buffer.from(src.subarray(so, so + 4096)))).toBe(0);
        }
      }
    }
  });
});

describe('wire arrays (vectors.ts)', () => {
  const D = 256;
  const special = () => {
    const u = new Uint32Array(D);
    for (let i = 0; i < D; i++) u[i] = SPECIAL_BITS[i % SPECIAL_BITS.length] ^ (i < SPECIAL_BITS.length ? 0 : i << 8);
    return u;
  };

  it('decodes float32 bins at every byte offset bit for bit (NaN payloads, -0, subnormals, max)', () => {
    const want = special();
    for (const off of [0, 1, 2, 3, 5, 7]) {
      const buf = new Uint8Array(off + D * 4 + 3).fill(0xee);
      buf.set(new Uint8Array(want.buffer), off);
      const x = f32('a', buf.subarray(off, off + D * 4), D);
      expect(x.byteOffset % 4).toBe(0);
      expect(x.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(new Uint32Array(x.buffer, x.byteOffset, D)).toEqual(want);
    }
  });

  it('copies: the decoded array does not alias the frame', () => {
    const frame = new Uint8Array(D * 4).fill(0x3f);
    const x = f32('a', frame, D);
    frame.fill(0);
    expect(x[0]).not.toBe(0);
  });

  it('survives a msgpack round trip through encode and decode, bit for bit', () => {
    const want = special();
    const frame = encodeFrame({ id: 1, op: 'bind', pad: 'x', a: bin(new Float32Array(want.buffer)) });
    for (let shift = 0; shift < 4; shift++) {
      const moved = new Uint8Array(frame.length + shift);
      moved.set(frame, shift);
      const f = decodeFrame(moved.subarray(shift));
      const x = f32('a', f.a, D);
      expect(new Uint32Array(x.buffer)).toEqual(want);
    }
  });

  it('checks kind, whole elements, length and size limits with their codes', () => {
    expect(code(() => f32('a', 'not a bin', D))).toBe('bad_request');
    expect(code(() => f32('a', [1, 2, 3], D))).toBe('bad_request');
    expect(code(() => f32('a', new Float32Array(D), D))).toBe('bad_request'); // a typed array is not a msgpack bin
    expect(code(() => f32('a', new Uint8Array(4 * D + 1), D))).toBe('bad_request');
    expect(code(() => f32('a', new Uint8Array(4 * D - 4), D))).toBe('bad_dimension');
    expect(code(() => f32('a', new Uint8Array(4 * D + 4), D))).toBe('bad_dimension');
    expect(code(() => f32('a', new Uint8Array(0), D))).toBe('bad_dimension');
    expect(code(() => f64('c', new Uint8Array(12)))).toBe('bad_request');
    expect(code(() => f64('c', new Uint8Array(16), 3))).toBe('bad_dimension');
    expect(code(() => f64('c', new Uint8Array(8 * 11), undefined, 10))).toBe('too_large');
    expect(code(() => u32('src', new Uint8Array(6)))).toBe('bad_request');
    expect(code(() => u32('src', new Uint8Array(8), 3))).toBe('bad_dimension');
    expect(code(() => u32('src', new Uint8Array(4 * 5), undefined, 4))).toBe('too_large');
  });

  it('rejects NaN and ±Inf in float64 arrays (float32 vectors are left to the kernels)', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const x = Float64Array.from([1, 2, bad]);
      expect(code(() => f64('cost', bytes(x), 3))).toBe('bad_request');
    }
    const v = Float32Array.from([1, Number.NaN]);
    expect(Number.isNaN(f32('a', bytes(v), 2)[1])).toBe(true);
    expect(Array.from(f64('cost', bytes(Float64Array.from([-0, 5e-324, 1.7976931348623157e308])), 3))).toEqual([-0, 5e-324, 1.7976931348623157e308]);
    expect(Array.from(u32('src', bytes(Uint32Array.from([0, 0xffffffff])), 2))).toEqual([0, 0xffffffff]);
  });
});

describe('client helpers (bin, f32, f64)', () => {
  it('bin views exactly the typed array, even a subarray of a bigger buffer', () => {
    const big = Float32Array.from({ length: 10 }, (_, i) => i);
    const sub = big.subarray(3, 6);
    const b = bin(sub);
    expect(b.byteLength).toBe(12);
    expect(clientF32(b)).toEqual(Float32Array.from([3, 4, 5]));
    expect(b.buffer).toBe(big.buffer); // a view, no copy
  });

  it('f32 and f64 copy from odd offsets bit for bit', () => {
    const want = special32();
    const buf = new Uint8Array(3 + want.byteLength);
    buf.set(new Uint8Array(want.buffer), 3);
    const x = clientF32(buf.subarray(3));
    expect(new Uint32Array(x.buffer)).toEqual(want);
    const w64 = Float64Array.from([-0, 5e-324, Number.MAX_VALUE, Number.NaN, -Infinity]);
    const buf64 = new Uint8Array(5 + w64.byteLength);
    buf64.set(new Uint8Array(w64.buffer), 5);
    const y = clientF64(buf64.subarray(5));
    expect(new BigUint64Array(y.buffer)).toEqual(new BigUint64Array(w64.buffer));
  });
});

function special32(): Uint32Array {
  return Uint32Array.from(SPECIAL_BITS);
}
