/**
 * What only the Redis store has (the common contract is store.test.ts): the start-up refusals,
 * the check again after a reconnect, a SIGKILLed Redis restarted from its AOF losing nothing
 * acknowledged while requests in the gap fail `unavailable`, WAIT for replicas, and the
 * holoserve_redis_* gauges. Every Redis here is a real redis-server on a loopback port.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { HoloError } from '../../src/errors.js';
import { openRedisStore, type RedisStoreOptions } from '../../src/store/redis.js';
import { parseInfo, watchRedis } from '../../src/store/redis-metrics.js';
import type { ItemRecord, Store } from '../../src/store/store.js';
import { rng } from '../../bench/seeded.js';
import { startRedis, type RedisServer } from '../../bench/redis-server.js';

const servers: RedisServer[] = [];
async function redis(directives: Record<string, string> = {}): Promise<RedisServer> {
  const s = await startRedis(directives);
  servers.push(s);
  return s;
}
afterAll(async () => { await Promise.all(servers.map((s) => s.stop())); });

const opts = (url: string, more: Partial<RedisStoreOptions> = {}): RedisStoreOptions => ({
  url, prefix: 'test:', allowEviction: false, allowWithoutFsync: false, waitReplicas: 0, waitTimeoutMs: 1000, ...more,
});

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e instanceof HoloError ? { code: e.code, message: e.message } : { code: `not a HoloError`, message: String(e) };
  }
  return { code: 'none', message: '' };
}

function item(key: string, seed: number, D = 64): ItemRecord {
  const r = rng(seed);
  return { key, vector: Float32Array.from({ length: D }, () => r() - 0.5), salience: 1, reward: 0, createdMs: seed, lastAccessMs: seed };
}

const bitsOf = (v: Float32Array) => [...new Uint32Array(v.buffer, v.byteOffset, v.length)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('start-up check of the Redis configuration', () => {
  it('refuses a maxmemory-policy that evicts, naming it and the setting that allows it; allowed, it warns once', async () => {
    const r = await redis({ maxmemory: '64mb', 'maxmemory-policy': 'allkeys-lru' });
    const f = await failure(openRedisStore(opts(r.url)));
    expect(f.code).toBe('unavailable');
    expect(f.message).toContain('maxmemory-policy is allkeys-lru');
    expect(f.message).toContain('allowRedisEviction');
    expect(f.message).not.toContain('appendfsync'); // that part is fine
    const warnings: string[] = [];
    const s = await openRedisStore(opts(r.url, { allowEviction: true, onWarning: (w) => warnings.push(w) }));
    await s.commit([{ kind: 'item.put', tenant: 't', item: item('k', 1) }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('allkeys-lru');
    await s.close();
  });

  it('refuses AOF off and appendfsync everysec; allowRedisWithoutFsync turns that into a warning', async () => {
    for (const [directives, text] of [[{ appendonly: 'no' }, 'appendonly=no'], [{ appendfsync: 'everysec' }, 'appendfsync=everysec']] as const) {
      const r = await redis(directives);
      const f = await failure(openRedisStore(opts(r.url)));
      expect(f.code).toBe('unavailable');
      expect(f.message).toContain(text);
      expect(f.message).toContain('allowRedisWithoutFsync');
      const warnings: string[] = [];
      const s = await openRedisStore(opts(r.url, { allowWithoutFsync: true, onWarning: (w) => warnings.push(w) }));
      expect(warnings.join()).toContain(text);
      await s.close();
    }
  });

  it('an unreachable Redis fails the open with unavailable', async () => {
    const r = await redis();
    await r.kill();
    const f = await failure(openRedisStore(opts(r.url)));
    expect(f).toMatchObject({ code: 'unavailable' });
    expect(f.message).toContain(`127.0.0.1:${r.port}`);
  });

  it('checks again after a reconnect: a server that stopped fsyncing refuses commits until fixed', async () => {
    const r = await redis();
    const s = await openRedisStore(opts(r.url));
    await s.commit([{ kind: 'item.put', tenant: 't', item: item('a', 1) }]);
    const admin = new Redis(r.url);
    await admin.config('SET', 'appendfsync', 'everysec');
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes'); // drops the store's connection: it reconnects
    // Until the reconnect has happened and been checked (≤ 5 s): every failure on the way,
    // the reconnect gap included, is `unavailable`.
    let f = { code: 'none', message: '' };
    const seen = new Set<string>();
    for (let i = 0; i < 50 && !f.message.includes('appendfsync'); i++) {
      await sleep(100);
      f = await failure(s.commit([{ kind: 'item.put', tenant: 't', item: item('b', 2) }]));
      seen.add(f.code);
    }
    expect([...seen].filter((c) => c !== 'none')).toEqual(['unavailable']);
    expect(f.message).toContain('appendfsync=everysec');
    await admin.config('SET', 'appendfsync', 'always');
    await sleep(1100); // a failed check is retried at most once a second
    await s.commit([{ kind: 'item.put', tenant: 't', item: item('c', 3) }]);
    // 'b' may or may not have been applied before the refusal was seen; 'a' and 'c' were acknowledged.
    expect((await s.loadTenant('t')).items.map((x) => x.key).filter((k) => k !== 'b')).toEqual(['a', 'c']);
    admin.disconnect();
    await s.close();
  });
});

describe('Redis SIGKILL and restart from its AOF', () => {
  it('loses nothing acknowledged; requests in the gap get unavailable; the store reconnects', async () => {
    const r = await redis();
    const s = await openRedisStore(opts(r.url));
    const acked = new Map<string, ItemRecord>();
    const codes = new Map<string, number>();
    let next = 0;
    let killedAt = 0;
    let restartedAt = 0;
    let firstOkAfterRestart = 0;
    let loadFailure = '';
    const deadline = Date.now() + 20_000;
    // 8 writers, each one commit at a time (with a touch, as the server commits), until 40
    // commits have been acknowledged after the restart or 20 s passed.
    const writer = async () => {
      let okAfter = 0;
      while (okAfter < 5 && Date.now() < deadline) {
        const i = next++;
        const it = item(`k${i}`, i + 1);
        try {
          await s.commit([{ kind: 'item.put', tenant: 'gap', item: it }, { kind: 'tenant.touch', tenant: 'gap', atMs: i }]);
          acked.set(it.key, it);
          if (restartedAt) { okAfter++; firstOkAfterRestart ||= performance.now(); }
        } catch (e) {
          const code = e instanceof HoloError ? e.code : 'not a HoloError';
          codes.set(code, (codes.get(code) ?? 0) + 1);
          await sleep(20);
        }
      }
    };
    const killer = async () => {
      while (acked.size < 100) await sleep(5);
      await r.kill('SIGKILL');
      killedAt = performance.now();
      loadFailure = (await failure(s.loadTenant('gap'))).code;
      await sleep(300);
      await r.restart();
      restartedAt = performance.now();
    };
    await Promise.all([killer(), ...Array.from({ length: 8 }, writer)]);
    expect(restartedAt).toBeGreaterThan(killedAt);
    expect(firstOkAfterRestart).toBeGreaterThan(0); // it reconnected by itself
    expect([...codes.keys()]).toEqual(['unavailable']); // every failure retryable, at least one
    expect(loadFailure).toBe('unavailable');
    const got = await s.loadTenant('gap');
    const byKey = new Map(got.items.map((x) => [x.key, x]));
    for (const [k, it] of acked) {
      expect(byKey.has(k)).toBe(true);
      expect(bitsOf(byKey.get(k)!.vector)).toEqual(bitsOf(it.vector));
    }
    expect(await s.recentTenants(1)).toEqual(['gap']);
    console.log(`redis restart: ${acked.size} acknowledged commits all present; ${codes.get('unavailable')} unavailable in the gap; first commit ${(firstOkAfterRestart - restartedAt).toFixed(0)} ms after redis was ready again`);
    await s.close();
  });
});

describe('WAIT for replicas', () => {
  it('a commit is acknowledged only when the replicas have it', async () => {
    const primary = await redis();
    const s = await openRedisStore(opts(primary.url, { waitReplicas: 1, waitTimeoutMs: 200 }));
    const f = await failure(s.commit([{ kind: 'item.put', tenant: 't', item: item('a', 1) }]));
    expect(f.code).toBe('unavailable');
    expect(f.message).toContain('only 0 of 1');
    const replica = await redis({ replicaof: `127.0.0.1 ${primary.port}` });
    const rc = new Redis(replica.url);
    for (let i = 0; i < 100 && !/master_link_status:up/.test(await rc.info('replication')); i++) await sleep(100);
    await s.commit([{ kind: 'item.put', tenant: 't', item: item('b', 2) }]);
    // acknowledged ⇒ on the replica: read it there with a store of its own (read-only use)
    const onReplica = await openRedisStore(opts(replica.url));
    expect((await onReplica.loadTenant('t')).items.map((x) => x.key)).toContain('b');
    rc.disconnect();
    await Promise.all([s.close(), onReplica.close()]);
  });
});

describe('holoserve_redis_* gauges', () => {
  async function scrape(reg: Registry): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const line of (await reg.metrics()).split('\n')) {
      const m = /^(holoserve_redis_\w+) (\S+)$/.exec(line);
      if (m) out.set(m[1], Number(m[2]));
    }
    return out;
  }

  it('read INFO: evicted keys, used memory and maxmemory equal what Redis reports; up and config_ok', async () => {
    const r = await redis({ maxmemory: '4mb', 'maxmemory-policy': 'allkeys-lru' });
    const reg = new Registry();
    const warned: string[] = [];
    await expect(watchRedis(opts(r.url), reg, (w) => warned.push(w))).rejects.toThrow(/allkeys-lru/);
    const w = await watchRedis(opts(r.url, { allowEviction: true }), reg, (x) => warned.push(x));
    expect(warned).toHaveLength(1);
    let m = await scrape(reg);
    expect(m.get('holoserve_redis_up')).toBe(1);
    expect(m.get('holoserve_redis_config_ok')).toBe(0);
    expect(m.get('holoserve_redis_evicted_keys')).toBe(0);
    expect(m.get('holoserve_redis_maxmemory_bytes')).toBe(4 * 2 ** 20);
    // fill past maxmemory: 8 MiB of 64 KiB values
    const c = new Redis(r.url);
    const v = Buffer.alloc(64 * 1024, 7);
    for (let i = 0; i < 128; i++) await c.set(`fill:${i}`, v);
    const info = parseInfo((await c.info('stats')) + '\n' + (await c.info('memory')));
    m = await scrape(reg);
    expect(info.get('evicted_keys')).toBeGreaterThan(0);
    expect(m.get('holoserve_redis_evicted_keys')).toBe(info.get('evicted_keys'));
    const used = m.get('holoserve_redis_used_memory_bytes')!;
    expect(Math.abs(used - info.get('used_memory')!)).toBeLessThan(256 * 1024); // read a moment apart
    expect(used).toBeGreaterThan(3 * 2 ** 20);
    c.disconnect();
    await r.kill();
    m = await scrape(reg);
    expect(m.get('holoserve_redis_up')).toBe(0);
    await w.close();

    const ok = await redis();
    const reg2 = new Registry();
    const w2 = await watchRedis(opts(ok.url), reg2, () => undefined);
    m = await scrape(reg2);
    expect([m.get('holoserve_redis_up'), m.get('holoserve_redis_config_ok'), m.get('holoserve_redis_maxmemory_bytes')]).toEqual([1, 1, 0]);
    await w2.close();
  });
});
