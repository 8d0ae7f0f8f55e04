/**
 * What a batch hand-off to a worker thread costs (issue #8, "a lighter hand-off for small
 * batches"): Piscina's run() (the pool holoserve uses), a bare MessagePort round trip, and a
 * shared ring (a SharedArrayBuffer counter, Atomics.notify to wake the worker, Atomics.waitAsync
 * for the answer) with the worker blocked in Atomics.wait or waiting in Atomics.waitAsync, each
 * carrying a batch of `items` vectors that live in a shared arena, with no work on the worker
 * beyond reading them. docs/LOAD.md has the numbers and what came of them. Two regimes: back to back (the worker never parks)
 * and paced at one batch per `gapMs` (the worker parks between batches and must be woken, the
 * served path's half-load case). Rounds are interleaved A B C, A B C …; reported per round
 * trip: latency (p50) and the process's CPU (all threads, process.cpuUsage).
 * `node dist/bench/handoff/handoff.bench.js`
 */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { waitAsync } from './worker.js';

const D = 8192;
const WORKER = new URL('./worker.js', import.meta.url);
const ROUNDS = 5;

interface Result { latUs: number[]; cpuUs: number[] }

function batch(arena: SharedArrayBuffer, items: number): { type: string; kind: string; items: { op: string; params: { a: Float32Array; role: string } }[]; roles: { token: string; slot: number }[] } {
  return {
    type: 'batch', kind: 'hrr',
    items: Array.from({ length: items }, (_, i) => ({ op: 'bind', params: { a: new Float32Array(arena, i * D * 4, D), role: 'agent' } })),
    roles: [{ token: 'agent', slot: 3 }],
  };
}

type Trip = () => Promise<unknown>;

async function phase(trip: Trip, count: number, gapMs: number): Promise<{ lat: number; cpu: number }> {
  const lats: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await trip();
    lats.push((performance.now() - s) * 1000);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  const c = process.cpuUsage(c0);
  void t0;
  lats.sort((x, y) => x - y);
  // CPU per trip: the paced case also pays for its timers; the same for every method.
  return { lat: lats[lats.length >> 1], cpu: (c.user + c.system) / count };
}

export async function runHandoffBench(items = 4): Promise<void> {
  const arena = new SharedArrayBuffer(64 * D * 4);
  const task = batch(arena, items);

  const pool = new Piscina({ filename: WORKER.href, minThreads: 1, maxThreads: 1, idleTimeout: Infinity, concurrentTasksPerWorker: 64, maxQueue: Infinity });
  const piscina: Trip = () => pool.run(task);

  const portWorker = new Worker(WORKER, { workerData: { mode: 'port' } });
  await new Promise((r) => portWorker.once('online', r));
  let portResolve: (v: unknown) => void = () => {};
  portWorker.on('message', (m) => portResolve(m));
  const port: Trip = () => new Promise((r) => { portResolve = r; portWorker.postMessage(task); });

  const ringOf = async (mode: string): Promise<{ trip: Trip; stop: () => Promise<number> }> => {
    const ctlBuf = new SharedArrayBuffer(16);
    const ctl = new Int32Array(ctlBuf);
    const worker = new Worker(WORKER, { workerData: { mode, ctl: ctlBuf, arena, D } });
    await new Promise((r) => worker.once('online', r));
    let seq = 0;
    const trip: Trip = async () => {
      const before = Atomics.load(ctl, 1);
      Atomics.store(ctl, 2, items);
      Atomics.store(ctl, 0, ++seq);
      Atomics.notify(ctl, 0);
      while (Atomics.load(ctl, 1) === before) {
        const w = waitAsync(ctl, 1, before);
        if (w.async) await w.value;
      }
    };
    return { trip, stop: () => { Atomics.store(ctl, 0, -1); Atomics.notify(ctl, 0); return worker.terminate(); } };
  };
  const ringBlocking = await ringOf('ring');
  const ringAsync = await ringOf('ring-async');

  const methods: [string, Trip][] = [['Piscina run()', piscina], ['MessagePort', port], ['ring, worker Atomics.wait', ringBlocking.trip], ['ring, worker waitAsync', ringAsync.trip]];
  for (const [, t] of methods) for (let i = 0; i < 300; i++) await t(); // warm-up
  for (const [label, gap, count] of [['back to back', 0, 3000], ['paced, 1 ms apart (worker parks)', 1, 400]] as const) {
    const res = new Map<string, Result>(methods.map(([n]) => [n, { latUs: [], cpuUs: [] }]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [n, t] of methods) {
        const p = await phase(t, count, gap);
        res.get(n)!.latUs.push(p.lat);
        res.get(n)!.cpuUs.push(p.cpu);
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    console.log(`\n${label}, batches of ${items} vectors (D = ${D}), medians of ${ROUNDS} interleaved rounds:`);
    const base = res.get('Piscina run()')!;
    for (const [n] of methods) {
      const x = res.get(n)!;
      const ratio = med(x.cpuUs.map((c, i) => c / base.cpuUs[i]));
      console.log(`  ${n.padEnd(24)} round trip p50 ${med(x.latUs).toFixed(1).padStart(7)} µs   CPU ${med(x.cpuUs).toFixed(1).padStart(6)} µs per trip (all threads)   CPU / Piscina's ${ratio.toFixed(2)}×`);
    }
  }
  await Promise.all([pool.destroy(), portWorker.terminate(), ringBlocking.stop(), ringAsync.stop()]);
}

if (import.meta.url === `file://${process.argv[1]}`) await runHandoffBench(Number(process.argv[2] ?? 4));
