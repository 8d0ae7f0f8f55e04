/**
 * Measures what a request costs when served: a real holoserve on loopback (its own temp data
 * directory, the caches that would hide the compute turned off), driven through the WebSocket
 * client, and read back from its /metrics. Per op: CPU seconds per request (the process's CPU,
 * every thread: front end, batcher, workers) and mean latency; for the mix: the throughput at
 * saturation with 1 worker and with N, whose ratio is the measured speed-up. Bounded: each
 * phase runs `seconds`, the prefill writes `items` per tenant.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type HoloClient, bin } from '../../client/client.js';
import { shardOf } from '../../pool/shard.js';

export const MEASURABLE = ['bind', 'unbind', 'recall', 'sinkhorn'] as const;

export interface MeasureOptions {
  dim: number;
  items: number;
  workers: number;
  seconds: number;
  mix: Map<string, number>;
  log?: (line: string) => void;
}

export interface OpCost {
  op: string;
  requests: number;
  cpuSecondsPerRequest: number;
  meanLatencySeconds: number;
  /** server latency with one request in flight (service time, no queueing); NaN from --from */
  unloadedLatencySeconds: number;
  requestsPerSecond: number;
}

export interface Measured {
  ops: OpCost[];
  /** mix throughput at saturation, requests/s, with 1 and with `workers` workers */
  mixRps1: number;
  mixRpsN: number;
  speedup: number;
  workers: number;
  concurrency: number;
}

interface Running { proc: ChildProcess; http: string; url: string; stop(): Promise<void> }

const MAIN = fileURLToPath(new URL('../../main.js', import.meta.url));

async function startServer(env: Record<string, string>, dataDir: string): Promise<Running> {
  const proc = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', HOLOSERVE_DATA_DIR: dataDir, HOLOSERVE_ROLE_FILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`holoserve did not start in 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ready on ws:\/\/[^:]+:(\d+)\/v1/.exec(out);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`holoserve exited with ${code}:\n${out}`)); });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc, http: `http://127.0.0.1:${port}`, url: `ws://127.0.0.1:${port}/v1`,
    async stop() { if (proc.exitCode === null) proc.kill('SIGTERM'); await exited; },
  };
}

/** Sum of a metric's samples whose label text contains `labels` (e.g. 'op="bind"'). */
function metricSum(text: string, name: string, labels = ''): number {
  let s = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z0-9_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name && (m[2] ?? '').includes(labels)) s += Number(m[3]);
  }
  return s;
}

async function scrape(http: string): Promise<string> {
  const r = await fetch(`${http}/metrics`);
  if (!r.ok) throw new Error(`GET ${http}/metrics: HTTP ${r.status}`);
  return r.text();
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 4294967296) - 0.5;
}

function unit(D: number, r: () => number): Float32Array {
  const v = Float32Array.from({ length: D }, r);
  let n = 0;
  for (const x of v) n += x * x;
  const k = 1 / Math.sqrt(n);
  return v.map((x) => x * k);
}

/** One request of each op, with inputs drawn from pools (distinct enough never to coalesce). */
function requestMaker(D: number, tenants: string[]): (op: string, i: number) => (c: HoloClient) => Promise<unknown> {
  const r = rng(7);
  const vecs = Array.from({ length: 64 }, () => unit(D, r));
  const costs = Array.from({ length: 16 }, () => Float64Array.from({ length: 64 * 64 }, () => r() + 0.5));
  return (op, i) => {
    const a = vecs[i % 64], b = vecs[(i * 7 + 1 + Math.floor(i / 64)) % 64];
    switch (op) {
      case 'bind': return (c) => c.bind(a, b);
      case 'unbind': return (c) => c.unbind(a, b);
      case 'recall': return (c) => c.recall(tenants[i % tenants.length], vecs[(i * 13) % 64].map((x, j) => (j === i % D ? x + 1e-3 : x)), 10);
      case 'sinkhorn': return (c) => c.request('sinkhorn', { cost: bin(costs[i % 16]), n: 64, m: 64, epsilon: 0.05 });
      default: throw new Error(`cannot measure op '${op}'`);
    }
  };
}

/** Closed loop: `concurrency` loops, each one request at a time, for `seconds`. */
async function drive(clients: HoloClient[], concurrency: number, seconds: number, pick: (i: number) => (c: HoloClient) => Promise<unknown>): Promise<{ n: number; latency: number; elapsed: number }> {
  let i = 0, n = 0, latency = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, k) => {
    const c = clients[k % clients.length];
    while (performance.now() < end) {
      const f = pick(i++);
      const s = performance.now();
      await f(c);
      latency += performance.now() - s;
      n++;
    }
  }));
  return { n, latency: latency / 1000 / Math.max(1, n), elapsed: (performance.now() - t0) / 1000 };
}

/** Tenant names, one per worker slot of `workers` (shard s → worker s mod workers, 64 shards). */
function tenantsFor(workers: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < workers && i < 10_000; i++) {
    const t = `plan-${i}`;
    if (shardOf(t, 64) % workers === out.length) out.push(t);
  }
  return out;
}

export async function measure(o: MeasureOptions): Promise<Measured> {
  const log = o.log ?? (() => undefined);
  const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-plan-'));
  const env = {
    HOLOSERVE_DIM: String(o.dim), HOLOSERVE_SHARDS: '64', HOLOSERVE_MEMORY_CAPACITY: String(Math.max(16, Math.ceil(o.items * 1.25))),
    HOLOSERVE_RECALL_CACHE_TTL_MS: '0', HOLOSERVE_COALESCE_LINGER_MS: '0', HOLOSERVE_PREFETCH_TENANTS: '64',
  };
  const concurrency = 8 * o.workers;
  const tenants = tenantsFor(o.workers);
  const make = requestMaker(o.dim, tenants);
  const ops = [...o.mix.keys()];
  const cumulative: [string, number][] = [];
  let acc = 0;
  for (const [op, w] of o.mix) cumulative.push([op, (acc += w)]);
  const pickMix = (i: number) => {
    const u = ((i * 0.6180339887498949) % 1); // low-discrepancy sequence over [0, 1): the mix, evenly
    return make((cumulative.find(([, c]) => u < c) ?? cumulative[cumulative.length - 1])[0], i);
  };
  try {
    let srv = await startServer({ ...env, HOLOSERVE_WORKERS: String(o.workers) }, dataDir);
    let clients = await Promise.all(Array.from({ length: 4 }, () => connect(srv.url)));
    try {
      if (o.mix.has('recall')) {
        log(`prefill: ${tenants.length} tenants × ${o.items} items at D = ${o.dim}`);
        const r = rng(11);
        for (const t of tenants) {
          for (let k = 0; k < o.items; k += 256) {
            await Promise.all(Array.from({ length: Math.min(256, o.items - k) }, (_, j) => clients[j % 4].remember(t, `item-${k + j}`, unit(o.dim, r))));
          }
        }
      }
      const costs: OpCost[] = [];
      for (const op of ops) {
        await drive(clients, concurrency, Math.min(0.5, o.seconds / 4), (i) => make(op, i)); // warm-up
        const before = await scrape(srv.http);
        const d = await drive(clients, concurrency, o.seconds, (i) => make(op, i));
        const after = await scrape(srv.http);
        const cpu = metricSum(after, 'holoserve_process_cpu_seconds_total') - metricSum(before, 'holoserve_process_cpu_seconds_total');
        const served = metricSum(after, 'holoserve_requests_total', `op="${op}"`) - metricSum(before, 'holoserve_requests_total', `op="${op}"`);
        const sum = metricSum(after, 'holoserve_request_seconds_sum', `op="${op}"`) - metricSum(before, 'holoserve_request_seconds_sum', `op="${op}"`);
        // one in flight: the service time the seed's formula means by "average latency"
        await drive(clients, 1, Math.min(1, o.seconds / 2), (i) => make(op, 1_000_000 + i));
        const alone = await scrape(srv.http);
        const n1 = metricSum(alone, 'holoserve_request_seconds_count', `op="${op}"`) - metricSum(after, 'holoserve_request_seconds_count', `op="${op}"`);
        const s1 = metricSum(alone, 'holoserve_request_seconds_sum', `op="${op}"`) - metricSum(after, 'holoserve_request_seconds_sum', `op="${op}"`);
        costs.push({ op, requests: served, cpuSecondsPerRequest: cpu / served, meanLatencySeconds: sum / served, unloadedLatencySeconds: s1 / n1, requestsPerSecond: d.n / d.elapsed });
        log(`${op}: ${served} requests in ${d.elapsed.toFixed(1)} s, ${(1e3 * cpu / served).toFixed(3)} ms CPU each, server latency ${(1e3 * sum / served).toFixed(2)} ms at ${concurrency} in flight, ${(1e3 * s1 / n1).toFixed(2)} ms alone`);
      }
      const mixN = await drive(clients, concurrency, o.seconds, pickMix);
      log(`mix with ${o.workers} workers: ${(mixN.n / mixN.elapsed).toFixed(0)} requests/s`);
      for (const c of clients) c.close();
      await srv.stop();

      srv = await startServer({ ...env, HOLOSERVE_WORKERS: '1' }, dataDir);
      clients = await Promise.all(Array.from({ length: 4 }, () => connect(srv.url)));
      await drive(clients, concurrency, Math.min(0.5, o.seconds / 4), pickMix); // warm-up (tenants load lazily)
      const mix1 = await drive(clients, concurrency, o.seconds, pickMix);
      log(`mix with 1 worker: ${(mix1.n / mix1.elapsed).toFixed(0)} requests/s`);
      const mixRps1 = mix1.n / mix1.elapsed, mixRpsN = mixN.n / mixN.elapsed;
      return { ops: costs, mixRps1, mixRpsN, speedup: mixRpsN / mixRps1, workers: o.workers, concurrency };
    } finally {
      for (const c of clients) c.close();
      await srv.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Per-op mean latency and the process's CPU per request, from a running server's /metrics (since it started). */
export async function fromMetrics(url: string, ops: string[]): Promise<{ ops: OpCost[]; cpuSecondsPerRequest: number }> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  const text = await r.text();
  const total = metricSum(text, 'holoserve_requests_total');
  const cpu = metricSum(text, 'holoserve_process_cpu_seconds_total');
  if (!(total > 0)) throw new Error(`${url}: no requests served yet (holoserve_requests_total is 0)`);
  const out: OpCost[] = [];
  for (const op of ops) {
    const n = metricSum(text, 'holoserve_request_seconds_count', `op="${op}"`);
    if (!(n > 0)) throw new Error(`${url}: op '${op}' has no requests in holoserve_request_seconds`);
    out.push({ op, requests: n, cpuSecondsPerRequest: cpu / total, meanLatencySeconds: metricSum(text, 'holoserve_request_seconds_sum', `op="${op}"`) / n, unloadedLatencySeconds: NaN, requestsPerSecond: NaN });
  }
  return { ops: out, cpuSecondsPerRequest: cpu / total };
}
