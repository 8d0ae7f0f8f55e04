/**
 * role-cache-corruption (SEED §12): first verify EVERY role in the shared table and in the role
 * file bit for bit against a fresh computation and count the corrupt ones; then purge the table
 * and the file, recompute the prewarm roles, save the file, and check the invariants again
 * (every role equals a fresh computation, so roles are deterministic; every spectrum has
 * modulus 1 within 1e-5, so roles are unitary; the file read back matches). pass = the
 * invariants hold after the rebuild. `inject: true` first flips one bit of one role in the
 * table and one in the file (checksum recomputed: a silent corruption), so the drill can be
 * seen to find both.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { removeRoleFile, saveRoleFile } from '../../roles/file.js';
import type { Drill, DrillDeps } from './drill.js';

interface FileRole { token: string; data: Float32Array; offset: number }

/** The roles in a role file (format: src/roles/file.ts), read without trusting its checksum. */
function readRoles(path: string): { roles: FileRole[]; checksumOk: boolean; problem?: string } {
  if (!existsSync(path)) return { roles: [], checksumOk: false, problem: 'no file' };
  const buf = readFileSync(path);
  const body = buf.subarray(0, buf.length - 32);
  const checksumOk = createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32));
  let o = 8;
  const u32 = () => { const v = body.readUInt32LE(o); o += 4; return v; };
  const str = () => { const n = u32(); const s = body.toString('utf8', o, o + n); o += n; return s; };
  try {
    u32(); const D = u32(); u32(); str(); const count = u32();
    const roles: FileRole[] = [];
    for (let i = 0; i < count; i++) {
      const token = str();
      const bytes = body.subarray(o, o + 8 * D);
      if (bytes.length !== 8 * D) throw new Error('truncated');
      roles.push({ token, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), offset: o });
      o += 8 * D;
    }
    return { roles, checksumOk };
  } catch (e) {
    return { roles: [], checksumOk, problem: (e as Error).message };
  }
}

/** Checks items across the workers; the corrupt tokens and the worst unitary deviation. */
async function check(d: DrillDeps, items: { token: string; slot?: number; data?: Float32Array }[]): Promise<{ bad: string[]; maxUnitaryDeviation: number }> {
  const parts = Array.from({ length: d.pool.size }, (_, w) => items.filter((_, i) => i % d.pool.size === w));
  const rs = await Promise.all(parts.map((p, w) => (p.length ? d.pool.run<{ bad: string[]; maxUnitaryDeviation: number }>(w, { type: 'roles.check', items: p }) : { bad: [], maxUnitaryDeviation: 0 })));
  return { bad: rs.flatMap((r) => r.bad), maxUnitaryDeviation: Math.max(0, ...rs.map((r) => r.maxUnitaryDeviation)) };
}

async function verify(d: DrillDeps): Promise<Record<string, unknown> & { memoryBad: string[]; fileBad: string[]; maxUnitaryDeviation: number }> {
  const entries = [...d.roles.readyEntries()];
  const refs = d.roles.acquire(entries.map((e) => e.token)); // pinned while checked
  try {
    const mem = await check(d, refs.filter((r) => !r.compute).map((r) => ({ token: r.token, slot: r.slot })));
    const f = d.cfg.roleFile ? readRoles(d.cfg.roleFile) : { roles: [], checksumOk: false, problem: 'roleFile disabled' };
    const file = await check(d, f.roles.map((r) => ({ token: r.token, data: r.data })));
    return {
      memoryChecked: refs.length, memoryBad: mem.bad, fileChecked: f.roles.length, fileBad: file.bad,
      fileChecksumOk: f.checksumOk, fileProblem: f.problem, maxUnitaryDeviation: Math.max(mem.maxUnitaryDeviation, file.maxUnitaryDeviation),
    };
  } finally {
    d.roles.release(refs);
  }
}

/** Flips bit 0 of one float of the first role in the table and of the last role in the file. */
function inject(d: DrillDeps): { memory?: string; file?: string } {
  const out: { memory?: string; file?: string } = {};
  const first = d.roles.readyEntries().next();
  if (!first.done) {
    const bits = new Uint32Array(d.roles.view.data.buffer, d.roles.view.data.byteOffset + first.value.slot * 2 * d.roles.view.D * 4, 2 * d.roles.view.D);
    bits[3] ^= 1;
    out.memory = first.value.token;
  }
  if (d.cfg.roleFile) {
    const f = readRoles(d.cfg.roleFile);
    const last = f.roles.at(-1);
    if (last) {
      const buf = readFileSync(d.cfg.roleFile);
      buf[last.offset + 4 * d.roles.view.D + 8] ^= 1; // a bit of the vector half
      const body = buf.subarray(0, buf.length - 32);
      createHash('sha256').update(body).digest().copy(buf, buf.length - 32);
      writeFileSync(d.cfg.roleFile, buf);
      out.file = last.token;
    }
  }
  return out;
}

export const roleCacheCorruption: Drill = async (d, params) => {
  const injected = params.inject === true ? inject(d) : undefined;
  const before = await verify(d);
  const purged = d.roles.purge();
  if (d.cfg.roleFile) removeRoleFile(d.cfg.roleFile);
  const computed = await d.prewarm();
  if (d.cfg.roleFile) saveRoleFile(d.cfg.roleFile, d.roles, d.meta);
  const after = await verify(d);
  const deterministic = after.memoryBad.length === 0 && after.fileBad.length === 0;
  const unitary = after.maxUnitaryDeviation <= 1e-5;
  return {
    scenario: 'role-cache-corruption',
    pass: deterministic && unitary && (!d.cfg.roleFile || after.fileChecksumOk === true),
    injected,
    corrupt: { memory: before.memoryBad.length, file: before.fileBad.length, memoryTokens: before.memoryBad.slice(0, 16), fileTokens: before.fileBad.slice(0, 16) },
    checked: { memory: before.memoryChecked, file: before.fileChecked, fileChecksumOk: before.fileChecksumOk },
    purged, computed,
    invariants: { deterministic, unitary, maxUnitaryDeviation: after.maxUnitaryDeviation, memoryChecked: after.memoryChecked, fileChecked: after.fileChecked },
  };
};
