/**
 * The role table on disk, so a restart does not recompute roles.
 *
 *   "HOLOROLE" | version u32 | D u32 | seed u32 | layout (u32 length + UTF-8) | count u32 |
 *   count × [ token (u32 length + UTF-8) | spectrum D × f32 | vector D × f32 ] | SHA-256 (32 bytes)
 *
 * All integers little-endian; the SHA-256 covers every byte before it. Written to a temporary
 * file and renamed, so a crash mid-write leaves the old file. A file whose checksum, version,
 * D, seed or layout does not match is reported (the caller purges and rebuilds it: the seed's
 * "role cache corruption" drill).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RoleTable } from './table.js';

const MAGIC = Buffer.from('HOLOROLE');
const VERSION = 1;

export interface RoleFileMeta {
  D: number;
  seed: number;
  layout: string;
}

export function saveRoleFile(path: string, table: RoleTable, meta: RoleFileMeta): number {
  const parts: Buffer[] = [MAGIC];
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
  const str = (s: string) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([u32(b.length), b]); };
  const entries = [...table.readyEntries()];
  parts.push(u32(VERSION), u32(meta.D), u32(meta.seed), str(meta.layout), u32(entries.length));
  const D = table.view.D;
  for (const { token, slot } of entries) {
    parts.push(str(token));
    const f = table.view.data.subarray(slot * 2 * D, (slot + 1) * 2 * D);
    parts.push(Buffer.from(new Uint8Array(f.buffer, f.byteOffset, f.byteLength))); // copies out of the SAB
  }
  const body = Buffer.concat(parts);
  const sum = createHash('sha256').update(body).digest();
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([body, sum]));
  renameSync(tmp, path);
  return entries.length;
}

export type LoadOutcome = { loaded: number } | { loaded: 0; problem: string };

export interface RoleFileEntry {
  token: string;
  /** byte offset of its spectrum then vector (2D float32) in the file */
  offset: number;
}

export interface ParsedRoleFile {
  /** the SHA-256 at the end matches the bytes before it */
  checksumOk: boolean;
  header?: { version: number; D: number; seed: number; layout: string };
  entries: RoleFileEntry[];
  /** why the layout could not be read to its end ('not a role file', 'truncated') */
  problem?: string;
}

/** Reads a role file's layout (above) without trusting its checksum: the loader and the corruption drill. */
export function parseRoleFile(buf: Buffer): ParsedRoleFile {
  if (buf.length < MAGIC.length + 32) return { checksumOk: false, entries: [], problem: 'truncated' };
  const body = buf.subarray(0, buf.length - 32);
  const checksumOk = createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32));
  const entries: RoleFileEntry[] = [];
  let o = 0;
  const u32 = () => { if (o + 4 > body.length) throw new Error('truncated'); const v = body.readUInt32LE(o); o += 4; return v; };
  const str = () => { const n = u32(); if (o + n > body.length) throw new Error('truncated'); const s = body.toString('utf8', o, o + n); o += n; return s; };
  try {
    if (!body.subarray(0, MAGIC.length).equals(MAGIC)) return { checksumOk, entries, problem: 'not a role file' };
    o = MAGIC.length;
    const header = { version: u32(), D: u32(), seed: u32(), layout: str() };
    const count = u32(), bytes = 8 * header.D;
    for (let i = 0; i < count; i++) {
      const token = str();
      if (o + bytes > body.length) throw new Error('truncated');
      entries.push({ token, offset: o });
      o += bytes;
    }
    return { checksumOk, header, entries };
  } catch (e) {
    return { checksumOk, entries, problem: (e as Error).message };
  }
}

/** Fills the table from the file. Never throws for a bad file: it says what is wrong. */
export function loadRoleFile(path: string, table: RoleTable, meta: RoleFileMeta): LoadOutcome {
  if (!existsSync(path)) return { loaded: 0, problem: 'no file' };
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return { loaded: 0, problem: `unreadable: ${(e as Error).message}` };
  }
  if (buf.length < MAGIC.length + 32) return { loaded: 0, problem: 'truncated' };
  const f = parseRoleFile(buf);
  if (!f.checksumOk) return { loaded: 0, problem: 'checksum mismatch (corrupt file)' };
  const h = f.header; // absent: not a role file, or its header is cut short (f.problem says which)
  if (h && h.version !== VERSION) return { loaded: 0, problem: `version ${h.version}, expected ${VERSION}` };
  if (h && (h.D !== meta.D || h.seed !== meta.seed || h.layout !== meta.layout)) {
    return { loaded: 0, problem: `made for D=${h.D} seed=${h.seed} layout=${h.layout}, serving D=${meta.D} seed=${meta.seed} layout=${meta.layout}` };
  }
  if (f.problem !== undefined) return { loaded: 0, problem: f.problem };
  const floats = 2 * meta.D, view = table.view;
  let loaded = 0;
  for (const { token, offset } of f.entries) {
    if (loaded >= view.capacity) break;
    const slot = table.allocate(token);
    new Uint8Array(view.data.buffer, view.data.byteOffset + slot * floats * 4, floats * 4).set(buf.subarray(offset, offset + floats * 4));
    view.publish(slot);
    loaded++;
  }
  return { loaded };
}

export function removeRoleFile(path: string): void {
  rmSync(path, { force: true });
}
