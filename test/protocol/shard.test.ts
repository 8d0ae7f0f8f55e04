/**
 * Jump consistent hash (Lamping & Veach 2014, arXiv:1406.2294) and the tenant → shard map:
 * the paper's two properties, balance and monotonicity, measured on deterministic keys.
 *
 * Tolerances, and why: with N keys over 64 buckets each count is Binomial(N, 1/64), σ/mean ≈
 * 8% at N = 10k, so the largest of 64 counts is typically 2–2.5σ (16–20%) off: ±20% per bucket
 * is a coin flip at 10k keys. At 10k we test the whole histogram by χ² (63 degrees of freedom,
 * 103.4 is the p = 0.001 critical value) and each bucket at ±30% (≈ 3.8σ); ±20% per bucket is
 * checked at 100k keys (≈ 7.9σ). Moved fractions: within 4σ of 1/(n+1), σ = √(p(1−p)/N).
 */
import { describe, expect, it } from 'vitest';
import { jumpHash, shardOf, ShardMap } from '../../src/pool/shard.js';

const keys = (n: number, prefix = 'tenant-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function histogram(ks: string[], buckets: number): number[] {
  const h = new Array<number>(buckets).fill(0);
  for (const k of ks) h[shardOf(k, buckets)]++;
  return h;
}

describe('jumpHash', () => {
  it('stays in [0, buckets) and is deterministic', () => {
    for (const k of [0n, 1n, 0xffffffffffffffffn, 0x123456789abcdefn, 1n << 63n]) {
      for (const n of [1, 2, 3, 64, 1000, 65536]) {
        const b = jumpHash(k, n);
        expect(Number.isInteger(b) && b >= 0 && b < n).toBe(true);
        expect(jumpHash(k, n)).toBe(b);
      }
    }
    expect(jumpHash(12345n, 1)).toBe(0);
  });

  it("matches an independent re-implementation of the paper's C++ (keys read modulo 2^64)", () => {
    expect(jumpHash((1n << 64n) + 5n, 1000)).toBe(jumpHash(5n, 1000));
    // int32_t JumpConsistentHash(uint64_t key, int32_t num_buckets), with BigInt modulo instead
    // of masking and the double division written as in the paper.
    const ref = (key: bigint, n: number) => {
      let b = -1, j = 0, k = key;
      while (j < n) {
        b = j;
        k = (k * 2862933555777941757n + 1n) % (1n << 64n);
        j = Math.floor((b + 1) * (Number(1n << 31n) / Number((k >> 33n) + 1n)));
      }
      return b;
    };
    for (let i = 0; i < 200; i++) {
      const key = (BigInt(i) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
      for (const n of [1, 7, 64, 1 << 16]) expect(jumpHash(key, n)).toBe(ref(key, n));
    }
  });

  it('rejects a bucket count that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => jumpHash(1n, n)).toThrow(/positive integer/);
  });

  it('spreads 10k tenants evenly over 64 shards (χ², and ±30% per shard)', () => {
    const h = histogram(keys(10_000), 64);
    const mean = 10_000 / 64;
    const chi2 = h.reduce((s, c) => s + (c - mean) ** 2 / mean, 0);
    expect(chi2).toBeLessThan(103.4);
    for (const c of h) expect(Math.abs(c - mean) / mean).toBeLessThan(0.3);
  });

  it('spreads 100k tenants within ±20% per shard over 64 shards', () => {
    const h = histogram(keys(100_000, 'k:'), 64);
    const mean = 100_000 / 64;
    for (const c of h) expect(Math.abs(c - mean) / mean).toBeLessThan(0.2);
  });

  it('is monotone: n → n+1 buckets moves keys only into the new bucket, about 1/(n+1) of them', () => {
    const ks = keys(10_000);
    const N = ks.length;
    for (const n of [1, 2, 3, 5, 8, 16, 31, 63, 64, 100]) {
      let moved = 0;
      for (const k of ks) {
        const before = shardOf(k, n), after = shardOf(k, n + 1);
        if (before !== after) {
          expect(after).toBe(n); // only ever into the new bucket
          moved++;
        }
      }
      const p = 1 / (n + 1);
      const sigma = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(moved / N - p)).toBeLessThan(4 * sigma);
    }
  });
});

describe('ShardMap', () => {
  it('caches shardOf and maps shard s to worker s mod workers', () => {
    const m = new ShardMap(64, 3, 4);
    for (const k of keys(20)) {
      expect(m.shard(k)).toBe(shardOf(k, 64));
      expect(m.worker(k)).toBe(shardOf(k, 64) % 3);
      expect(m.shard(k)).toBe(shardOf(k, 64)); // from the (size-capped) cache, same answer
    }
  });
});
