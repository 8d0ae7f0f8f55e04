/**
 * From a checked request to its outcome: coalesce with an identical request in flight, pick
 * the worker (tenant or graph → its shard's worker; anything else → the least busy), queue in
 * the batcher, and when the batch goes, resolve the roles it names in the shared table, run it
 * as one pool task and hand each request its outcome. A worker that dies fails its batch's
 * requests with `internal`, promptly; the pool has already started a replacement.
 */
import { HoloError } from '../errors.js';
import type { Metrics } from '../metrics/registry.js';
import type { BatchResult, Outcome, TaskItem } from '../pool/messages.js';
import type { ShardPool } from '../pool/pool.js';
import type { RoleRef, RoleTable } from '../roles/table.js';
import type { ShardMap } from '../pool/shard.js';
import type { Parsed } from '../protocol/ops.js';
import { Batcher, type BatcherOptions } from './batcher.js';
import type { VectorArena } from '../protocol/arena.js';
import { Coalescer, coalesceKey } from './coalescer.js';
import { log } from '../log.js';

interface Entry {
  parsed: Parsed;
  key?: string;
  enqueuedAt: number;
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
}

export class Dispatcher {
  private readonly batcher: Batcher<Entry>;
  private readonly coalescer = new Coalescer<Entry>();
  /** per shard, bumped by each write: reads coalesce only within one epoch */
  private readonly epochs: Uint32Array;
  private knobsEpoch = 0;
  /** requests accepted and not yet answered (for draining) */
  pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly opts: DispatcherOptions,
    private readonly pool: ShardPool,
    private readonly roles: RoleTable,
    private readonly shards: ShardMap,
    private readonly metrics: Metrics,
    /** received vectors go back to it when their request is answered */
    private readonly arena?: VectorArena,
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
    const entry: Entry = { parsed, key, enqueuedAt: performance.now(), promise, resolve };
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
    this.batcher.push(w, parsed.kind, { parsed, enqueuedAt: performance.now(), promise, resolve });
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

  /** Live knobs changed (admin): answers computed under the old ones stop being joinable. */
  knobsChanged(): void {
    this.knobsEpoch++;
  }

  private finish(e: Entry, o: Outcome): void {
    e.resolve(o);
    const key = e.key;
    if (key !== undefined && o.ok && this.opts.coalesceLingerMs > 0 && e.parsed.kind !== 'memory') {
      // Joinable a little longer; its vectors stay held (sameRequest compares them) until then.
      setTimeout(() => {
        this.coalescer.remove(key, e);
        this.arena?.release(e.parsed.params);
      }, this.opts.coalesceLingerMs).unref();
    } else {
      if (key !== undefined) this.coalescer.remove(key, e);
      this.arena?.release(e.parsed.params); // the worker is done with them
    }
    if (--this.pending === 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of ws) r();
    }
  }

  private async run(w: number, kind: string, entries: Entry[]): Promise<void> {
    const now = performance.now();
    this.metrics.batchSize.observe({ kind }, entries.length);
    this.metrics.queued.set(this.batcher.queued);
    for (const e of entries) this.metrics.queueWait.observe({ kind }, (now - e.enqueuedAt) / 1000);
    let refs: RoleRef[] = [];
    try {
      // Roles are acquired request by request: a request whose roles do not fit in the table
      // next to those its batch-mates pinned is answered `overloaded` alone (retry later), and
      // the rest of the batch goes on.
      const have = new Set<string>();
      const admitted: Entry[] = [];
      for (const e of entries) {
        const need = [...new Set(e.parsed.tokens ?? [])].filter((t) => !have.has(t));
        try {
          const got = need.length > 0 ? this.roles.acquire(need) : [];
          for (const r of got) { refs.push(r); have.add(r.token); }
          admitted.push(e);
        } catch (err) {
          if (!(err instanceof HoloError)) throw err;
          this.finish(e, { ok: false, code: err.code, message: err.message });
        }
      }
      entries = admitted;
      if (entries.length === 0) return;
      for (const r of refs) if (r.compute) this.metrics.roleCacheMisses.inc(); else this.metrics.roleCacheHits.inc();
      const items: TaskItem[] = entries.map((e) => ({ op: e.parsed.op, params: e.parsed.params }));
      const res = await this.pool.run<BatchResult>(w, { type: 'batch', kind, items, roles: refs, nowMs: Date.now() });
      this.metrics.record(res.obs);
      entries.forEach((e, i) => {
        this.metrics.computations.inc({ op: e.parsed.op });
        this.finish(e, res.outcomes[i]);
      });
    } catch (err) {
      const o: Outcome = err instanceof HoloError
        ? { ok: false, code: err.code, message: err.message }
        : { ok: false, code: 'internal', message: `worker failed while computing this batch: ${(err as Error)?.message ?? String(err)}` };
      if (!(err instanceof HoloError)) log.error({ err, worker: w }, `batch on worker ${w} failed`);
      for (const e of entries) this.finish(e, o);
    } finally {
      this.roles.release(refs);
      this.metrics.roleCacheSize.set(this.roles.size);
      this.metrics.roleCacheEvictions.inc(this.roles.evictions - this.evictionsSeen);
      this.evictionsSeen = this.roles.evictions;
      this.metrics.workerRestarts.set(this.pool.restarts);
    }
  }
  private evictionsSeen = 0;
}
