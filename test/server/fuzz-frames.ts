/**
 * Seeded hostile frame generator for test/server/fuzz.test.ts. Frames are built as bytes, so
 * that every msgpack format can appear where the server reads a field: random bytes,
 * truncations of good frames, every op with each field replaced by a value of any msgpack type
 * (fixint to uint64 and int64 extremes, float32/float64 incl. NaN, ±Inf, 2.0 and −0.0 ids, str
 * and bin of many lengths, invalid UTF-8, arrays, maps, nil, booleans), extension types (fixext,
 * ext 8/16/32, msgpackr's own: bundled strings 0x62, BigInt 0x42, records 0x72, structured
 * clone 0x73, timestamps −1), declared lengths far past the frame's end, and deep nesting.
 */
import { Packr } from 'msgpackr';
import { mulberry32 } from '../../bench/seeded.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

export const OPS = ['hello', 'role', 'bind', 'unbind', 'bundle', 'cosine', 'encode', 'sinkhorn', 'heat', 'graph.put', 'graph.delete',
  'remember', 'recall', 'cleanup', 'anchor.put', 'anchor.delete', 'forget', 'stats', 'knobs', 'drill', 'teleport', '__proto__', ''];

const FIELDS = ['id', 'op', 'token', 'a', 'b', 'c', 'role', 'mode', 'eps', 'snr', 'beta', 'vectors', 'weights', 'text', 'n', 'm', 'cost',
  'epsilon', 'maxIter', 'tol', 't', 'K', 'graph', 'src', 'dst', 'weight', 'signal', 'tenant', 'key', 'vector', 'payload', 'reward',
  'k', 'name', 'set', 'scenario', 'worker'];

type Bytes = number[] | Uint8Array;

function cat(parts: Bytes[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const be = (v: number, bytes: number) => Array.from({ length: bytes }, (_, i) => Math.floor(v / 2 ** (8 * (bytes - 1 - i))) & 0xff);

export class FrameGen {
  private readonly next: () => number;
  constructor(seed: number, private readonly D: number) {
    this.next = mulberry32(seed);
  }

  private u(n: number): number { return this.next() % n; }
  private chance(p: number): boolean { return this.next() / 4294967296 < p; }
  private pick<T>(xs: readonly T[]): T { return xs[this.u(xs.length)]; }
  private bytes(n: number): Uint8Array { return Uint8Array.from({ length: n }, () => this.next() & 0xff); }

  private str(s: string): number[] { return [...packr.pack(s)]; }
  private floats(n: number, width: 4 | 8): Uint8Array {
    const a = width === 4 ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = this.next() / 4294967296 - 0.5;
    return new Uint8Array(a.buffer);
  }
  private bin(b: Uint8Array): Uint8Array { return packr.pack(b); }

  /** A plausible value for a field (so that some requests are computed for real). */
  private good(field: string): Bytes {
    const D = this.D;
    switch (field) {
      case 'a': case 'b': case 'c': case 'vector': return this.bin(this.floats(D, 4));
      case 'vectors': return cat([[0x92], this.bin(this.floats(D, 4)), this.bin(this.floats(D, 4))]);
      case 'weights': return [0x92, 0x01, 0xcb, ...new Uint8Array(Float64Array.of(0.5).buffer).reverse()];
      case 'role': case 'token': return this.str(this.pick(['agent', 'subject', 'verb', `r${this.u(8)}`]));
      case 'mode': return this.str(this.pick(['exact', 'wiener', 'approx']));
      case 'text': return this.str(this.pick(['the cat sat on the mat', 'hello world', 'a b c d', `word${this.u(50)} other`]));
      case 'tenant': return this.str(`fz-${this.u(16)}`);
      case 'key': case 'name': return this.str(`k${this.u(64)}`);
      case 'graph': return this.str(`g${this.u(4)}`);
      case 'n': case 'm': return [1 + this.u(6)];
      case 'cost': return this.bin(this.floats(this.u(37), 8));
      case 'src': case 'dst': return this.bin(Uint8Array.from(new Uint8Array(Uint32Array.from({ length: 5 }, () => this.u(6)).buffer)));
      case 'signal': case 'weight': return this.bin(this.floats(1 + this.u(6), 8));
      case 'epsilon': case 'eps': case 'snr': case 'beta': case 'tol': return [0xcb, ...new Uint8Array(Float64Array.of(0.1 + this.u(10) / 10).buffer).reverse()];
      case 't': return this.chance(0.5) ? [this.u(5)] : [0x93, 0, 1, 2];
      case 'K': case 'k': case 'maxIter': return [1 + this.u(30)];
      case 'payload': return packr.pack({ s: 'x', n: this.u(1000), l: [1, 2, 3] });
      case 'reward': return [this.u(2)];
      case 'scenario': return this.str('worker-crash');
      case 'worker': return [0];
      case 'set': return [0x81, ...this.str('rerank'), 0xc3];
      default: return [0xc0];
    }
  }

  /** Any msgpack value, of any type, some of them hostile. */
  value(depth = 0): Bytes {
    switch (this.u(depth > 3 ? 24 : 28)) {
      case 0: return [0xc0];
      case 1: return [this.pick([0xc2, 0xc3])];
      case 2: return [this.u(128)]; // positive fixint
      case 3: return [0xe0 | this.u(32)]; // negative fixint
      case 4: { const w = this.pick([1, 2, 4, 8]); return [({ 1: 0xcc, 2: 0xcd, 4: 0xce, 8: 0xcf } as Record<number, number>)[w], ...(this.chance(0.5) ? new Array(w).fill(0xff) : this.bytes(w))]; }
      case 5: { const w = this.pick([1, 2, 4, 8]); return [({ 1: 0xd0, 2: 0xd1, 4: 0xd2, 8: 0xd3 } as Record<number, number>)[w], ...(this.chance(0.5) ? [0x80, ...new Array(w - 1).fill(0)] : this.bytes(w))]; }
      case 6: return [0xca, ...this.pick([[0x7f, 0xc0, 0, 0], [0x7f, 0x80, 0, 0], [0xff, 0x80, 0, 0], [0x40, 0, 0, 0], [0x80, 0, 0, 0], [...this.bytes(4)]])]; // float32: NaN, ±Inf, 2.0, −0.0, random
      case 7: return [0xcb, ...this.pick([[0x7f, 0xf8, 0, 0, 0, 0, 0, 0], [0x7f, 0xf0, 0, 0, 0, 0, 0, 0], [0x40, 0, 0, 0, 0, 0, 0, 0], [0x80, 0, 0, 0, 0, 0, 0, 0], [0x43, 0x40, 0, 0, 0, 0, 0, 0], [...this.bytes(8)]])];
      case 8: return this.str(this.pick(['', 'x', 'agent', '\u0000', 'ß🐘', 'x'.repeat(300), '__proto__', 'constructor']));
      case 9: { const n = this.u(40); return [0xa0 | Math.min(n, 31), ...this.bytes(Math.min(n, 31))]; } // fixstr, random (often invalid) UTF-8
      case 10: return this.bin(this.bytes(this.pick([0, 1, 3, 4, 8, 4 * this.D - 1, 4 * this.D, 4 * this.D + 4, 8 * 6])));
      case 11: return this.bin(this.floats(this.D, 4));
      case 12: { // fixext 1/2/4/8/16
        const k = this.u(5);
        return [0xd4 + k, this.pick([0x62, 0x42, 0x72, 0x73, 0x65, 0xff, 0x00, 0x7f, 0x80]), ...this.bytes(1 << k)];
      }
      case 13: { // ext 8/16/32 with a true or a huge declared length
        const form = this.u(3), type = this.pick([0x62, 0x42, 0xff, 0x01]), n = this.u(20);
        const len = this.chance(0.3) ? 0x7fffffff : n;
        return [0xc7 + form, ...be(form === 0 ? Math.min(len, 255) : form === 1 ? Math.min(len, 65535) : len, [1, 2, 4][form]), type, ...this.bytes(n)];
      }
      case 14: return [0xd6, 0x62, 0xff, 0xff, 0xff, 0xfc, 0xc0]; // the bundled-strings rewind
      case 15: return [this.pick([0xdc, 0xdd, 0xde, 0xdf, 0xc4, 0xc5, 0xc6, 0xd9, 0xda, 0xdb]), 0xff, 0xff, 0xff, 0xff]; // huge declared length
      case 16: return [0xc1];
      case 17: return packr.pack(this.pick([2 ** 53, -(2 ** 53), 2 ** 64, -1, 0, 1.5, 1e308]));
      case 18: return [0xcf, ...this.bytes(8)]; // uint64
      case 19: return [0xd3, ...this.bytes(8)]; // int64
      case 20: { const d = this.pick([33, 100, 2000, 5000]); return [...new Array(d).fill(0x91), 0xc0]; } // deep nesting
      case 21: { const d = 1 + this.u(40); return [...Array.from({ length: d }, () => [0x81, 0xa1, 0x78]).flat(), 0xc0]; } // nested maps {x: {x: …}}
      case 22: return this.good(this.pick(FIELDS));
      case 23: return this.good(this.pick(FIELDS));
      default: { // array or map of values
        const n = this.u(4);
        if (this.chance(0.5)) return cat([[0x90 | n], ...Array.from({ length: n }, () => this.value(depth + 1))]);
        return cat([[0x80 | n], ...Array.from({ length: n }, () => cat([this.chance(0.9) ? this.str(this.pick(FIELDS)) : this.value(depth + 1), this.value(depth + 1)]))]);
      }
    }
  }

  /** The fields of a well-formed request for op (before hostile values replace some). */
  private wellFormed(op: string): [string, Bytes][] {
    const g = (...fs: string[]) => fs.map((f) => [f, this.good(f)] as [string, Bytes]);
    const n6 = (): [string, Bytes][] => [['n', [6]], ['src', this.good('src')], ['dst', this.good('dst')]];
    switch (op) {
      case 'role': return g('token');
      case 'bind': return this.chance(0.5) ? g('a', 'b') : g('a', 'role');
      case 'unbind': return g('c', 'role', 'mode');
      case 'bundle': return g('vectors');
      case 'cosine': return g('a', 'b');
      case 'encode': return g('text');
      case 'sinkhorn': return [['n', [2]], ['m', [3]], ['cost', this.bin(this.floats(6, 8).map((x) => x & 0x3f))], ['epsilon', this.good('epsilon')]];
      case 'heat': return this.chance(0.5) ? [...n6(), ['signal', this.bin(this.floats(6, 8))], ['t', this.good('t')]] : [['graph', this.good('graph')], ['signal', this.bin(this.floats(6, 8))], ['t', this.good('t')]];
      case 'graph.put': return [['graph', this.good('graph')], ...n6()];
      case 'graph.delete': return g('graph');
      case 'remember': return g('tenant', 'key', 'text', 'payload');
      case 'recall': return g('tenant', 'text', 'k');
      case 'cleanup': return g('tenant', 'vector');
      case 'anchor.put': return g('tenant', 'name', 'text');
      case 'anchor.delete': case 'forget': return g('tenant', 'key', 'name');
      case 'stats': return g('tenant');
      default: return [];
    }
  }

  /** One frame: mostly an op with good fields, some replaced by hostile values; or raw junk. */
  frame(id: number): Uint8Array {
    const kind = this.u(100);
    if (kind < 5) return this.bytes(this.u(64)); // random bytes
    if (kind < 10) { const f = this.frame(id); return f.subarray(0, this.u(f.length + 1)); } // truncation
    if (kind < 12) return cat([[0x91], this.frame(id)]); // not a map
    if (kind < 14) return cat([this.frame(id), this.value()]); // trailing value
    const op = this.pick(OPS);
    const fields = new Map<string, Bytes>();
    fields.set('id', this.chance(0.9) ? [...packr.pack(id)] : this.value());
    fields.set('op', this.chance(0.95) ? this.str(op) : this.value());
    if (this.chance(0.4)) for (const [k, v] of this.wellFormed(op)) fields.set(k, v);
    else for (const f of FIELDS) if (f !== 'id' && f !== 'op' && this.chance(0.25)) fields.set(f, this.good(f));
    const hostile = this.u(5) >> 1; // 0 to 2 fields get a value of any type
    for (let i = 0; i < hostile; i++) fields.set(this.chance(0.9) ? this.pick(FIELDS) : `x${this.u(5)}`, this.value());
    const parts: Bytes[] = [fields.size < 16 ? [0x80 | fields.size] : [0xde, 0, fields.size]];
    for (const [k, v] of fields) parts.push(this.str(k), v);
    return cat(parts);
  }
}
