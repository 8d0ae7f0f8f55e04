/**
 * The adaptive micro-batcher. One queue per (worker, kind). A queue is sent to its worker as
 * ONE pool task:
 *   - at once (next event-loop turn, so frames that arrived together go together) when the
 *     worker has fewer than `pipeline` batches in flight: an idle server adds no window;
 *   - when it holds `batchMax` requests;
 *   - when its oldest request has waited `windowMs` (5 ms default), even if the worker is busy.
 * Otherwise requests wait for the worker to answer its current batch, and the next batch
 * takes everything that queued meanwhile: under load batches fill up by themselves.
 */
export interface BatcherOptions {
  workers: number;
  windowMs: number;
  batchMax: number;
  pipeline: number;
}

interface Queue<E> {
  items: E[];
  timer?: NodeJS.Timeout;
}

export type DispatchFn<E> = (worker: number, kind: string, entries: E[]) => Promise<void>;

export class Batcher<E> {
  private readonly queues: Map<string, Queue<E>>[];
  private readonly inflight: Int32Array;
  private readonly immediate: (NodeJS.Immediate | undefined)[];
  /** requests queued and not yet dispatched */
  queued = 0;

  constructor(private readonly opts: BatcherOptions, private readonly dispatch: DispatchFn<E>) {
    this.queues = Array.from({ length: opts.workers }, () => new Map());
    this.inflight = new Int32Array(opts.workers);
    this.immediate = new Array(opts.workers);
  }

  /** Nothing queued and no batch in flight but `batches` (the caller's own). */
  idle(batches = 0): boolean {
    if (this.queued > 0) return false;
    let n = 0;
    for (let w = 0; w < this.inflight.length; w++) n += this.inflight[w];
    return n <= batches;
  }

  /** Batches sent to worker w and not yet answered. */
  busy(w: number): number {
    return this.inflight[w];
  }

  push(w: number, kind: string, entry: E): void {
    let q = this.queues[w].get(kind);
    if (!q) this.queues[w].set(kind, (q = { items: [] }));
    q.items.push(entry);
    this.queued++;
    if (q.items.length >= this.opts.batchMax) {
      this.send(w, kind, q);
    } else if (this.inflight[w] < this.opts.pipeline) {
      this.immediate[w] ??= setImmediate(() => { this.immediate[w] = undefined; this.drain(w); });
    } else {
      q.timer ??= setTimeout(() => { q.timer = undefined; this.send(w, kind, q); }, this.opts.windowMs);
    }
  }

  /** Sends what worker w's queues hold while it has pipeline room. */
  private drain(w: number): void {
    for (const [kind, q] of this.queues[w]) {
      if (this.inflight[w] >= this.opts.pipeline) break;
      if (q.items.length > 0) this.send(w, kind, q);
    }
    // Whatever still waits gets its window timer.
    for (const [kind, q] of this.queues[w]) {
      if (q.items.length > 0) q.timer ??= setTimeout(() => { q.timer = undefined; this.send(w, kind, q); }, this.opts.windowMs);
    }
  }

  private send(w: number, kind: string, q: Queue<E>): void {
    if (q.timer) { clearTimeout(q.timer); q.timer = undefined; }
    while (q.items.length > 0) {
      const batch = q.items.splice(0, this.opts.batchMax);
      this.queued -= batch.length;
      this.inflight[w]++;
      this.dispatch(w, kind, batch).finally(() => {
        this.inflight[w]--;
        this.drain(w);
      });
      if (this.inflight[w] >= this.opts.pipeline && q.items.length < this.opts.batchMax) break;
    }
    if (q.items.length > 0) q.timer ??= setTimeout(() => { q.timer = undefined; this.send(w, kind, q); }, this.opts.windowMs);
  }
}
