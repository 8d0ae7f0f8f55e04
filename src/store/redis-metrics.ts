/**
 * Redis seen from holoserve's /metrics (main thread, its own connection): at each scrape, one
 * round trip reads INFO (memory and stats sections) and the durability settings, so the
 * numbers are as fresh as the scrape. If Redis does not answer within 1 s, `redis_up` is 0
 * and the other gauges keep their last values.
 *
 *   holoserve_redis_up                  1 if Redis answered this scrape
 *   holoserve_redis_config_ok           1 if appendonly yes, appendfsync always, noeviction now
 *   holoserve_redis_evicted_keys        INFO evicted_keys: keys Redis dropped at maxmemory since
 *                                       it started (anything > 0 lost memory; alert on increase)
 *   holoserve_redis_used_memory_bytes   INFO used_memory
 *   holoserve_redis_maxmemory_bytes     INFO maxmemory (0: no limit)
 */
import { Gauge, type Registry } from 'prom-client';
import { checkRedisServer, inspectRedis, redisClient, redisWhere, type RedisStoreOptions } from './redis.js';

export interface RedisWatch {
  close(): Promise<void>;
}

const SCRAPE_TIMEOUT_MS = 1000;

/** INFO's `name:value` lines as numbers. */
export function parseInfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), Number(line.slice(i + 1).trim()));
  }
  return out;
}

/**
 * Connects, runs the start-up check (throws HoloError unavailable when refused; each allowed
 * problem goes to `warn` once), then registers the gauges on `registry`.
 */
export async function watchRedis(opts: RedisStoreOptions, registry: Registry, warn: (msg: string) => void): Promise<RedisWatch> {
  const client = redisClient(opts.url, 'holoserve-metrics', SCRAPE_TIMEOUT_MS);
  try {
    await client.connect();
    for (const w of await checkRedisServer(client, opts)) warn(w);
  } catch (e) {
    client.disconnect();
    if ((e as { code?: string }).code === 'unavailable') throw e;
    throw new Error(`cannot reach Redis at ${redisWhere(opts.url)}: ${(e as Error).message}`);
  }
  // A scrape calls every metric's collect in registration order, synchronously, then awaits
  // them: `up` (registered first) starts one read, the other gauges await that same read.
  let sample: Promise<void> | undefined;
  const names: string[] = [];
  const g = (name: string, help: string, collect = () => (sample ??= read())) => {
    names.push(`holoserve_redis_${name}`);
    return new Gauge({ name: `holoserve_redis_${name}`, help, registers: [registry], collect });
  };
  const up = g('up', 'Redis answered the last scrape (1) or not (0)', () => (sample = read()));
  const configOk = g('config_ok', 'Redis runs appendonly yes, appendfsync always and maxmemory-policy noeviction (1) or not (0)');
  const evicted = g('evicted_keys', 'Redis INFO evicted_keys: keys dropped at maxmemory since Redis started (acknowledged memory lost)');
  const used = g('used_memory_bytes', 'Redis INFO used_memory, bytes');
  const max = g('maxmemory_bytes', 'Redis INFO maxmemory, bytes (0: no limit)');
  async function read(): Promise<void> {
    try {
      const [mem, stats, check] = await Promise.all([client.info('memory'), client.info('stats'), inspectRedis(client)]);
      const v = parseInfo(mem + '\n' + stats);
      evicted.set(v.get('evicted_keys') ?? 0);
      used.set(v.get('used_memory') ?? 0);
      max.set(v.get('maxmemory') ?? 0);
      configOk.set(check.fsync.length + check.eviction.length === 0 ? 1 : 0);
      up.set(1);
    } catch {
      up.set(0);
    }
  }
  await read();
  return {
    async close() {
      for (const n of names) registry.removeSingleMetric(n);
      try { await client.quit(); } catch { client.disconnect(); }
    },
  };
}
