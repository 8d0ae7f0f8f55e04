/**
 * The recall-latency-spike drill (SEED §12) against a real server: one tenant is made hot (a big
 * memory, recalled from many loops at once, while three small tenants on other shards see a
 * trickle); the drill, run during that load, turns the rerank off and must name the hot
 * tenant's shard (computed here with the same jump hash), and only it, and list the hot tenant
 * first by items and by recall time. Its per-shard counts are checked against /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { shardOf } from '../../src/pool/shard.js';
import { startServer, type Server } from './harness.js';
import { metric, scrape, seededVec } from './support.js';

const D = 1024;
const SHARDS = 16;

let srv: Server;
let client: HoloClient;

beforeAll(async () => {
  srv = await startServer({
    HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_SHARDS: String(SHARDS), HOLOSERVE_ADMIN_OPS: '1',
    HOLOSERVE_RERANK: '1', HOLOSERVE_RECALL_CACHE_TTL_MS: '0',
  });
  client = await connect(srv.url);
});

afterAll(async () => {
  client?.close();
  await srv?.stop();
});

describe('drill recall-latency-spike', () => {
  it('names the hot tenant\'s shard, lists the tenant first, turns the rerank off', async () => {
    const hot = 'spike-hot';
    const hotShard = shardOf(hot, SHARDS);
    const cold: string[] = [];
    for (let i = 0; cold.length < 3; i++) {
      const t = `spike-cold-${i}`;
      const s = shardOf(t, SHARDS);
      if (s !== hotShard && !cold.some((c) => shardOf(c, SHARDS) === s)) cold.push(t);
    }
    const unit = (seed: number) => {
      const v = seededVec(seed, D);
      let n = 0;
      for (const x of v) n += x * x;
      return v.map((x) => x / Math.sqrt(n));
    };
    for (let k = 0; k < 600; k += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => client.remember(hot, `h${k + j}`, unit(k + j))));
    for (const c of cold) await Promise.all(Array.from({ length: 20 }, (_, j) => client.remember(c, `c${j}`, unit(10_000 + j))));
    expect((await client.request('knobs')).knobs).toMatchObject({ rerank: true });

    const before = await scrape(srv.http);
    let stop = false;
    let sentHot = 0;
    const loops = [
      ...Array.from({ length: 8 }, async (_, l) => { for (let i = 0; !stop; i++) { await client.recall(hot, unit(50_000 + l * 1000 + (i % 1000)), 5); sentHot++; } }),
      (async () => { for (let i = 0; !stop; i++) { await client.recall(cold[i % 3], unit(90_000 + i), 5); await new Promise((r) => setTimeout(r, 20)); } })(),
    ];
    await new Promise((r) => setTimeout(r, 200)); // the spike is on
    const r = await client.request('drill', { scenario: 'recall-latency-spike', windowMs: 1500 });
    stop = true;
    await Promise.all(loops);
    const after = await scrape(srv.http);
    console.log(JSON.stringify({ hotShard, cold: cold.map((c) => [c, shardOf(c, SHARDS)]), report: r }, null, 1));

    expect(r).toMatchObject({ ok: true, scenario: 'recall-latency-spike', pass: true, rerankWasOn: true, rerankOffInWorkers: 2, loadRead: true, windowMs: 1500 });
    expect((r.knobs as Record<string, unknown>).rerank).toBe(false);
    expect(r.hotShards).toEqual([hotShard]);
    const shards = r.shards as { shard: number; worker: number; requests: number; busySeconds: number; busyShare: number; tenants: number; bytes: number }[];
    expect(shards[0]).toMatchObject({ shard: hotShard, worker: hotShard % 2, tenants: 1, bytes: 600 * D * 4 });
    expect(shards[0].busyShare).toBeGreaterThan(0.5);
    // the window's counts are a part of what /metrics counted over the whole run
    const hotTotal = metric(after, 'holoserve_shard_requests_total', { shard: String(hotShard) }) - metric(before, 'holoserve_shard_requests_total', { shard: String(hotShard) });
    expect(shards[0].requests).toBeGreaterThan(0);
    expect(shards[0].requests).toBeLessThanOrEqual(hotTotal);
    expect(hotTotal).toBe(sentHot);
    const t = r.largestTenants as { byItems: { tenant: string; items: number; shard: number }[]; byRecallSeconds: { tenant: string; recallSeconds: number }[] };
    expect(t.byItems[0]).toMatchObject({ tenant: hot, items: 600, shard: hotShard });
    expect(t.byItems.map((x) => x.tenant).slice(1).sort()).toEqual([...cold].sort());
    expect(t.byRecallSeconds[0].tenant).toBe(hot);
    const workers = r.workers as { worker: number; requests: number; busySeconds: number }[];
    expect(workers[hotShard % 2].busySeconds).toBeGreaterThanOrEqual(shards[0].busySeconds);
    expect(((await client.request('knobs')).knobs as Record<string, unknown>).rerank).toBe(false);
  }, 60_000);
});
