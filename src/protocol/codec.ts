/**
 * Frames ↔ plain objects (docs/PROTOCOL.md "Frames"). One msgpack map per WebSocket binary
 * frame. Decoding is strict: scan.ts checks the bytes against the profile (one map with string
 * keys, no extension types, bounded depth, counts and lengths) before msgpackr reads a single
 * value, so msgpackr only ever sees plain msgpack and decodes exactly one value (never
 * unpackMultiple); what we send is plain msgpack (maps, strings, numbers, booleans, bin, arrays).
 */
import { Packr, Unpackr } from 'msgpackr';
import { HoloError, type ErrorCode } from '../errors.js';
import { scanFrame } from './scan.js';
import { copyBytes } from './vectors.js';

// int64AsType 'bigint': every msgpack int64/uint64 decodes as BigInt, so a payload re-encodes
// with its integers' exact values and widths (msgpackr would write a JS number ≥ 2^32 as
// float64). Numeric fields accept such a BigInt when it is a safe integer (asNumber).
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

/** A field value as a JS number: a BigInt (msgpack int64) within ±(2^53 − 1) converts. */
export function asNumber(v: unknown): unknown {
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return v;
}
const packr = new Packr({ useRecords: false, variableMapSize: true });

export type Frame = Record<string, unknown>;

/**
 * Decodes one frame. @throws HoloError bad_request (not plain msgpack, not one map, an
 * extension type, too deep, trailing bytes, a float id) | too_large (too many values).
 */
export function decodeFrame(data: Uint8Array): Frame {
  scanFrame(data);
  let v: unknown;
  try {
    v = unpackr.unpack(data);
  } catch (e) {
    // The scan passed, so this is msgpackr disagreeing with the profile: still the frame's fault.
    throw new HoloError('bad_request', `frame is not valid msgpack: ${String((e as Error)?.message).slice(0, 200)}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array || v instanceof Map) {
    throw new HoloError('bad_request', 'frame must be a msgpack map with string keys');
  }
  return v as Frame;
}

/** Best-effort id of an undecodable or invalid frame: a uint id, else 0. */
export function frameId(f: Frame | undefined): number {
  const id = asNumber(f?.id);
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= Number.MAX_SAFE_INTEGER ? id : 0;
}

/**
 * msgpackr writes a JS number outside the 32-bit range as float64; an id must come back as the
 * integer it was (ids go up to 2^53 − 1), so large ones are packed as BigInt (uint64).
 */
function wireId(id: number): number | bigint {
  return id > 0xffffffff ? BigInt(id) : id;
}

/** A bin at least this long is written by hand into the reused reply buffer (below). */
const BIG_BIN = 1024;
/** Largest reply buffer kept for reuse; a larger reply gets a buffer of its own. */
const KEEP_BYTES = 1 << 22;
let replyBuf = new Uint8Array(0);
const keyBytes = new Map<string, Uint8Array>();
const utf8 = new TextEncoder();

/**
 * {id, ok: true, ...result} as one msgpack map. A reply carrying vectors (bins ≥ 1 KiB) would
 * make msgpackr grow its shared buffer (a new ≥ 128 KiB ArrayBuffer every few 32 KiB replies:
 * external-memory pressure, mark-compacts), so the small fields are packed by msgpackr and the
 * big bins appended by hand into one reused buffer, their bytes placed 8-aligned so the copy
 * out of a shared slot is a memcpy (see copyBytes). The same msgpack map either way (key order
 * aside: id and ok first, big bins last).
 * The returned bytes are valid until the next encodeOk: send them at once (uWS copies).
 */
export function encodeOk(id: number, result: Record<string, unknown>): Uint8Array {
  let big: string[] | undefined;
  for (const k in result) {
    const v = result[k];
    if (v instanceof Uint8Array && v.byteLength >= BIG_BIN) (big ??= []).push(k);
  }
  if (!big) return packr.pack({ id: wireId(id), ok: true, ...result });
  const small: Record<string, unknown> = { id: wireId(id), ok: true };
  for (const k in result) if (!big.includes(k) && result[k] !== undefined) small[k] = result[k];
  const head = packr.pack(small);
  // msgpackr (variableMapSize) starts the map with a fixmap or map16 header: replace it.
  const n0 = head[0] === 0xde ? (head[1] << 8) | head[2] : head[0] & 0x0f;
  const skip = head[0] === 0xde ? 3 : 1;
  const n = n0 + big.length;
  const mapHdr = n < 16 ? 1 : 3;
  let total = mapHdr + head.length - skip;
  let firstData = -1;
  for (const k of big) {
    const kb = key(k), len = (result[k] as Uint8Array).byteLength;
    total += kb.length + (len < 0x10000 ? 3 : 5);
    if (firstData < 0) firstData = total;
    total += len;
  }
  const pad = (8 - (firstData & 7)) & 7; // start so that the first bin's bytes are 8-aligned
  let buf = replyBuf;
  if (buf.length < total + pad) {
    buf = new Uint8Array(Math.max(total + pad, 2 * buf.length, 65536));
    if (buf.length <= KEEP_BYTES) replyBuf = buf;
  }
  let p = pad;
  if (n < 16) buf[p++] = 0x80 | n;
  else { buf[p++] = 0xde; buf[p++] = n >> 8; buf[p++] = n & 0xff; }
  buf.set(head.subarray(skip), p);
  p += head.length - skip;
  for (const k of big) {
    const v = result[k] as Uint8Array, kb = key(k), len = v.byteLength;
    buf.set(kb, p);
    p += kb.length;
    if (len < 0x10000) { buf[p++] = 0xc5; buf[p++] = len >> 8; buf[p++] = len & 0xff; }
    else { buf[p++] = 0xc6; buf[p++] = len >>> 24; buf[p++] = (len >> 16) & 0xff; buf[p++] = (len >> 8) & 0xff; buf[p++] = len & 0xff; }
    copyBytes(v, buf.subarray(p, p + len));
    p += len;
  }
  return buf.subarray(pad, p);
}

/** A field name as a msgpack str (names of result fields: short, a handful). */
function key(k: string): Uint8Array {
  let b = keyBytes.get(k);
  if (!b) {
    const u = utf8.encode(k);
    if (u.length > 31) throw new Error(`result field name '${k}' too long for this encoder`);
    b = new Uint8Array(u.length + 1);
    b[0] = 0xa0 | u.length;
    b.set(u, 1);
    keyBytes.set(k, b);
  }
  return b;
}

export function encodeError(id: number, code: ErrorCode, message: string): Uint8Array {
  return packr.pack({ id: wireId(id), ok: false, error: { code, message } });
}

/** For tests and clients: pack any plain object as a frame. */
export function encodeFrame(obj: Record<string, unknown>): Uint8Array {
  return packr.pack(obj);
}
