/**
 * Frames ↔ plain objects (docs/PROTOCOL.md "Frames"). One msgpack map per WebSocket binary
 * frame. Decoding is strict: the frame must be exactly one map with string keys; msgpackr's
 * records and structured extensions are off, so what a stock msgpack client sends is what we
 * read, and what we send is plain msgpack (maps, strings, numbers, booleans, bin, arrays).
 */
import { Packr, Unpackr } from 'msgpackr';
import { HoloError, type ErrorCode } from '../errors.js';

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

/** Decodes one frame. @throws HoloError bad_request (not msgpack, not one map, trailing bytes). */
export function decodeFrame(data: Uint8Array): Frame {
  let values: unknown[];
  try {
    values = unpackr.unpackMultiple(data) as unknown[];
  } catch (e) {
    throw new HoloError('bad_request', `frame is not valid msgpack: ${(e as Error).message}`);
  }
  if (values.length !== 1) throw new HoloError('bad_request', `frame must hold exactly one msgpack map, found ${values.length} values`);
  const v = values[0];
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
