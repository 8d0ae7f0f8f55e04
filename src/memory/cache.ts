/**
 * The two caches of SEED §4, on Map's insertion order (delete + set moves an entry to the end):
 *
 *   LruCache  embedding cache: at most maxEntries unpinned entries; a get or set makes an entry
 *             the most recent; a set beyond the cap evicts the least recent. pin(key, value)
 *             holds an entry outside the LRU (prewarmed system prompts, SEED §5): never evicted
 *             and NOT counted against maxEntries; `size` counts both, `pinned` counts pins.
 *   TtlCache  recall result cache: an entry set at t is served while now < t + ttlMs (default
 *             1000 ms, SEED "< 2 s"), at most maxEntries (the oldest set goes first). Entries
 *             may carry a group (the tenant) so that a write can drop that tenant's results
 *             in O(its entries): invalidateGroup. Clock-free: nowMs is passed in.
 *
 * Counters (hits, misses, evictions, expirations) are plain numbers for metrics/ to export.
 */
import { HoloError } from '../errors.js';

export class LruCache<K, V> {
  readonly maxEntries: number;
  hits = 0;
  misses = 0;
  /** entries dropped because the cap was reached */
  evictions = 0;
  private readonly lru = new Map<K, V>();
  private readonly pins = new Map<K, V>();

  /** @throws HoloError bad_request unless maxEntries is an integer ≥ 0 */
  constructor(maxEntries: number) {
    checkCount('maxEntries', maxEntries);
    this.maxEntries = maxEntries;
  }

  /** Entries held, pinned included. */
  get size(): number {
    return this.lru.size + this.pins.size;
  }

  /** Pinned entries held. */
  get pinned(): number {
    return this.pins.size;
  }

  /** The value (now most recent), or undefined; counts a hit or a miss. */
  get(key: K): V | undefined {
    const p = this.pins.get(key);
    if (p !== undefined || this.pins.has(key)) {
      this.hits++;
      return p;
    }
    if (this.lru.has(key)) {
      const v = this.lru.get(key) as V;
      this.lru.delete(key);
      this.lru.set(key, v);
      this.hits++;
      return v;
    }
    this.misses++;
    return undefined;
  }

  /** True if held; does not count or reorder. */
  has(key: K): boolean {
    return this.pins.has(key) || this.lru.has(key);
  }

  /** Stores as most recent (a pinned key keeps its pin and takes the new value). */
  set(key: K, value: V): this {
    if (this.pins.has(key)) {
      this.pins.set(key, value);
      return this;
    }
    this.lru.delete(key);
    if (this.maxEntries === 0) {
      this.evictions++;
      return this;
    }
    this.lru.set(key, value);
    if (this.lru.size > this.maxEntries) {
      // The first key in insertion order is the least recent.
      this.lru.delete(this.lru.keys().next().value as K);
      this.evictions++;
    }
    return this;
  }

  /** Holds key → value outside the LRU until unpin, delete or clear. */
  pin(key: K, value: V): this {
    this.lru.delete(key);
    this.pins.set(key, value);
    return this;
  }

  /** Moves a pinned entry back into the LRU as most recent; false if it was not pinned. */
  unpin(key: K): boolean {
    if (!this.pins.has(key)) return false;
    const v = this.pins.get(key) as V;
    this.pins.delete(key);
    this.set(key, v);
    return true;
  }

  /** Removes the entry, pinned or not. */
  delete(key: K): boolean {
    return this.pins.delete(key) || this.lru.delete(key);
  }

  /** Removes every entry, pinned ones too (a purge, SEED §12); counters are kept. */
  clear(): void {
    this.lru.clear();
    this.pins.clear();
  }
}

export const TTL_DEFAULTS = Object.freeze({ ttlMs: 1000, maxEntries: 10_000 });

interface TtlEntry<V> {
  value: V;
  expiresMs: number;
  group: string | undefined;
}

export class TtlCache<K, V> {
  readonly ttlMs: number;
  readonly maxEntries: number;
  hits = 0;
  misses = 0;
  /** entries dropped because the cap was reached */
  evictions = 0;
  /** entries found or swept expired */
  expirations = 0;
  private readonly map = new Map<K, TtlEntry<V>>();
  private readonly groups = new Map<string, Set<K>>();

  /** ttlMs 0 disables the cache (set stores nothing). @throws HoloError bad_request unless ttlMs ≥ 0 and maxEntries an integer ≥ 0 */
  constructor(opts: { ttlMs?: number; maxEntries?: number } = {}) {
    const ttlMs = opts.ttlMs ?? TTL_DEFAULTS.ttlMs;
    const maxEntries = opts.maxEntries ?? TTL_DEFAULTS.maxEntries;
    if (typeof ttlMs !== 'number' || !(ttlMs >= 0) || !Number.isFinite(ttlMs)) {
      throw new HoloError('bad_request', `options.ttlMs must be a finite number ≥ 0, got ${ttlMs}`);
    }
    checkCount('maxEntries', maxEntries);
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.map.size;
  }

  /** The value if set less than ttlMs before nowMs, else undefined; counts a hit or a miss. */
  get(key: K, nowMs: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (nowMs >= e.expiresMs) {
      this.remove(key, e);
      this.expirations++;
      this.misses++;
      return undefined;
    }
    this.hits++;
    return e.value;
  }

  /** Stores value, expiring at nowMs + ttlMs, in `group` if given; sweeps expired entries. */
  set(key: K, value: V, nowMs: number, group?: string): this {
    const old = this.map.get(key);
    if (old !== undefined) this.remove(key, old); // re-inserted at the end: the map stays in expiry order
    this.sweep(nowMs);
    if (this.ttlMs === 0) return this;
    if (this.maxEntries === 0) {
      this.evictions++;
      return this;
    }
    this.map.set(key, { value, expiresMs: nowMs + this.ttlMs, group });
    if (group !== undefined) {
      let g = this.groups.get(group);
      if (g === undefined) this.groups.set(group, (g = new Set()));
      g.add(key);
    }
    if (this.map.size > this.maxEntries) {
      const [k, e] = this.map.entries().next().value as [K, TtlEntry<V>];
      this.remove(k, e);
      this.evictions++;
    }
    return this;
  }

  delete(key: K): boolean {
    const e = this.map.get(key);
    if (e === undefined) return false;
    this.remove(key, e);
    return true;
  }

  /** Drops every entry of `group` (e.g. a tenant after a write); returns how many. */
  invalidateGroup(group: string): number {
    const g = this.groups.get(group);
    if (g === undefined) return 0;
    const n = g.size;
    for (const k of g) this.map.delete(k);
    this.groups.delete(group);
    return n;
  }

  /** Drops every entry whose key satisfies `pred` (a scan of all entries); returns how many. */
  invalidate(pred: (key: K) => boolean): number {
    let n = 0;
    for (const [k, e] of this.map) {
      if (pred(k)) {
        this.remove(k, e);
        n++;
      }
    }
    return n;
  }

  /**
   * Drops expired entries; returns how many. O(expired) while callers pass non-decreasing
   * nowMs (the map is then in expiry order); an entry missed after a clock step back is still
   * refused by get.
   */
  sweep(nowMs: number): number {
    let n = 0;
    for (const [k, e] of this.map) {
      if (nowMs < e.expiresMs) break;
      this.remove(k, e);
      n++;
    }
    this.expirations += n;
    return n;
  }

  clear(): void {
    this.map.clear();
    this.groups.clear();
  }

  private remove(key: K, e: TtlEntry<V>): void {
    this.map.delete(key);
    if (e.group !== undefined) {
      const g = this.groups.get(e.group);
      if (g !== undefined) {
        g.delete(key);
        if (g.size === 0) this.groups.delete(e.group);
      }
    }
  }
}

function checkCount(name: string, x: unknown): void {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) {
    throw new HoloError('bad_request', `options.${name} must be an integer ≥ 0, got ${String(x)}`);
  }
}
