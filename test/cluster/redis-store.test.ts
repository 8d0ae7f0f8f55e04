/**
 * The real server (dist/src/main.js) in Redis mode against a real redis-server:
 *   1. writes are acknowledged and recalled; /metrics shows the holoserve_redis_* gauges;
 *   2. Redis SIGKILLed: writes and loads of tenants not yet in memory get `unavailable`
 *      (retryable), never `internal`, and redis_up turns 0;
 *   3. Redis restarted from its AOF: the server reconnects by itself (time measured);
 *   4. the server SIGKILLed and a NEW one started on an empty data directory recalls every
 *      acknowledged write from Redis (a pod keeps no state of its own);
 *   5. start-up refuses a Redis that may evict, and starts with a warning when allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { spawnServer, startServer, type Server } from '../server/harness.js';
import { errorCode, metric, scrape, seededVec } from '../server/support.js';
import { startRedis, type RedisServer } from '../../bench/redis-server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const D = 1024;
const envFor = (r: RedisServer, more: Record<string, string> = {}) => ({
  HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_STORE: 'redis', HOLOSERVE_REDIS_URL: r.url, HOLOSERVE_REDIS_PREFIX: 'hs-test:', ...more,
});
const TENANTS = ['rs-alpha', 'rs-beta', 'rs-γάμμα', 'rs-delta'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('server in Redis mode', () => {
  let redis: RedisServer;
  let srv: Server;
  let c: HoloClient;
  const acked: { tenant: string; key: string; seed: number }[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    srv = await startServer(envFor(redis));
    c = await connect(srv.url);
  });
  afterAll(async () => {
    c?.close();
    await srv?.stop('SIGKILL');
    await redis?.stop();
  });

  it('acknowledges writes, recalls them, and exports the Redis gauges', async () => {
    const writes = Array.from({ length: 40 }, (_, i) => ({ tenant: TENANTS[i % 4], key: `k${i}`, seed: 100 + i }));
    const acks = await Promise.all(writes.map((w) => c.remember(w.tenant, w.key, seededVec(w.seed, D), { payload: { i: w.seed } })));
    expect(acks.every((a) => a.stored)).toBe(true);
    acked.push(...writes);
    for (const w of writes.slice(0, 8)) expect((await c.recall(w.tenant, seededVec(w.seed, D), 1)).hits[0].key).toBe(w.key);
    const m = await scrape(srv.http);
    expect(metric(m, 'holoserve_redis_up')).toBe(1);
    expect(metric(m, 'holoserve_redis_config_ok')).toBe(1);
    expect(metric(m, 'holoserve_redis_used_memory_bytes')).toBeGreaterThan(40 * 4 * D); // 40 vectors of 4 KiB at least
    expect(metric(m, 'holoserve_redis_evicted_keys')).toBe(0);
  });

  it('Redis down: writes and cold loads get unavailable; back from its AOF: the server reconnects', async () => {
    await redis.kill('SIGKILL');
    const codes = await Promise.all([
      errorCode(c.remember('rs-alpha', 'gap-1', seededVec(1, D))),
      errorCode(c.remember('rs-never-loaded', 'gap-2', seededVec(2, D))),
      errorCode(c.recall('rs-cold', seededVec(3, D), 1)),
    ]);
    expect(codes).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(metric(await scrape(srv.http), 'holoserve_redis_up')).toBe(0);
    await redis.restart();
    const t0 = performance.now();
    let code = '';
    for (let i = 0; i < 100 && code !== 'ok'; i++) {
      code = await errorCode(c.remember('rs-alpha', 'after', seededVec(4, D)));
      if (code !== 'ok') { expect(code).toBe('unavailable'); await sleep(50); }
    }
    expect(code).toBe('ok');
    acked.push({ tenant: 'rs-alpha', key: 'after', seed: 4 });
    console.log(`server reconnected to the restarted Redis: first write acknowledged ${(performance.now() - t0).toFixed(0)} ms after Redis was ready`);
    // /metrics's own connection reconnects with a backoff of at most 2 s
    let up = 0;
    for (let i = 0; i < 40 && up !== 1; i++) { up = metric(await scrape(srv.http), 'holoserve_redis_up'); if (up !== 1) await sleep(100); }
    expect(up).toBe(1);
  });

  it('a new server on an empty data directory recalls every acknowledged write from Redis', async () => {
    c.close();
    await srv.stop('SIGKILL');
    srv = await startServer(envFor(redis));
    c = await connect(srv.url);
    for (const w of acked) {
      const r = await c.recall(w.tenant, seededVec(w.seed, D), 1);
      expect(r.hits[0].key).toBe(w.key);
      expect(r.hits[0].score).toBeCloseTo(1, 6);
    }
    const stats = await Promise.all(TENANTS.map((t) => c.stats(t)));
    expect(stats.map((s) => s.items)).toEqual([11, 10, 10, 10]); // rs-alpha has 'after' too; no gap write
  });
});

describe('start-up refusal', () => {
  it('refuses a Redis whose maxmemory-policy evicts (exit 1, names the setting); allowed, it warns', async () => {
    const r = await startRedis({ maxmemory: '64mb', 'maxmemory-policy': 'volatile-lru' });
    const dir = mkdtempSync(join(tmpdir(), 'holoserve-refuse-'));
    try {
      const { proc, output } = spawnServer(envFor(r), dir);
      const code = await new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
      expect(code).toBe(1);
      expect(output()).toContain('maxmemory-policy is volatile-lru');
      expect(output()).toContain('allowRedisEviction');
      const s = await startServer(envFor(r, { HOLOSERVE_ALLOW_REDIS_EVICTION: 'true' }), { dataDir: dir });
      expect(s.output()).toMatch(/WARNING: .*volatile-lru.*allowed by allowRedisEviction/);
      expect(await s.stop()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await r.stop();
    }
  });
});
