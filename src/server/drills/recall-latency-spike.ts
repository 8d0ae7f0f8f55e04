/**
 * Drill `recall-latency-spike` (SEED §12: "disable HRR-first toggle temporarily; isolate shard
 * hotspots"). It turns the HRR-first rerank off in every worker, then samples the load for
 * `windowMs` (default 2000) from the metrics that exist for it (worker_* and shard_* counters:
 * requests, busy seconds, queue wait) and from the workers' tenant table (tenants, bytes,
 * recall time; tenant names appear here, never as metric labels), and names the hot shards:
 *   hot(s) ⇔ busy_s ≥ 3 · B / shards  and  busy_s ≥ ½ · max_t busy_t
 * with B the busy seconds of every shard in the window: at least three times its fair share,
 * and within a factor two of the busiest. The rerank is turned off as a live knob (src/knobs/live.ts:
 * validated, logged, persisted); each worker then runs one batch ('drill.knobs') that reports the
 * knobs it ran under. pass: the rerank is off in every worker and every worker answered the load
 * query (the mitigation is in place and the hotspot data is complete).
 */
import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../../metrics/registry.js';
import type { Knobs } from '../../pool/messages.js';
import type { Drill, DrillDeps } from './drill.js';

/** label value → value of one series family of a counter or histogram (e.g. _sum). */
async function byLabel(m: Counter | Histogram, label: string, metricName?: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const v of (await m.get()).values) {
    if (metricName !== undefined && (v as { metricName?: string }).metricName !== metricName) continue;
    const k = Number(v.labels[label]);
    out.set(k, (out.get(k) ?? 0) + v.value);
  }
  return out;
}

interface Sample {
  wReq: Map<number, number>; wBusy: Map<number, number>; wWaitSum: Map<number, number>; wWaitN: Map<number, number>;
  sReq: Map<number, number>; sBusy: Map<number, number>; sWait: Map<number, number>;
}

async function sample(m: Metrics): Promise<Sample> {
  return {
    wReq: await byLabel(m.workerRequests, 'worker'), wBusy: await byLabel(m.workerBusy, 'worker'),
    wWaitSum: await byLabel(m.workerQueueWait, 'worker', 'holoserve_worker_queue_wait_seconds_sum'),
    wWaitN: await byLabel(m.workerQueueWait, 'worker', 'holoserve_worker_queue_wait_seconds_count'),
    sReq: await byLabel(m.shardRequests, 'shard'), sBusy: await byLabel(m.shardBusy, 'shard'), sWait: await byLabel(m.shardQueueWait, 'shard'),
  };
}

const delta = (a: Map<number, number>, b: Map<number, number>, k: number) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
const round = (x: number, d = 6) => Number(x.toFixed(d));

/** The knobs each worker's next batch runs under (a batch carries the live knobs to its worker). */
async function knobsInWorkers(d: DrillDeps): Promise<(Knobs | null)[]> {
  return Promise.all(Array.from({ length: d.pool.size }, async (_, w) => {
    const o = await d.dispatcher.submitTo(w, { op: 'drill.knobs', kind: 'hrr', route: 'any', params: {} });
    return o.ok ? (o.result.knobs as Knobs) : null;
  }));
}

export const recallLatencySpike: Drill = async (d, params) => {
  const windowMs = (params.windowMs as number | undefined) ?? 2000;
  const rerankWasOn = d.live.snapshot().rerank;
  d.live.set({ rerank: false }, 'drill recall-latency-spike');
  const seen = await knobsInWorkers(d);
  const rerankOffInWorkers = seen.filter((k) => k !== null && k.rerank === false).length;
  const shardCount = d.cfg.shards;

  const s0 = await sample(d.metrics);
  const t0 = await d.load().catch(() => null);
  await new Promise((r) => setTimeout(r, windowMs));
  const s1 = await sample(d.metrics);
  const t1 = await d.load().catch(() => null);

  const workers = Array.from({ length: d.pool.size }, (_, w) => {
    const n = delta(s0.wWaitN, s1.wWaitN, w);
    const rows = (t1 ?? []).filter((r) => r.worker === w);
    return {
      worker: w, requests: delta(s0.wReq, s1.wReq, w), busySeconds: round(delta(s0.wBusy, s1.wBusy, w)),
      queueWaitMeanSeconds: n > 0 ? round(delta(s0.wWaitSum, s1.wWaitSum, w) / n) : 0,
      tenants: rows.length, bytes: rows.reduce((a, r) => a + r.bytes, 0),
    };
  });
  const all = Array.from({ length: shardCount }, (_, s) => {
    const requests = delta(s0.sReq, s1.sReq, s);
    const rows = (t1 ?? []).filter((r) => r.shard === s);
    return {
      shard: s, worker: s % d.pool.size, requests, busySeconds: delta(s0.sBusy, s1.sBusy, s),
      queueWaitMeanSeconds: requests > 0 ? delta(s0.sWait, s1.sWait, s) / requests : 0,
      tenants: rows.length, bytes: rows.reduce((a, r) => a + r.bytes, 0),
    };
  });
  const total = all.reduce((a, s) => a + s.busySeconds, 0);
  const max = Math.max(0, ...all.map((s) => s.busySeconds));
  const hotShards = total > 0 ? all.filter((s) => s.busySeconds >= (3 * total) / shardCount && s.busySeconds >= max / 2).map((s) => s.shard) : [];
  const shards = all.filter((s) => s.requests > 0 || s.tenants > 0).sort((a, b) => b.busySeconds - a.busySeconds)
    .map((s) => ({ ...s, busySeconds: round(s.busySeconds), busyShare: total > 0 ? round(s.busySeconds / total, 4) : 0, queueWaitMeanSeconds: round(s.queueWaitMeanSeconds) }));

  // Tenants: recall time in the window (a tenant loaded during it counts from 0).
  const before = new Map((t0 ?? []).map((r) => [r.tenant, r]));
  const tenants = (t1 ?? []).map((r) => ({
    tenant: r.tenant, shard: r.shard, worker: r.worker, items: r.items, anchors: r.anchors,
    requests: r.requests - (before.get(r.tenant)?.requests ?? 0),
    recallSeconds: round(r.recallSeconds - (before.get(r.tenant)?.recallSeconds ?? 0)),
  }));
  const top = <K extends 'items' | 'recallSeconds'>(k: K) => [...tenants].filter((t) => t[k] > 0).sort((a, b) => b[k] - a[k]).slice(0, 5);

  const loadRead = t0 !== null && t1 !== null;
  return {
    scenario: 'recall-latency-spike',
    pass: rerankOffInWorkers === d.pool.size && loadRead,
    windowMs,
    rerankWasOn, rerankOffInWorkers, knobs: { ...d.live.snapshot() },
    loadRead,
    hotShards,
    workers,
    shards,
    largestTenants: { byItems: top('items'), byRecallSeconds: top('recallSeconds') },
  };
};
