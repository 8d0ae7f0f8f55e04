/**
 * Wire arrays (docs/PROTOCOL.md "Arrays"): msgpack `bin` of little-endian float32 (vectors),
 * float64 (Sinkhorn, heat) or uint32 (indices). No extension types, so any msgpack library
 * speaks them. Decoded bins are views into the frame at any offset and die with the frame, so
 * they are copied here, once, into SharedArrayBuffer-backed arrays that the workers read in
 * place. Only little-endian hosts are supported (checked at start by main.ts).
 */
import { HoloError } from '../errors.js';
import type { VectorArena } from './arena.js';

type Ctor<T> = { new (b: SharedArrayBuffer | ArrayBuffer, off?: number, len?: number): T; BYTES_PER_ELEMENT: number };

function fromBin<T extends Float32Array | Float64Array | Uint32Array>(
  C: Ctor<T>, kind: string, name: string, v: unknown, maxElements: number, shared: boolean,
): T {
  if (!(v instanceof Uint8Array)) throw new HoloError('bad_request', `${name} must be a msgpack bin of ${kind}`);
  const k = C.BYTES_PER_ELEMENT;
  if (v.byteLength % k !== 0) throw new HoloError('bad_request', `${name}: ${v.byteLength} bytes is not a whole number of ${kind} (${k} bytes each)`);
  const n = v.byteLength / k;
  if (n > maxElements) throw new HoloError('too_large', `${name} has ${n} elements, limit ${maxElements}`);
  const buf = shared ? new SharedArrayBuffer(v.byteLength) : new ArrayBuffer(v.byteLength);
  copyBytes(v, new Uint8Array(buf));
  return new C(buf);
}

/** A reused plain buffer for copyBytes (grows to the largest array copied, ≤ KEEP_SCRATCH). */
let scratch = new Uint8Array(0);
const KEEP_SCRATCH = 1 << 20;

/**
 * dst.set(src) at memcpy speed. Into or out of a SharedArrayBuffer, V8 copies word by word only
 * when source and destination share their alignment mod 8, else byte by byte (measured here, 32
 * KiB: 9.2 µs misaligned, 1.3 µs aligned). A msgpack bin sits at any offset of its frame, so a
 * misaligned copy goes through a plain (non-shared) scratch buffer: two memcpys, 1.9 µs.
 * Small copies (< 1 KiB) go straight.
 */
export function copyBytes(src: Uint8Array, dst: Uint8Array): void {
  // The scratch route helps a plain source into an 8-aligned shared destination (a received
  // bin into a slot); anything else (aligned, plain to plain, small) is copied directly. A
  // shared source is aligned by its caller (encodeOk pads the reply so the bytes line up).
  if (!(dst.buffer instanceof SharedArrayBuffer) || src.buffer instanceof SharedArrayBuffer
    || ((src.byteOffset ^ dst.byteOffset) & 7) === 0 || (dst.byteOffset & 7) !== 0 || src.byteLength < 1024) {
    dst.set(src);
    return;
  }
  // Kept for reuse up to 1 MiB (a few vectors); a bigger array (graph edges) gets its own.
  const s = src.byteLength <= KEEP_SCRATCH
    ? (scratch.byteLength >= src.byteLength ? scratch : (scratch = new Uint8Array(src.byteLength))).subarray(0, src.byteLength)
    : new Uint8Array(src.byteLength);
  s.set(src);
  dst.set(s);
}

/**
 * bin → Float32Array of exactly `length` elements when length is given. Not checked for NaN/Inf
 * here: every kernel that reads a vector rejects non-finite input itself (HRR kernels by one
 * pass over their output, which any NaN or Inf input reaches), so the main thread, the served
 * path's bottleneck, only copies.
 */
export function f32(name: string, v: unknown, length?: number, arena?: VectorArena): Float32Array {
  if (arena && length === arena.length && v instanceof Uint8Array && v.byteLength === arena.bytes) {
    const x = arena.take();
    copyBytes(v, new Uint8Array(x.buffer, x.byteOffset, x.byteLength)); // slots are 8-aligned
    return x;
  }
  // A vector longer than D is the wrong length (bad_dimension, below), not too_large: the
  // frame limit already bounds the copy.
  const x = fromBin(Float32Array, 'float32', name, v, 1 << 26, true);
  if (length !== undefined && x.length !== length) {
    throw new HoloError('bad_dimension', `${name} has ${x.length} float32, expected D = ${length}`);
  }
  return x;
}

/** bin → Float64Array (finite checked), optionally of exact length. */
export function f64(name: string, v: unknown, length?: number, maxElements = 1 << 26, shared = true): Float64Array {
  const x = fromBin(Float64Array, 'float64', name, v, maxElements, shared);
  if (length !== undefined && x.length !== length) {
    throw new HoloError('bad_dimension', `${name} has ${x.length} float64, expected ${length}`);
  }
  finite(name, x);
  return x;
}

/** bin → Uint32Array, optionally of exact length. */
export function u32(name: string, v: unknown, length?: number, maxElements = 1 << 26, shared = true): Uint32Array {
  const x = fromBin(Uint32Array, 'uint32', name, v, maxElements, shared);
  if (length !== undefined && x.length !== length) {
    throw new HoloError('bad_dimension', `${name} has ${x.length} uint32, expected ${length}`);
  }
  return x;
}

function finite(name: string, x: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v - v !== 0) throw new HoloError('bad_request', `${name}[${i}] is ${v}: arrays must be finite`);
  }
}

/** A typed array's bytes as a Uint8Array view (msgpackr packs it as bin without copying twice). */
export function bytes(x: ArrayBufferView): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}
