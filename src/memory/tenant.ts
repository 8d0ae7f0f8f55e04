/**
 * One tenant's working memory: items (key, unit vector, opaque payload, salience bookkeeping)
 * with their vectors in one contiguous Float32Array slab, row `slot` = item, so recall is one
 * linear scan (recall.ts). Synchronous and clock-free: every time is passed in as nowMs, so a
 * test replays exactly. Lives in the shard worker that owns the tenant; the worker persists
 * what changed (get / entries → store) and deletes what `remember` reports as evicted.
 *
 *   slab   [ item 0 (D floats) | item 1 | … | item n−1 | unused … ]   n = items held
 *          grows by doubling (initialSlots, 2·, 4·, …) up to capacity, never preallocated in
 *          full (4096 × 8192 × 4 B = 128 MiB); it does not shrink.
 *   forget swaps the last row into the hole: O(D), the slab stays dense.
 *
 * Memory pressure (SEED §8): after a write, when utilization = items / capacity > highWater,
 * items are evicted by `evictionPolicy` until utilization ≤ lowWater:
 *   'oldest'    smallest createdMs first (ties: earliest write first)
 *   'salience'  lowest current salience first, recency recomputed at the write's nowMs
 *               (ties: oldest first)
 * The item just written is never evicted by its own write. A write that finds the slab full
 * (possible only when highWater·capacity ≥ capacity − 1) first evicts to lowWater the same way.
 */
import { HoloError } from '../errors.js';
import { checkDim, checkLength, checkFinite } from '../kernels/check.js';
import { normalize } from '../kernels/hrr/cosine.js';
import { checkName, MAX_NAME_BYTES, type ItemRecord } from '../store/store.js';
import { slabHeap } from '../kernels/wasm/scan.js';
import type { Block } from '../kernels/wasm/slab-heap.js';
import { salience, salienceSettings, type SalienceSettings } from './salience.js';
import { codeWords, scan, writeCode, type ScanOptions } from './scan.js';

export type EvictionPolicy = 'oldest' | 'salience';

export interface TenantOptions {
  /** vector length, a power of two in [256, 16384] */
  D: number;
  /** most items held */
  capacity: number;
  /** slab rows allocated at first write; the slab then doubles */
  initialSlots: number;
  /** largest payload in bytes; larger → too_large */
  maxPayloadBytes: number;
  /** evict when items / capacity exceeds this, in (lowWater, 1] */
  highWater: number;
  /** evict down to items / capacity ≤ this, in [0, highWater) */
  lowWater: number;
  evictionPolicy: EvictionPolicy;
  /** how recall scans unless a call says otherwise (scan.ts): mode and oversampling */
  scan: ScanOptions;
  /** candidates of remember's novelty search: 2 · this, rescored exactly (binary index) */
  noveltyOversampling: number;
  salience: SalienceSettings;
}

export const TENANT_DEFAULTS: Readonly<Omit<TenantOptions, 'salience'>> = Object.freeze({
  scan: Object.freeze({ mode: 'binary', oversampling: 16 }) as ScanOptions,
  noveltyOversampling: 16,
  D: 8192,
  capacity: 4096,
  initialSlots: 4,
  maxPayloadBytes: 64 * 1024,
  highWater: 0.9,
  lowWater: 0.8,
  evictionPolicy: 'oldest',
});

export interface RememberResult {
  /** keys evicted by this write (to delete durably and count) */
  evicted: string[];
  /** 1 − max cosine to the items held before the write (1 if none), in [0, 2] */
  novelty: number;
  /** salience at the write (recency 1), in [0, 1] */
  salience: number;
  /** true when the key existed and was overwritten */
  replaced: boolean;
}

export interface RecallHit {
  key: string;
  /** cosine(query, item) */
  score: number;
  /** the stored payload itself (not a copy): read, do not mutate */
  payload?: Uint8Array;
}

// remember's normalised copy of the vector: one per thread and D (every call is synchronous), so
// an idle tenant costs no D-sized buffer of its own.
const units = new Map<number, Float32Array>();
function unitScratch(D: number): Float32Array {
  let u = units.get(D);
  if (!u) units.set(D, (u = new Float32Array(D)));
  return u;
}

/** The slab and codes of a memory with no rows yet (outside the heap: nothing to free). */
const EMPTY: Block = Object.freeze({ ptr: -1, bytes: 0, f32: new Float32Array(0), u8: new Uint8Array(0) });

/** Blocks to free if a TenantMemory is collected without dispose(). */
const unfreed = new FinalizationRegistry<{ blocks: Block[] }>((h) => { for (const b of h.blocks) slabHeap().free(b); });

export interface TenantStats {
  items: number;
  capacity: number;
  /** items / capacity */
  utilization: number;
  /** slab rows allocated */
  slots: number;
  /** items evicted by memory pressure since construction */
  evictions: number;
}

interface Meta {
  key: string;
  payload: Uint8Array | undefined;
  novelty: number;
  salience: number;
  reward: number;
  createdMs: number;
  lastAccessMs: number;
  /** write order, for deterministic ties */
  seq: number;
}

export class TenantMemory {
  readonly options: Readonly<TenantOptions>;
  readonly D: number;
  /** rows of D float32 (unit vectors), in the thread's slab heap: scanned in place */
  private slab: Block;
  /** rows of codeWords(D) u64 sign codes, same slots */
  private codes: Block;
  private readonly held: { blocks: Block[] };
  private payloadBytes = 0;
  private slots = 0;
  private meta: Meta[] = [];
  private readonly slotOf = new Map<string, number>();
  /** largest n with n / capacity ≤ lowWater */
  private readonly lowTarget: number;
  private seq = 0;
  private evicted = 0;

  /** @throws HoloError bad_dimension (D) | bad_request (an option out of range, named) */
  constructor(options: Partial<Omit<TenantOptions, 'salience'>> & { salience?: Partial<SalienceSettings> } = {}) {
    const o: TenantOptions = { ...TENANT_DEFAULTS, ...options, salience: salienceSettings(options.salience) };
    checkDim(o.D);
    checkInt('capacity', o.capacity, 1);
    checkInt('initialSlots', o.initialSlots, 1);
    checkInt('noveltyOversampling', o.noveltyOversampling, 1);
    if (o.scan.mode !== 'exact' && o.scan.mode !== 'binary') throw new HoloError('bad_request', `options.scan.mode must be 'exact' or 'binary', got ${String(o.scan.mode)}`);
    checkInt('scan.oversampling', o.scan.oversampling, 1);
    checkInt('maxPayloadBytes', o.maxPayloadBytes, 0);
    if (!(o.lowWater >= 0 && o.lowWater < o.highWater && o.highWater <= 1)) {
      throw new HoloError('bad_request', `options.lowWater and options.highWater must satisfy 0 ≤ lowWater < highWater ≤ 1, got ${o.lowWater}, ${o.highWater}`);
    }
    if (o.evictionPolicy !== 'oldest' && o.evictionPolicy !== 'salience') {
      throw new HoloError('bad_request', `options.evictionPolicy must be 'oldest' or 'salience', got ${String(o.evictionPolicy)}`);
    }
    this.options = Object.freeze(o);
    this.D = o.D;
    this.slab = this.codes = EMPTY;
    this.held = { blocks: [] };
    unfreed.register(this, this.held, this);
    let t = Math.floor(o.lowWater * o.capacity);
    while ((t + 1) / o.capacity <= o.lowWater) t++;
    while (t > 0 && t / o.capacity > o.lowWater) t--;
    this.lowTarget = t;
  }

  get size(): number {
    return this.meta.length;
  }

  /**
   * Bytes this memory holds: slab and code blocks (their size classes), payloads, and an
   * estimate of 160 B per item for its key and record (the memory budget's unit).
   */
  get bytes(): number {
    return this.slab.bytes + this.codes.bytes + this.payloadBytes + this.meta.length * 160;
  }

  /** Frees the slab and codes (the memory is empty and unusable after). Idempotent. */
  dispose(): void {
    unfreed.unregister(this);
    for (const b of this.held.blocks) slabHeap().free(b);
    this.held.blocks = [];
    this.slab = this.codes = EMPTY;
    this.meta = [];
    this.slotOf.clear();
    this.slots = 0;
    this.payloadBytes = 0;
  }

  /** Items evicted by memory pressure since construction. */
  get evictions(): number {
    return this.evicted;
  }

  has(key: string): boolean {
    return this.slotOf.has(key);
  }

  /**
   * Stores a unit-normalised float32 copy of `vector` under `key` (overwriting: new vector,
   * payload, reward, createdMs = lastAccessMs = nowMs), then relieves memory pressure.
   * novelty is measured against the items held before the write (an overwritten key's old
   * vector included), by the recall scan. salience = clip(α·novelty + β·reward + γ).
   * @throws HoloError bad_dimension (vector length ≠ D) | bad_request (NaN/Inf, zero vector,
   *   empty key or lone surrogate, reward or nowMs not finite) | too_large (payload, key)
   */
  remember(key: string, vector: Float32Array, opts: { payload?: Uint8Array; reward?: number; nowMs: number }): RememberResult {
    checkName('key', key, MAX_NAME_BYTES);
    checkLength('vector', vector, this.D);
    const reward = opts.reward ?? 0;
    checkNumber('reward', reward);
    checkNumber('nowMs', opts.nowMs);
    const payload = opts.payload;
    if (payload !== undefined) {
      if (!(payload instanceof Uint8Array)) throw new HoloError('bad_request', 'payload must be bytes (Uint8Array)');
      if (payload.length > this.options.maxPayloadBytes) {
        throw new HoloError('too_large', `payload is ${payload.length} bytes, max ${this.options.maxPayloadBytes}`);
      }
    }
    const unit = unitScratch(this.D);
    normalize(vector, unit); // checks finite, rejects zero
    const nowMs = opts.nowMs;
    const s = this.options.salience;
    const n = this.meta.length;
    // Novelty by the binary index: the 2·noveltyOversampling nearest codes, rescored exactly.
    // It can only miss the true nearest item (novelty then too high), never invent a nearer one.
    const nov = n === 0 ? 1 : 1 - scan(this.slab, this.codes, n, this.D, unit, 1, { mode: 'binary', oversampling: this.options.noveltyOversampling }).score[0];
    const sal = salience(nov, reward, 0, s);
    const m: Meta = {
      key,
      payload: payload === undefined ? undefined : new Uint8Array(payload), // a copy: the caller's buffer may be reused
      novelty: nov,
      salience: sal,
      reward,
      createdMs: nowMs,
      lastAccessMs: nowMs,
      seq: this.seq++,
    };
    const evicted: string[] = [];
    let slot = this.slotOf.get(key);
    const replaced = slot !== undefined;
    if (slot === undefined) {
      if (n >= this.options.capacity) evicted.push(...this.evictTo(this.lowTarget, nowMs, undefined));
      slot = this.meta.length;
      this.ensureSlots(slot + 1);
      this.slotOf.set(key, slot);
      this.meta.push(m);
    } else {
      this.payloadBytes -= this.meta[slot].payload?.length ?? 0;
      this.meta[slot] = m;
    }
    this.payloadBytes += m.payload?.length ?? 0;
    this.slab.f32.set(unit, slot * this.D);
    writeCode(this.slab, this.codes, slot, this.D);
    if (this.meta.length / this.options.capacity > this.options.highWater) {
      evicted.push(...this.evictTo(this.lowTarget, nowMs, key));
    }
    return { evicted, novelty: nov, salience: sal, replaced };
  }

  /** Removes `key`; false if it was not held. */
  forget(key: string): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    this.removeSlot(slot);
    return true;
  }

  /**
   * The min(k, items) items most cosine-similar to `query`, best first (ties: lower slot), and
   * the margin top1 − top2 (recall.ts: a missing runner-up counts as 0; empty memory ⇒ margin 0).
   * Sets lastAccessMs = max(lastAccessMs, nowMs) on every hit.
   * @throws HoloError bad_dimension | bad_request (k, NaN/Inf, zero query, nowMs)
   */
  recall(query: Float32Array, k: number, nowMs: number, opts: Partial<ScanOptions> = {}): { hits: RecallHit[]; margin: number; candidates: number } {
    checkNumber('nowMs', nowMs);
    const r = scan(this.slab, this.codes, this.meta.length, this.D, query, k, { ...this.options.scan, ...opts });
    const hits: RecallHit[] = new Array(r.index.length);
    for (let i = 0; i < r.index.length; i++) {
      const m = this.meta[r.index[i]];
      if (nowMs > m.lastAccessMs) m.lastAccessMs = nowMs;
      hits[i] = m.payload === undefined ? { key: m.key, score: r.score[i] } : { key: m.key, score: r.score[i], payload: m.payload };
    }
    return { hits, margin: r.margin, candidates: r.candidates };
  }

  /** The item as a record (vector copied; payload shared: do not mutate), or undefined. */
  get(key: string): ItemRecord | undefined {
    const slot = this.slotOf.get(key);
    return slot === undefined ? undefined : this.record(slot);
  }

  /** Current salience of `key` at nowMs (recency from its lastAccessMs), or undefined. */
  currentSalience(key: string, nowMs: number): number | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    const m = this.meta[slot];
    return salience(m.novelty, m.reward, nowMs - m.lastAccessMs, this.options.salience);
  }

  stats(): TenantStats {
    const items = this.meta.length;
    const capacity = this.options.capacity;
    return { items, capacity, utilization: items / capacity, slots: this.slots, evictions: this.evicted };
  }

  /** Every item as a record (vectors copied, payloads shared), in slot order. Do not write while iterating. */
  *entries(): IterableIterator<ItemRecord> {
    for (let slot = 0; slot < this.meta.length; slot++) yield this.record(slot);
  }

  /**
   * Replaces the whole memory with `records` (from the store). Vectors are copied bit-exactly
   * (they must already be unit norm, |‖v‖ − 1| ≤ 1e-3). A record without `novelty` gets
   * (salience − β·reward − γ)/α, exact when its write-time salience was not clipped.
   * Later duplicates of a key win. If the records exceed the high-water mark, the policy
   * ranks them at nowMs and only the best lowWater·capacity are kept; the rest are returned.
   * @throws HoloError bad_dimension | bad_request (a malformed record; the memory is then unchanged)
   */
  load(records: Iterable<ItemRecord>, nowMs: number): { evicted: string[] } {
    checkNumber('nowMs', nowMs);
    const s = this.options.salience;
    const byKey = new Map<string, ItemRecord>();
    for (const r of records) {
      checkName('key', r.key, MAX_NAME_BYTES);
      checkLength(`item ${r.key} vector`, r.vector, this.D);
      checkFinite(`item ${r.key} vector`, r.vector);
      let qq = 0;
      for (let i = 0; i < this.D; i++) qq += r.vector[i] * r.vector[i];
      if (Math.abs(Math.sqrt(qq) - 1) > 1e-3) throw new HoloError('bad_request', `item ${r.key}: vector is not unit norm`);
      for (const f of ['salience', 'reward', 'createdMs', 'lastAccessMs'] as const) checkNumber(`item ${r.key} ${f}`, r[f]);
      byKey.delete(r.key);
      byKey.set(r.key, r);
    }
    this.clear();
    // Oldest first, so seq (the tie-breaker) follows write order.
    const all = [...byKey.values()].sort((a, b) => a.createdMs - b.createdMs);
    const metas = all.map((r): Meta => ({
      key: r.key,
      payload: r.payload === undefined ? undefined : new Uint8Array(r.payload),
      novelty: r.novelty ?? (s.alpha > 0 ? (r.salience - s.beta * r.reward - s.gamma) / s.alpha : 0),
      salience: r.salience,
      reward: r.reward,
      createdMs: r.createdMs,
      lastAccessMs: r.lastAccessMs,
      seq: this.seq++,
    }));
    let keep = all.length;
    const evicted: string[] = [];
    if (all.length / this.options.capacity > this.options.highWater) {
      keep = this.lowTarget;
      const order = this.evictionOrder(metas, nowMs);
      const out = new Set<number>(order.slice(0, all.length - keep));
      for (const i of out) evicted.push(metas[i].key);
      this.evicted += out.size;
      for (let i = 0, w = 0; i < all.length; i++) if (!out.has(i)) { all[w] = all[i]; metas[w++] = metas[i]; }
    }
    this.ensureSlots(keep);
    for (let i = 0; i < keep; i++) {
      this.slab.f32.set(all[i].vector, i * this.D);
      writeCode(this.slab, this.codes, i, this.D);
      this.payloadBytes += metas[i].payload?.length ?? 0;
      this.meta.push(metas[i]);
      this.slotOf.set(metas[i].key, i);
    }
    return { evicted };
  }

  /** Drops every item (the slab's allocation is kept). */
  clear(): void {
    this.meta = [];
    this.slotOf.clear();
    this.payloadBytes = 0;
  }

  private record(slot: number): ItemRecord {
    const m = this.meta[slot];
    const r: ItemRecord = {
      key: m.key,
      vector: this.slab.f32.slice(slot * this.D, (slot + 1) * this.D),
      salience: m.salience,
      reward: m.reward,
      createdMs: m.createdMs,
      lastAccessMs: m.lastAccessMs,
      novelty: m.novelty,
    };
    if (m.payload !== undefined) r.payload = m.payload;
    return r;
  }

  /** Evicts by policy until items ≤ target, never `protect`. Returns the evicted keys. */
  private evictTo(target: number, nowMs: number, protect: string | undefined): string[] {
    const need = this.meta.length - target;
    if (need <= 0) return [];
    const order = this.evictionOrder(this.meta, nowMs);
    const keys: string[] = [];
    for (let i = 0; i < order.length && keys.length < need; i++) {
      const key = this.meta[order[i]].key;
      if (key !== protect) keys.push(key);
    }
    // Remove by key: each removal moves the last row, so positions change as we go.
    for (const key of keys) this.removeSlot(this.slotOf.get(key)!);
    this.evicted += keys.length;
    return keys;
  }

  /** Indices of `metas`, first to evict first. */
  private evictionOrder(metas: Meta[], nowMs: number): number[] {
    const order = metas.map((_, i) => i);
    const byAge = (a: number, b: number) => metas[a].createdMs - metas[b].createdMs || metas[a].seq - metas[b].seq;
    if (this.options.evictionPolicy === 'oldest') return order.sort(byAge);
    const s = this.options.salience;
    const cur = new Float64Array(metas.length);
    for (let i = 0; i < metas.length; i++) {
      const m = metas[i];
      cur[i] = salience(m.novelty, m.reward, nowMs - m.lastAccessMs, s);
    }
    return order.sort((a, b) => cur[a] - cur[b] || byAge(a, b));
  }

  private removeSlot(slot: number): void {
    const last = this.meta.length - 1;
    const D = this.D;
    this.slotOf.delete(this.meta[slot].key);
    this.payloadBytes -= this.meta[slot].payload?.length ?? 0;
    if (slot !== last) {
      this.slab.f32.copyWithin(slot * D, last * D, (last + 1) * D);
      const W8 = codeWords(D) * 8;
      this.codes.u8.copyWithin(slot * W8, last * W8, (last + 1) * W8);
      const moved = this.meta[last];
      this.meta[slot] = moved;
      this.slotOf.set(moved.key, slot);
    }
    this.meta.pop();
  }

  private ensureSlots(rows: number): void {
    if (rows <= this.slots) return;
    let next = Math.max(this.slots, Math.min(this.options.initialSlots, this.options.capacity));
    while (next < rows) next *= 2;
    next = Math.min(next, this.options.capacity);
    if (next < rows) throw new HoloError('internal', `slab cannot hold ${rows} rows (capacity ${this.options.capacity})`);
    const heap = slabHeap();
    const W8 = codeWords(this.D) * 8;
    let slab: Block, codes: Block;
    try {
      slab = heap.alloc(next * this.D * 4);
    } catch (e) {
      throw new HoloError('overloaded', `this worker's slab memory is full (${(e as Error).message}): lower memoryBudgetBytes or add workers`);
    }
    try {
      codes = heap.alloc(next * W8);
    } catch (e) {
      heap.free(slab);
      throw new HoloError('overloaded', `this worker's slab memory is full (${(e as Error).message}): lower memoryBudgetBytes or add workers`);
    }
    slab.f32.set(this.slab.f32.subarray(0, this.meta.length * this.D));
    codes.u8.set(this.codes.u8.subarray(0, this.meta.length * W8));
    for (const b of this.held.blocks) heap.free(b);
    this.slab = slab;
    this.codes = codes;
    this.held.blocks = [slab, codes];
    this.slots = next;
  }
}

function checkInt(name: string, x: unknown, min: number): void {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
    throw new HoloError('bad_request', `options.${name} must be an integer ≥ ${min}, got ${String(x)}`);
  }
}

function checkNumber(name: string, x: unknown): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new HoloError('bad_request', `${name} must be a finite number, got ${String(x)}`);
}
