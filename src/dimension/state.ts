/**
 * The rolling dimension increase's durable state (SEED §11; docs/MEMORY.md "Changing D"):
 * which D is served, from which store directory, and the other D being built (shadow) or kept
 * for rollback (switched). One small JSON file under dataDir, replaced atomically (write a
 * temporary file, fsync, rename, fsync the directory), read by the main thread and by every
 * shard worker at start, so a restart in any phase resumes that phase.
 *
 *   phase 'serving'   one D; no other
 *   phase 'shadow'    other = D′ being rebuilt in the background and dual-written; not served
 *   phase 'switched'  served = D′; other = the old D, dual-written, for rollback until finalize
 *
 * Store directories: the D served before any rollout keeps dataDir itself (dir ''); every
 * other D lives in dataDir/dim-<D>, an LMDB environment of its own.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isSupportedDim } from '../kernels/check.js';

export type Phase = 'serving' | 'shadow' | 'switched';

export interface DimStore {
  D: number;
  /** relative to dataDir; '' = dataDir itself */
  dir: string;
}

export interface DimensionState {
  phase: Phase;
  served: DimStore;
  other?: DimStore;
  /** ms since epoch the current phase began */
  sinceMs: number;
  /** the rollout's settings (controller.ts RolloutSettings), kept so a restart resumes with them */
  settings?: { share: number; chunkMs: number; maxDelta: number };
}

/** Where a tenant's rebuild goes on: items then anchors, in key order, after `after`. */
export interface Cursor {
  kind: 'item' | 'anchor';
  after?: string;
}

export const STATE_FILE = 'dimension.json';

export function storeDir(dataDir: string, s: DimStore): string {
  return s.dir === '' ? dataDir : join(dataDir, s.dir);
}

export function dirFor(D: number): string {
  return `dim-${D}`;
}

/** The state in dataDir, or 'serving' at the configured D when there is none. */
export function readDimensionState(dataDir: string, configuredD: number): DimensionState {
  const path = join(dataDir, STATE_FILE);
  if (!existsSync(path)) return { phase: 'serving', served: { D: configuredD, dir: '' }, sinceMs: 0 };
  const s = JSON.parse(readFileSync(path, 'utf8')) as DimensionState;
  const okStore = (x: DimStore | undefined) => x !== undefined && isSupportedDim(x.D) && typeof x.dir === 'string';
  if (!['serving', 'shadow', 'switched'].includes(s.phase) || !okStore(s.served) || (s.phase !== 'serving') !== okStore(s.other)) {
    throw new Error(`${path}: not a valid dimension state (delete it only if you know which D the data is at)`);
  }
  return s;
}

export function writeDimensionState(dataDir: string, s: DimensionState): void {
  const path = join(dataDir, STATE_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(s, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dataDir, 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}
