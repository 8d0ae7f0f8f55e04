/**
 * A hot tenant's exact scan split over a helper thread (setting recallSplitThreads = 1), over the
 * real server, D = 1024, 2,100 items (a slab of 8.4 MiB, past the 8 MiB split threshold), while a
 * writer hammers the same tenant with overwrites. The split is visible in `candidates`
 * ((1 + helpers)·(k + 8) rescored). Every hit of every recall must be a vector that was written
 * under that key (its score equals the cosine of the query to one of the key's written versions,
 * within 1e-6), never a torn mixture of two versions. By construction the worker (the tenant's
 * only writer) waits for its helper inside the recall, so no write overlaps a split scan; this
 * test checks that end to end, with writes queued behind every recall.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { startServer, type Server } from './harness.js';
import { seededVec } from './support.js';

const D = 1024, N = 2100, HOT = 64, VERSIONS = 4;
const unit = (v: Float32Array) => { let s = 0; for (const x of v) s += x * x; const k = 1 / Math.sqrt(s); return Float64Array.from(v, (x) => x * k); };
const dot = (a: Float64Array, b: Float64Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
/** Version v of key i (v = 0: the original fill). */
const version = (i: number, v: number) => seededVec(100_000 * v + i, D);

describe('split exact scan under a hammering writer (recallSplitThreads = 1)', () => {
  let srv: Server;
  let c: HoloClient, w: HoloClient;

  beforeAll(async () => {
    srv = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '1', HOLOSERVE_RECALL_SPLIT_THREADS: '1', HOLOSERVE_RECALL_CACHE_TTL_MS: '0' });
    [c, w] = await Promise.all([connect(srv.url), connect(srv.url)]);
    for (let s = 0; s < N; s += 200) {
      const puts: Promise<unknown>[] = [];
      for (let i = s; i < Math.min(N, s + 200); i++) puts.push(c.remember('hot', `k${i}`, version(i, 0)));
      await Promise.all(puts);
    }
  }, 120_000);
  afterAll(async () => {
    c?.close();
    w?.close();
    await srv?.stop();
  });

  it('every hit is a written version of its key (no torn vectors); the split ran', async () => {
    const units = new Map<string, Float64Array[]>();
    for (let i = 0; i < N; i++) units.set(`k${i}`, Array.from({ length: i < HOT ? VERSIONS : 1 }, (_, v) => unit(version(i, v))));
    let writing = true, writes = 0;
    const writer = (async () => {
      for (let n = 0; writing; n++) {
        const i = n % HOT, v = 1 + (Math.floor(n / HOT) % (VERSIONS - 1));
        await w.remember('hot', `k${i}`, version(i, v));
        writes++;
      }
    })();
    let recalls = 0, split = 0;
    const deadline = Date.now() + 6000;
    while (Date.now() < deadline || recalls < 20) {
      const i = recalls % HOT, v = recalls % VERSIONS;
      const q = version(i, v), qu = unit(q);
      const r = await c.recall('hot', q, 10, { mode: 'exact' });
      if (r.candidates === 2 * 18) split++;
      for (const h of r.hits) {
        const ok = units.get(h.key)!.some((u) => Math.abs(dot(qu, u) - h.score) < 1e-6);
        if (!ok) throw new Error(`recall ${recalls}: hit ${h.key} score ${h.score} matches no written version of it`);
      }
      recalls++;
    }
    writing = false;
    await writer;
    expect(split).toBe(recalls);
    expect(writes).toBeGreaterThan(20);
    console.log(`split scan under a writer: ${recalls} recalls, ${writes} overwrites, every hit a written version`);
  }, 60_000);
});
