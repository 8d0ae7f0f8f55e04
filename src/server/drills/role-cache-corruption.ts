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
import { parseRoleFile, removeRoleFile, saveRoleFile } from '../../roles/file.js';
import type { Drill, DrillDeps } from './drill.js';

/** The roles in a role file, read without trusting its checksum (roles/file.ts parseRoleFile). */
function readRoles(path: string): { roles: { token: string; data: Float32Array }[]; checksumOk: boolean; problem?: string } {
  if (!existsSync(path)) return { roles: [], checksumOk: false, problem: 'no file' };
  const buf = readFileSync(path);
  const f = parseRoleFile(buf);
  const bytes = 8 * (f.header?.D ?? 0);
  const roles = f.entries.map((e) => ({ token: e.token, data: new Float32Array(buf.buffer.slice(buf.byteOffset + e.offset, buf.byteOffset + e.offset + bytes)) }));
  return { roles, checksumOk: f.checksumOk, problem: f.problem };
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
    const buf = readFileSync(d.cfg.roleFile);
    const last = parseRoleFile(buf).entries.at(-1);
    if (last) {
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
