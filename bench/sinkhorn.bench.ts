/**
 * sinkhorn on a seeded random 64×64 problem (C uniform in [0, 1), random histograms), exactly
 * 100 iterations (tol 0, maxIter 100), at ε = 0.05·max C and 1e-3·max C, on both engines (js:
 * the reference loops; wasm: f64x2 SIMD, src/kernels/wasm/), against the same algorithm in C
 * (bench/native/sinkhorn.c, cc -O3 -march=native) fed the same bytes. Each side times a whole
 * call (validation aside in C): scratch, first log-domain step, 100 iterations, plan. Target:
 * ours ≤ 2× the C loop. The wasm result must equal the js one bit for bit, the C cost ours to
 * 1e-12 relative. The machine is shared: js, wasm and C alternate three rounds and each side
 * keeps its median round.
 *
 * Alone, from the repository root: npm run build && node dist/bench/sinkhorn.bench.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sinkhorn, type SinkhornResult } from '../src/kernels/ot/sinkhorn.js';
import { setKernelEngine, type KernelEngine } from '../src/kernels/wasm/engine.js';
import { wasmStatus } from '../src/kernels/wasm/load.js';
import { addNativeRatio, buildNative, type Native } from './native.js';
import { rng } from './seeded.js';
import { measure, type Row } from './timing.js';

const N = 64;
const ITERS = 100;
const REPS = 200;
const ROUNDS = 3;

function histogram(r: () => number, k: number): Float64Array {
  const h = new Float64Array(k);
  let s = 0;
  for (let i = 0; i < k; i++) s += h[i] = 0.05 + r();
  for (let i = 0; i < k; i++) h[i] /= s;
  return h;
}

/** A seeded 64×64 problem: C uniform in [0, 1), a and b random, each summing to 1. */
function problem(seed: number): { a: Float64Array; b: Float64Array; C: Float64Array; maxC: number } {
  const r = rng(seed);
  const C = new Float64Array(N * N);
  let maxC = 0;
  for (let k = 0; k < C.length; k++) maxC = Math.max(maxC, (C[k] = r()));
  return { a: histogram(r, N), b: histogram(r, N), C, maxC };
}

function runNative(native: Native, input: string, eps: number): { us: number; cost: number; iterations: number; absorptions: number } {
  const r = native.run([input, String(N), String(N), eps.toPrecision(17), String(ITERS), '0', String(REPS)]);
  return { us: r.field('median_us'), cost: r.field('cost'), iterations: r.field('iterations'), absorptions: r.field('absorptions') };
}

export function runSinkhornBench(): Row[] {
  const { a, b, C, maxC } = problem(7);
  const native = buildNative('sinkhorn');
  const input = native && join(native.dir, 'in.bin');
  if (input) writeFileSync(input, Buffer.concat([C, a, b].map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength))));
  const status = wasmStatus();
  const engines: KernelEngine[] = status.loaded ? ['js', 'wasm'] : ['js'];
  if (!status.loaded) console.log(`sinkhorn wasm rows skipped: ${status.reason}`);
  const rows: Row[] = [];
  try {
    for (const [label, rel] of [['0.05', 0.05], ['1e-3', 1e-3]] as const) {
      const eps = rel * maxC;
      const opts = { epsilon: eps, maxIter: ITERS, tol: 0 };
      const results = new Map<KernelEngine, SinkhornResult>();
      for (const e of engines) {
        setKernelEngine(e);
        const r = sinkhorn(a, b, C, N, N, opts);
        if (r.iterations !== ITERS) throw new Error(`expected ${ITERS} iterations, got ${r.iterations} (${e})`);
        results.set(e, r);
      }
      const ours = results.get('js')!;
      const wasm = results.get('wasm');
      // Same operations in the same order (docs in src/kernels/ot/sinkhorn.ts): equal bit for bit.
      if (wasm && (wasm.cost !== ours.cost || wasm.plan.some((x, k) => !Object.is(x, ours.plan[k])))) {
        throw new Error(`wasm and js sinkhorn disagree: cost ${wasm.cost} vs ${ours.cost}`);
      }
      const timed = new Map<KernelEngine, Row[]>(engines.map((e) => [e, []]));
      const nativeUs: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const e of engines) {
          setKernelEngine(e);
          timed.get(e)!.push(measure(`sinkhorn ${N}x${N} (${e})`, `n=m=${N}, ${ITERS} iterations, eps=${label}·max C`,
            () => sinkhorn(a, b, C, N, N, opts), { warmup: 50, reps: REPS, budgetMs: 3000 }));
        }
        if (native && input) {
          const nat = runNative(native, input, eps);
          // Same iterates: FMA contraction in C changes rounding only.
          const rel = Math.abs(nat.cost - ours.cost) / Math.abs(ours.cost);
          if (!(rel <= 1e-12) || nat.iterations !== ITERS) {
            throw new Error(`native and JS sinkhorn disagree: cost ${nat.cost} vs ${ours.cost}, ${nat.iterations} iterations`);
          }
          nativeUs.push(nat.us);
        }
      }
      for (const e of engines) {
        const row = timed.get(e)!.sort((p, q) => p.medianUs - q.medianUs)[ROUNDS >> 1];
        row.extra = { iterations: ours.iterations, absorptions: ours.absorptions, marginalError: ours.marginalError };
        addNativeRatio(row, nativeUs);
        rows.push(row);
      }
    }
  } finally {
    setKernelEngine('auto');
    native?.remove();
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(runSinkhornBench(), null, 2));
}
