/**
 * The worker side of bench/handoff/handoff.bench.ts. As Piscina's task function it echoes a batch
 * descriptor; started as a plain worker it either answers MessagePort messages or runs the
 * shared-ring loop (Atomics.wait on the request counter, Atomics.notify on the reply counter).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

/** A stand-in for a batch's work: touches every item's vector once (a sum), as a handler would read it. */
/** Atomics.waitAsync (V8 ≥ 8.7, every Node this package supports); TypeScript's lib here predates it. */
export const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

type Item = { op: string; params: { a?: Float32Array; slot?: number } };
let arenaView: Float32Array | null = null;

function work(items: Item[]): number {
  let s = 0;
  for (const it of items) s += it.params.a ? it.params.a[0] : (arenaView?.[it.params.slot! * 8192] ?? 0);
  return s;
}

export default function piscinaTask(task: { items: Item[] }): { outcomes: { ok: boolean }[]; s: number } {
  return { outcomes: task.items.map(() => ({ ok: true })), s: work(task.items) };
}

if (!isMainThread && workerData?.mode === 'port') {
  parentPort!.on('message', (task: { items: Item[] }) => parentPort!.postMessage(piscinaTask(task)));
}

/**
 * The ring (modes 'ring' and 'ring-async'): ctl[0] counts batches posted by the main thread,
 * ctl[1] batches answered, ctl[2] holds the items of the posted batch, whose vectors are arena
 * slots 0..items-1 (workerData.arena). answer() reads them and marks the batch done.
 */
function ringOf(): { ctl: Int32Array; answer: (seq: number) => void } {
  const ctl = new Int32Array(workerData.ctl as SharedArrayBuffer);
  const arena = new Float32Array(workerData.arena as SharedArrayBuffer);
  const D = workerData.D as number;
  const answer = (seq: number) => {
    const n = Atomics.load(ctl, 2);
    let s = 0;
    for (let i = 0; i < n; i++) s += arena[i * D];
    ctl[3] = s | 0;
    Atomics.store(ctl, 1, seq);
    Atomics.notify(ctl, 1);
  };
  return { ctl, answer };
}

if (!isMainThread && workerData?.mode === 'ring') {
  // The worker blocks in Atomics.wait between batches (what Piscina's atomics: 'sync' does).
  const { ctl, answer } = ringOf();
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    if (seen < 0) break;
    answer(seen);
  }
}

if (!isMainThread && workerData?.mode === 'ring-async') {
  // The worker's event loop stays alive (what Piscina's atomics: 'async' allows): it waits with
  // Atomics.waitAsync instead of blocking.
  const { ctl, answer } = ringOf();
  let seen = 0;
  const alive = setInterval(() => {}, 1 << 30); // a pending waitAsync alone does not keep a thread's loop alive
  const loop = async (): Promise<void> => {
    for (;;) {
      const w = waitAsync(ctl, 0, seen);
      if (w.async) await w.value;
      seen = Atomics.load(ctl, 0);
      if (seen < 0) { clearInterval(alive); return; }
      answer(seen);
    }
  };
  void loop();
}
