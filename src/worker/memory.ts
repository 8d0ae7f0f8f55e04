/**
 * The memory room inside a shard worker: the tenants this worker owns (working memory and
 * anchor book each), the embedding cache, the recall result cache, and the durable store.
 * Handlers run synchronously on state already loaded; `prepare` loads the batch's tenants from
 * the store first, and `commit` makes the batch's writes durable in ONE transaction before any
 * of them is acknowledged. If that commit fails, the writes are answered `internal` and the
 * touched tenants are dropped from memory, so what is served again is what is on disk.
 */
import { createHash } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { HoloError } from '../errors.js';
import type { Config } from '../config.js';
import { cosine } from '../kernels/hrr/cosine.js';
import { permute, tokenize } from '../kernels/hrr/encode.js';
import type { Hrr } from '../kernels/hrr/hrr.js';
import { unbindRole } from '../kernels/hrr/unbind.js';
import { encodeRecord, type RecordFields } from '../kernels/hrr/record.js';
import { AnchorBook } from '../memory/anchors.js';
import { LruCache, TtlCache } from '../memory/cache.js';
import { setScanSplitter } from '../memory/scan.js';
import { TenantMemory, type RecallHit } from '../memory/tenant.js';
import type { BatchObs, Knobs, Outcome, TaskItem, TenantLoad } from '../pool/messages.js';
import { openStore } from '../store/open.js';
import type { ItemSource, Store, Write } from '../store/store.js';
import type { ExecContext } from './context.js';
import type { Handler } from './hrr.js';
import { startScanHelpers } from './scan-helpers.js';
import { log } from '../log.js';

interface Tenant {
  memory: TenantMemory;
  anchors: AnchorBook;
  /** requests run for it and seconds spent in its recalls, since loaded (recall-latency-spike drill) */
  requests: number;
  recallSeconds: number;
}

interface CachedRecall {
  hits: RecallHit[];
  margin: number;
  reranked: boolean;
  candidates: number;
}

/** Smallest slab whose exact scan is split over helper threads (≈ 1 ms of scanning). */
const SPLIT_MIN_BYTES = 8 * 1024 * 1024;

/** Objects, maps and strings of a loaded tenant beyond its blocks, bytes (an estimate; the budget's unit). */
const TENANT_OVERHEAD = 2048;

function bytesOfTenant(t: Tenant): number {
  return t.memory.bytes + t.anchors.bytes + TENANT_OVERHEAD;
}

export interface MemoryRoom {
  handlers: Record<string, Handler>;
  /** Loads the tenants a batch names (from the store on first use). */
  prepare(items: readonly TaskItem[]): Promise<void>;
  /** encode(text) through the embedding cache. */
  encode(text: string, compute: () => Float32Array, obs: BatchObs): Float32Array;
  /** Pins a system prompt's encoding (never evicted). */
  pin(text: string, vector: Float32Array): void;
  /** Commits the batch's writes durably, then lets their outcomes stand. */
  commit(ctx: ExecContext, outcomes: Outcome[]): Promise<void>;
  /** Loads tenants ahead of use (seed §3 background prefetch). */
  prefetch(tenants: readonly string[]): Promise<number>;
  /** Charges an item's handler time to its tenant (after it ran). */
  account(item: TaskItem, seconds: number): void;
  /** What this worker holds, per tenant. */
  load(): TenantLoad[];
  /** Tenants most recently active (by their last durable touch), most recent first. */
  recent(limit: number): Promise<string[]>;
  /** The durable store this room serves from (dimension rebuild reads and writes it directly). */
  readonly store: Store;
  /** Drops a tenant's in-memory state; the next use reloads it from the store. */
  unload(tenant: string): void;
  /**
   * This worker's share of memoryBudgetBytes for this room, bytes; least recently used tenants
   * leave at once past it. A rolling dimension increase holds two rooms (D and D′) and splits
   * the share between them in proportion to D (docs/OPERATIONS.md "Rolling dimension increase").
   */
  setBudget(bytes: number): void;
  /**
   * Live memory knobs (water marks, salience weights, anchorsMax, recallCacheTtlMs) changed:
   * loaded tenants leave memory (their state is durable) and reload with the new options at
   * their next batch; the recall cache starts empty. Called between batches, so a batch sees one set.
   */
  reconfigure(knobs: Knobs): void;
  /** tenants loaded, cache sizes (status) */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/** The knobs a tenant or the recall cache is built with. */
const MEMORY_KNOBS = ['highWater', 'lowWater', 'salienceAlpha', 'salienceBeta', 'salienceGamma', 'salienceTauSeconds', 'anchorsMax', 'recallCacheTtlMs'] as const;

/** The vector's own bytes (it may be a view into a larger shared block: vectors are pooled). */
function bytesOf(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** A worker's share of memoryBudgetBytes, bytes (its slab heap is one wasm32 memory: ≤ 3 GiB). */
export function workerBudgetBytes(cfg: Config): number {
  return Math.min(Math.floor(cfg.memoryBudgetBytes / cfg.workers), 3 * 2 ** 30);
}

export async function createMemoryRoom(cfg: Config, hrr: Hrr): Promise<MemoryRoom> {
  const store: Store = await openStore(cfg);
  // A hot tenant's exact scan split over helper threads (setting recallSplitThreads; slabs ≥ 8 MiB).
  const helpers = startScanHelpers(cfg.recallSplitThreads);
  setScanSplitter(helpers, SPLIT_MIN_BYTES);
  const tenants = new Map<string, Tenant>();
  const loading = new Map<string, Promise<Tenant>>();
  const embeddings = new LruCache<string, Float32Array>(cfg.embeddingCacheSize);
  let opts: Pick<Knobs, typeof MEMORY_KNOBS[number]> = { ...cfg };
  let recalls = new TtlCache<string, CachedRecall>({ ttlMs: opts.recallCacheTtlMs, maxEntries: 10_000 });
  const readSinceCommit = new Set<string>();
  // memoryBudgetBytes, split evenly over the workers; `tenants` is kept in use order (a Map
  // iterates in insertion order: every use re-inserts), so the first entries are the least
  // recently used, and they are unloaded after a batch while the held bytes exceed the budget.
  // A worker's slab heap is one wasm32 memory (≤ 4 GiB, slab-heap.ts): its share stops at 3 GiB,
  // leaving room for size-class slack.
  let budget = workerBudgetBytes(cfg);
  const held = new Map<string, number>();
  let heldTotal = 0;
  let loads = 0, unloads = 0;
  let writes: Write[] = [];
  let writeItems = new Set<number>(); // indices of this batch's items that wrote
  const batchTenants = new Set<string>(); // the running batch's tenants, re-measured after it

  async function load(name: string): Promise<Tenant> {
    const t = tenants.get(name);
    if (t) {
      tenants.delete(name); // most recently used now
      tenants.set(name, t);
      return t;
    }
    let p = loading.get(name);
    if (!p) {
      p = (async () => {
        const rec = await store.loadTenant(name);
        const now = Date.now();
        const memory = new TenantMemory({
          D: hrr.D, capacity: cfg.memoryCapacity, evictionPolicy: cfg.evictionPolicy, highWater: opts.highWater, lowWater: opts.lowWater,
          salience: { alpha: opts.salienceAlpha, beta: opts.salienceBeta, gamma: opts.salienceGamma, tauSeconds: opts.salienceTauSeconds },
        });
        const anchors = new AnchorBook({ D: hrr.D, anchorsMax: opts.anchorsMax });
        memory.load(rec.items, now);
        anchors.load(rec.anchors);
        const t2: Tenant = { memory, anchors, requests: 0, recallSeconds: 0 };
        tenants.set(name, t2);
        loads++;
        measure(name, t2);
        return t2;
      })().finally(() => loading.delete(name));
      loading.set(name, p);
    }
    return p;
  }

  /** Updates a tenant's held bytes. */
  function measure(name: string, t: Tenant): void {
    const b = bytesOfTenant(t);
    heldTotal += b - (held.get(name) ?? 0);
    held.set(name, b);
  }

  /** Drops a tenant from RAM (its data stays in the store; the next use loads it again). */
  function unload(name: string): void {
    const t = tenants.get(name);
    if (!t) return;
    tenants.delete(name);
    t.memory.dispose();
    heldTotal -= held.get(name) ?? 0;
    held.delete(name);
    recalls.invalidateGroup(name);
    // Its last read is no longer among the most recent ones a restart should prefetch, and
    // keeping every name ever read would grow without bound.
    readSinceCommit.delete(name);
  }

  /** After a batch: re-measure its tenants, then unload the least recently used past the budget. */
  function enforceBudget(touched: Iterable<string>): void {
    for (const name of touched) {
      const t = tenants.get(name);
      if (t) measure(name, t);
    }
    if (heldTotal <= budget) return;
    for (const name of tenants.keys()) {
      if (heldTotal <= budget) break;
      if (loading.has(name)) continue;
      unload(name);
      unloads++;
    }
  }

  function tenant(_ctx: ExecContext, p: Record<string, unknown>): Tenant {
    const name = p.tenant as string;
    const t = tenants.get(name);
    if (!t) throw new HoloError('internal', `tenant '${name}' was not loaded before its batch`);
    return t;
  }

  function vectorOf(ctx: ExecContext, p: Record<string, unknown>): Float32Array {
    if (p.vector !== undefined) return p.vector as Float32Array;
    if (p.record !== undefined) return encodeRecord(ctx.hrr, ctx.roleSource, p.record as RecordFields);
    return ctx.encode(p.text as string);
  }

  /** What the item is made from, kept durable with it so it can be rebuilt at another D. */
  function sourceOf(p: Record<string, unknown>): { source?: ItemSource } {
    if (p.record !== undefined) return { source: { record: p.record as RecordFields } };
    if (p.vector === undefined && typeof p.text === 'string') return { source: { text: p.text } };
    return {};
  }

  function recallKey(p: Record<string, unknown>, knobs: ExecContext['knobs']): string {
    // A text recall's answer also depends on the live rerank knobs: they are part of its key, so
    // a knob change is seen at once instead of after the TTL.
    const q = p.vector !== undefined
      ? createHash('sha1').update(bytesOf(p.vector as Float32Array)).digest('base64')
      : 't:' + (knobs.rerank ? `${knobs.rerankMargin}:${knobs.rerankCandidates}:` : 'off:') + (p.text as string);
    const scanKey = `${(p.mode as string | undefined) ?? knobs.recallMode}:${(p.oversampling as number | undefined) ?? knobs.recallOversampling}:${knobs.rerank ? knobs.rerankMargin : 'off'}`;
    // JSON of the parts, not a NUL-joined string: tenants and texts may contain NUL, so joining
    // made (tenant 'cv', k 1, text 'b\u00002\u0000t:c') and (tenant 'cv\u00001\u0000t:b', k 2, text 'c')
    // one key, and one tenant was served the other's cached hits (test/server/isolation.test.ts).
    return JSON.stringify([p.tenant as string, p.k as number, q, scanKey]);
  }

  /**
   * HRR-first rerank (SEED §6), for text queries whose recall margin is below the threshold:
   * each candidate v gets an order score, the mean over the query's adjacent token pairs
   * (t_i, t_{i+1}) of cosine(unbind(v, r(t_i)), Π r(t_{i+1})), i.e. how strongly v holds that
   * ordered pair (encode.ts binds exactly these). Candidates are reordered by score + order;
   * `score` stays the cosine. Vector queries have no token structure and are not reranked.
   */
  function rerank(ctx: ExecContext, t: Tenant, text: string, hits: RecallHit[]): boolean {
    const tokens = tokenize(text);
    if (tokens.length < 2 || hits.length < 2) return false;
    const pairs: { R: Float32Array; next: Float32Array }[] = [];
    for (let i = 0; i + 1 < tokens.length; i++) {
      pairs.push({ R: ctx.roleSource.spectrum(tokens[i]), next: permute(ctx.roleSource.vector(tokens[i + 1]), new Float32Array(hrr.D)) });
    }
    const out = new Float32Array(hrr.D);
    const order = new Map<RecallHit, number>();
    for (const h of hits) {
      const v = t.memory.get(h.key)!.vector;
      let s = 0;
      for (const { R, next } of pairs) s += cosine(unbindRole(hrr, v, R, {}, out).vector, next);
      order.set(h, s / pairs.length);
    }
    hits.sort((a, b) => b.score + order.get(b)! - (a.score + order.get(a)!));
    return true;
  }

  const handlers: Record<string, Handler> = {
    remember: (ctx, p) => {
      const t = tenant(ctx, p);
      const name = p.tenant as string;
      const r = t.memory.remember(p.key as string, vectorOf(ctx, p), { payload: p.payload as Uint8Array | undefined, reward: p.reward as number, nowMs: ctx.nowMs });
      writes.push({ kind: 'item.put', tenant: name, item: { ...t.memory.get(p.key as string)!, ...sourceOf(p) } });
      for (const k of r.evicted) writes.push({ kind: 'item.delete', tenant: name, key: k });
      recalls.invalidateGroup(name);
      ctx.obs.evictions += r.evicted.length;
      ctx.obs.utilization.push(t.memory.stats().utilization);
      return { stored: true, evicted: r.evicted.length };
    },
    forget: (ctx, p) => {
      const t = tenant(ctx, p);
      const removed = t.memory.forget(p.key as string);
      if (removed) {
        writes.push({ kind: 'item.delete', tenant: p.tenant as string, key: p.key as string });
        recalls.invalidateGroup(p.tenant as string);
      }
      return { removed };
    },
    recall: (ctx, p) => {
      const t = tenant(ctx, p);
      readSinceCommit.add(p.tenant as string);
      const key = recallKey(p, ctx.knobs);
      const hit = recalls.get(key, ctx.nowMs);
      if (hit) {
        ctx.obs.recallCacheHits++;
        return { hits: hit.hits, margin: hit.margin, reranked: hit.reranked, candidates: hit.candidates, cached: true };
      }
      ctx.obs.recallCacheMisses++;
      const k = p.k as number;
      const knobs = ctx.knobs;
      const wide = knobs.rerank && p.text !== undefined ? Math.max(k, knobs.rerankCandidates) : k;
      const query = vectorOf(ctx, p);
      const scan = { mode: (p.mode as 'exact' | 'binary' | undefined) ?? knobs.recallMode, oversampling: (p.oversampling as number | undefined) ?? knobs.recallOversampling };
      let r = t.memory.recall(query, wide, ctx.nowMs, scan);
      // The seed's "rerank only for low margin", on the binary index: with the rerank knob on, a
      // binary recall whose margin is below rerankMargin is rescored again over 4× the candidates.
      if (knobs.rerank && scan.mode === 'binary' && r.margin < knobs.rerankMargin && r.candidates < t.memory.size) {
        r = t.memory.recall(query, wide, ctx.nowMs, { mode: 'binary', oversampling: scan.oversampling * 4 });
      }
      ctx.obs.recallMargin.push(r.margin);
      const reranked = knobs.rerank && p.text !== undefined && r.margin < knobs.rerankMargin && rerank(ctx, t, p.text as string, r.hits);
      const hits = r.hits.slice(0, k);
      // RECALL_MARGIN_TOP12 is the scan's cosine margin, top1 − top2, whatever the rerank did
      // to the order (so it is never negative, and with k = 1 it still sees the runner-up).
      const margin = r.margin;
      recalls.set(key, { hits, margin, reranked, candidates: r.candidates }, ctx.nowMs, p.tenant as string);
      return { hits, margin, reranked, candidates: r.candidates };
    },
    cleanup: (ctx, p) => {
      const t = tenant(ctx, p);
      const c = t.anchors.cleanup(p.vector as Float32Array, ctx.nowMs);
      ctx.obs.cleanupScore.push(c.score);
      return { key: c.key, score: c.score, margin: c.margin };
    },
    'anchor.put': (ctx, p) => {
      const t = tenant(ctx, p);
      const name = p.tenant as string;
      const r = t.anchors.put(p.name as string, vectorOf(ctx, p), ctx.nowMs);
      writes.push({ kind: 'anchor.put', tenant: name, anchor: { ...t.anchors.get(p.name as string)!, ...sourceOf(p) } });
      if (r.evicted !== null) writes.push({ kind: 'anchor.delete', tenant: name, name: r.evicted });
      ctx.obs.saturation.push(t.anchors.saturation());
      return { stored: true, evicted: r.evicted };
    },
    'anchor.delete': (ctx, p) => {
      const t = tenant(ctx, p);
      const removed = t.anchors.delete(p.name as string);
      if (removed) writes.push({ kind: 'anchor.delete', tenant: p.tenant as string, name: p.name as string });
      return { removed };
    },
    stats: (ctx, p) => {
      const t = tenant(ctx, p);
      const s = t.memory.stats();
      return {
        items: s.items, capacity: s.capacity, utilization: s.utilization, evictions: s.evictions,
        anchors: t.anchors.size, anchorsMax: t.anchors.options.anchorsMax, saturation: t.anchors.saturation(),
      };
    },
  };

  // Writes are collected per item so a failed commit can fail exactly the items that wrote.
  const WRITE_OPS = new Set(['remember', 'forget', 'anchor.put', 'anchor.delete']);
  const wrapped: Record<string, Handler> = {};
  for (const [op, h] of Object.entries(handlers)) {
    wrapped[op] = WRITE_OPS.has(op)
      ? (ctx, p) => {
          const before = writes.length;
          const r = h(ctx, p);
          if (writes.length > before) writeItems.add(ctx.itemIndex);
          return r;
        }
      : h;
  }

  return {
    handlers: wrapped,
    async prepare(items) {
      const names = new Set<string>();
      for (const it of items) if (typeof it.params.tenant === 'string') names.add(it.params.tenant);
      for (const n of names) batchTenants.add(n);
      // Ownership across processes (store.hold): a tenant whose lease was lost since it was loaded is reloaded.
      if (store.hold) await Promise.all([...names].filter((n) => tenants.has(n)).map(async (n) => { if (!(await store.hold!(n))) unload(n); }));
      await Promise.all([...names].map(load));
    },
    encode(text, compute, obs) {
      const v = embeddings.get(text);
      if (v) { obs.embeddingHits++; return v; }
      obs.embeddingMisses++;
      const e = compute();
      embeddings.set(text, e);
      return e;
    },
    pin(text, vector) {
      embeddings.pin(text, vector);
    },
    async commit(ctx, outcomes) {
      try {
        await commitWrites(ctx, outcomes);
      } finally {
        enforceBudget(batchTenants);
        batchTenants.clear();
        ctx.obs.tenantBytes = { thread: threadId, bytes: heldTotal };
        ctx.obs.tenantLoads += loads;
        ctx.obs.tenantUnloads += unloads;
        loads = unloads = 0;
      }
    },
    async prefetch(names) {
      let n = 0;
      // Prefetch may run beside a batch, so it never unloads (a batch's tenants must stay
      // loaded until it runs): it stops once the budget is full.
      for (const name of names) {
        if (heldTotal >= budget) break;
        try { await load(name); n++; } catch (e) { log.error({ err: e, tenant: name }, 'prefetch of a tenant failed'); }
      }
      return n;
    },
    account(item, seconds) {
      const t = typeof item.params.tenant === 'string' ? tenants.get(item.params.tenant) : undefined;
      if (!t) return;
      t.requests++;
      if (item.op === 'recall') t.recallSeconds += seconds;
    },
    load() {
      return [...tenants].map(([tenant, t]) => ({
        tenant, items: t.memory.size, anchors: t.anchors.size, bytes: (t.memory.size + t.anchors.size) * hrr.D * 4,
        requests: t.requests, recallSeconds: t.recallSeconds,
      }));
    },
    recent(limit) {
      return store.recentTenants(limit);
    },
    store,
    unload(name) {
      unload(name);
    },
    reconfigure(knobs) {
      if (MEMORY_KNOBS.every((k) => knobs[k] === opts[k])) return;
      opts = { ...knobs };
      // Through unload (not a bare clear): the slabs are freed and the budget's held bytes stay
      // right; a tenant being loaded is skipped here and joins with the old marks until next time.
      for (const name of [...tenants.keys()]) unload(name);
      recalls = new TtlCache<string, CachedRecall>({ ttlMs: opts.recallCacheTtlMs, maxEntries: 10_000 });
    },
    setBudget(bytes) {
      budget = bytes;
      enforceBudget([]);
    },
    stats() {
      return { tenantsLoaded: tenants.size, embeddingCacheEntries: embeddings.size, recallCacheEntries: recalls.size, heldBytes: heldTotal, budgetBytes: budget };
    },
    async close() {
      const touches: Write[] = [...readSinceCommit].map((t) => ({ kind: 'tenant.touch', tenant: t, atMs: Date.now() }));
      if (touches.length) await store.commit(touches);
      await store.close();
      await helpers?.close();
    },
  };

  async function commitWrites(ctx: ExecContext, outcomes: Outcome[]): Promise<void> {
    if (writes.length === 0) return;
    const batch = writes;
    const wrote = writeItems;
    writes = [];
    writeItems = new Set();
    const touched = new Set<string>();
    for (const w of batch) touched.add(w.tenant);
    for (const t of touched) batch.push({ kind: 'tenant.touch', tenant: t, atMs: ctx.nowMs });
    const t0 = performance.now();
    try {
      await store.commit(batch);
      ctx.obs.commitSeconds.push((performance.now() - t0) / 1000);
    } catch (e) {
      log.error({ err: e }, 'store commit failed');
      for (const t of touched) unload(t);
      // A store that is unreachable (Redis restarting) is retryable: `unavailable`, not `internal`.
      const code = e instanceof HoloError && e.code === 'unavailable' ? 'unavailable' : 'internal';
      for (const i of wrote) outcomes[i] = { ok: false, code, message: code === 'unavailable' ? (e as Error).message : 'the write could not be made durable; it was not applied' };
    }
  }
}
