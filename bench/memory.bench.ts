/**
 * Tenant memory at D = 8192 (the recall scans are in recall.bench.ts): remember into a full
 * 4k memory (novelty from the 1-bit index) against the exact novelty scan, filling 16k items by
 * remember, and the cost of durability: one LMDB commit of 1 and of 64 items
 * (what a batch of remembers pays once), against the same writes without commit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalize } from '../src/kernels/hrr/cosine.js';
import { topK } from '../src/memory/recall.js';
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
  // remember into a full 4k memory: novelty from the 1-bit index (2·16 candidates rescored),
  // against the exact scan the JS reference needs for the same number (topK, k = 1).
  {
    const n = 4096;
    const m = new TenantMemory({ D, capacity: 8192 });
    m.load(Array.from({ length: n }, (_, i) => ({ key: `k${i}`, vector: normalize(vector(r)), salience: 0.5, reward: 0, createdMs: i, lastAccessMs: i })), n);
    const slab = new Float32Array(n * D);
    let j = 0;
    for (const e of m.entries()) slab.set(e.vector, D * j++);
    const x = vector(r);
    const exact = measure('novelty by exact scan (JS reference topK, k = 1)', 'D=8192, 4096 items', () => { topK(slab, n, D, x, 1); }, { warmup: 2, reps: 10, budgetMs: 2000 });
    rows.push(exact);
    let w = 0;
    const row = measure('remember + forget, full memory (novelty by 1-bit index)', 'D=8192, 4096 items', () => {
      m.remember('new', vector(r), { nowMs: n + ++w });
      m.forget('new');
    }, { warmup: 5, reps: 50, budgetMs: 2000 });
    row.extra = { exact_novelty_over_remember: exact.medianUs / row.medianUs };
    rows.push(row);
  }
  // Filling 16,384 items through remember (each write's novelty from the index): once, timed whole.
  {
    const n = 16384;
    const m = new TenantMemory({ D, capacity: n, highWater: 1, lowWater: 0.99 });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) m.remember(`f${i}`, vector(r), { nowMs: i });
    const s = (performance.now() - t0) / 1000;
    rows.push({ name: 'fill by remember (one run, seconds in notes)', size: `D=8192, ${n} items`, medianUs: (s * 1e6) / n, p10Us: NaN, p90Us: NaN, extra: { total_s: s } });
    m.dispose();
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
