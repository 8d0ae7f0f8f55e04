/**
 * Recall served (issue #10), the compiled server with 2 workers, D = 8192, 4096 items in each of
 * two tenants that live on different workers (written into the store before start, so the fill
 * costs nothing here): recalls/s of one hot tenant, pipelined (32 in flight), exact vs binary;
 * and recall.many of 32 queries spread over both tenants against the same 32 recalls sent one
 * after another. Rounds alternate A/B and each ratio is taken within its round.
 * Run: npm run build && node dist/bench/recall-served.js
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type HoloClient } from '../src/client/client.js';
import { normalize } from '../src/kernels/hrr/cosine.js';
import { shardOf } from '../src/pool/shard.js';
import { openLmdbStore } from '../src/store/lmdb.js';
import type { Write } from '../src/store/store.js';
import { centres, clusteredQuery, fillClustered } from './recall-data.js';

const D = 8192, N = 4096, SHARDS = 64, ROUNDS = 3;
const ROOT = new URL('../..', import.meta.url).pathname;

function tenantOn(w: number, prefix: string): string {
  for (let i = 0; ; i++) if (shardOf(`${prefix}${i}`, SHARDS) % 2 === w) return `${prefix}${i}`;
}

async function prefill(dir: string, tenants: string[]): Promise<Float32Array> {
  const C = centres(256, D, 7);
  const rows = new Float32Array(N * D);
  fillClustered(rows, N, D, C, 11);
  const store = openLmdbStore(dir);
  for (const t of tenants) {
    for (let s = 0; s < N; s += 256) {
      const w: Write[] = [];
      for (let i = s; i < s + 256; i++) {
        w.push({ kind: 'item.put', tenant: t, item: { key: `k${i}`, vector: normalize(rows.subarray(i * D, (i + 1) * D)), salience: 0.5, reward: 0, createdMs: i, lastAccessMs: i, novelty: 1 } });
      }
      await store.commit(w);
    }
  }
  await store.close();
  return C;
}

async function start(dir: string): Promise<{ url: string; stop: () => void }> {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', HOLOSERVE_DATA_DIR: dir, HOLOSERVE_ROLE_FILE: '', HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_SHARDS: String(SHARDS), HOLOSERVE_MEMORY_CAPACITY: '8192', HOLOSERVE_RECALL_CACHE_TTL_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const on = (d: Buffer) => { out += d.toString(); const m = /ready on ws:\/\/[^:]+:(\d+)\/v1/.exec(out); if (m) resolve(Number(m[1])); };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
  return { url: `ws://127.0.0.1:${port}/v1`, stop: () => proc.kill('SIGTERM') };
}

async function rate(c: HoloClient, tenant: string, queries: Float32Array[], mode: 'exact' | 'binary'): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => { while (next < queries.length) await c.recall(tenant, queries[next++], 10, { mode }); }));
  return queries.length / ((performance.now() - t0) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), 'holoserve-recall-served-'));
const hot = tenantOn(0, 'hot'), other = tenantOn(1, 'other');
try {
  const C = await prefill(dir, [hot, other]);
  const srv = await start(dir);
  const c = await connect(srv.url);
  try {
    const qs = (seed: number, n: number) => Array.from({ length: n }, (_, i) => clusteredQuery(C, (seed + i * 37) % 256, D, seed * 1000 + i));
    await c.recall(hot, qs(1, 1)[0]);
    await c.recall(other, qs(2, 1)[0]); // both tenants loaded
    const rows: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const ex = await rate(c, hot, qs(10 + r, 60), 'exact');
      const bi = await rate(c, hot, qs(20 + r, 600), 'binary');
      rows.push(`round ${r}: hot tenant recalls/s exact ${ex.toFixed(0)}, binary ${bi.toFixed(0)} (${(bi / ex).toFixed(1)}×)`);
      for (const mode of ['exact', 'binary'] as const) {
        const q = qs(30 + r, 32);
        const parts = q.map((v, i) => ({ tenant: i % 2 ? other : hot, query: v }));
        let t0 = performance.now();
        for (const p of parts) await c.recall(p.tenant, p.query, 10, { mode });
        const serial = performance.now() - t0;
        t0 = performance.now();
        await c.recallMany(parts, { k: 10, mode });
        const many = performance.now() - t0;
        rows.push(`round ${r}: 32 recalls over 2 workers (${mode}): one by one ${serial.toFixed(1)} ms, recall.many ${many.toFixed(1)} ms, speed-up ${(serial / many).toFixed(2)}×`);
      }
    }
    for (const l of rows) console.log(l);
  } finally {
    c.close();
    srv.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
