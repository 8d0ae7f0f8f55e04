/**
 * The binary record layout of items and anchors, shared by every Store (lmdb.ts, redis.ts):
 * one place that says how a record becomes bytes. Little-endian; the vector's bytes are copied
 * verbatim, so a record reloads bit-exactly (NaN payloads, -0 and subnormals included).
 *
 *   item     u8 format=1 | u8 flags (1: payload, 2: novelty, 4: source) | u16 0 | u32 D
 *            | f64 salience | f64 reward | f64 createdMs | f64 lastAccessMs | f64 novelty
 *            | D × f32 vector (offset 48) | [source: u32 n | n bytes JSON] | payload bytes (rest)
 *   anchor   u8 format=1 | u8 flags (4: source) | 2 × u8 0 | u32 D | f64 lastMatchedMs
 *            | D × f32 vector (offset 16) | [source: u32 n | n bytes JSON]
 *
 * The source (store.ts ItemSource: the text or the record an item was made from, so it can be
 * rebuilt at another D) is JSON; records written before it existed have no flag 4.
 *
 * Encoding validates (bad_request); decoding a record of an unknown format is `internal`.
 */
import { HoloError } from '../errors.js';
import { checkName, MAX_NAME_BYTES, MAX_TENANT_BYTES, type AnchorRecord, type ItemRecord, type ItemSource, type Write } from './store.js';

const FORMAT = 1;
const ITEM_HEADER = 48;
const ANCHOR_HEADER = 16;
const FLAG_PAYLOAD = 1;
const FLAG_NOVELTY = 2;
const FLAG_SOURCE = 4;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Validates one write's names and numbers (the record fields are checked when encoded). */
export function checkWrite(w: Write): void {
  checkName('tenant', w.tenant, MAX_TENANT_BYTES);
  switch (w.kind) {
    case 'item.put': checkName('item key', w.item.key, MAX_NAME_BYTES); return;
    case 'item.delete': checkName('item key', w.key, MAX_NAME_BYTES); return;
    case 'anchor.put': checkName('anchor name', w.anchor.name, MAX_NAME_BYTES); return;
    case 'anchor.delete': checkName('anchor name', w.name, MAX_NAME_BYTES); return;
    case 'tenant.touch': checkNumber('atMs', w.atMs); return;
    default: throw new HoloError('bad_request', `unknown write kind ${(w as { kind: unknown }).kind}`);
  }
}

export function checkNumber(what: string, x: unknown): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new HoloError('bad_request', `${what} must be a finite number`);
}

export function encodeItem(r: ItemRecord): Buffer {
  if (!(r.vector instanceof Float32Array)) throw new HoloError('bad_request', 'item.vector must be a Float32Array');
  if (r.payload !== undefined && !(r.payload instanceof Uint8Array)) throw new HoloError('bad_request', 'item.payload must be a Uint8Array');
  checkNumber('item.salience', r.salience);
  checkNumber('item.reward', r.reward);
  checkNumber('item.createdMs', r.createdMs);
  checkNumber('item.lastAccessMs', r.lastAccessMs);
  if (r.novelty !== undefined) checkNumber('item.novelty', r.novelty);
  const D = r.vector.length;
  const pLen = r.payload?.length ?? 0;
  const src = encodeSource(r.source);
  const b = Buffer.alloc(ITEM_HEADER + 4 * D + src.length + pLen);
  b[0] = FORMAT;
  b[1] = (r.payload !== undefined ? FLAG_PAYLOAD : 0) | (r.novelty !== undefined ? FLAG_NOVELTY : 0) | (r.source !== undefined ? FLAG_SOURCE : 0);
  b.writeUInt32LE(D, 4);
  b.writeDoubleLE(r.salience, 8);
  b.writeDoubleLE(r.reward, 16);
  b.writeDoubleLE(r.createdMs, 24);
  b.writeDoubleLE(r.lastAccessMs, 32);
  b.writeDoubleLE(r.novelty ?? 0, 40);
  writeVector(b, ITEM_HEADER, r.vector);
  src.copy(b, ITEM_HEADER + 4 * D);
  if (r.payload !== undefined) b.set(r.payload, ITEM_HEADER + 4 * D + src.length);
  return b;
}

export function decodeItem(key: string, b: Buffer): ItemRecord {
  if (b.length < ITEM_HEADER || b[0] !== FORMAT) throw new HoloError('internal', `item ${JSON.stringify(key)}: unknown record format`);
  const D = b.readUInt32LE(4);
  const flags = b[1];
  let pStart = ITEM_HEADER + 4 * D;
  if (b.length < pStart) throw new HoloError('internal', `item ${JSON.stringify(key)}: record truncated`);
  let source: ItemSource | undefined;
  if (flags & FLAG_SOURCE) ({ source, end: pStart } = decodeSource(`item ${JSON.stringify(key)}`, b, pStart));
  const r: ItemRecord = {
    key,
    vector: readVector(b, ITEM_HEADER, D),
    salience: b.readDoubleLE(8),
    reward: b.readDoubleLE(16),
    createdMs: b.readDoubleLE(24),
    lastAccessMs: b.readDoubleLE(32),
  };
  if (flags & FLAG_NOVELTY) r.novelty = b.readDoubleLE(40);
  if (source !== undefined) r.source = source;
  // Copy: lmdb may hand out a buffer it reuses.
  if (flags & FLAG_PAYLOAD) r.payload = new Uint8Array(b.subarray(pStart));
  return r;
}

export function encodeAnchor(a: AnchorRecord): Buffer {
  if (!(a.vector instanceof Float32Array)) throw new HoloError('bad_request', 'anchor.vector must be a Float32Array');
  checkNumber('anchor.lastMatchedMs', a.lastMatchedMs);
  const D = a.vector.length;
  const src = encodeSource(a.source);
  const b = Buffer.alloc(ANCHOR_HEADER + 4 * D + src.length);
  b[0] = FORMAT;
  b[1] = a.source !== undefined ? FLAG_SOURCE : 0;
  b.writeUInt32LE(D, 4);
  b.writeDoubleLE(a.lastMatchedMs, 8);
  writeVector(b, ANCHOR_HEADER, a.vector);
  src.copy(b, ANCHOR_HEADER + 4 * D);
  return b;
}

export function decodeAnchor(name: string, b: Buffer): AnchorRecord {
  if (b.length < ANCHOR_HEADER || b[0] !== FORMAT) throw new HoloError('internal', `anchor ${JSON.stringify(name)}: unknown record format`);
  const D = b.readUInt32LE(4);
  const what = `anchor ${JSON.stringify(name)}`;
  const end = ANCHOR_HEADER + 4 * D;
  if (b.length < end) throw new HoloError('internal', `${what}: record truncated`);
  const a: AnchorRecord = { name, vector: readVector(b, ANCHOR_HEADER, D), lastMatchedMs: b.readDoubleLE(8) };
  if (b[1] & FLAG_SOURCE) {
    const s = decodeSource(what, b, end);
    if (s.end !== b.length) throw new HoloError('internal', `${what}: record has trailing bytes`);
    a.source = s.source;
  } else if (b.length !== end) {
    throw new HoloError('internal', `${what}: record truncated`);
  }
  return a;
}

/** u32 n | n bytes of JSON, or nothing when there is no source. */
function encodeSource(s: ItemSource | undefined): Buffer {
  if (s === undefined) return Buffer.alloc(0);
  const ok = typeof s === 'object' && s !== null && (typeof (s as { text?: unknown }).text === 'string' || (typeof (s as { record?: unknown }).record === 'object' && (s as { record?: unknown }).record !== null));
  if (!ok) throw new HoloError('bad_request', 'source must be {text} or {record}');
  const j = Buffer.from(JSON.stringify(s), 'utf8');
  const b = Buffer.allocUnsafe(4 + j.length);
  b.writeUInt32LE(j.length, 0);
  j.copy(b, 4);
  return b;
}

function decodeSource(what: string, b: Buffer, at: number): { source: ItemSource; end: number } {
  if (b.length < at + 4) throw new HoloError('internal', `${what}: source truncated`);
  const n = b.readUInt32LE(at);
  if (b.length < at + 4 + n) throw new HoloError('internal', `${what}: source truncated`);
  return { source: JSON.parse(b.toString('utf8', at + 4, at + 4 + n)) as ItemSource, end: at + 4 + n };
}

/** Copies the float32 bit patterns little-endian (a byte copy on little-endian hosts). */
function writeVector(b: Buffer, at: number, v: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    b.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
  } else {
    const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
    for (let i = 0; i < v.length; i++) b.writeUInt32LE(bits[i], at + 4 * i);
  }
}

function readVector(b: Buffer, at: number, D: number): Float32Array {
  const v = new Float32Array(D);
  if (LITTLE_ENDIAN_HOST) {
    // A fresh, aligned copy: the stored bytes may sit at any offset of a shared buffer.
    new Uint8Array(v.buffer).set(b.subarray(at, at + 4 * D));
  } else {
    const bits = new Uint32Array(v.buffer);
    for (let i = 0; i < D; i++) bits[i] = b.readUInt32LE(at + 4 * i);
  }
  return v;
}
