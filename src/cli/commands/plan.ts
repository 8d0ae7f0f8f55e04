/**
 * `holoserve plan`: SEED §10's capacity formula, filled in.
 *   --rps R --latency-ms L [--workers-per-pod W] [--cores-per-pod C] [--safety S]
 *       the seed's arithmetic with a given latency (1200, 30, 16 → 36 workers, 4 pods);
 *   --rps R --mix op=share,... [--items N --dim D --cores-per-pod C --workers N --seconds T]
 *       measures each op's served CPU cost on this machine (a real server on loopback) and the
 *       speed-up from 1 to N workers, then plans from the measured numbers;
 *   --rps R --mix ... --from http://host:port/metrics
 *       reads per-op latency and CPU per request from a running server instead.
 * --json prints the numbers as JSON. The formulas: src/cli/plan/formula.ts.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { measuredPlan, parseMix, seedPlan } from '../plan/formula.js';
import { fromMetrics, measure, MEASURABLE, type OpCost } from '../plan/measure.js';
import { numberOr } from '../flags.js';

const HELP = `usage: holoserve plan --rps R (--latency-ms L | --mix op=share,...) [options]

  --rps R               target requests per second (required)
  --latency-ms L        average latency, ms: the seed's arithmetic, nothing measured
  --mix op=share,...    request mix (ops: ${MEASURABLE.join(', ')}), shares sum to 1: measure served cost
  --from URL            read the costs from a running server's /metrics instead of measuring
  --items N             items per tenant recalls scan (default 4096)
  --dim D               HRR dimension of the measurement server (default 8192)
  --cores-per-pod C     cores per pod (default 8)
  --workers-per-pod W   workers per pod for --latency-ms (default: cores per pod)
  --workers N           workers for the speed-up measurement (default: this machine's cores)
  --seconds T           seconds per measured phase (default 3, max 60)
  --safety S            safety factor, 1.3–1.5 (default 1.5)
  --json                print JSON
`;

function num(v: string | undefined, name: string, dflt: number | undefined, min: number, max: number, int = false): number {
  return numberOr(name, v, dflt, { min, max, int });
}

const f = (x: number, d = 2) => x.toFixed(d);

export const command: Command = {
  name: 'plan',
  help: HELP,
  summary: 'capacity plan (SEED §10): workers and pods for a target RPS, from measured served cost',
  async run(argv) {
    const a = parseArgs({
      args: argv, strict: true, allowPositionals: false, options: {
        rps: { type: 'string' }, 'latency-ms': { type: 'string' }, mix: { type: 'string' }, from: { type: 'string' },
        items: { type: 'string' }, dim: { type: 'string' }, 'cores-per-pod': { type: 'string' }, 'workers-per-pod': { type: 'string' },
        workers: { type: 'string' }, seconds: { type: 'string' }, safety: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }).values;
    if (a.help) { process.stdout.write(HELP); return 0; }
    const out: string[] = [];
    try {
      const rps = num(a.rps, 'rps', undefined, 1e-9, 1e9);
      const coresPerPod = num(a['cores-per-pod'], 'cores-per-pod', 8, 1, 4096, true);
      const safety = num(a.safety, 'safety', 1.5, 1, 10);
      if (a['latency-ms'] !== undefined) {
        if (a.mix !== undefined) throw new Error('give --latency-ms or --mix, not both');
        const latencyMs = num(a['latency-ms'], 'latency-ms', undefined, 1e-6, 1e7);
        const workersPerPod = num(a['workers-per-pod'], 'workers-per-pod', coresPerPod, 1, 65536, true);
        const p = seedPlan(rps, latencyMs / 1000, workersPerPod, safety);
        if (a.json) { process.stdout.write(`${JSON.stringify(p)}\n`); return 0; }
        out.push('holoserve plan (SEED §10: pods ≈ target RPS × avg latency × safety factor, then pods from workers per pod)');
        out.push(`  concurrency  = ${rps} RPS × ${latencyMs / 1000} s = ${f(p.concurrency)} requests in service`);
        out.push(`  workers      = ⌈${f(p.concurrency)}⌉ = ${p.workers} workers`);
        out.push(`  pods         = ⌈${p.workers} / ${workersPerPod} workers per pod⌉ = ${p.podsNoHeadroom} (${f(p.workers / workersPerPod)}) without headroom`);
        out.push(`  + headroom   = ⌈${f(p.concurrency)} × ${safety} / ${workersPerPod}⌉ = ⌈${f((p.concurrency * safety) / workersPerPod, 3)}⌉ = ${p.pods} pods (${coresPerPod} cores, ${workersPerPod} workers each)`);
        out.push('  assumptions: the latency given is the average served latency and one worker serves one request at a time;');
        out.push('  nothing measured (use --mix to measure this machine).');
        process.stdout.write(`${out.join('\n')}\n`);
        return 0;
      }
      if (a.mix === undefined) throw new Error('give --latency-ms (the seed\'s arithmetic) or --mix (measured)');
      const mix = parseMix(a.mix, MEASURABLE);
      let ops: OpCost[];
      let efficiency: number, speedLine: string, source: string;
      let measured: Awaited<ReturnType<typeof measure>> | undefined;
      if (a.from !== undefined) {
        const m = await fromMetrics(a.from, [...mix.keys()]);
        ops = m.ops;
        efficiency = 1;
        speedLine = 'scaling with cores NOT measured (--from reads one server): assumed linear (efficiency 1)';
        source = `${a.from} (since that server started; CPU per request is the process total ÷ all requests, the same for every op)`;
      } else {
        const workers = num(a.workers, 'workers', Math.max(1, availableParallelism()), 1, 256, true);
        const items = num(a.items, 'items', 4096, 1, 1 << 20, true);
        const dim = num(a.dim, 'dim', 8192, 256, 16384, true);
        const seconds = num(a.seconds, 'seconds', 3, 0.2, 60);
        measured = await measure({ dim, items, workers, seconds, mix, log: a.json ? undefined : (l) => process.stderr.write(`  measuring: ${l}\n`) });
        ops = measured.ops;
        efficiency = Math.min(1, measured.speedup / workers);
        speedLine = `measured speed-up 1 → ${workers} workers: ${f(measured.mixRps1, 0)} → ${f(measured.mixRpsN, 0)} requests/s = ${f(measured.speedup)}× (efficiency ${f(efficiency)}${measured.speedup > workers ? ', capped at 1: the 1-worker run was slowed by something else' : ''})`;
        source = `a holoserve on loopback, D = ${dim}, ${workers} workers, recall over ${items} items per tenant, ${measured.concurrency} requests in flight, ${seconds} s per op; recall cache and coalescing off`;
      }
      const cpu = ops.reduce((s, o) => s + (mix.get(o.op) ?? 0) * o.cpuSecondsPerRequest, 0);
      // the seed's "average latency": service time (one in flight) when measured, else the server's mean
      const lat = ops.reduce((s, o) => s + (mix.get(o.op) ?? 0) * (Number.isNaN(o.unloadedLatencySeconds) ? o.meanLatencySeconds : o.unloadedLatencySeconds), 0);
      const p = measuredPlan(rps, cpu, coresPerPod, efficiency, safety);
      const seed = seedPlan(rps, lat, coresPerPod, safety);
      if (a.json) { process.stdout.write(`${JSON.stringify({ ops, mix: Object.fromEntries(mix), cpuSecondsPerRequest: cpu, meanLatencySeconds: lat, plan: p, seedFormula: seed, measured })}\n`); return 0; }
      out.push('holoserve plan (SEED §10, with measured served cost)');
      out.push(`  source: ${source}`);
      out.push(`  op         share   CPU ms/request   server latency ms${measured ? ` (${measured.concurrency} in flight / 1 in flight)` : ''}`);
      for (const o of ops) {
        const alone = Number.isNaN(o.unloadedLatencySeconds) ? '' : ` / ${f(o.unloadedLatencySeconds * 1e3, 3)}`;
        out.push(`  ${o.op.padEnd(10)} ${f(mix.get(o.op)!, 2).padStart(5)}   ${f(o.cpuSecondsPerRequest * 1e3, 3).padStart(14)}   ${f(o.meanLatencySeconds * 1e3, 3).padStart(17)}${alone}`);
      }
      out.push(`  mix CPU    = ${ops.map((o) => `${mix.get(o.op)}×${f(o.cpuSecondsPerRequest * 1e3, 3)}`).join(' + ')} = ${f(cpu * 1e3, 3)} ms per request`);
      out.push(`  cores      = ${rps} RPS × ${f(cpu, 6)} s = ${f(p.cores)} cores busy → ${p.workers} workers`);
      out.push(`  ${speedLine}`);
      if (measured && measured.speedup < 0.75 * measured.workers) {
        out.push(`  WARNING: ${measured.workers} workers ran the mix only ${f(measured.speedup)}× as fast as 1: this machine's cores are shared`);
        out.push('  (other load, or fewer free cores than workers); the pod count below is inflated by it. Rerun on an idle machine.');
      }
      out.push(`  pods       = ⌈${f(p.cores)} / (${coresPerPod} cores × ${f(efficiency)})⌉ = ${p.podsNoHeadroom} without headroom`);
      out.push(`  + headroom = ⌈${f(p.cores)} × ${safety} / (${coresPerPod} × ${f(efficiency)})⌉ = ${p.pods} pods of ${coresPerPod} cores (${coresPerPod} workers each)`);
      out.push(measured
        ? '  the seed\'s form with the measured service time (one request in flight, no queueing):'
        : '  the seed\'s form with the server\'s mean latency (its queueing included):');
      out.push(`             ${rps} × ${f(lat, 5)} s = ${f(seed.concurrency)} in service → ${seed.workers} workers, ${seed.pods} pods with headroom`);
      out.push('  assumptions: one worker thread per core (holoserve\'s default); CPU per request is the whole process\'s (front end,');
      out.push('  batcher and workers) at the measured concurrency; the efficiency measured here holds at the pod\'s core count;');
      out.push('  no recall-cache hits or coalescing (both would lower the cost); latency in flight includes queueing.');
      process.stdout.write(`${out.join('\n')}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`holoserve plan: ${(e as Error).message}\n`);
      return 2;
    }
  },
};
