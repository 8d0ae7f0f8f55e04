/**
 * tenant → shard by jump consistent hash (Lamping & Veach 2014, arXiv:1406.2294): when the
 * shard count grows from n to n+1 only 1/(n+1) of the keys move. The key is FNV-1a 64 of the
 * tenant's UTF-8 bytes; shard s is served by worker s mod workers, so a tenant's state always
 * lives on one thread.
 */
import { fnv1a64 } from '../kernels/hrr/role.js';

const MASK64 = 0xffffffffffffffffn;
const encoder = new TextEncoder();

/** Lamping & Veach's jump hash: bucket in [0, buckets) for a 64-bit key. */
export function jumpHash(key: bigint, buckets: number): number {
  if (!(Number.isInteger(buckets) && buckets >= 1)) throw new Error('jumpHash: buckets must be a positive integer');
  let b = -1, j = 0;
  let k = key & MASK64;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK64;
    j = Math.floor((b + 1) * (2147483648 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/** Shard of a string key (tenant or graph id). */
export function shardOf(key: string, shards: number): number {
  return jumpHash(fnv1a64(encoder.encode(key)), shards);
}

/** Remembers shardOf for recently seen keys (BigInt hashing costs a few µs). */
export class ShardMap {
  private readonly cache = new Map<string, number>();
  constructor(readonly shards: number, readonly workers: number, private readonly cap = 65536) {}
  shard(key: string): number {
    let s = this.cache.get(key);
    if (s === undefined) {
      s = shardOf(key, this.shards);
      if (this.cache.size >= this.cap) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, s);
    }
    return s;
  }
  worker(key: string): number {
    return this.shard(key) % this.workers;
  }
}
