/**
 * The load harness (docs/LOAD.md), its entry point (bench/load/: args, util, frames, server,
 * driver, checks, plot, main):
 *   npm run load -- --op bind --connections 64 --duration 10s [--rate N] [--dim 8192]
 *                   [--url ws://127.0.0.1:PORT/v1] [--out bench/results/load-bind]
 *   npm run load -- --targets
 *
 * Loopback only, bounded (duration ≤ 120 s per phase, --max-requests per phase), and it stops by
 * itself. Without --url it starts the compiled server (dist/src/main.js, PORT=0, a temporary
 * data directory) and SIGTERMs it at the end.
 *
 * Cheap on its own main thread, because it shares this machine's cores with the server: request
 * frames are msgpack-encoded once (vectors as bin) and only their id (and one word of the vector,
 * so that no two requests in flight are identical and coalesce) is patched before each send;
 * connections are raw `ws` sockets with a zero masking key (the server's unmasking is the same
 * work either way; our XOR-copy of every frame is skipped); replies are matched by reading the
 * id and ok flag at the head of the frame, decoding in full only error replies.
 * Closed loop by default (each connection keeps --pipeline requests in flight); open loop with
 * --rate (requests scheduled at fixed intervals, latency from the scheduled send time, so a
 * stalled server cannot hide its stall: no coordinated omission). Latencies go into an
 * HdrHistogram in microseconds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect, type HoloClient } from '../../src/client/client.js';
import { Args, HELP, Op, UsageError, checkLoopbackUrl, parseArgs } from './args.js';
import { int, ms } from './util.js';
import { FramePool, makeBodies } from './frames.js';
import { Target, spawnServer } from './server.js';
import { Conn, PhaseResult, fmtPct, openConns, runPaced, runPhase, type Percentiles } from './driver.js';
import { echoFloor } from './echo.js';
import { CoalesceTrial, InProcess, coalesceTrial, inProcess, probe, setupOp } from './checks.js';
import { plot } from './plot.js';
// ---------------------------------------------------------------------------------------------
// Main

export interface TargetCheck { name: string; pass: boolean; measured: string; target: string }

export function poolSize(a: Args, open: boolean): number {
  return open ? 1024 : Math.min(1024, Math.max(64, 2 * a.connections * a.pipeline + 16));
}

/**
 * The served-path targets (issue #8), from the phases of a --targets run:
 *   server CPU per request at peak ≤ 4 × the native FFTW kernel of the op (same run);
 *   peak ≥ 50% of (cores − harness cores) / t_op (t_op: the in-process pffft kernel);
 *   at half of peak, open loop from the scheduled send: p99 ≤ 10 ms, p99.9 ≤ 25 ms, no errors;
 *   lone request on an idle server p50 ≤ 0.5 ms;
 *   CPU per request at half load ≤ 1.3 × at peak.
 */
export function issueTargets(op: Op, ip: InProcess, lone: PhaseResult, loneHello: PhaseResult, peak: PhaseResult, half: PhaseResult, helloR?: PhaseResult, floor?: Record<string, Percentiles>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const nat = op === 'bind-role' ? ip.native?.bindSpectrumUs : op === 'bind' ? ip.native?.bindUs : op === 'unbind' ? ip.native?.unbindUs : undefined;
  const tOp = op === 'bind-role' ? ip.tBindRoleUs : op === 'bind' ? ip.tBindUs : op === 'unbind' ? ip.tUnbindUs : undefined;
  const cpuPeak = peak.server?.cpuUsPerRequest, cpuHalf = half.server?.cpuUsPerRequest;
  const drv = (r: PhaseResult) => (r.ok > 0 ? (r.harness.cpuCores * r.measuredS * 1e6) / r.ok : NaN);
  if (cpuPeak !== undefined && nat !== undefined) {
    checks.push({
      name: 'server CPU per request at peak ≤ 4 × native FFTW', pass: cpuPeak <= 4 * nat, target: `≤ ${(4 * nat).toFixed(0)} µs`,
      measured: `${cpuPeak.toFixed(0)} µs = ${(cpuPeak / nat).toFixed(1)} × native ${nat.toFixed(1)} µs (harness ${drv(peak).toFixed(0)} µs per request on the same cores)`,
    });
  } else {
    checks.push({ name: 'server CPU per request at peak ≤ 4 × native FFTW', pass: false, target: '≤ 4 × native', measured: `not measurable here: ${cpuPeak === undefined ? 'no server CPU counter' : `no native baseline for ${op}`}${cpuPeak !== undefined ? ` (server ${cpuPeak.toFixed(0)} µs per request)` : ''}` });
  }
  if (tOp !== undefined) {
    const bound = Math.max(0, ip.cores - peak.harness.cpuCores) / (tOp / 1e6);
    checks.push({
      name: 'peak ≥ 50% of (cores − harness cores) / t_op', pass: peak.throughput >= 0.5 * bound, target: `≥ ${int(0.5 * bound)}/s`,
      measured: `${int(peak.throughput)}/s (${peak.connections} × pipeline ${peak.pipeline}) = ${((100 * peak.throughput) / bound).toFixed(1)}% of (${ip.cores} − ${peak.harness.cpuCores.toFixed(2)}) / ${tOp.toFixed(1)} µs = ${int(bound)}/s; in-process limit ${int(ip.limit)}/s` + (helloR ? `; hello echo ${int(helloR.throughput)}/s` : ''),
    });
  }
  const halfErr = Object.values(half.errors).reduce((s, x) => s + x, 0);
  checks.push({
    name: `p99 ≤ 10 ms and p99.9 ≤ 25 ms at half of peak (open loop, ${int(half.rate!)}/s, from the scheduled send)`,
    pass: half.latencyUs.p99 <= 10_000 && half.latencyUs.p999 <= 25_000 && halfErr === 0 && half.latencyUs.count > 0, target: '≤ 10 / 25 ms',
    measured: `p50 ${ms(half.latencyUs.p50)}, p99 ${ms(half.latencyUs.p99)}, p99.9 ${ms(half.latencyUs.p999)} ms (served ${int(half.throughput)}/s, errors ${halfErr})`,
  });
  checks.push({
    name: 'lone request on an idle server p50 ≤ 0.5 ms', pass: lone.latencyUs.p50 <= 500 && lone.latencyUs.count > 0, target: '≤ 0.5 ms',
    measured: `p50 ${ms(lone.latencyUs.p50)} ms (p99 ${ms(lone.latencyUs.p99)}, n=${lone.latencyUs.count}; lone hello p50 ${ms(loneHello.latencyUs.p50)} ms` +
      (floor ? `; the machine's floor, a bare uWS echo at the same pacing: this frame p50 ${ms(floor.op.p50)} ms, a hello frame ${ms(floor.hello.p50)} ms` : '') + ')',
  });
  if (cpuPeak !== undefined && cpuHalf !== undefined) {
    checks.push({
      name: 'server CPU per request at half load ≤ 1.3 × at peak', pass: cpuHalf <= 1.3 * cpuPeak, target: `≤ ${(1.3 * cpuPeak).toFixed(0)} µs`,
      measured: `${cpuHalf.toFixed(0)} µs = ${(cpuHalf / cpuPeak).toFixed(2)} × peak ${cpuPeak.toFixed(0)} µs`,
    });
  }
  return checks;
}

export async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) { console.error(`load: ${e.message}`); return 2; }
    throw e;
  }
  if (args.help) { console.log(HELP); return 0; }

  const cores = availableParallelism();
  const la0 = loadavg();
  const notes = [
    `The harness runs on the same machine as the server: ${cores} cores shared by the server's main thread, its workers and this harness's main thread; its own CPU use is printed per phase.`,
  ];
  console.log(`holoserve load harness: ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}, load average ${la0.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`note: ${notes[0]}`);

  let target: Target;
  if (args.url) {
    const u = checkLoopbackUrl(args.url);
    target = { url: args.url, http: `http://${u.host}`, spawned: false, stop: async () => {} };
    console.log(`target: ${args.url} (given; not spawned)`);
  } else {
    target = await spawnServer(args.dim);
    console.log(`target: spawned ${target.readyLine ?? target.url} (pid ${target.pid})`);
  }
  const onSignal = () => { void target.stop().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let conns: Conn[] = [];
  let clients: HoloClient[] = [];
  const phases: PhaseResult[] = [];
  let inproc: InProcess | undefined;
  const checks: TargetCheck[] = [];
  const coalesceTrials: CoalesceTrial[] = [];
  let floor: Record<string, Percentiles> | undefined;
  let exitCode = 0;
  let hello: Record<string, unknown> = {};
  try {
    const hc = await connect(target.url);
    hello = { ...(await hc.hello()) };
    hc.close();
    const D = hello.dim as number;
    if (args.dimGiven && D !== args.dim) throw new Error(`the server at ${target.url} serves D=${D}, not --dim ${args.dim}`);
    console.log(`server: ${hello.server} ${hello.version}, D=${D}, engine=${hello.engine}`);
    conns = await openConns(target.url, args.connections);
    if (args.driver === 'client') clients = await Promise.all(Array.from({ length: args.connections }, () => connect(target.url, { timeoutMs: 60_000 })));

    const pools = new Map<string, FramePool>();
    const poolFor = (op: Op, open = false) => {
      const key = `${op}:${open}`;
      let p = pools.get(key);
      if (!p) pools.set(key, (p = new FramePool(makeBodies(op, D, poolSize(args, open), 1 + pools.size, args.nodes))));
      return p;
    };
    const load = async (name: string, op: Op, mode: 'closed' | 'open', rate: number, durationMs: number, warmupMs = args.warmupMs, pipeline = args.pipeline) => {
      const pool = poolFor(op, mode === 'open');
      await probe(op, pool, conns[0], D);
      const driver = args.driver;
      const r = await runPhase({
        name, op, pool, conns, mode, pipeline, rate, durationMs, warmupMs,
        maxRequests: args.maxRequests, driver, clients,
      }, target);
      phases.push(r);
      return r;
    };

    if (args.targets) {
      inproc = await inProcess(D);
      // The op under test: bind-role (the issue's) unless --op names bind, unbind or recall.
      const top: Op = args.opGiven ? args.op : 'bind-role';
      if (!['bind-role', 'bind', 'unbind', 'recall'].includes(top)) throw new UsageError(`--targets runs with --op bind-role, bind, unbind or recall; got '${top}'`);
      await setupOp(top, target.url, D, args.items, args.nodes);
      // 1. a lone request on an idle server
      const lonePool = poolFor(top);
      await probe(top, lonePool, conns[0], D);
      const lone = await runPaced('lone', top, lonePool, conns[0], 200, 20, 20, target);
      phases.push(lone);
      // the same with hello: the front end alone, no worker hop (where a lone request's time goes)
      const loneHello = await runPaced('lone-hello', 'hello', poolFor('hello'), conns[0], 200, 20, 20, target);
      phases.push(loneHello);
      // the machine's floor: the same frames echoed by a bare uWS server, same pacing (echo.ts)
      floor = await echoFloor({ op: lonePool.frames[0], hello: poolFor('hello').frames[0] }, 200, 20);
      console.log(`\n== floor: a bare uWS echo server, one frame at a time, 20 ms apart ==\n  ${top} frame (${lonePool.frames[0].byteLength} B) ${fmtPct(floor.op)}\n  hello frame ${fmtPct(floor.hello)}`);
      // 2. 64 identical concurrent requests (bind-role)
      if (top === 'bind-role') {
        for (let t = 0; t < 3; t++) coalesceTrials.push(await coalesceTrial(conns, target, D, 1000 + t));
        console.log(`\n== coalescing: 64 identical bind-by-role requests sent at once over ${Math.min(64, conns.length)} connections, 3 trials ==`);
        for (const [i, t] of coalesceTrials.entries()) console.log(`  trial ${i + 1}: computations +${t.computed}, coalesced +${t.coalesced}, errors ${t.errors}; the 64 sends took ${t.sendMs.toFixed(2)} ms, the last reply came ${t.lastReplyMs.toFixed(2)} ms after the first send`);
      }
      // 3. peak (closed loop at pipeline 1 and 4 unless --pipeline is given: the better one),
      //    then the hello echo rate
      const peaks: PhaseResult[] = [];
      for (const p of args.pipelineGiven ? [args.pipeline] : [1, 4]) peaks.push(await load(`peak-p${p}`, top, 'closed', 0, args.durationMs, args.warmupMs, p));
      const peak = peaks.reduce((x, y) => (y.throughput > x.throughput ? y : x));
      const helloR = args.compareMs > 0 ? await load('hello', 'hello', 'closed', 0, args.compareMs, Math.min(args.warmupMs, 500)) : undefined;
      // 4. half of peak, open loop
      const half = await load('half-peak', top, 'open', Math.max(1, 0.5 * peak.throughput), args.durationMs);
      checks.push(...issueTargets(top, inproc, lone, loneHello, peak, half, helloR, floor));
      if (coalesceTrials.length) {
        const allOne = coalesceTrials.every((t) => t.computed === 1 && t.coalesced === t.sent - 1 && t.errors === 0);
        checks.push({
          name: '64 identical concurrent requests → 1 computation', pass: allOne, target: 'computed +1, coalesced +63',
          measured: coalesceTrials.map((t) => `+${t.computed}/+${t.coalesced}`).join(', ') + ' (computed/coalesced per trial)',
        });
      }
    } else {
      if (args.compareMs > 0) inproc = await inProcess(D);
      await setupOp(args.op, target.url, D, args.items, args.nodes);
      const mainPhase = await load(args.op, args.op, args.rate ? 'open' : 'closed', args.rate ?? 0, args.durationMs);
      let served = args.op === 'bind-role' && !args.rate ? mainPhase : undefined;
      if (args.compareMs > 0) {
        await load('hello', 'hello', 'closed', 0, args.compareMs, Math.min(args.warmupMs, 500));
        if (!served) served = await load('bind-role', 'bind-role', 'closed', 0, args.compareMs, Math.min(args.warmupMs, 500));
      }
      if (inproc && served) {
        const frac = served.throughput / inproc.limit;
        console.log(`\nserved bind-by-role ${int(served.throughput)}/s = ${(100 * frac).toFixed(1)}% of the in-process limit ${int(inproc.limit)}/s (target ≥ 70%)`);
      }
    }

    const h = phases.find((p) => p.op === 'hello' && p.mode === 'closed');
    const br = phases.filter((p) => p.op === 'bind-role' && p.mode === 'closed').sort((x, y) => y.throughput - x.throughput)[0];
    if (h) console.log(`hello echo rate ${int(h.throughput)}/s: the front end's ceiling with this harness on these ${cores} cores`);
    if (inproc && br) console.log(`bind-by-role served ${int(br.throughput)}/s, in-process limit ${int(inproc.limit)}/s (t_bind ${inproc.tBindRoleUs.toFixed(1)} µs × ${inproc.cores} cores)`);
    if (checks.length) {
      console.log(`\nTARGETS (D=${D}, ${cores} cores, load average at start ${la0.map((x) => x.toFixed(2)).join(' ')}; the harness shares these cores)`);
      for (const c of checks) console.log(`  [${c.pass ? 'PASS' : 'FAIL'}] ${c.name}: ${c.measured}`);
      if (checks.some((c) => !c.pass)) exitCode = 1;
    }

    // Files
    const out = resolve(args.out ?? join('bench', 'results', args.targets ? 'load-targets' : `load-${args.op}`));
    mkdirSync(dirname(out), { recursive: true });
    const la1 = loadavg();
    const json = {
      tool: 'holoserve bench/load/', date: new Date().toISOString(),
      args: process.argv.slice(2),
      machine: { cores, cpu: cpus()[0]?.model, node: process.version, loadavgStart: la0, loadavgEnd: la1 },
      server: { url: target.url, spawned: target.spawned, readyLine: target.readyLine, dim: D, engine: hello.engine, version: hello.version },
      notes, inProcess: inproc, phases, coalesceTrials: coalesceTrials.length ? coalesceTrials : undefined, floor,
      targets: checks.length ? checks : undefined,
    };
    writeFileSync(`${out}.json`, JSON.stringify(json, null, 1) + '\n');
    writeFileSync(`${out}.svg`, plot(phases, D, cores, la0, args.targets ? 'targets' : args.op));
    console.log(`\nwrote ${out}.json and ${out}.svg (load average at end ${la1.map((x) => x.toFixed(2)).join(' ')})`);
  } catch (e) {
    console.error(`load: ${(e as Error).message}`);
    exitCode = exitCode || 1;
  } finally {
    for (const c of conns) c.ws.terminate();
    for (const c of clients) c.close();
    await target.stop();
  }
  return exitCode;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
