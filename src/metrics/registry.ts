/**
 * Every metric holoserve exports (prom-client, one registry). Workers do not own metrics: each
 * batch result carries what it observed (BatchObs) and the main thread records it here, so the
 * numbers are aggregated across threads by construction; what a worker holds (tenants, bytes)
 * and the role table's size are read at scrape time. Labels are bounded: op (the op table),
 * outcome (the error codes), kind (the batch kinds), mode (exact, wiener), worker (< workers),
 * shard (< shards); never a tenant or a key. docs/OPERATIONS.md has the table.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchObs } from '../pool/messages.js';
import type { LoadRow } from './load.js';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const UNIT_BUCKETS = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];
/** λ/P̄: ×~3 steps so a 3× move of the p95 crosses a bucket (default beta 1e-3 sits on a bound) */
const EPS_BUCKETS = [1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 10];
const FLOORED_BUCKETS = [0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1];

/** Where the scrape-time values come from (set by main.ts). */
export interface MetricSources {
  /** received vectors held by requests in flight */
  vectorsHeld(): number;
  /** the shared role table: roles held and evictions so far */
  roles(): { size: number; evictions: number };
  /** worker threads started to replace crashed ones, so far */
  restarts(): number;
  /** every tenant loaded, with its worker and shard (workers are asked; see load.ts) */
  load(): Promise<LoadRow[]>;
  workers: number;
  shards: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'holoserve_requests_total', help: 'Requests answered, by op and outcome (ok or an error code)', labelNames: ['op', 'outcome'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'holoserve_request_seconds', help: 'Time from frame received to reply sent, seconds', labelNames: ['op'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'holoserve_batch_size', help: 'Requests per pool task', labelNames: ['kind'], buckets: BATCH_BUCKETS, registers: [this.registry] });
  readonly queueWait = new Histogram({ name: 'holoserve_queue_wait_seconds', help: 'Time a request waited in the batcher, seconds', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly idlePath = new Counter({ name: 'holoserve_idle_path_total', help: 'Requests computed on the main thread because every worker was idle (lone cheap requests: pool/local.ts)', registers: [this.registry] });
  readonly computations = new Counter({ name: 'holoserve_computations_total', help: 'Requests actually computed by a worker (coalesced askers share one)', labelNames: ['op'], registers: [this.registry] });
  readonly coalesced = new Counter({ name: 'holoserve_coalesced_total', help: 'Requests answered by joining an identical request in flight', labelNames: ['op'], registers: [this.registry] });
  readonly roleCacheSize = new Gauge({
    name: 'holoserve_role_cache_size', help: 'Roles in the shared role table', registers: [this.registry],
    collect: () => { this.roleCacheSize.set(this.sources?.roles().size ?? 0); },
  });
  readonly roleCacheHits = new Counter({ name: 'holoserve_role_cache_hits_total', help: 'Role look-ups found in the table', registers: [this.registry] });
  readonly roleCacheMisses = new Counter({ name: 'holoserve_role_cache_misses_total', help: 'Role look-ups that had to compute the role', registers: [this.registry] });
  readonly roleCacheEvictions = new Counter({
    name: 'holoserve_role_cache_evictions_total', help: 'Roles evicted from the table (LRU)', registers: [this.registry],
    collect: () => { this.advance(this.roleCacheEvictions, this.sources?.roles().evictions ?? 0, 'evictions'); },
  });
  readonly connections = new Gauge({ name: 'holoserve_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  /** bytes received/sent since the last scrape: the hot path adds to a number, collect() flushes */
  pendingBytesIn = 0;
  pendingBytesOut = 0;
  readonly bytesIn: Counter = new Counter({
    name: 'holoserve_bytes_in_total', help: 'WebSocket payload bytes received', registers: [this.registry],
    collect: () => { if (this.pendingBytesIn > 0) { this.bytesIn.inc(this.pendingBytesIn); this.pendingBytesIn = 0; } },
  });
  readonly bytesOut: Counter = new Counter({
    name: 'holoserve_bytes_out_total', help: 'WebSocket payload bytes sent', registers: [this.registry],
    collect: () => { if (this.pendingBytesOut > 0) { this.bytesOut.inc(this.pendingBytesOut); this.pendingBytesOut = 0; } },
  });
  readonly unbindEpsUsed = new Histogram({ name: 'holoserve_unbind_eps_used_ratio', help: 'UNBIND_EPS_USED: λ/P̄ (P̄ = mean |B_k|² = ‖b‖²) of each exact/wiener unbind whose floor bit (≥ 1 bin with |B_k|² < λ)', labelNames: ['mode'], buckets: EPS_BUCKETS, registers: [this.registry] });
  readonly unbindFloored = new Histogram({ name: 'holoserve_unbind_floored_bins_ratio', help: 'Fraction of the D/2+1 spectral bins with |B_k|² < λ, per exact/wiener unbind', labelNames: ['mode'], buckets: FLOORED_BUCKETS, registers: [this.registry] });
  readonly workerRestarts = new Counter({
    name: 'holoserve_worker_restarts_total', help: 'Worker threads replaced after a crash', registers: [this.registry],
    collect: () => { this.advance(this.workerRestarts, this.sources?.restarts() ?? 0, 'restarts'); },
  });
  // Per worker and per shard (a hot shard shows here; tenant names only in the drill report)
  readonly workerRequests = new Counter({ name: 'holoserve_worker_requests_total', help: 'Requests run by each worker', labelNames: ['worker'], registers: [this.registry] });
  readonly workerBusy = new Counter({ name: 'holoserve_worker_busy_seconds_total', help: 'Seconds each worker thread spent in request handlers', labelNames: ['worker'], registers: [this.registry] });
  readonly workerQueueWait = new Histogram({ name: 'holoserve_worker_queue_wait_seconds', help: 'Time a request waited in the batcher, by worker, seconds', labelNames: ['worker'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly workerTenants = new Gauge({
    name: 'holoserve_worker_tenants_loaded', help: 'Tenants loaded in each worker', labelNames: ['worker'], registers: [this.registry],
    collect: () => this.collectLoad(),
  });
  readonly workerBytes = new Gauge({
    name: 'holoserve_worker_held_bytes', help: 'Bytes of tenant vectors (items + anchors) held by each worker', labelNames: ['worker'], registers: [this.registry],
    collect: () => this.collectLoad(),
  });
  readonly shardRequests = new Counter({ name: 'holoserve_shard_requests_total', help: 'Requests routed to each shard (tenant and graph ops)', labelNames: ['shard'], registers: [this.registry] });
  readonly shardBusy = new Counter({ name: 'holoserve_shard_busy_seconds_total', help: 'Seconds workers spent in handlers for each shard', labelNames: ['shard'], registers: [this.registry] });
  readonly shardQueueWait = new Counter({ name: 'holoserve_shard_queue_wait_seconds_total', help: 'Total batcher wait of the requests routed to each shard, seconds (÷ requests = mean)', labelNames: ['shard'], registers: [this.registry] });
  readonly shardTenants = new Gauge({
    name: 'holoserve_shard_tenants_loaded', help: 'Tenants loaded, by shard', labelNames: ['shard'], registers: [this.registry],
    collect: () => this.collectLoad(),
  });
  readonly shardBytes = new Gauge({
    name: 'holoserve_shard_held_bytes', help: 'Bytes of tenant vectors (items + anchors) held, by shard', labelNames: ['shard'], registers: [this.registry],
    collect: () => this.collectLoad(),
  });
  readonly internalErrors = new Counter({ name: 'holoserve_internal_errors_total', help: 'Requests that ended `internal` (a server bug or a crashed worker), counted once per computation; each front-end bug also logs one bounded line', labelNames: ['op'], registers: [this.registry] });
  // Budgets on hostile input (issue #9)
  readonly budgetRefusals = new Counter({ name: 'holoserve_budget_refusals_total', help: 'Requests refused because a budget was hit (docs/OPERATIONS.md "Budgets")', labelNames: ['budget'], registers: [this.registry] });
  readonly graphEvictions = new Counter({ name: 'holoserve_graph_evictions_total', help: 'Stored graphs dropped (least recently used) to keep graphsPerWorker and graphBytesPerWorker', registers: [this.registry] });
  readonly dropped = new Counter({ name: 'holoserve_replies_dropped_total', help: 'Replies not sent because the connection had closed', registers: [this.registry] });
  /** set by main.ts: what is read at scrape time */
  sources?: MetricSources;
  readonly pooledVectors = new Gauge({
    name: 'holoserve_pooled_vectors_held', help: 'Received vectors held by requests in flight (shared-memory pool; 0 when idle)', registers: [this.registry],
    collect: () => { this.pooledVectors.set(this.sources?.vectorsHeld() ?? 0); },
  });
  readonly queued = new Gauge({ name: 'holoserve_queued_requests', help: 'Requests waiting in the batcher', registers: [this.registry] });
  // Memory (issue #4), observed by the workers
  readonly cleanupScore = new Histogram({ name: 'holoserve_hrr_cleanup_score', help: 'HRR_CLEANUP_SCORE: cosine of the best anchor in cleanup', buckets: UNIT_BUCKETS, registers: [this.registry] });
  readonly recallMargin = new Histogram({ name: 'holoserve_recall_margin_top12', help: 'RECALL_MARGIN_TOP12: top1 − top2 cosine of a recall', buckets: [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1], registers: [this.registry] });
  readonly wmUtilization = new Histogram({ name: 'holoserve_wm_utilization_ratio', help: 'WM_UTILIZATION (items/capacity) of a tenant after each write', buckets: UNIT_BUCKETS, registers: [this.registry] });
  readonly wmEvictions = new Counter({ name: 'holoserve_wm_evictions_total', help: 'Items evicted under memory pressure', registers: [this.registry] });
  readonly anchorSaturation = new Histogram({ name: 'holoserve_anchor_saturation_ratio', help: 'anchors_used / anchors_capacity of a tenant after each anchor write', buckets: UNIT_BUCKETS, registers: [this.registry] });
  readonly embeddingHits = new Counter({ name: 'holoserve_embedding_cache_hits_total', help: 'encode() answered from the embedding cache', registers: [this.registry] });
  readonly embeddingMisses = new Counter({ name: 'holoserve_embedding_cache_misses_total', help: 'encode() computed', registers: [this.registry] });
  readonly recallCacheHits = new Counter({ name: 'holoserve_recall_cache_hits_total', help: 'recall answered from the result cache', registers: [this.registry] });
  readonly recallCacheMisses = new Counter({ name: 'holoserve_recall_cache_misses_total', help: 'recall computed by a scan', registers: [this.registry] });
  // Tenant memory budget (issue #9 item 5 / #10): bytes held summed over workers, unloads and loads
  private readonly tenantBytesBy = new Map<number, number>();
  readonly tenantMemoryBytes = new Gauge({
    name: 'holoserve_tenant_memory_bytes', help: 'Tenant memory held in RAM (slabs, codes, payloads, anchors), bytes, all workers', registers: [this.registry],
    collect: () => { let s = 0; for (const b of this.tenantBytesBy.values()) s += b; this.tenantMemoryBytes.set(s); },
  });
  readonly tenantUnloads = new Counter({ name: 'holoserve_tenant_unloads_total', help: 'Tenants unloaded from RAM past memoryBudgetBytes (least recently used; durable in the store)', registers: [this.registry] });
  readonly tenantLoads = new Counter({ name: 'holoserve_tenant_loads_total', help: 'Tenants loaded from the store into RAM (first use, or again after an unload)', registers: [this.registry] });
  // The rolling dimension increase (issue #13, src/dimension/controller.ts)
  readonly dimension = new Gauge({ name: 'holoserve_dimension', help: 'HRR dimension D served now (a dimension switch changes it)', registers: [this.registry] });
  /** the rollout's coverage, read at scrape time (src/dimension/controller.ts) */
  dimensionCoverageOf?: () => number;
  readonly dimensionCoverage = new Gauge({
    name: 'holoserve_dimension_coverage_ratio', help: 'Dimension rollout: share of items and anchors present at the other D (1 when no rollout)', registers: [this.registry],
    collect: () => { this.dimensionCoverage.set(this.dimensionCoverageOf?.() ?? 1); },
  });
  readonly dimensionDelta = new Gauge({ name: 'holoserve_dimension_reconstruction_delta', help: 'Dimension rollout: |reconstruction cosine at D′ − at D| per record, at the last status (quantile p50, p95, max)', labelNames: ['quantile'], registers: [this.registry] });
  readonly dimensionCleanupScore = new Gauge({ name: 'holoserve_dimension_cleanup_score', help: 'Dimension rollout: mean HRR_CLEANUP_SCORE of record unbinds at the last status, at the served and the other D', labelNames: ['side'], registers: [this.registry] });
  // The knob table's live knobs (booleans as 0/1) and the truth budget (issue #11)
  readonly knob = new Gauge({ name: 'holoserve_knob', help: 'Current value of each live knob (booleans 0/1)', labelNames: ['name'], registers: [this.registry] });
  readonly overBudget = new Counter({ name: 'holoserve_over_budget_total', help: 'Computed replies whose reported error exceeds the truth budget (overBudget: true)', labelNames: ['op'], registers: [this.registry] });
  readonly commitSeconds = new Histogram({ name: 'holoserve_store_commit_seconds', help: 'Durable store commit time per batch, seconds', buckets: LATENCY_BUCKETS, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'holoserve_' }); // holoserve_process_cpu_…, holoserve_nodejs_…
  }

  private readonly answeredChildren = new Map<string, { inc(n?: number): void }>();
  private readonly latencyChildren = new Map<string, { observe(v: number): void }>();

  /** requests_total{op, outcome} += 1, with the labelled child looked up once per pair (labels are bounded). */
  answered(op: string, outcome: string): void {
    const k = `${op}\u0000${outcome}`;
    let c = this.answeredChildren.get(k);
    if (!c) this.answeredChildren.set(k, (c = this.requests.labels(op, outcome)));
    c.inc();
  }

  /** request_seconds{op}, the child looked up once per op. */
  latencyOf(op: string): { observe(v: number): void } {
    let c = this.latencyChildren.get(op);
    if (!c) this.latencyChildren.set(op, (c = this.latency.labels(op)));
    return c;
  }

  private readonly indexed = new Map<object, unknown[]>();
  /** metric{worker|shard = i}: the child looked up once per index, like answered() (per request on the hot path). */
  private at<C>(metric: { labels(value: string): C }, i: number): C {
    let children = this.indexed.get(metric) as C[] | undefined;
    if (!children) this.indexed.set(metric, (children = []));
    return (children[i] ??= metric.labels(String(i)));
  }

  /** A request leaves the batcher for worker w (shard, or -1 for unrouted ops) after waiting `seconds`. */
  waited(w: number, shard: number, seconds: number): void {
    this.at(this.workerQueueWait, w).observe(seconds);
    if (shard >= 0) this.at(this.shardQueueWait, shard).inc(seconds);
  }

  /** Records what a batch run on worker w observed; shards[i] is item i's shard (-1: none). */
  record(obs: BatchObs, w: number, shards: readonly number[]): void {
    let busy = 0;
    obs.itemSeconds.forEach((s, i) => {
      busy += s;
      const shard = shards[i];
      if (shard >= 0) {
        this.at(this.shardRequests, shard).inc();
        this.at(this.shardBusy, shard).inc(s);
      }
    });
    this.at(this.workerRequests, w).inc(obs.itemSeconds.length);
    this.at(this.workerBusy, w).inc(busy);
    for (const u of obs.unbinds) {
      if (u.epsRel > 0) this.unbindEpsUsed.observe({ mode: u.mode }, u.epsRel);
      this.unbindFloored.observe({ mode: u.mode }, u.flooredRatio);
    }
    for (const s of obs.cleanupScore) this.cleanupScore.observe(s);
    for (const m of obs.recallMargin) this.recallMargin.observe(m);
    for (const u of obs.utilization) this.wmUtilization.observe(u);
    for (const s of obs.saturation) this.anchorSaturation.observe(s);
    for (const c of obs.commitSeconds) this.commitSeconds.observe(c);
    if (obs.evictions) this.wmEvictions.inc(obs.evictions);
    if (obs.graphEvictions) this.graphEvictions.inc(obs.graphEvictions);
    if (obs.embeddingHits) this.embeddingHits.inc(obs.embeddingHits);
    if (obs.embeddingMisses) this.embeddingMisses.inc(obs.embeddingMisses);
    if (obs.recallCacheHits) this.recallCacheHits.inc(obs.recallCacheHits);
    if (obs.recallCacheMisses) this.recallCacheMisses.inc(obs.recallCacheMisses);
    if (obs.tenantBytes) this.tenantBytesBy.set(obs.tenantBytes.thread, obs.tenantBytes.bytes);
    if (obs.tenantUnloads) this.tenantUnloads.inc(obs.tenantUnloads);
    if (obs.tenantLoads) this.tenantLoads.inc(obs.tenantLoads);
  }

  /** A counter kept equal to a count owned elsewhere (it only rises). */
  private readonly seen = { restarts: 0, evictions: 0 };
  private advance(c: Counter, now: number, key: keyof Metrics['seen']): void {
    if (now > this.seen[key]) c.inc(now - this.seen[key]);
    this.seen[key] = Math.max(this.seen[key], now);
  }

  /** One ask of the workers serves the four load gauges of a scrape (they collect concurrently). */
  private loading?: { at: number; done: Promise<void> };
  private collectLoad(): Promise<void> {
    const src = this.sources;
    if (!src) return Promise.resolve();
    const now = performance.now();
    if (this.loading && now - this.loading.at < 250) return this.loading.done;
    const done = (async () => {
      // A worker busy past 2 s (a long batch) leaves the last values standing rather than stall the scrape.
      const rows = await Promise.race([src.load(), new Promise<null>((r) => setTimeout(() => r(null), 2000).unref())]).catch(() => null);
      if (!rows) return;
      const wt = new Array<number>(src.workers).fill(0), wb = new Array<number>(src.workers).fill(0);
      const st = new Array<number>(src.shards).fill(0), sb = new Array<number>(src.shards).fill(0);
      for (const r of rows) {
        wt[r.worker]++; wb[r.worker] += r.bytes;
        st[r.shard]++; sb[r.shard] += r.bytes;
      }
      wt.forEach((v, w) => { this.workerTenants.set({ worker: w }, v); this.workerBytes.set({ worker: w }, wb[w]); });
      st.forEach((v, s) => { this.shardTenants.set({ shard: s }, v); this.shardBytes.set({ shard: s }, sb[s]); });
    })();
    this.loading = { at: now, done };
    return done;
  }
}
