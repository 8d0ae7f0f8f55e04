/**
 * A scan helper thread (worker/scan-helpers.ts starts them): it holds its shard worker's slab
 * memory (a shared WebAssembly.Memory) and runs exact float32 selections over row ranges that
 * the worker hands it through a small shared control block, sleeping in Atomics.wait between
 * jobs. It never writes a slab; the worker waits for it inside the scan (memory/scan.ts).
 *
 *   control (Int32Array): [STATE, slabPtr, rows, D, q, m, ts, ti, filled]
 *   STATE: IDLE → JOB (worker) → DONE (helper) → IDLE (worker); QUIT ends the thread.
 */
import { workerData } from 'node:worker_threads';
import { scanKernelsOn } from '../kernels/wasm/scan.js';
import { DONE, JOB, QUIT, F } from './scan-control.js';

const { memory, control } = workerData as { memory: object; control: SharedArrayBuffer };
const c = new Int32Array(control);
const K = scanKernelsOn(memory);

for (;;) {
  Atomics.wait(c, F.state, 0); // sleeps while IDLE (0)
  const st = Atomics.load(c, F.state);
  if (st === QUIT) break;
  if (st !== JOB) continue;
  c[F.filled] = K.scanTopK(c[F.slab], c[F.rows], c[F.D], c[F.q], c[F.m], c[F.ts], c[F.ti]);
  Atomics.store(c, F.state, DONE);
  Atomics.notify(c, F.state);
}
