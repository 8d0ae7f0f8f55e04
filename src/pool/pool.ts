/**
 * The shard pool: one Piscina pool of exactly one thread per worker slot. Piscina has no
 * per-worker routing (its loadBalancer sees a task's id and name, not its data), so affinity
 * is by construction: shard s always goes to pool s mod workers, whose single thread holds that
 * shard's tenants and graphs. Piscina still does what it is good at: the task queue, the
 * structured-clone transport (SharedArrayBuffers are shared, not copied), and replacing a
 * thread that dies (minThreads 1), whose in-flight tasks reject promptly so their requests
 * get `internal`. idleTimeout is Infinity: a stateful shard thread must never be reaped.
 * Measured here (issue #3): ~35 µs per pipelined task this way vs ~11 µs with one pool and a
 * custom balancer; batching spreads that over the batch (64 binds → ~0.5 µs each).
 */
import { Piscina } from 'piscina';
import type { Config } from '../config.js';
import type { BatchResult, BatchTask, Knobs, Task } from './messages.js';
import { LOCAL_OPS, LocalExecutor } from './local.js';
import { log } from '../log.js';

export class ShardPool {
  readonly size: number;
  /** threads started after the first (replacements of crashed workers) */
  restarts = 0;
  private readonly pools: Piscina[];
  /** what each thread starts from; the live knobs are kept current in it (knobsChanged) */
  private readonly workerData: Record<string, unknown>[] = [];
  /** The config every thread starts from (workerData); batches carry the live knobs. */
  private readonly threadCfg: Config;
  /** the idle path (local.ts), once startLocal has run */
  private local?: LocalExecutor;

  constructor(cfg: Config, roleTable: SharedArrayBuffer, workerFile: URL) {
    this.size = cfg.workers;
    this.threadCfg = { ...cfg };
    this.pools = [];
    for (let w = 0; w < cfg.workers; w++) {
      const pool = new Piscina({
        filename: workerFile.href,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Infinity,
        // The batcher keeps workerPipeline batches in flight (a live knob); Piscina only must not
        // hold back fewer than its largest value.
        concurrentTasksPerWorker: 64,
        workerData: this.workerData[w] = { cfg: this.threadCfg, roleTable, worker: w },
        // Piscina's own queue holds what the batcher forces out while the thread is busy
        // (full batches, window timers). Unbounded: admission is bounded by the credits and
        // maxQueued. ('auto' is maxThreads² = 1 here: a batch past it failed whole.)
        maxQueue: Infinity,
      });
      let created = 0;
      pool.on('workerCreate', () => { if (created++ > 0) this.restarts++; });
      // An uncaught error in a thread: Piscina replaces it; the tasks it held have rejected.
      pool.on('error', (e: unknown) => log.error({ err: e, worker: w }, `worker ${w} failed`));
      this.pools.push(pool);
    }
  }

  /** Runs a task on worker w. Rejects if the thread dies while holding it. */
  run<R>(w: number, task: Task): Promise<R> {
    return this.pools[w].run(task) as Promise<R>;
  }

  /** Builds the main thread's executor for lone requests on an idle server (local.ts). */
  async startLocal(roleTable: SharedArrayBuffer, layout: string, dim = this.threadCfg.dim): Promise<void> {
    this.local = undefined; // a dimension switch replaces it (src/dimension/)
    const local = await LocalExecutor.create({ ...this.threadCfg, dim }, roleTable);
    if (local.layout === layout) this.local = local; // else the table's spectra are not in its layout: stay off
  }

  /** Whether this batch may run on the main thread (one request of a LOCAL_OPS op). */
  canRunLocal(task: Pick<BatchTask, 'items'>): boolean {
    return this.local !== undefined && task.items.length === 1 && LOCAL_OPS.has(task.items[0].op);
  }

  /**
   * Runs a batch that canRunLocal accepted, synchronously on this thread, under the live knobs
   * a worker would take with it (the dispatcher passes the current ones).
   */
  runLocal(task: BatchTask, knobs: Knobs): BatchResult {
    return this.local!.run(task, knobs);
  }

  /** A thread started after this (replacing a crashed one) starts with these live knobs. */
  knobsChanged(knobs: Knobs, version: number): void {
    for (const d of this.workerData) Object.assign(d, { knobs, knobsVersion: version });
  }

  /** The same task on every worker (init, status, prefetch, close). */
  broadcast<R>(task: Task): Promise<R[]> {
    // After a dimension switch a replacement thread must see the served D's role table.
    if (task.type === 'dimension.swap') for (const d of this.workerData) d.roleTable = task.roleTable;
    return Promise.all(this.pools.map((_, w) => this.run<R>(w, task)));
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}
