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

export function encodeOk(id: number, result: Record<string, unknown>): Uint8Array {
  return packr.pack({ id: wireId(id), ok: true, ...result });
}

export function encodeError(id: number, code: ErrorCode, message: string): Uint8Array {
  return packr.pack({ id: wireId(id), ok: false, error: { code, message } });
}

/** For tests and clients: pack any plain object as a frame. */
export function encodeFrame(obj: Record<string, unknown>): Uint8Array {
  return packr.pack(obj);
}
