/**
 * The strict msgpack profile (docs/PROTOCOL.md "Decode profile"), checked on the raw bytes of a
 * frame BEFORE msgpackr decodes anything: one pass over the msgpack headers, no allocation, no
 * recursion. msgpackr cannot refuse extensions, bound nesting or check declared lengths before
 * it allocates (its ext handlers run client-chosen code paths: the "bundled strings" extension
 * with a negative offset rewinds the reader, and unpackMultiple then loops for ever), so only
 * bytes that pass this walk ever reach it. What passes is plain msgpack (msgpack spec formats):
 *
 *   - exactly one value, and it is a map whose keys are all strings (every map, at any depth);
 *   - no extension type at all: fixext 1/2/4/8/16 (0xd4–0xd8), ext 8/16/32 (0xc7–0xc9) are
 *     `bad_request` naming the type; 0xc1 (never used) too;
 *   - containers nested at most maxDepth (32) deep; at most maxValues values in the frame;
 *   - every declared length (str, bin, array and map counts) fits in the bytes that remain
 *     (each element takes at least one byte), so a 5-byte header cannot announce 4 G elements;
 *   - the top-level field `id` is a msgpack integer (float 2.0 or −0.0 is not an id).
 * Cost: measured ~0.1 µs for a small frame and ~0.2 µs for a 32 KiB bind (bench in the issue note).
 */
import { HoloError } from '../errors.js';

export interface ScanLimits {
  /** most nested containers (the frame's own map is depth 1) */
  maxDepth: number;
  /** most msgpack values in one frame (keys, elements and the containers themselves) */
  maxValues: number;
}

export const PROFILE: ScanLimits = { maxDepth: 32, maxValues: 1 << 17 };

// Per container level: items still to read, and whether it is a map (keys at even positions).
const left = new Float64Array(PROFILE.maxDepth + 2);
const isMap = new Uint8Array(PROFILE.maxDepth + 2);

function bad(msg: string): never {
  throw new HoloError('bad_request', `frame is not plain msgpack: ${msg}`);
}

/** The (signed) type byte of an extension, for the error message. */
function extType(b: Uint8Array, at: number): number {
  if (at >= b.length) bad('truncated extension header');
  return (b[at] << 24) >> 24;
}

/**
 * Walks one frame's msgpack structure. @throws HoloError bad_request (not plain msgpack, not
 * one map, an extension, a non-string key, too deep, a length past the end, trailing bytes, a
 * float id) | too_large (more than maxValues values).
 */
export function scanFrame(b: Uint8Array, lim: ScanLimits = PROFILE): void {
  if (b.length === 0) bad('empty frame');
  const t0 = b[0];
  if (!((t0 >= 0x80 && t0 <= 0x8f) || t0 === 0xde || t0 === 0xdf)) {
    throw new HoloError('bad_request', 'frame must be a msgpack map with string keys');
  }
  scan(b, lim);
}

/**
 * True when b is exactly one plain msgpack value of the profile (any type at the top): how a
 * stored payload is checked before it is decoded for a reply (one written before the profile
 * existed may hold extension types).
 */
export function isPlainValue(b: Uint8Array, lim: ScanLimits = PROFILE): boolean {
  if (b.length === 0) return false;
  try {
    scan(b, lim);
    return true;
  } catch {
    return false;
  }
}

function scan(b: Uint8Array, lim: ScanLimits): void {
  const end = b.length;
  if (lim.maxDepth + 2 > left.length) throw new Error('scanFrame: maxDepth above the profile');
  let pos = 0, depth = 0, values = 0;
  let idValue = false; // the next value read at depth 1 is the value of key 'id'
  left[0] = 1;
  isMap[0] = 0;
  for (;;) {
    while (left[depth] === 0) {
      if (depth === 0) {
        if (pos !== end) bad(`${end - pos} bytes after the frame's map (one msgpack value per frame)`);
        return;
      }
      depth--;
    }
    const key = isMap[depth] === 1 && left[depth] % 2 === 0;
    left[depth]--;
    if (pos >= end) bad('truncated');
    if (++values > lim.maxValues) throw new HoloError('too_large', `frame holds more than ${lim.maxValues} msgpack values`);
    const t = b[pos++];
    if (key && !((t >= 0xa0 && t <= 0xbf) || t === 0xd9 || t === 0xda || t === 0xdb)) bad('map keys must be strings');
    const isIdValue = idValue && depth === 1 && !key;
    if (isIdValue) idValue = false;
    if (isIdValue && (t === 0xca || t === 0xcb)) throw new HoloError('bad_request', "field 'id' must be an unsigned integer (a msgpack int, not a float)");
    let len = -1; // bytes of payload to skip (str, bin, scalars)
    let count = -1; // items of a container to open
    let map = false;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) len = 0; // fixint, nil, bool
    else if (t >= 0xa0 && t <= 0xbf) len = t & 0x1f; // fixstr
    else if (t >= 0x90 && t <= 0x9f) count = t & 0x0f; // fixarray
    else if (t >= 0x80 && t <= 0x8f) { count = t & 0x0f; map = true; } // fixmap
    else {
      switch (t) {
        case 0xc1: bad('byte 0xc1 (never used)'); break;
        case 0xc4: case 0xd9: len = lenAt(b, pos, 1); pos += 1; break; // bin 8, str 8
        case 0xc5: case 0xda: len = lenAt(b, pos, 2); pos += 2; break; // bin 16, str 16
        case 0xc6: case 0xdb: len = lenAt(b, pos, 4); pos += 4; break; // bin 32, str 32
        case 0xc7: bad(`extension type ${extType(b, pos + 1)} (ext 8): no extension types are accepted`); break;
        case 0xc8: bad(`extension type ${extType(b, pos + 2)} (ext 16): no extension types are accepted`); break;
        case 0xc9: bad(`extension type ${extType(b, pos + 4)} (ext 32): no extension types are accepted`); break;
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
          bad(`extension type ${extType(b, pos)} (fixext ${1 << (t - 0xd4)}): no extension types are accepted`); break;
        case 0xca: len = 4; break; // float 32
        case 0xcb: len = 8; break; // float 64
        case 0xcc: case 0xd0: len = 1; break; // uint 8, int 8
        case 0xcd: case 0xd1: len = 2; break;
        case 0xce: case 0xd2: len = 4; break;
        case 0xcf: case 0xd3: len = 8; break;
        case 0xdc: count = lenAt(b, pos, 2); pos += 2; break; // array 16
        case 0xdd: count = lenAt(b, pos, 4); pos += 4; break; // array 32
        case 0xde: count = lenAt(b, pos, 2); pos += 2; map = true; break; // map 16
        case 0xdf: count = lenAt(b, pos, 4); pos += 4; map = true; break; // map 32
        default: bad(`unknown byte 0x${t.toString(16)}`);
      }
    }
    if (len >= 0) {
      if (len > end - pos) bad(`a value declares ${len} bytes, ${end - pos} remain`);
      // a key of the frame's map, in any str width: is it 'id'?
      if (key && depth === 1) idValue = len === 2 && b[pos] === 0x69 && b[pos + 1] === 0x64;
      pos += len;
      continue;
    }
    const items = map ? 2 * count : count;
    if (items > end - pos) bad(`${map ? 'a map' : 'an array'} declares ${count} entries, ${end - pos} bytes remain`);
    if (items === 0) continue;
    if (depth + 1 > lim.maxDepth) bad(`nested deeper than ${lim.maxDepth} levels`);
    depth++;
    left[depth] = items;
    isMap[depth] = map ? 1 : 0;
  }
}

/** A big-endian unsigned length of `bytes` bytes at pos (msgpack lengths are big-endian). */
function lenAt(b: Uint8Array, pos: number, bytes: number): number {
  if (pos + bytes > b.length) bad('truncated length');
  if (bytes === 1) return b[pos];
  if (bytes === 2) return (b[pos] << 8) | b[pos + 1];
  return b[pos] * 0x1000000 + ((b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]);
}
