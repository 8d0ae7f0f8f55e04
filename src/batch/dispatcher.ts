/**
 * From a checked request to its outcome: coalesce with an identical request in flight, pick
 * the worker (tenant or graph → its shard's worker; anything else → the least busy), queue in
 * the batcher, and when the batch goes, resolve the roles it names in the shared table, run it
 * as one pool task and hand each request its outcome. A worker that dies fails its batch's
 * requests with `internal`, promptly; the pool has already started a replacement.
 */
import { describeBug, HoloError } from '../errors.js';
import type { Metrics } from '../metrics/registry.js';
import { OUT_OPS, type BatchResult, type Knobs, type Outcome, type TaskItem } from '../pool/messages.js';
import type { ShardPool } from '../pool/pool.js';
import type { RoleRef, RoleTable } from '../roles/table.js';
import type { ShardMap } from '../pool/shard.js';
import type { Parsed } from '../protocol/ops.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import { IDLE_GAP_MS } from '../pool/local.js';
import type { VectorArena } from '../protocol/arena.js';
import { Coalescer, coalesceKey } from './coalescer.js';
import { log } from '../log.js';

interface Entry {
  parsed: Parsed;
  /** the shard it routes to, -1 for unrouted ops */
  shard: number;
  key?: string;
  /** the pooled slot the worker writes this request's result vector into (OUT_OPS) */
  out?: Float32Array;
  enqueuedAt: number;
  /** ms since the request submitted before this one (the idle path takes lone requests only) */
  gapMs?: number;
  promise: Promise<Outcome>;
  resolve: (o: Outcome) => void;
}

export interface DispatcherOptions extends BatcherOptions {
  maxQueued: number;
  /**
   * How long a finished pure computation (HRR, Sinkhorn, heat) stays joinable, ms: identical
   * requests arriving that soon after it completed get its answer. A burst of identical frames
   * takes a few ms to arrive; without this, the ones arriving after the first batch returned
   * would compute again. 0: only requests in flight at the same time coalesce.
   */
  coalesceLingerMs: number;
  /** the live knobs and their version, read as each batch leaves (src/knobs/live.ts) */
  knobs: () => { knobs: Knobs; version: number };
}

export class Dispatcher {
  private readonly batcher: Batcher<Entry>;
  private readonly coalescer = new Coalescer<Entry>();
  /** per shard, bumped by each write: reads coalesce only within one epoch */
  private readonly epochs: Uint32Array;
  private knobsEpoch = 0;
  private lastSubmitAt = -Infinity;
  /** requests accepted and not yet answered (for draining) */
  pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly opts: DispatcherOptions,
    private readonly pool: ShardPool,
    private roles: RoleTable,
    private readonly shards: ShardMap,
    private readonly metrics: Metrics,
    /** received vectors go back to it when their request is answered */
    private arena?: VectorArena,
  ) {
    this.batcher = new Batcher<Entry>(opts, (w, kind, entries) => this.run(w, kind, entries));
    this.epochs = new Uint32Array(shards.shards);
  }

  /** The outcome of a checked request (never rejects). */
  submit(parsed: Parsed): Promise<Outcome> {
    const shard = parsed.routeKey !== undefined ? this.shards.shard(parsed.routeKey) : -1;
    let key: string | undefined;
    if (parsed.write) {
      if (shard >= 0) this.epochs[shard]++;
    } else {
      key = coalesceKey(parsed, `${this.knobsEpoch}.${shard >= 0 ? this.epochs[shard] : 0}`);
      const twin = this.coalescer.find(key, parsed);
      if (twin) {
        this.arena?.release(parsed.params);
        this.metrics.coalesced.inc({ op: parsed.op });
        return twin.promise;
      }
    }
    if (this.batcher.queued >= this.opts.maxQueued) {
      this.arena?.release(parsed.params);
      return Promise.resolve({ ok: false, code: 'overloaded', message: `server queue is full (${this.opts.maxQueued} requests)` });
    }
    let resolve!: (o: Outcome) => void;
    const promise = new Promise<Outcome>((r) => { resolve = r; });
    const now = performance.now();
    const entry: Entry = { parsed, shard, key, enqueuedAt: now, gapMs: now - this.lastSubmitAt, promise, resolve };
    this.lastSubmitAt = now;
    if (key !== undefined) this.coalescer.add(key, entry);
    this.pending++;
    const w = shard >= 0 ? shard % this.pool.size : this.leastBusy();
    this.batcher.push(w, parsed.kind, entry);
    this.metrics.queued.set(this.batcher.queued);
    return promise;
  }

  /** Queues a request on a named worker, never coalesced (drills). */
  submitTo(w: number, parsed: Parsed): Promise<Outcome> {
    let resolve!: (o: Outcome) => void;
    const promise = new Promise<Outcome>((r) => { resolve = r; });
    this.pending++;
    this.batcher.push(w, parsed.kind, { parsed, shard: -1, enqueuedAt: performance.now(), promise, resolve });
    return promise;
  }

  /** Resolves when nothing is pending (SIGTERM drain). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private leastBusy(): number {
    let best = 0;
    for (let w = 1; w < this.pool.size; w++) if (this.batcher.busy(w) < this.batcher.busy(best)) best = w;
    return best;
  }

  /**
   * Runs f with no batch on any worker (the dimension switch, src/dimension/): batches that
   * reach a worker from now on wait until f is done; f starts once those already sent are
   * answered. Resolves to f's result and how long the gate was closed (ms): the longest any
   * request waited on it.
   */
  async barrier<T>(f: () => Promise<T>): Promise<{ result: T; heldMs: number }> {
    while (this.gate) await this.gate; // one barrier at a time
    let open!: () => void;
    this.gate = new Promise<void>((r) => { open = r; });
    const t0 = performance.now();
    try {
      while (this.running > 0) await new Promise<void>((r) => this.runWaiters.push(r));
      const result = await f();
      return { result, heldMs: performance.now() - t0 };
    } finally {
      this.gate = null;
      open();
    }
  }

  private gate: Promise<void> | null = null;
  private running = 0;
  private runWaiters: (() => void)[] = [];

  /** The served D changed (under a barrier): roles and received vectors now come from these. */
  swapDimension(roles: RoleTable, arena: VectorArena | undefined): void {
    this.roles = roles;
    this.arena = arena;
  }

  /** Live knobs changed (admin): answers computed under the old ones stop being joinable. */
  knobsChanged(): void {
    this.knobsEpoch++;
  }

  private finish(e: Entry, o: Outcome): void {
    // Every `internal` a computation ends with (a worker's bug or crash), once per computation;
    // the front end counts its own (connection.ts).
    if (!o.ok && o.code === 'internal') this.metrics.internalErrors.inc({ op: e.parsed.op });
    if (!o.ok && o.budget) this.metrics.budgetRefusals.inc({ budget: o.budget });
    e.resolve(o);
    const key = e.key;
    if (key !== undefined && o.ok && this.opts.coalesceLingerMs > 0 && e.parsed.kind !== 'memory') {
      // Joinable a little longer; its vectors stay held (sameRequest compares them, joiners
      // reply from its result slot) until then.
      setTimeout(() => {
        this.coalescer.remove(key, e);
        this.releaseVectors(e);
      }, this.opts.coalesceLingerMs).unref();
    } else {
      if (key !== undefined) this.coalescer.remove(key, e);
      if (e.out) {
        // The result slot is read by the replies (connection.ts encodes in a `then` of this
        // promise, registered before this one, so it runs first).
        e.promise.then(() => this.releaseVectors(e));
      } else {
        this.releaseVectors(e); // the worker is done with them
      }
    }
    if (--this.pending === 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of ws) r();
    }
  }

  private releaseVectors(e: Entry): void {
    this.arena?.release(e.parsed.params);
    if (e.out) this.arena?.give(e.out);
  }

  private async run(w: number, kind: string, entries: Entry[]): Promise<void> {
    while (this.gate) await this.gate; // a dimension switch is under way
    this.running++;
    try {
      await this.runNow(w, kind, entries);
    } finally {
      if (--this.running === 0) for (const r of this.runWaiters.splice(0)) r();
    }
  }

  private async runNow(w: number, kind: string, entries: Entry[]): Promise<void> {
    const now = performance.now();
    // Bookkeeping once per batch: labelled children looked up once, counters added once.
    this.metrics.batchSize.labels(kind).observe(entries.length);
    this.metrics.queued.set(this.batcher.queued);
    const wait = this.metrics.queueWait.labels(kind);
    for (const e of entries) {
      const s = (now - e.enqueuedAt) / 1000;
      wait.observe(s);
      this.metrics.waited(w, e.shard, s);
    }
    let refs: RoleRef[] = [];
    const roles = this.roles; // the table these refs come from, whatever a switch does meanwhile
    try {
      // Roles are acquired request by request: a request whose roles do not fit in the table
      // next to those its batch-mates pinned is answered `overloaded` alone (retry later), and
      // the rest of the batch goes on.
      const have = new Set<string>();
      const admitted: Entry[] = [];
      for (const e of entries) {
        const need = [...new Set(e.parsed.tokens ?? [])].filter((t) => !have.has(t));
        try {
          const got = need.length > 0 ? roles.acquire(need) : [];
          for (const r of got) { refs.push(r); have.add(r.token); }
          admitted.push(e);
        } catch (err) {
          if (!(err instanceof HoloError)) throw err;
          this.finish(e, { ok: false, code: err.code, message: err.message });
        }
      }
      entries = admitted;
      if (entries.length === 0) return;
      let misses = 0;
      for (const r of refs) if (r.compute) misses++;
      if (misses > 0) this.metrics.roleCacheMisses.inc(misses);
      if (refs.length > misses) this.metrics.roleCacheHits.inc(refs.length - misses);
      const items: TaskItem[] = entries.map((e) => {
        const item: TaskItem = { op: e.parsed.op, params: e.parsed.params };
        if (this.arena && OUT_OPS.has(e.parsed.op)) item.out = e.out = this.arena.take();
        return item;
      });
      const base = { type: 'batch' as const, kind, items, roles: refs, nowMs: Date.now() };
      // The idle path (pool/local.ts): a lone cheap request while no other batch is out. It runs
      // under the same live knobs a worker would (knobsFor is not called: w has not been sent them).
      const local = entries.length === 1 && entries[0].gapMs! >= IDLE_GAP_MS && this.batcher.idle(1) && this.pool.canRunLocal(base);
      let res: BatchResult;
      if (local) {
        const { knobs, version } = this.opts.knobs();
        this.metrics.idlePath.inc(items.length);
        res = this.pool.runLocal({ ...base, knobsVersion: version }, knobs);
      } else {
        res = await this.pool.run<BatchResult>(w, { ...base, ...this.knobsFor(w) });
      }
      this.metrics.record(res.obs, w, entries.map((e) => e.shard));
      // computations by op: a batch is usually one op, so count runs of equal ops
      let runOp = entries[0].parsed.op, runLen = 0;
      entries.forEach((e, i) => {
        if (e.parsed.op !== runOp) { this.metrics.computations.labels(runOp).inc(runLen); runOp = e.parsed.op; runLen = 0; }
        runLen++;
        const o = res.outcomes[i];
        if (o.ok && o.result.overBudget === true) this.metrics.overBudget.inc({ op: e.parsed.op });
        this.finish(e, res.outcomes[i]);
      });
      this.metrics.computations.labels(runOp).inc(runLen);
    } catch (err) {
      const o: Outcome = err instanceof HoloError
        ? { ok: false, code: err.code, message: err.message }
        : { ok: false, code: 'internal', message: `worker failed while computing this batch: ${String((err as Error)?.message ?? err).slice(0, 200)}` };
      if (!(err instanceof HoloError)) log.error({ worker: w, bug: describeBug(err) }, `batch on worker ${w} failed`);
      for (const e of entries) this.finish(e, o);
    } finally {
      roles.release(refs);
    }
  }
  /** The knobs' version for a batch to worker w, with their values if w has not had them. */
  private knobsFor(w: number): { knobsVersion: number; knobs?: Knobs } {
    const { knobs, version } = this.opts.knobs();
    if (this.pool.restarts !== this.restartsSeen) { this.knobsSent.fill(-1); this.restartsSeen = this.pool.restarts; }
    if (this.knobsSent[w] === version) return { knobsVersion: version };
    this.knobsSent[w] = version;
    return { knobsVersion: version, knobs };
  }
  /** per worker, the knobs version last sent (-1: none; a replaced thread gets them again) */
  private readonly knobsSent = new Int32Array(256).fill(-1); // workers ≤ 256 (knob table)
  private restartsSeen = 0;
}
