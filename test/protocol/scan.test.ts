/**
 * The strict decode profile (src/protocol/scan.ts) without a server: what it lets through
 * decodes with a stock strict decoder (@msgpack/msgpack) to the same value msgpackr gives, and
 * every hostile shape of issue #9 (the 9-byte bundled-strings frame, extension types, deep
 * nesting, huge declared lengths, float ids, trailing values) is refused before msgpackr runs.
 */
import { decode as stockDecode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/protocol/codec.js';
import { isPlainValue, PROFILE, scanFrame } from '../../src/protocol/scan.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const enc = (s: string) => [...new TextEncoder().encode(s)];
/** fixstr of an ASCII string */
const fixstr = (s: string) => [0xa0 | s.length, ...enc(s)];

function failure(b: Uint8Array): { code: string; message: string } {
  try {
    decodeFrame(b);
  } catch (e) {
    return { code: (e as { code?: string }).code ?? `not a HoloError: ${String(e)}`, message: (e as Error).message };
  }
  return { code: 'no error', message: '' };
}

/**
 * Issue #9 item 1: the 9-byte frame. msgpackr's "bundled strings" extension (type 0x62 = 98,
 * unpack.js `currentExtensions[0x62]`) reads a 4-byte big-endian offset and moves its read
 * position by offset − 4 to find two strings; −4 points back at the two fixstr at the start, so
 * after the value the reader resumes at byte 2 and unpackMultiple re-reads the extension for ever
 * (1.6 GB, then V8 dies).
 */
const NINE = Uint8Array.from([0xa0, 0xa0, 0xd6, 0x62, 0xff, 0xff, 0xff, 0xfc, 0xc0]);

describe('scanFrame: the hostile frames of issue #9', () => {
  it('the 9-byte bundled-strings frame is refused at once, alone or inside a field', () => {
    expect(NINE.length).toBe(9);
    expect(failure(NINE).code).toBe('bad_request');
    // inside a field: {id: 1, op: 'remember', tenant: <the bytes>} and as a payload
    const head = [0x83, ...fixstr('id'), 0x01, ...fixstr('op'), ...fixstr('remember')];
    for (const field of ['tenant', 'payload']) {
      const f = Uint8Array.from([...head, ...fixstr(field), 0xd6, 0x62, 0xff, 0xff, 0xff, 0xfc, 0xc0]);
      const r = failure(f);
      expect(r.code).toBe('bad_request');
      expect(r.message).toMatch(/extension type 98/);
    }
  });

  it('every extension form is bad_request naming its type (BigInt, timestamp, structured clone, error, records)', () => {
    const cases: [number[], number][] = [
      [[0xd4, 0x42, 0x01], 0x42], // fixext 1, msgpackr BigInt 'B'
      [[0xd6, 0xff, 0, 0, 0, 1], -1], // fixext 4: timestamp 32
      [[0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], -1], // fixext 8: malformed timestamp
      [[0xd5, 0x65, 0x00, 0x00], 0x65], // fixext 2, msgpackr error 'e'
      [[0xd8, 0x73, ...new Array(16).fill(0)], 0x73], // fixext 16, structured clone 's'
      [[0xc7, 0x03, 0x72, 0x90, 0x90, 0x90], 0x72], // ext 8, record definition 'r'
      [[0xc8, 0x00, 0x01, 0x10, 0x00], 0x10], // ext 16
      [[0xc9, 0x7f, 0xff, 0xff, 0xff, 0x42], 0x42], // ext 32 declaring 2 GiB (a BigInt of "a few MB")
    ];
    for (const [ext, type] of cases) {
      const f = Uint8Array.from([0x82, ...fixstr('id'), 0x07, ...fixstr('payload'), ...ext]);
      const r = failure(f);
      expect([ext[0], r.code]).toEqual([ext[0], 'bad_request']);
      expect(r.message).toContain(`extension type ${type}`);
    }
  });

  it('nesting: 32 levels pass, 33 and 2,000 are bad_request', () => {
    const nested = (levels: number) => {
      // {id: 1, p: [[[...0...]]]}: the frame's map is level 1, then levels − 1 arrays
      const inner = [...new Array(levels - 1).fill(0x91), 0x00];
      return Uint8Array.from([0x82, ...fixstr('id'), 0x01, ...fixstr('p'), ...inner]);
    };
    expect(decodeFrame(nested(32)).id).toBe(1);
    expect(failure(nested(33))).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/deeper than 32/) });
    expect(failure(nested(2000)).code).toBe('bad_request');
  });

  it('declared lengths past the end are refused before anything is allocated', () => {
    const head = [0x82, ...fixstr('id'), 0x01, ...fixstr('p')];
    for (const v of [
      [0xdd, 0xff, 0xff, 0xff, 0xff], // array 32 of 4 G
      [0xdf, 0x7f, 0xff, 0xff, 0xff], // map 32 of 2 G
      [0xc6, 0xff, 0xff, 0xff, 0xf0], // bin 32 of 4 GB
      [0xdb, 0x00, 0x10, 0x00, 0x00], // str 32 of 1 MiB
      [0xdc, 0x00, 0x03, 0x01, 0x02], // array 16 of 3 with 2 present
    ]) {
      expect(failure(Uint8Array.from([...head, ...v])).code).toBe('bad_request');
    }
  });

  it('more than maxValues values is too_large', () => {
    const n = PROFILE.maxValues; // the array, its n elements, keys and id: > maxValues
    const f = packr.pack({ id: 1, p: new Array(n).fill(0) });
    expect(failure(f).code).toBe('too_large');
  });

  it('a float id (2.0, −0.0) is not an id; an integer id of any width is', () => {
    for (const bytes of [[0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0], [0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0], [0xca, 0x40, 0, 0, 0]]) {
      const f = Uint8Array.from([0x82, ...fixstr('op'), ...fixstr('hello'), ...fixstr('id'), ...bytes]);
      expect(failure(f)).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/'id'/) });
    }
    // the key 'id' as str 8 / str 16 is the same key
    for (const key of [[0xd9, 0x02, 0x69, 0x64], [0xda, 0x00, 0x02, 0x69, 0x64]]) {
      const f = Uint8Array.from([0x82, ...fixstr('op'), ...fixstr('hello'), ...key, 0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0]);
      expect(failure(f)).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/'id'/) });
    }
    for (const bytes of [[0x02], [0xcc, 0x02], [0xcd, 0, 2], [0xce, 0, 0, 0, 2], [0xcf, 0, 0, 0, 0, 0, 0, 0, 2], [0xd0, 0x02]]) {
      const f = Uint8Array.from([0x82, ...fixstr('op'), ...fixstr('hello'), ...fixstr('id'), ...bytes]);
      expect(Number(decodeFrame(f).id)).toBe(2);
    }
    // a float elsewhere is fine, and a nested 'id' key is not the frame's id
    expect(decodeFrame(packr.pack({ id: 3, t: 0.5, p: { id: 2.5 } }))).toMatchObject({ id: 3, t: 0.5, p: { id: 2.5 } });
  });

  it('non-string keys, 0xc1, trailing values and a non-map top level are bad_request', () => {
    const cases = [
      [0x81, 0x01, 0x02], // {1: 2}
      [0x81, ...fixstr('p'), 0x81, 0xc3, 0x01], // nested {true: 1}
      [0x81, ...fixstr('p'), 0xc1],
      [0x81, ...fixstr('id'), 0x01, 0xc0], // map then nil
      [0x81, ...fixstr('id'), 0x01, 0x81, ...fixstr('id'), 0x02], // two maps
      [0x91, 0x80], [0xc0], [0x01],
    ];
    for (const c of cases) expect([c, failure(Uint8Array.from(c)).code]).toEqual([c, 'bad_request']);
  });
});

describe('scanFrame: plain msgpack passes and decodes alike with a stock decoder', () => {
  // JSON-like values with strings, ints of every width, floats, bins, nested maps and arrays
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true }), fc.string(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.uint8Array({ maxLength: 40 }),
    ),
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 5 })),
  })).node;

  it('for random frames {id, op, payload}', () => {
    fc.assert(fc.property(fc.nat(), value, (id, payload) => {
      const bytes = packr.pack({ id, op: 'remember', payload });
      scanFrame(bytes);
      const ours = decodeFrame(bytes);
      const stock = stockDecode(bytes, { useBigInt64: true }) as Record<string, unknown>;
      // msgpackr and the stock decoder agree on ints up to 64 bits (BigInt where needed)
      const norm = (v: unknown): unknown => (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Array.isArray(v) ? v.map(norm) : v instanceof Uint8Array ? [...v] : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)])) : v);
      expect(norm(ours)).toEqual(norm(stock));
    }), { seed: 9, numRuns: 300 });
  });

  it('random bytes: whatever passes the scan decodes with the stock decoder; nothing hangs', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (tail) => {
      const bytes = Uint8Array.from([0x82, ...fixstr('id'), 0x01, ...fixstr('p'), ...tail]);
      let passed = true;
      try { scanFrame(bytes); } catch { passed = false; }
      if (passed) {
        expect(() => stockDecode(bytes, { useBigInt64: true })).not.toThrow();
        expect(() => decodeFrame(bytes)).not.toThrow();
      }
    }), { seed: 99, numRuns: 5000 });
  });
});

describe('isPlainValue (stored payloads)', () => {
  it('accepts one plain value of any type, refuses extensions, trailing bytes and deep nesting', () => {
    for (const v of [1, 'x', null, [1, [2]], { a: { b: 1 } }, new Uint8Array(3), 2n ** 63n]) expect(isPlainValue(packr.pack(v))).toBe(true);
    expect(isPlainValue(Uint8Array.from([0xd6, 0xff, 0, 0, 0, 1]))).toBe(false); // timestamp
    expect(isPlainValue(Uint8Array.from([0x01, 0x02]))).toBe(false);
    expect(isPlainValue(Uint8Array.from([...new Array(40).fill(0x91), 0xc0]))).toBe(false);
    expect(isPlainValue(new Uint8Array(0))).toBe(false);
  });
});
