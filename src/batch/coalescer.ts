/**
 * In-flight coalescing (SEED §7): identical requests in flight at the same time are computed
 * once and answered to every asker. "Identical" = same op and the same fields, arrays compared
 * byte for byte. The key is cheap (op, scalars, array lengths and a 64-element sample of each
 * array); only requests whose keys collide are compared in full (memcmp), so the main thread
 * never hashes whole vectors. Writes never coalesce, and reads of a shard whose state changed
 * since a request was queued carry a newer epoch in their key, so a pipelined
 * remember-then-recall never returns the older answer. A finished pure computation stays
 * joinable for coalesceLingerMs (dispatcher.ts), and a change of the live knobs starts a new
 * epoch for every key.
 */
import type { Parsed } from '../protocol/ops.js';

type Arr = Float32Array | Float64Array | Uint32Array;

function isArr(v: unknown): v is Arr {
  return v instanceof Float32Array || v instanceof Float64Array || v instanceof Uint32Array;
}

/** FNV-1a over the bits of ≤ 64 evenly spaced 32-bit words of the array. */
function sample(a: Arr): string {
  const w = new Uint32Array(a.buffer, a.byteOffset, a.byteLength >>> 2);
  const step = Math.max(1, Math.floor(w.length / 64));
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i += step) h = Math.imul(h ^ w[i], 0x01000193) >>> 0;
  return `${a.length}:${h.toString(36)}`;
}

function keyPart(v: unknown): string {
  if (isArr(v)) return sample(v);
  if (Array.isArray(v)) return `[${v.map(keyPart).join(',')}]`;
  if (v instanceof Uint8Array) return `u8:${v.length}`;
  if (typeof v === 'bigint') return `${v}n`;
  return JSON.stringify(v) ?? 'undefined';
}

export function coalesceKey(p: Parsed, epoch: number | string): string {
  let k = `${p.op}\u0000${epoch}`;
  for (const f of Object.keys(p.params).sort()) k += `\u0000${f}=${keyPart(p.params[f])}`;
  return k;
}

function sameValue(x: unknown, y: unknown): boolean {
  if (isArr(x) || isArr(y)) {
    if (!isArr(x) || !isArr(y) || x.constructor !== y.constructor || x.length !== y.length) return false;
    return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  }
  if (x instanceof Uint8Array && y instanceof Uint8Array) return Buffer.from(x).equals(Buffer.from(y));
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
  return Object.is(x, y);
}

/** True when two parsed requests are the same computation. */
export function sameRequest(a: Parsed, b: Parsed): boolean {
  if (a.op !== b.op) return false;
  const ka = Object.keys(a.params), kb = Object.keys(b.params);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue(a.params[k], b.params[k]));
}

export class Coalescer<E extends { parsed: Parsed }> {
  private readonly map = new Map<string, E[]>();

  find(key: string, p: Parsed): E | undefined {
    return this.map.get(key)?.find((e) => sameRequest(e.parsed, p));
  }

  add(key: string, e: E): void {
    const l = this.map.get(key);
    if (l) l.push(e); else this.map.set(key, [e]);
  }

  remove(key: string, e: E): void {
    const l = this.map.get(key);
    if (!l) return;
    const i = l.indexOf(e);
    if (i >= 0) l.splice(i, 1);
    if (l.length === 0) this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
