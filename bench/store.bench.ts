/**
 * `node dist/bench/store.bench.js [rounds]`: durable commit latency, LMDB vs Redis, on the same
 * workload, interleaved (each round runs both stores, alternating which goes first, so the
 * machine's noise hits both alike). Redis is a real redis-server started here on loopback
 * with `appendonly yes`, `appendfsync always`, `noeviction` (bench/redis-server.ts), its
 * directory on the same filesystem as LMDB's (tmpdir).
 *
 * Workloads, D = 8192 (32 KiB vectors), what the server commits per memory batch:
 *   remember×1    one item.put + the tenant's touch
 *   remember×16   sixteen item.puts of one tenant + its touch
 *   load 256      loadTenant of a 256-item tenant (8 MiB)
 *   recall cold   what the first recall of that tenant on a new pod pays: loadTenant, build the
 *                 TenantMemory, scan top-10
 * and, store-independent, `recall warm`: the top-10 scan on the tenant already in memory.
 * Prints p50/p99 per store and workload, and the median over rounds of redis/lmdb p50 ratios;
 * writes bench/results/store.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalize } from '../src/kernels/hrr/cosine.js';
import { TenantMemory } from '../src/memory/tenant.js';
import { openLmdbStore } from '../src/store/lmdb.js';
import { openRedisStore } from '../src/store/redis.js';
import type { ItemRecord, Store, Write } from '../src/store/store.js';
import { startRedis } from './redis-server.js';
import { rng } from './seeded.js';

const D = 8192;
const rounds = Number(process.argv[2] ?? 10);
const PER_ROUND = 20;

function item(r: () => number, key: string): ItemRecord {
  return { key, vector: normalize(Float32Array.from({ length: D }, () => r() - 0.5)), salience: 1, reward: 0, createdMs: 1, lastAccessMs: 1 };
}

const q = (s: number[], p: number) => {
  const t = [...s].sort((a, b) => a - b);
  return t[Math.min(t.length - 1, Math.floor(p * t.length))];
};

async function main(): Promise<void> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'holoserve-bench-store-'));
  const stores: Record<string, Store> = {
    lmdb: openLmdbStore(dir),
    redis: await openRedisStore({ url: redis.url, prefix: 'bench:', allowEviction: false, allowWithoutFsync: false, waitReplicas: 0, waitTimeoutMs: 1000 }),
  };
  const r = rng(42);
  const pool = Array.from({ length: 64 }, (_, i) => item(r, `pool-${i}`));
  const query = pool[7].vector;
  let seq = 0;
  const workloads: Record<string, (s: Store) => Promise<void>> = {
    'remember×1': (s) => s.commit([{ kind: 'item.put', tenant: 'w1', item: { ...pool[seq % 64], key: `k${seq++}` } }, { kind: 'tenant.touch', tenant: 'w1', atMs: seq }]),
    'remember×16': (s) => s.commit([
      ...Array.from({ length: 16 }, (_, i): Write => ({ kind: 'item.put', tenant: 'w16', item: { ...pool[(seq + i) % 64], key: `k${seq++}` } })),
      { kind: 'tenant.touch', tenant: 'w16', atMs: seq },
    ]),
    'load 256': async (s) => { await s.loadTenant('cold'); },
    'recall cold': async (s) => {
      const m = new TenantMemory({ D, capacity: 4096 });
      m.load((await s.loadTenant('cold')).items, 2);
      m.recall(query, 10, 2);
    },
  };
  for (const s of Object.values(stores)) {
    await s.commit(Array.from({ length: 256 }, (_, i): Write => ({ kind: 'item.put', tenant: 'cold', item: { ...pool[i % 64], key: `c${i}` } })));
  }
  const samples: Record<string, Record<string, number[]>> = {};
  const ratios: Record<string, number[]> = {};
  for (const w of Object.keys(workloads)) {
    samples[w] = { lmdb: [], redis: [] };
    ratios[w] = [];
    for (const s of Object.values(stores)) for (let i = 0; i < 3; i++) await workloads[w](s); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    for (const [w, f] of Object.entries(workloads)) {
      const order = round % 2 === 0 ? ['lmdb', 'redis'] : ['redis', 'lmdb'];
      const p50: Record<string, number> = {};
      for (const name of order) {
        const mine: number[] = [];
        for (let i = 0; i < PER_ROUND; i++) {
          const t0 = performance.now();
          await f(stores[name]);
          mine.push((performance.now() - t0) * 1000);
        }
        samples[w][name].push(...mine);
        p50[name] = q(mine, 0.5);
      }
      ratios[w].push(p50.redis / p50.lmdb);
    }
  }
  const rows = Object.keys(workloads).map((w) => ({
    workload: w,
    lmdb_p50_us: q(samples[w].lmdb, 0.5), lmdb_p99_us: q(samples[w].lmdb, 0.99),
    redis_p50_us: q(samples[w].redis, 0.5), redis_p99_us: q(samples[w].redis, 0.99),
    redis_over_lmdb_p50: q(ratios[w], 0.5), samples: samples[w].lmdb.length,
  }));
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  console.log('workload       lmdb p50 µs  lmdb p99 µs  redis p50 µs  redis p99 µs  redis/lmdb (median of round p50 ratios)  n/store');
  for (const x of rows) {
    console.log(`${x.workload.padEnd(13)}  ${f(x.lmdb_p50_us).padStart(11)}  ${f(x.lmdb_p99_us).padStart(11)}  ${f(x.redis_p50_us).padStart(12)}  ${f(x.redis_p99_us).padStart(12)}  ${x.redis_over_lmdb_p50.toFixed(2).padStart(10)}×  ${x.samples}`);
  }
  const warm = new TenantMemory({ D, capacity: 4096 });
  warm.load((await stores.lmdb.loadTenant('cold')).items, 2);
  const w: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    warm.recall(query, 10, 2);
    w.push((performance.now() - t0) * 1000);
  }
  const warmRow = { workload: 'recall warm', p50_us: q(w, 0.5), p99_us: q(w, 0.99), samples: w.length };
  console.log(`recall warm (tenant in memory, either store): p50 ${f(warmRow.p50_us)} µs, p99 ${f(warmRow.p99_us)} µs, n=${w.length}`);
  await Promise.all(Object.values(stores).map((s) => s.close()));
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
  const out = new URL('./results/', new URL('../../bench/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(new URL('store.json', out), JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, D, rounds, perRound: PER_ROUND, rows, warm: warmRow }, null, 2) + '\n');
}

await main();
