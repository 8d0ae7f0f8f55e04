/**
 * Scan helper threads of one shard worker (setting recallSplitThreads): each is a worker_thread
 * holding this worker's slab memory (scan-helper.ts), so one hot tenant's exact scan is split over
 * this thread and its helpers (memory/scan.ts, selectSplit). The worker blocks in Atomics.wait
 * until its helpers are done, inside the synchronous recall: no write to the tenant can happen
 * meanwhile (the worker is its only writer), so a helper never sees a row half written. A helper
 * that does not answer within HELPER_TIMEOUT_MS is dropped and its rows are scanned by the worker.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { slabMemory } from '../kernels/wasm/scan.js';
import type { ScanSplitter } from '../memory/scan.js';
import { CONTROL_BYTES, F, IDLE, JOB, QUIT } from './scan-control.js';
import { log } from '../log.js';

const HELPER_TIMEOUT_MS = 10_000;
// Compiled: dist/src/worker/scan-helper.js beside this file; from source (vitest): the compiled one.
const CANDIDATES = ['./scan-helper.js', '../../dist/src/worker/scan-helper.js'];

export interface ScanHelpers extends ScanSplitter {
  close(): Promise<void>;
}

/** Starts n helper threads over this thread's slab memory; null when n = 0 or there is no WASM slab memory. */
export function startScanHelpers(n: number): ScanHelpers | null {
  const memory = slabMemory();
  if (n <= 0 || memory === null) return null;
  const url = CANDIDATES.map((rel) => new URL(rel, import.meta.url)).find((u) => existsSync(u));
  if (!url) return null;
  const controls: Int32Array[] = [];
  const threads: Worker[] = [];
  const alive: boolean[] = [];
  for (let h = 0; h < n; h++) {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const w = new Worker(url, { workerData: { memory, control } });
    w.unref();
    w.on('error', (e) => { alive[h] = false; log.error({ err: e, helper: h }, 'scan helper failed'); });
    w.on('exit', () => { alive[h] = false; });
    controls.push(new Int32Array(control));
    threads.push(w);
    alive.push(true);
  }
  return {
    helpers: n,
    start(h, slabPtr, rows, D, q, m, ts, ti) {
      const c = controls[h];
      if (!alive[h]) return;
      c[F.slab] = slabPtr; c[F.rows] = rows; c[F.D] = D; c[F.q] = q; c[F.m] = m; c[F.ts] = ts; c[F.ti] = ti;
      Atomics.store(c, F.state, JOB);
      Atomics.notify(c, F.state);
    },
    wait(h) {
      const c = controls[h];
      if (!alive[h] || Atomics.load(c, F.state) === IDLE) return -1;
      if (Atomics.wait(c, F.state, JOB, HELPER_TIMEOUT_MS) === 'timed-out' && Atomics.load(c, F.state) === JOB) {
        alive[h] = false; // it may still be reading: it is never handed another job
        log.warn({ helper: h, timeoutMs: HELPER_TIMEOUT_MS }, `scan helper ${h} did not answer in ${HELPER_TIMEOUT_MS} ms; its rows are scanned here`);
        return -1;
      }
      const filled = c[F.filled];
      Atomics.store(c, F.state, IDLE);
      return Atomics.load(c, F.state) === IDLE && filled >= 0 ? filled : -1;
    },
    async close() {
      for (let h = 0; h < n; h++) { Atomics.store(controls[h], F.state, QUIT); Atomics.notify(controls[h], F.state); }
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}
