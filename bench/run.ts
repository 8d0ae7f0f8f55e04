/**
 * `npm run bench`: every kernel benchmark in one run, single thread, medians after warm-up,
 * each ratio measured side by side (ours and the native baseline in the same run, because this
 * machine is shared and noisy). Prints one table and writes bench/results/kernels.json.
 * The served-path numbers come from the load harness (`npm run load`), bench/load/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { runHeatBench } from './heat.bench.js';
import { runHrrBench } from './hrr.bench.js';
import { runMemoryBench } from './memory.bench.js';
import { runRecallBench, runSplitBench } from './recall.bench.js';
import { runSinkhornBench } from './sinkhorn.bench.js';
import type { Row } from './timing.js';

function fmt(x: number): string {
  return x >= 1000 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function print(rows: Row[]): void {
  const lines = [['kernel', 'size', 'median µs', 'p10', 'p90', 'native µs', 'ours/native', 'notes']];
  for (const r of rows) {
    const e = r.extra ?? {};
    const native = typeof e.native_us === 'number' ? fmt(e.native_us) : '';
    const ratio = typeof e.ratio === 'number' ? `${e.ratio.toFixed(2)}×` : '';
    const notes = Object.entries(e).filter(([k]) => k !== 'native_us' && k !== 'ratio')
      .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`).join(' ');
    lines.push([r.name, r.size, fmt(r.medianUs), fmt(r.p10Us), fmt(r.p90Us), native, ratio, notes]);
  }
  const w = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) console.log(l.map((c, i) => (i < 2 || i === 7 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
}

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);
const rows: Row[] = [];
if (want('hrr')) rows.push(...(await runHrrBench()));
if (want('sinkhorn')) rows.push(...runSinkhornBench());
if (want('heat')) rows.push(...runHeatBench());
if (want('memory')) rows.push(...(await runMemoryBench()));
if (want('recall')) rows.push(...runRecallBench(), ...(await runSplitBench()));
print(rows);
const out = new URL('./results/', new URL('../../bench/', import.meta.url));
mkdirSync(out, { recursive: true });
// A partial run (`npm run bench -- memory`) does not overwrite the full table.
const file = new URL(only.length === 0 ? 'kernels.json' : `kernels-${only.join('-')}.json`, out);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, rows }, null, 2) + '\n');
console.log(`\nwrote ${file.pathname}`);
