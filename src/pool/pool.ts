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
import type { Task } from './messages.js';
import { log } from '../log.js';

export class ShardPool {
  readonly size: number;
  /** threads started after the first (replacements of crashed workers) */
  restarts = 0;
  private readonly pools: Piscina[];
  /** The config every thread starts from (workerData), kept current with the live knobs. */
  private readonly threadCfg: Config;

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
        concurrentTasksPerWorker: cfg.workerPipeline,
        workerData: { cfg: this.threadCfg, roleTable, worker: w },
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

  /** The same task on every worker (init, knobs, prefetch, close). */
  broadcast<R>(task: Task): Promise<R[]> {
    // Piscina hands the same workerData object to every thread it creates, so a thread that
    // replaces a crashed one starts with the live knobs instead of the start-up ones.
    if (task.type === 'knobs') Object.assign(this.threadCfg, task.knobs);
    return Promise.all(this.pools.map((_, w) => this.run<R>(w, task)));
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy()));
  }
}
