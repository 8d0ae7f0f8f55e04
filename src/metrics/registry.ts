/**
 * Every metric holoserve exports (prom-client, one registry). Workers do not own metrics: each
 * batch result carries what it observed (BatchObs) and the main thread records it here, so the
 * numbers are aggregated across threads by construction. Labels are bounded: op (the op
 * table), outcome (the error codes), kind (the batch kinds); never a tenant or a key.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchObs } from '../pool/messages.js';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const UNIT_BUCKETS = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'holoserve_requests_total', help: 'Requests answered, by op and outcome (ok or an error code)', labelNames: ['op', 'outcome'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'holoserve_request_seconds', help: 'Time from frame received to reply sent, seconds', labelNames: ['op'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'holoserve_batch_size', help: 'Requests per pool task', labelNames: ['kind'], buckets: BATCH_BUCKETS, registers: [this.registry] });
  readonly queueWait = new Histogram({ name: 'holoserve_queue_wait_seconds', help: 'Time a request waited in the batcher, seconds', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly computations = new Counter({ name: 'holoserve_computations_total', help: 'Requests actually computed by a worker (coalesced askers share one)', labelNames: ['op'], registers: [this.registry] });
  readonly coalesced = new Counter({ name: 'holoserve_coalesced_total', help: 'Requests answered by joining an identical request in flight', labelNames: ['op'], registers: [this.registry] });
  readonly roleCacheSize = new Gauge({ name: 'holoserve_role_cache_size', help: 'Roles in the shared role table', registers: [this.registry] });
  readonly roleCacheHits = new Counter({ name: 'holoserve_role_cache_hits_total', help: 'Role look-ups found in the table', registers: [this.registry] });
  readonly roleCacheMisses = new Counter({ name: 'holoserve_role_cache_misses_total', help: 'Role look-ups that had to compute the role', registers: [this.registry] });
  readonly roleCacheEvictions = new Counter({ name: 'holoserve_role_cache_evictions_total', help: 'Roles evicted from the table (LRU)', registers: [this.registry] });
  readonly connections = new Gauge({ name: 'holoserve_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  readonly bytesIn = new Counter({ name: 'holoserve_bytes_in_total', help: 'WebSocket payload bytes received', registers: [this.registry] });
  readonly bytesOut = new Counter({ name: 'holoserve_bytes_out_total', help: 'WebSocket payload bytes sent', registers: [this.registry] });
  readonly unbindEpsUsed = new Histogram({ name: 'holoserve_unbind_eps_used', help: 'UNBIND_EPS_USED: the regulariser λ an unbind used (exact: the floor eps; wiener: 1/snr)', buckets: [1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10], registers: [this.registry] });
  readonly workerRestarts = new Gauge({ name: 'holoserve_worker_restarts', help: 'Worker threads replaced after a crash', registers: [this.registry] });
  readonly dropped = new Counter({ name: 'holoserve_replies_dropped_total', help: 'Replies not sent because the connection had closed', registers: [this.registry] });
  /** set by main.ts to read the vector pool at scrape time */
  vectorsHeld?: () => number;
  readonly pooledVectors = new Gauge({
    name: 'holoserve_pooled_vectors_held', help: 'Received vectors held by requests in flight (shared-memory pool; 0 when idle)', registers: [this.registry],
    collect: () => { this.pooledVectors.set(this.vectorsHeld?.() ?? 0); },
  });
  readonly queued = new Gauge({ name: 'holoserve_queued_requests', help: 'Requests waiting in the batcher', registers: [this.registry] });
  // Memory (issue #4), observed by the workers
  readonly cleanupScore = new Histogram({ name: 'holoserve_hrr_cleanup_score', help: 'HRR_CLEANUP_SCORE: cosine of the best anchor in cleanup', buckets: UNIT_BUCKETS, registers: [this.registry] });
  readonly recallMargin = new Histogram({ name: 'holoserve_recall_margin_top12', help: 'RECALL_MARGIN_TOP12: top1 − top2 cosine of a recall', buckets: [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1], registers: [this.registry] });
  readonly wmUtilization = new Histogram({ name: 'holoserve_wm_utilization', help: 'WM_UTILIZATION (items/capacity) of a tenant after each write', buckets: UNIT_BUCKETS, registers: [this.registry] });
  readonly wmEvictions = new Counter({ name: 'holoserve_wm_evictions_total', help: 'Items evicted under memory pressure', registers: [this.registry] });
  readonly anchorSaturation = new Histogram({ name: 'holoserve_anchor_saturation', help: 'anchors_used / anchors_capacity of a tenant after each anchor write', buckets: UNIT_BUCKETS, registers: [this.registry] });
  readonly embeddingHits = new Counter({ name: 'holoserve_embedding_cache_hits_total', help: 'encode() answered from the embedding cache', registers: [this.registry] });
  readonly embeddingMisses = new Counter({ name: 'holoserve_embedding_cache_misses_total', help: 'encode() computed', registers: [this.registry] });
  readonly recallCacheHits = new Counter({ name: 'holoserve_recall_cache_hits_total', help: 'recall answered from the result cache', registers: [this.registry] });
  readonly recallCacheMisses = new Counter({ name: 'holoserve_recall_cache_misses_total', help: 'recall computed by a scan', registers: [this.registry] });
  // The knob table's live knobs (booleans as 0/1) and the truth budget (issue #11)
  readonly knob = new Gauge({ name: 'holoserve_knob', help: 'Current value of each live knob (booleans 0/1)', labelNames: ['name'], registers: [this.registry] });
  readonly overBudget = new Counter({ name: 'holoserve_over_budget_total', help: 'Computed replies whose reported error exceeds the truth budget (overBudget: true)', labelNames: ['op'], registers: [this.registry] });
  readonly commitSeconds = new Histogram({ name: 'holoserve_store_commit_seconds', help: 'Durable store commit time per batch, seconds', buckets: LATENCY_BUCKETS, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'holoserve_' }); // holoserve_process_cpu_…, holoserve_nodejs_…
  }

  /** Records what a batch observed in a worker. */
  record(obs: BatchObs): void {
    for (const e of obs.epsUsed) this.unbindEpsUsed.observe(e);
    for (const s of obs.cleanupScore) this.cleanupScore.observe(s);
    for (const m of obs.recallMargin) this.recallMargin.observe(m);
    for (const u of obs.utilization) this.wmUtilization.observe(u);
    for (const s of obs.saturation) this.anchorSaturation.observe(s);
    for (const c of obs.commitSeconds) this.commitSeconds.observe(c);
    if (obs.evictions) this.wmEvictions.inc(obs.evictions);
    if (obs.embeddingHits) this.embeddingHits.inc(obs.embeddingHits);
    if (obs.embeddingMisses) this.embeddingMisses.inc(obs.embeddingMisses);
    if (obs.recallCacheHits) this.recallCacheHits.inc(obs.recallCacheHits);
    if (obs.recallCacheMisses) this.recallCacheMisses.inc(obs.recallCacheMisses);
  }
}
