/**
 * The one place a Store is chosen: `store` = 'lmdb' (embedded, this machine's dataDir) or
 * 'redis' (shared by many pods), once at start.
 */
import type { Config } from '../config.js';
import { openLmdbStore } from './lmdb.js';
import { openRedisStore, type RedisStoreOptions } from './redis.js';
import type { Store } from './store.js';

/** The Redis settings of a configuration. */
export function redisOptions(cfg: Config): RedisStoreOptions {
  return {
    url: cfg.redisUrl, prefix: cfg.redisPrefix, allowEviction: cfg.allowRedisEviction,
    allowWithoutFsync: cfg.allowRedisWithoutFsync, waitReplicas: cfg.redisWaitReplicas, waitTimeoutMs: cfg.redisWaitTimeoutMs,
    owner: cfg.advertiseUrl === '' ? undefined : cfg.advertiseUrl, leaseTtlMs: cfg.leaseTtlMs,
  };
}

/** @throws HoloError unavailable (Redis unreachable or refused), Error from lmdb */
export async function openStore(cfg: Config): Promise<Store> {
  return cfg.store === 'redis' ? openRedisStore(redisOptions(cfg)) : openLmdbStore(cfg.dataDir);
}
