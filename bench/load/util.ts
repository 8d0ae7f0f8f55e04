/** Small helpers: formatting, histograms, seeded vectors, per-thread CPU from /proc. (bench/load/, docs/LOAD.md) */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { mulberry32 } from '../seeded.js';
// ---------------------------------------------------------------------------------------------
// Small helpers

export const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const int = (x: number) => Math.round(x).toLocaleString('en-US');
export const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
export const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

export function newHist(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Uniform in (0, 1), never 0: mulberry32's uint32 (bench/seeded.ts) + ½, over 2³². */
export function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => (next() + 0.5) / 4294967296;
}

/** Gaussian vector of norm ≈ 1. */
export function gaussian(D: number, u: () => number): Float32Array {
  const x = new Float32Array(D);
  const s = 1 / Math.sqrt(D);
  for (let i = 0; i < D; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), t = 2 * Math.PI * u();
    x[i] = r * Math.cos(t) * s;
    if (i + 1 < D) x[i + 1] = r * Math.sin(t) * s;
  }
  return x;
}

export let CLK_TCK = 100;
try {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  if (r.status === 0 && Number(r.stdout) > 0) CLK_TCK = Number(r.stdout);
} catch { /* Linux default */ }

export interface ThreadCpu { tid: number; name: string; seconds: number }

/** CPU seconds per thread of a process (Linux /proc), or undefined elsewhere. */
export function threadCpu(pid: number): ThreadCpu[] | undefined {
  try {
    return readdirSync(`/proc/${pid}/task`).map((t) => {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      return { tid: Number(t), name, seconds: (Number(f[11]) + Number(f[12])) / CLK_TCK };
    });
  } catch {
    return undefined;
  }
}

/** Busy fraction of a core per thread over an interval: main thread first, then the busiest. */
export function threadBusy(pid: number, before: ThreadCpu[] | undefined, after: ThreadCpu[] | undefined, wallS: number) {
  if (!before || !after || wallS <= 0) return undefined;
  const b = new Map(before.map((t) => [t.tid, t.seconds]));
  const rows = after.map((t) => ({ tid: t.tid, name: t.name, busy: (t.seconds - (b.get(t.tid) ?? 0)) / wallS }));
  const main = rows.find((r) => r.tid === pid)?.busy ?? 0;
  const others = rows.filter((r) => r.tid !== pid && r.busy >= 0.02).sort((x, y) => y.busy - x.busy).slice(0, 6);
  const total = rows.reduce((s, r) => s + r.busy, 0);
  return { main, total, others: others.map((o) => ({ name: o.name, busy: o.busy })) };
}
