/** The server under load: spawned from dist/src/main.js, or given by --url; /metrics scrapes. (bench/load/, docs/LOAD.md) */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// ---------------------------------------------------------------------------------------------
// The server: spawned, or given by --url

export interface Target {
  url: string;
  http: string;
  pid?: number;
  spawned: boolean;
  readyLine?: string;
  stop(): Promise<void>;
}

export async function spawnServer(dim: number): Promise<Target> {
  const entry = join(ROOT, 'dist/src/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} not found: run npm run build (npm run load does)`);
  const dir = mkdtempSync(join(tmpdir(), 'holoserve-load-'));
  const proc: ChildProcess = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json', HOLOSERVE_DATA_DIR: dir,
      HOLOSERVE_ROLE_FILE: join(dir, 'roles.bin'), HOLOSERVE_DIM: String(dim),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const killOnExit = () => { if (proc.exitCode === null) proc.kill('SIGTERM'); };
  process.once('exit', killOnExit);
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /ready on ws:\/\/[^:]+:(\d+)\/v1/.exec(out);
      if (m) { clearTimeout(t); proc.stdout!.off('data', check); res(Number(m[1])); }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => { clearTimeout(t); rej(new Error(`server exited with ${code} before ready:\n${out}`)); });
  });
  const readyLine = /"msg":"(ready on [^"]*)"/.exec(out)?.[1];
  let stopping: Promise<void> | undefined;
  return {
    url: `ws://127.0.0.1:${port}/v1`, http: `http://127.0.0.1:${port}`, pid: proc.pid, spawned: true, readyLine,
    stop: () => (stopping ??= (async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); }, 15_000);
      await exited;
      clearTimeout(t);
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    })()),
  };
}

export type Scrape = Map<string, number>;

export async function scrape(http: string): Promise<Scrape | undefined> {
  try {
    const res = await fetch(`${http}/metrics`);
    if (!res.ok) return undefined;
    const m: Scrape = new Map();
    for (const line of (await res.text()).split('\n')) {
      if (line === '' || line[0] === '#') continue;
      const sp = line.lastIndexOf(' ');
      m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
    return m;
  } catch {
    return undefined;
  }
}

export const delta = (a: Scrape, b: Scrape, k: string) => (a.get(k) ?? 0) - (b.get(k) ?? 0);

/**
 * Upper bounds of percentiles of a Prometheus histogram over an interval, from its bucket
 * deltas: {p50: '≤ 2.5 ms', ...}. `label` picks the series, e.g. 'op="bind"'.
 */
export function bucketBounds(after: Scrape, before: Scrape, metric: string, label: string, ps = [50, 90, 99]): Record<string, number> | undefined {
  const rows: [number, number][] = [];
  for (const k of after.keys()) {
    if (!k.startsWith(`${metric}_bucket{`) || !k.includes(label)) continue;
    const le = /le="([^"]+)"/.exec(k)?.[1];
    if (le === undefined) continue;
    rows.push([le === '+Inf' ? Infinity : Number(le), delta(after, before, k)]);
  }
  rows.sort((x, y) => x[0] - y[0]);
  const total = rows.length ? rows[rows.length - 1][1] : 0;
  if (total <= 0) return undefined;
  const out: Record<string, number> = {};
  for (const p of ps) out[`p${p}`] = 1000 * (rows.find(([, c]) => c >= (p / 100) * total)?.[0] ?? Infinity);
  return out;
}
