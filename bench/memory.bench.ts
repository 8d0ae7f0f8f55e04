/**
 * Tenant memory at D = 8192: exact recall scans at 1k, 4k and 16k items, a remember (which
 * scans once for novelty), and the cost of durability: one LMDB commit of 1 and of 64 items
 * (what a batch of remembers pays once), against the same writes without commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalize } from '../src/kernels/hrr/cosine.js';
import { TenantMemory } from '../src/memory/tenant.js';
import { openLmdbStore } from '../src/store/lmdb.js';
import type { ItemRecord } from '../src/store/store.js';
import { measure, type Row } from './timing.js';

const D = 8192;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
}

function vector(r: () => number): Float32Array {
  const v = new Float32Array(D);
  for (let i = 0; i < D; i++) v[i] = r();
  return v;
}

async function timeAsync(name: string, size: string, f: () => Promise<void>, reps: number): Promise<Row> {
  for (let i = 0; i < 3; i++) await f();
  const s: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    s.push((performance.now() - t0) * 1000);
  }
  s.sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { name, size, medianUs: q(0.5), p10Us: q(0.1), p90Us: q(0.9) };
}

export async function runMemoryBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const r = rng(42);
  for (const n of [1024, 4096, 16384]) {
    // Filled with load() (as a restart does): n remembers would each scan for novelty, O(n²).
    const m = new TenantMemory({ D, capacity: n, highWater: 1, lowWater: 0.99 });
    m.load(Array.from({ length: n }, (_, i) => ({ key: `k${i}`, vector: normalize(vector(r)), salience: 0.5, reward: 0, createdMs: i, lastAccessMs: i })), n);
    const q = vector(r);
    const row = measure('recall top-10 (exact scan)', `D=8192, ${n} items`, () => { m.recall(q, 10, n); }, { warmup: 2, reps: 15, budgetMs: 3000 });
    row.extra = { ns_per_mac: (row.medianUs * 1000) / (n * D), GB_per_s: (n * D * 4) / (row.medianUs * 1000) };
    rows.push(row);
  }
  const dir = mkdtempSync(join(tmpdir(), 'holoserve-bench-'));
  const store = openLmdbStore(dir);
  try {
    const rec = (i: number): ItemRecord => ({ key: `k${i}`, vector: vector(r), salience: 0.5, reward: 0, createdMs: i, lastAccessMs: i });
    let i = 0;
    rows.push(await timeAsync('store commit', '1 item', () => store.commit([{ kind: 'item.put', tenant: 't', item: rec(i++) }]), 30));
    rows.push(await timeAsync('store commit', '64 items', () => store.commit(Array.from({ length: 64 }, () => ({ kind: 'item.put' as const, tenant: 't', item: rec(i++) }))), 15));
    const m = new TenantMemory({ D, capacity: 1024 });
    let j = 0;
    const memOnly = measure('remember, in memory only', 'D=8192, ≤1k items', () => { m.remember(`m${j++ % 900}`, vector(r), { nowMs: j }); }, { warmup: 20, reps: 100 });
    rows.push(memOnly);
    rows.push(await timeAsync('remember + commit (durable, batch of 1)', 'D=8192', async () => {
      const k = `m${j++ % 900}`;
      m.remember(k, vector(r), { nowMs: j });
      await store.commit([{ kind: 'item.put', tenant: 'u', item: m.get(k)! }]);
    }, 30));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
