/** Connections and load phases (closed loop, open loop, paced), with per-phase CPU, latency and server statistics. (bench/load/, docs/LOAD.md) */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Histogram } from 'hdr-histogram-js';
import WebSocket from 'ws';
import { type HoloClient } from '../../src/client/client.js';
import { percentileCurve } from '../svg-plot.js';
import { Op } from './args.js';
import { CLK_TCK, int, ms, newHist, now, pct, sleep, threadBusy, threadCpu } from './util.js';
import { FramePool, SEND_OPTS, decodeReply, headOk, opLabels, replyHead } from './frames.js';
import { Scrape, Target, bucketBounds, delta, scrape } from './server.js';
// ---------------------------------------------------------------------------------------------
// Connections

export const RING = 1 << 14;
export const RMASK = RING - 1;

export class Conn {
  readonly sendAt = new Float64Array(RING);
  readonly schedAt = new Float64Array(RING);
  readonly ringId = new Float64Array(RING).fill(-1);
  nextId = 1;
  outstanding = 0;
  alive = true;
  onReply: (data: Buffer, t: number) => void = () => {};
  onClose: () => void = () => {};

  constructor(readonly ws: WebSocket, readonly index: number) {
    ws.on('message', (data: Buffer) => this.onReply(data, now()));
    ws.on('close', () => { this.alive = false; this.onClose(); });
    ws.on('error', () => { /* close follows */ });
  }

  newId(): number {
    const id = this.nextId;
    this.nextId = id >= 0xfffffff0 ? 1 : id + 1;
    return id;
  }
}

export async function openConns(url: string, n: number): Promise<Conn[]> {
  const open = (i: number) => new Promise<Conn>((res, rej) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: 256 * 1024 * 1024,
      skipUTF8Validation: true,
      generateMask: (mask: Buffer) => { mask.fill(0); },
    });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => res(new Conn(ws, i)));
    ws.once('error', (e) => rej(new Error(`cannot connect to ${url}: ${e.message}`)));
    ws.once('unexpected-response', (_q, r) => rej(new Error(`upgrade refused by ${url}: HTTP ${r.statusCode}`)));
  });
  const out: Conn[] = [];
  for (let i = 0; i < n; i += 32) out.push(...(await Promise.all(Array.from({ length: Math.min(32, n - i) }, (_, j) => open(i + j)))));
  return out;
}

/** One request on one connection, waited for; the full decoded reply. */
export function oneShot(c: Conn, frame: Buffer, id: number): Promise<{ us: number; reply: ReturnType<typeof decodeReply> }> {
  return new Promise((res, rej) => {
    const t0 = now();
    const timer = setTimeout(() => rej(new Error('no reply in 30 s')), 30_000);
    c.onReply = (data, t) => {
      const r = decodeReply(data);
      if (r.id !== id && r.id !== 0) return;
      clearTimeout(timer);
      c.onReply = () => {};
      res({ us: (t - t0) * 1000, reply: r });
    };
    c.ws.send(frame, SEND_OPTS);
  });
}

// ---------------------------------------------------------------------------------------------
// Phases

export interface PhaseSpec {
  name: string;
  op: Op;
  pool: FramePool;
  conns: Conn[];
  mode: 'closed' | 'open';
  pipeline: number;
  rate: number;
  durationMs: number;
  warmupMs: number;
  maxRequests: number;
  driver: 'ws' | 'client';
  clients?: HoloClient[];
}

export interface Percentiles { p50: number; p90: number; p99: number; p999: number; max: number; mean: number; count: number }

export interface PhaseResult {
  name: string;
  op: Op;
  mode: 'closed' | 'open' | 'paced';
  connections: number;
  pipeline?: number;
  rate?: number;
  driver: string;
  measuredS: number;
  sent: number;
  replies: number;
  ok: number;
  /** ok replies per second inside the measured window */
  throughput: number;
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
  /** microseconds; open loop: from the scheduled send time */
  latencyUs: Percentiles;
  /** open loop only: from the actual send time */
  serviceUs?: Percentiles;
  curve: [number, number][];
  serviceCurve?: [number, number][];
  timeline: { t: number; rps: number; p50Ms: number; p99Ms: number; errors: number; warmup: boolean }[];
  harness: { cpuCores: number; mainThread?: number };
  /** the whole machine during the phase: busy cores, and the part used by neither server nor harness */
  machine?: { busyCores: number; otherCores?: number };
  server?: ServerStats;
  frameCopies: number;
}

export interface ServerStats {
  cpuCores?: number;
  threads?: { main: number; total: number; others: { name: string; busy: number }[] };
  batchMean?: number;
  queueWaitMeanMs?: number;
  serverLatencyMeanMs?: number;
  computations?: number;
  coalesced?: number;
  /** upper bounds (ms) of the server's own latency percentiles, from its histogram buckets */
  serverLatencyBoundsMs?: Record<string, number>;
  queueWaitBoundsMs?: Record<string, number>;
  /** ok replies of the op counted by the server over the window */
  answered?: number;
  /** server CPU (all threads, /metrics process counter) per answered request, µs */
  cpuUsPerRequest?: number;
  /** main-thread GC runs per 10,000 answered requests, by kind (prom-client's perf_hooks GC entries) */
  gcPer10k?: { major: number; minor: number; incremental: number };
}

export function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };
  return {
    p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9), max: h.maxValue, mean: Math.round(h.mean), count: h.totalCount,
  };
}

export function curveOf(h: Histogram): [number, number][] {
  return percentileCurve((p) => h.getValueAtPercentile(p), h.totalCount, h.maxValue).map(([x, us]) => [x, us / 1000]);
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat), or undefined. */
export function machineBusy(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK;
  } catch {
    return undefined;
  }
}

export interface Sample { wallS: number; harnessCpu: number; harnessMain?: number; server?: ReturnType<typeof threadBusy>; machineCores?: number }
export interface Sampler { take(): Sample }

export function sampler(target: Target): Sampler {
  const t0 = now(), c0 = process.cpuUsage(), h0 = threadCpu(process.pid), s0 = target.pid ? threadCpu(target.pid) : undefined;
  const m0 = machineBusy();
  return {
    take() {
      const wallS = (now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const h = threadBusy(process.pid, h0, threadCpu(process.pid), wallS);
      const server = target.pid ? threadBusy(target.pid, s0, threadCpu(target.pid), wallS) : undefined;
      const m1 = machineBusy();
      const machineCores = m0 !== undefined && m1 !== undefined ? (m1 - m0) / wallS : undefined;
      return { wallS, harnessCpu: (c.user + c.system) / 1e6 / wallS, harnessMain: h?.main, server, machineCores };
    },
  };
}

export function serverStats(op: Op, before: Scrape | undefined, after: Scrape | undefined, wallS: number, threads?: ServerStats['threads']): ServerStats {
  const s: ServerStats = { threads };
  if (!before || !after) return s;
  const { kind, label } = opLabels(op);
  // prom-client's default process metrics, under the server's prefix (either spelling)
  const cpuKey = ['holoserve_process_cpu_seconds_total', 'holoserve_process_process_cpu_seconds_total'].find((k) => after.has(k));
  const cpu = cpuKey ? delta(after, before, cpuKey) : 0;
  if (cpu > 0) s.cpuCores = cpu / wallS;
  if (kind) {
    const n = delta(after, before, `holoserve_batch_size_count{kind="${kind}"}`);
    if (n > 0) s.batchMean = delta(after, before, `holoserve_batch_size_sum{kind="${kind}"}`) / n;
    const q = delta(after, before, `holoserve_queue_wait_seconds_count{kind="${kind}"}`);
    if (q > 0) s.queueWaitMeanMs = (1000 * delta(after, before, `holoserve_queue_wait_seconds_sum{kind="${kind}"}`)) / q;
  }
  const l = delta(after, before, `holoserve_request_seconds_count{op="${label}"}`);
  if (l > 0) s.serverLatencyMeanMs = (1000 * delta(after, before, `holoserve_request_seconds_sum{op="${label}"}`)) / l;
  s.serverLatencyBoundsMs = bucketBounds(after, before, 'holoserve_request_seconds', `op="${label}"`);
  if (kind) s.queueWaitBoundsMs = bucketBounds(after, before, 'holoserve_queue_wait_seconds', `kind="${kind}"`);
  const answered = delta(after, before, `holoserve_requests_total{op="${label}",outcome="ok"}`);
  if (answered > 0) {
    s.answered = answered;
    if (cpu > 0) s.cpuUsPerRequest = (cpu * 1e6) / answered;
    const gc = (k: string) => (1e4 * delta(after, before, `holoserve_nodejs_gc_duration_seconds_count{kind="${k}"}`)) / answered;
    s.gcPer10k = { major: gc('major'), minor: gc('minor'), incremental: gc('incremental') };
  }
  s.computations = delta(after, before, `holoserve_computations_total{op="${label}"}`);
  s.coalesced = delta(after, before, `holoserve_coalesced_total{op="${label}"}`);
  return s;
}

/** Runs one load phase (closed or open loop) and prints its progress and summary. */
export async function runPhase(spec: PhaseSpec, target: Target): Promise<PhaseResult> {
  const { pool, conns } = spec;
  const hist = newHist(), service = newHist(), tick = newHist();
  const errors: Record<string, number> = {}, errorSamples: Record<string, string> = {};
  const timeline: PhaseResult['timeline'] = [];
  const err = (code: string, message = '') => {
    errors[code] = (errors[code] ?? 0) + 1;
    if (!(code in errorSamples)) errorSamples[code] = message.slice(0, 200);
  };
  let sent = 0, replies = 0, ok = 0, windowOk = 0, tickReplies = 0, tickErrors = 0;
  let sending = true;
  const t0 = now();
  const measureStart = t0 + spec.warmupMs;
  let windowEnd = measureStart + spec.durationMs;
  const before = await scrape(target.http);
  let samp: Sampler | undefined;
  let onDrained: (() => void) | undefined;
  let outstanding = 0;

  let onStopped: (() => void) | undefined;
  const stopped = new Promise<void>((r) => { onStopped = r; });
  const stop = () => {
    if (!sending) return;
    sending = false;
    onStopped?.();
    windowEnd = Math.min(windowEnd, now());
    if (outstanding === 0) onDrained?.();
  };

  const sendOne = (c: Conn, sched: number): void => {
    if (c.outstanding >= RING - 1) { err('harness_backlog', 'more than 16383 requests outstanding on one connection'); return; }
    const id = c.newId();
    const slot = id & RMASK;
    const k = pool.take(id);
    const buf = k >= 0 ? pool.frames[k] : pool.spare(id);
    const t = now();
    c.sendAt[slot] = t;
    c.schedAt[slot] = sched < 0 ? t : sched;
    c.ringId[slot] = id;
    c.outstanding++;
    outstanding++;
    if (++sent >= spec.maxRequests) stop();
    c.ws.send(buf, SEND_OPTS, k >= 0 ? pool.frees[k] : undefined);
  };

  const record = (okReply: boolean, sched: number, sentAt: number, t: number, code: string, message: string) => {
    replies++;
    tickReplies++;
    if (okReply) {
      ok++;
      if (t >= measureStart && t <= windowEnd) windowOk++;
      const us = Math.max(1, Math.round((t - sched) * 1000));
      tick.recordValue(us);
      if (sched >= measureStart && sched < windowEnd) {
        hist.recordValue(us);
        if (spec.mode === 'open') service.recordValue(Math.max(1, Math.round((t - sentAt) * 1000)));
      }
    } else {
      tickErrors++;
      err(code, message); // warm-up errors count too
    }
  };

  const onReply = (c: Conn) => (data: Buffer, t: number) => {
    let id = replyHead(data);
    let okReply = headOk, code = '', message = '';
    if (id < 0 || !okReply) {
      const r = decodeReply(data);
      id = r.id; okReply = r.ok; code = r.code; message = r.message;
    }
    const slot = id & RMASK;
    if (id <= 0 || c.ringId[slot] !== id) {
      replies++;
      err(id === 0 ? code || 'unmatched_reply' : 'unmatched_reply', message || `reply id ${id} not in flight`);
      return;
    }
    c.ringId[slot] = -1;
    c.outstanding--;
    outstanding--;
    record(okReply, c.schedAt[slot], c.sendAt[slot], t, code, message);
    if (sending) {
      if (spec.mode === 'closed') sendOne(c, -1);
    } else if (outstanding === 0) onDrained?.();
  };

  for (const c of conns) {
    c.onReply = onReply(c);
    c.onClose = () => {
      if (c.outstanding > 0) {
        for (let i = 0; i < c.outstanding; i++) err('connection_closed', 'the server closed the connection with requests in flight');
        outstanding -= c.outstanding;
        c.outstanding = 0;
        c.ringId.fill(-1);
      }
      if (conns.every((x) => !x.alive)) stop();
      else if (!sending && outstanding === 0) onDrained?.();
    };
  }

  // Progress, once a second.
  let lastTick = t0, lastCpu = process.cpuUsage();
  const progress = setInterval(() => {
    const t = now();
    const dt = (t - lastTick) / 1000;
    const cpu = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    const warm = t - dt * 1000 < measureStart;
    const p = hist.totalCount > 0 ? hist : tick;
    const rps = tickReplies / dt;
    timeline.push({
      t: +((t - t0) / 1000).toFixed(2), rps, warmup: warm, errors: tickErrors,
      p50Ms: tick.totalCount ? tick.getValueAtPercentile(50) / 1000 : 0, p99Ms: tick.totalCount ? tick.getValueAtPercentile(99) / 1000 : 0,
    });
    const errN = Object.values(errors).reduce((s, x) => s + x, 0);
    console.log(`  [${spec.name} ${((t - t0) / 1000).toFixed(0).padStart(3)} s${warm ? ' warm-up' : ''}] ${int(rps).padStart(8)} req/s  ` +
      `p50 ${ms(p.totalCount ? p.getValueAtPercentile(50) : 0)} ms  p99 ${ms(p.totalCount ? p.getValueAtPercentile(99) : 0)} ms${hist.totalCount ? ' (so far)' : ''}  ` +
      `errors ${errN}  harness CPU ${pct((cpu.user + cpu.system) / 1e6 / dt)}`);
    tick.reset();
    tickReplies = 0;
    tickErrors = 0;
    lastTick = t;
  }, 1000);

  const drained = new Promise<void>((r) => { onDrained = r; });
  const startSampler = setTimeout(() => { samp = sampler(target); }, Math.max(0, measureStart - now()));
  let before2: Scrape | undefined = before;
  const snapAtWindow = setTimeout(() => { void scrape(target.http).then((s) => { before2 = s ?? before; }); }, Math.max(0, measureStart - now()));
  const endTimer = setTimeout(stop, Math.max(0, measureStart + spec.durationMs - now()));

  if (spec.driver === 'client') {
    // The TS client: params packed per request, replies decoded in full, a timer per request.
    const clients = spec.clients!;
    let k = 0;
    const loops: Promise<void>[] = [];
    for (const cl of clients) for (let j = 0; j < spec.pipeline; j++) {
      loops.push((async () => {
        while (sending) {
          const params = pool.params(k = (k + 1) % pool.size);
          const s = now();
          sent++;
          if (sent >= spec.maxRequests) stop();
          outstanding++;
          try {
            await cl.request(pool.ob.wireOp, params);
            outstanding--;
            record(true, s, s, now(), '', '');
          } catch (e) {
            outstanding--;
            const code = (e as { code?: string }).code ?? 'client_error';
            record(false, s, s, now(), code, (e as Error).message);
          }
        }
      })());
    }
    await Promise.all(loops);
    onDrained?.();
  } else if (spec.mode === 'closed') {
    for (let j = 0; j < spec.pipeline; j++) for (const c of conns) if (sending && c.alive) sendOne(c, -1);
  } else {
    const interval = 1000 / spec.rate;
    let idx = 0, rr = 0;
    const pump = () => {
      if (!sending) return;
      const t = now();
      const due = Math.floor((t - t0) / interval) + 1;
      while (idx < due && sending) {
        let c = conns[rr];
        for (let tries = 0; !c.alive && tries < conns.length; tries++) c = conns[(rr = (rr + 1) % conns.length)];
        rr = (rr + 1) % conns.length;
        sendOne(c, t0 + idx * interval);
        idx++;
      }
      if (sending) setTimeout(pump, 1);
    };
    pump();
  }

  await stopped;
  // Stop waiting for stragglers 10 s after the end: they count as no_reply.
  let straggle: NodeJS.Timeout | undefined;
  await Promise.race([drained, new Promise<void>((r) => { straggle = setTimeout(r, 10_000); })]);
  clearTimeout(straggle);
  clearTimeout(endTimer);
  clearTimeout(startSampler);
  clearTimeout(snapAtWindow);
  clearInterval(progress);
  if (outstanding > 0) {
    for (let i = 0; i < outstanding; i++) err('no_reply', 'no reply within 10 s of the end of the phase');
    for (const c of conns) { c.outstanding = 0; c.ringId.fill(-1); }
  }
  for (const c of conns) { c.onReply = () => {}; c.onClose = () => {}; }
  const s = samp?.take();
  const after = await scrape(target.http);
  const measuredS = Math.max(1e-9, (windowEnd - measureStart) / 1000);
  const res: PhaseResult = {
    name: spec.name, op: spec.op, mode: spec.mode, connections: spec.driver === 'client' ? spec.clients!.length : conns.length,
    pipeline: spec.mode === 'closed' ? spec.pipeline : undefined, rate: spec.mode === 'open' ? spec.rate : undefined,
    driver: spec.driver, measuredS, sent, replies, ok, throughput: windowOk / measuredS, errors, errorSamples,
    latencyUs: percentiles(hist), curve: curveOf(hist), timeline,
    serviceUs: spec.mode === 'open' ? percentiles(service) : undefined, serviceCurve: spec.mode === 'open' ? curveOf(service) : undefined,
    harness: { cpuCores: s?.harnessCpu ?? 0, mainThread: s?.harnessMain },
    machine: s?.machineCores !== undefined ? {
      busyCores: s.machineCores,
      otherCores: s.server ? Math.max(0, s.machineCores - s.server.total - s.harnessCpu) : undefined,
    } : undefined,
    server: serverStats(spec.op, before2, after, s?.wallS ?? measuredS, s?.server),
    frameCopies: pool.copies,
  };
  printPhase(res);
  return res;
}

/** Lone requests on an idle server: one connection, one at a time, pauses between. */
export async function runPaced(name: string, op: Op, pool: FramePool, c: Conn, samples: number, pauseMs: number, warm: number, target: Target): Promise<PhaseResult> {
  const hist = newHist();
  const errors: Record<string, number> = {}, errorSamples: Record<string, string> = {};
  let ok = 0;
  const t0 = now();
  let before: Scrape | undefined;
  for (let i = 0; i < warm + samples; i++) {
    if (i === warm) before = await scrape(target.http);
    const id = c.newId();
    const k = pool.take(id);
    const buf = Buffer.from(k >= 0 ? pool.frames[k] : pool.spare(id));
    if (k >= 0) pool.frees[k]();
    const r = await oneShot(c, buf, id);
    if (i >= warm) {
      if (r.reply.ok) { ok++; hist.recordValue(Math.max(1, Math.round(r.us))); }
      else { errors[r.reply.code] = (errors[r.reply.code] ?? 0) + 1; errorSamples[r.reply.code] ??= r.reply.message; }
    }
    await sleep(pauseMs);
  }
  const measuredS = (now() - t0) / 1000;
  const after = await scrape(target.http);
  const res: PhaseResult = {
    server: serverStats(op, before, after, measuredS),
    name, op, mode: 'paced', connections: 1, pipeline: 1, driver: 'ws', measuredS, sent: warm + samples, replies: warm + samples, ok,
    throughput: ok / measuredS, errors, errorSamples, latencyUs: percentiles(hist), curve: curveOf(hist), timeline: [],
    harness: { cpuCores: 0 }, frameCopies: 0,
  };
  printPhase(res);
  return res;
}

export function fmtPct(p: Percentiles): string {
  return `p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  p99.9 ${ms(p.p999)}  max ${ms(p.max)} ms  (n=${int(p.count)})`;
}

export function printPhase(r: PhaseResult): void {
  const how = r.mode === 'closed' ? `closed loop, ${r.connections} connections × pipeline ${r.pipeline}`
    : r.mode === 'open' ? `open loop at ${int(r.rate!)} req/s over ${r.connections} connections`
      : '1 connection, one request at a time';
  console.log(`\n== ${r.name}: ${r.op}, ${how}${r.driver === 'client' ? ' (TS client)' : ''}, ${r.measuredS.toFixed(1)} s measured ==`);
  const errs = Object.entries(r.errors);
  console.log(`  throughput  ${int(r.throughput)} ok/s  (${int(r.ok)} ok of ${int(r.replies)} replies; errors: ${errs.length ? errs.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'})`);
  for (const [k, v] of Object.entries(r.errorSamples)) console.log(`    ${k}: ${v}`);
  console.log(`  latency     ${fmtPct(r.latencyUs)}${r.mode === 'open' ? '  [from the scheduled send time]' : ''}`);
  if (r.serviceUs) console.log(`  service     ${fmtPct(r.serviceUs)}  [from the actual send time]`);
  const sv = r.server;
  if (sv) {
    const parts: string[] = [];
    if (sv.cpuCores !== undefined) parts.push(`CPU ${sv.cpuCores.toFixed(2)} cores`);
    if (sv.cpuUsPerRequest !== undefined) parts.push(`${sv.cpuUsPerRequest.toFixed(0)} µs CPU per request`);
    if (sv.gcPer10k) parts.push(`GC per 10k requests: ${sv.gcPer10k.major.toFixed(1)} mark-compact, ${sv.gcPer10k.minor.toFixed(0)} scavenge, ${sv.gcPer10k.incremental.toFixed(1)} incremental marking`);
    if (sv.threads) parts.push(`main thread ${pct(sv.threads.main)}${sv.threads.others.length ? `, busiest other threads (workers) ${sv.threads.others.map((o) => pct(o.busy)).join(' ')}` : ''}`);
    if (sv.batchMean !== undefined) parts.push(`mean batch ${sv.batchMean.toFixed(1)} requests`);
    if (sv.queueWaitMeanMs !== undefined) parts.push(`mean queue wait ${sv.queueWaitMeanMs.toFixed(2)} ms`);
    if (sv.serverLatencyMeanMs !== undefined) {
      const b = sv.serverLatencyBoundsMs;
      parts.push(`server time (frame in → reply sent) mean ${sv.serverLatencyMeanMs.toFixed(2)} ms` +
        (b ? `, p50 ≤ ${b.p50} ms, p99 ≤ ${b.p99} ms (buckets)` : ''));
    }
    if (sv.coalesced) parts.push(`coalesced ${int(sv.coalesced)}`);
    if (parts.length) console.log(`  server      ${parts.join('; ')}`);
  }
  if (r.mode !== 'paced') {
    const perReq = r.ok > 0 ? ` = ${((r.harness.cpuCores * r.measuredS * 1e6) / r.ok).toFixed(0)} µs per request` : '';
    console.log(`  harness     CPU ${r.harness.cpuCores.toFixed(2)} cores${perReq}${r.harness.mainThread !== undefined ? ` (main thread ${pct(r.harness.mainThread)})` : ''}` +
      ` on the same ${availableParallelism()} cores as the server${r.frameCopies ? `; ${r.frameCopies} frames sent as copies` : ''}`);
    if (r.machine) {
      console.log(`  machine     ${r.machine.busyCores.toFixed(2)} of ${availableParallelism()} cores busy` +
        (r.machine.otherCores !== undefined ? `, ${r.machine.otherCores.toFixed(2)} of them by other processes${r.machine.otherCores > 0.2 ? ' (numbers are contended)' : ''}` : ''));
    }
  }
}
