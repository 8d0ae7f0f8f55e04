/**
 * Every metric docs/OPERATIONS.md documents is made to move by a real workload against the real
 * server, and read back from /metrics: not only its HELP line. The table, the registry and the
 * checks below must name the same metrics (a metric added without a doc row or a check fails).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, connect, type HoloClient } from '../../src/client/client.js';
import { bind as refBind, norm } from '../../src/kernels/index.js';
import { Metrics } from '../../src/metrics/registry.js';
import { shardOf } from '../../src/pool/shard.js';
import { ROOT, startServer, type Server } from './harness.js';
import { metric, rawSocket, rng, scrape, seededVec } from './support.js';

const maxAbs = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);

const D = 1024;
const SHARDS = 16;
const WORKERS = 2;

let srv: Server;
let client: HoloClient;

beforeAll(async () => {
  srv = await startServer({
    HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: String(WORKERS), HOLOSERVE_SHARDS: String(SHARDS), HOLOSERVE_ADMIN_OPS: '1',
    HOLOSERVE_WORKER_PIPELINE: '1', HOLOSERVE_BATCH_WINDOW_MS: '1000', HOLOSERVE_BATCH_MAX: '4', HOLOSERVE_ROLE_TABLE_CAPACITY: '70',
    HOLOSERVE_MEMORY_CAPACITY: '8', HOLOSERVE_ANCHORS_MAX: '4', HOLOSERVE_COALESCE_LINGER_MS: '1000',
    HOLOSERVE_GRAPHS_PER_WORKER: '1', HOLOSERVE_MEMORY_BUDGET_BYTES: String(1 << 20), // 512 KiB per worker
  });
  client = await connect(srv.url);
});

afterAll(async () => {
  client?.close();
  await srv?.stop();
});

/** The metric names of docs/OPERATIONS.md's table (without the prefix; `process_*` rows aside). */
function documented(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/OPERATIONS.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('### The eps signal'));
  return [...section.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
}

/** A metric's value as a number to compare: a histogram's _count, else the sum of its samples. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  return text.includes(`# TYPE ${name} histogram`) ? metric(text, `${name}_count`, labels) : metric(text, name, labels);
}

describe('/metrics: every documented metric moves under a workload', () => {
  it('the table, the registry and the workload checks agree, and each metric moved', async () => {
    const first = await scrape(srv.http);
    const prewarmed = Number(/prewarmed (\d+) roles/.exec(srv.output())![1]);

    // — a live knob changed through the admin op (holoserve_knob{name})
    const knobSet = await client.request('knobs', { set: { rerankMargin: 0.05 } });
    expect(knobSet.changed).toEqual([{ name: 'rerankMargin', old: 0.02, new: 0.05 }]);

    // — HRR: coalescing, roles (miss, hit, eviction at capacity 70), the eps signal
    const a = seededVec(1, D), b = seededVec(2, D);
    await Promise.all([client.bind(a, b), client.bind(a, b)]);
    const lingering = await scrape(srv.http); // the joinable answer holds its vectors for coalesceLingerMs
    for (let i = 0; i < 10; i++) await client.bind(a, { role: `metrics-role-${i}` });
    await client.bind(a, { role: 'metrics-role-9' });
    const idleBefore = metric(await scrape(srv.http), 'holoserve_idle_path_total');
    await new Promise((res) => setTimeout(res, 20)); // a lone request: ≥ 2 ms after the last, every worker idle
    const idleBind = await client.bind(b, a);
    expect(maxAbs(idleBind, refBind(b, a))).toBeLessThan(1e-4);
    const idleAfter = metric(await scrape(srv.http), 'holoserve_idle_path_total');
    const b2 = norm(b) ** 2;
    const u = await client.unbind(refBind(a, b), b, { beta: 0.125 });
    expect(u.flooredBins).toBeGreaterThan(0);
    const w = await client.unbind(refBind(a, b), b, { mode: 'wiener', snr: 4 / b2 });
    // the truth budget: λ = ‖b‖²/4 costs far more than epsilon_total (0.05), so this reply is over budget
    expect(w.relErr).toBeGreaterThan(0.05);
    expect(w.overBudget).toBe(true);
    const overBudgetUnbinds = [u, w].filter((x) => x.overBudget === true).length;

    // — memory: one tenant past its capacity of 8, texts twice (embedding hit), recall twice (cache hit), anchors, cleanup
    const tenant = 'metrics-tenant';
    for (let i = 0; i < 12; i++) await client.remember(tenant, `k${i}`, `item number ${i} of the metrics test`);
    await client.remember(tenant, 'k11', 'item number 11 of the metrics test');
    await client.recall(tenant, 'item number 3', 3);
    await client.recall(tenant, 'item number 3', 3);
    await client.anchorPut(tenant, 'one', seededVec(3, D));
    await client.anchorPut(tenant, 'two', seededVec(4, D));
    await client.cleanup(tenant, seededVec(3, D));
    const st = await client.stats(tenant);
    const heldBytes = (st.items + st.anchors) * D * 4;

    // — queueing and dropped replies: two sockets send 40 slow Sinkhorns each (2000 iterations).
    // One closes at once: the replies owed to it are dropped, whatever the timing. The other
    // waits until a scrape sees requests queued: each worker computes one batch of at most 4 at a
    // time (pipeline 1, batchMax 4), so however the 80 frames arrive, at most 8 are out and the
    // rest wait in the batcher for the length of several batches.
    const r = rng(5);
    const n = 64;
    const sinkhorns = (sock: Awaited<ReturnType<typeof rawSocket>>) => {
      for (let i = 1; i <= 40; i++) {
        const cost = Float64Array.from({ length: n * n }, () => r());
        sock.send({ id: i, op: 'sinkhorn', cost: bin(cost), n, m: n, epsilon: 0.002, tol: 1e-300, maxIter: 2000 });
      }
    };
    const closing = await rawSocket(srv.url);
    const raw = await rawSocket(srv.url);
    sinkhorns(closing);
    closing.ws.close();
    sinkhorns(raw);
    let busy = await scrape(srv.http);
    while (metric(busy, 'holoserve_queued_requests') === 0 && raw.replies.length < 40) busy = await scrape(srv.http);
    raw.ws.close();
    const deadline = Date.now() + 60_000;
    while (metric(await scrape(srv.http), 'holoserve_requests_total', { op: 'sinkhorn' }) < 80 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
    }

    // — budgets (issue #9): a Sinkhorn over sinkhornMaxWork is refused before it runs; three
    // graphs on two workers with graphsPerWorker 1: at least one is evicted
    const refused = await client.request('sinkhorn', { cost: bin(Float64Array.from({ length: 64 * 64 }, () => r())), n: 64, m: 64, epsilon: 0.1, maxIter: 50_000 }).catch((e: Error & { code?: string }) => e.code);
    expect(refused).toBe('too_large');
    for (const g of ['metrics-g1', 'metrics-g2', 'metrics-g3']) await client.graphPut(g, { n: 3, src: Uint32Array.of(0, 1), dst: Uint32Array.of(1, 2) });

    // — a worker crash (the drill), counted once the replacement thread exists
    await client.request('drill', { scenario: 'worker-crash', worker: 1 });
    let last = await scrape(srv.http);
    while (metric(last, 'holoserve_worker_restarts_total') < 1 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      last = await scrape(srv.http);
    }

    // — the tenant memory budget (issue #10): two tenants on the other worker, 7 items with 60 kB
    // payloads each (~430 kB apiece), overflow its 512 KiB share: the least recently used leaves
    // RAM, and is loaded again from the store on its next request.
    const coldWorker = (shardOf(tenant, SHARDS) + 1) % WORKERS;
    const budgetTenants: string[] = [];
    for (let i = 0; budgetTenants.length < 2; i++) if (shardOf(`metrics-budget-${i}`, SHARDS) % WORKERS === coldWorker) budgetTenants.push(`metrics-budget-${i}`);
    const payload = new Uint8Array(60_000).fill(7);
    for (const t of budgetTenants) for (let i = 0; i < 7; i++) await client.remember(t, `b${i}`, `budget item ${i} of ${t}`, { payload });
    const back = await client.recall(budgetTenants[0], 'budget item 3', 1);
    expect(back.hits[0].key).toBe('b3');
    const budget = await scrape(srv.http);

    const moved = (name: string, labels: Record<string, string> = {}) => value(last, `holoserve_${name}`, labels) - value(first, `holoserve_${name}`, labels);
    const hot = { shard: String(shardOf(tenant, SHARDS)) };
    const hotWorker = { worker: String(shardOf(tenant, SHARDS) % WORKERS) };
    const checks: Record<string, () => void> = {
      requests_total: () => expect(moved('requests_total', { op: 'remember', outcome: 'ok' })).toBe(13),
      request_seconds: () => expect(moved('request_seconds', { op: 'recall' })).toBe(2),
      batch_size: () => expect(moved('batch_size', { kind: 'memory' })).toBeGreaterThanOrEqual(13),
      queue_wait_seconds: () => expect(moved('queue_wait_seconds', { kind: 'ot' })).toBe(80),
      queued_requests: () => expect(metric(busy, 'holoserve_queued_requests')).toBeGreaterThan(0),
      computations_total: () => expect(moved('computations_total', { op: 'bind' })).toBe(12), // the pair computed once, + 10 roles, + the idle-path bind (the repeat of role 9 joins its lingering answer)
      idle_path_total: () => expect(idleAfter - idleBefore).toBe(1),
      coalesced_total: () => expect(moved('coalesced_total', { op: 'bind' })).toBe(2),
      pooled_vectors_held: () => expect(metric(lingering, 'holoserve_pooled_vectors_held')).toBeGreaterThanOrEqual(2),
      role_cache_size: () => {
        expect(prewarmed).toBe(64);
        expect(metric(first, 'holoserve_role_cache_size')).toBe(prewarmed); // read 0 before the first batch, once
        expect(metric(last, 'holoserve_role_cache_size')).toBe(70); // 64 + 10 new, capped by the capacity
      },
      role_cache_hits_total: () => expect(moved('role_cache_hits_total')).toBeGreaterThanOrEqual(1),
      role_cache_misses_total: () => expect(moved('role_cache_misses_total')).toBeGreaterThanOrEqual(10),
      role_cache_evictions_total: () => expect(moved('role_cache_evictions_total')).toBeGreaterThanOrEqual(4),
      connections: () => expect(metric(last, 'holoserve_connections')).toBeGreaterThanOrEqual(1),
      bytes_in_total: () => expect(moved('bytes_in_total')).toBeGreaterThan(40 * n * n * 8),
      bytes_out_total: () => expect(moved('bytes_out_total')).toBeGreaterThan(12 * D * 4),
      replies_dropped_total: () => expect(moved('replies_dropped_total')).toBeGreaterThan(0),
      unbind_eps_used_ratio: () => {
        expect(moved('unbind_eps_used_ratio', { mode: 'exact' })).toBe(1);
        expect(metric(last, 'holoserve_unbind_eps_used_ratio_sum', { mode: 'exact' }) - metric(first, 'holoserve_unbind_eps_used_ratio_sum', { mode: 'exact' })).toBeCloseTo(0.125, 9);
        expect(moved('unbind_eps_used_ratio', { mode: 'wiener' })).toBe(1);
        expect(metric(last, 'holoserve_unbind_eps_used_ratio_sum', { mode: 'wiener' }) - metric(first, 'holoserve_unbind_eps_used_ratio_sum', { mode: 'wiener' })).toBeCloseTo(0.25, 6);
      },
      unbind_floored_bins_ratio: () => {
        expect(moved('unbind_floored_bins_ratio', { mode: 'exact' })).toBe(1);
        expect(metric(last, 'holoserve_unbind_floored_bins_ratio_sum', { mode: 'exact' }) - metric(first, 'holoserve_unbind_floored_bins_ratio_sum', { mode: 'exact' })).toBeCloseTo(u.flooredBins / (D / 2 + 1), 12);
      },
      worker_restarts_total: () => expect(moved('worker_restarts_total')).toBe(1),
      internal_errors_total: () => expect(moved('internal_errors_total', { op: 'drill.crash' }) + moved('internal_errors_total', { op: 'drill' })).toBeGreaterThanOrEqual(1), // the crash drill's request ends internal
      budget_refusals_total: () => expect(moved('budget_refusals_total', { budget: 'sinkhorn_work' })).toBe(1),
      graph_evictions_total: () => expect(moved('graph_evictions_total')).toBeGreaterThanOrEqual(1),
      worker_requests_total: () => expect(moved('worker_requests_total', hotWorker)).toBeGreaterThanOrEqual(19), // the tenant's 19 requests (13 remember, 2 recall, 2 anchor.put, cleanup, stats)
      worker_busy_seconds_total: () => expect(moved('worker_busy_seconds_total', hotWorker)).toBeGreaterThan(0),
      worker_queue_wait_seconds: () => expect(moved('worker_queue_wait_seconds', hotWorker)).toBeGreaterThanOrEqual(19),
      worker_tenants_loaded: () => expect(metric(last, 'holoserve_worker_tenants_loaded', hotWorker)).toBe(1),
      worker_held_bytes: () => expect(metric(last, 'holoserve_worker_held_bytes', hotWorker)).toBe(heldBytes),
      shard_requests_total: () => {
        expect(moved('shard_requests_total', hot)).toBe(19);
        expect(moved('shard_requests_total')).toBe(19 + 3); // + the 3 graph.puts (by graph id); the Sinkhorns and binds route to no shard
      },
      shard_busy_seconds_total: () => {
        expect(moved('shard_busy_seconds_total', hot)).toBeGreaterThan(0);
        expect(moved('shard_busy_seconds_total', hot)).toBeLessThanOrEqual(moved('worker_busy_seconds_total', hotWorker));
      },
      shard_queue_wait_seconds_total: () => expect(moved('shard_queue_wait_seconds_total', hot)).toBeGreaterThan(0),
      shard_tenants_loaded: () => {
        expect(metric(last, 'holoserve_shard_tenants_loaded', hot)).toBe(1);
        expect(metric(last, 'holoserve_shard_tenants_loaded')).toBe(1);
      },
      shard_held_bytes: () => expect(metric(last, 'holoserve_shard_held_bytes', hot)).toBe(heldBytes),
      hrr_cleanup_score: () => expect(moved('hrr_cleanup_score')).toBe(1),
      recall_margin_top12: () => expect(moved('recall_margin_top12')).toBe(1), // the second recall was cached
      wm_utilization_ratio: () => expect(moved('wm_utilization_ratio')).toBe(13),
      wm_evictions_total: () => expect(moved('wm_evictions_total')).toBeGreaterThanOrEqual(4),
      anchor_saturation_ratio: () => {
        expect(moved('anchor_saturation_ratio')).toBe(2);
        expect(metric(last, 'holoserve_anchor_saturation_ratio_sum') - metric(first, 'holoserve_anchor_saturation_ratio_sum')).toBeCloseTo(0.25 + 0.5, 12);
      },
      embedding_cache_hits_total: () => expect(moved('embedding_cache_hits_total')).toBeGreaterThanOrEqual(1),
      embedding_cache_misses_total: () => expect(moved('embedding_cache_misses_total')).toBeGreaterThanOrEqual(12),
      recall_cache_hits_total: () => expect(moved('recall_cache_hits_total')).toBe(1),
      recall_cache_misses_total: () => expect(moved('recall_cache_misses_total')).toBe(1),
      tenant_memory_bytes: () => {
        expect(metric(last, 'holoserve_tenant_memory_bytes')).toBeGreaterThanOrEqual(heldBytes);
        expect(metric(budget, 'holoserve_tenant_memory_bytes')).toBeGreaterThan(400_000);
        expect(metric(budget, 'holoserve_tenant_memory_bytes')).toBeLessThanOrEqual(1 << 20);
      },
      tenant_unloads_total: () => expect(metric(budget, 'holoserve_tenant_unloads_total') - metric(last, 'holoserve_tenant_unloads_total')).toBeGreaterThanOrEqual(1),
      tenant_loads_total: () => {
        expect(moved('tenant_loads_total')).toBeGreaterThanOrEqual(1); // the tenant's first use
        expect(metric(budget, 'holoserve_tenant_loads_total') - metric(last, 'holoserve_tenant_loads_total')).toBeGreaterThanOrEqual(3); // two new tenants, one loaded again
      },
      store_commit_seconds: () => expect(moved('store_commit_seconds')).toBeGreaterThanOrEqual(1),
      knob: () => {
        expect(metric(first, 'holoserve_knob', { name: 'rerankMargin' })).toBe(0.02);
        expect(metric(last, 'holoserve_knob', { name: 'rerankMargin' })).toBe(0.05);
        expect(metric(last, 'holoserve_knob', { name: 'epsilonTotal' })).toBe(0.05);
      },
      over_budget_total: () => expect(moved('over_budget_total', { op: 'unbind' })).toBe(overBudgetUnbinds),
      // The rolling dimension increase: no rollout here, so the served D and coverage 1; the
      // rollout's own numbers move in test/server/dimension.test.ts (shadow, status, switch).
      dimension: () => expect(metric(last, 'holoserve_dimension')).toBe(D),
      dimension_coverage_ratio: () => expect(metric(last, 'holoserve_dimension_coverage_ratio')).toBe(1),
      dimension_reconstruction_delta: () => expect(last).not.toMatch(/^holoserve_dimension_reconstruction_delta\{/m),
      dimension_cleanup_score: () => expect(last).not.toMatch(/^holoserve_dimension_cleanup_score\{/m),
    };

    const local = new Metrics();
    const registered = local.registry.getMetricsAsArray().map((m) => m.name)
      .filter((m) => !/^holoserve_(process|nodejs)_/.test(m)).map((m) => m.replace(/^holoserve_/, ''));
    local.registry.clear();
    expect(documented().sort()).toEqual(registered.sort());
    expect(Object.keys(checks).sort()).toEqual(registered.sort());
    for (const [name, check] of Object.entries(checks)) {
      try { check(); } catch (e) { throw new Error(`${name}: ${(e as Error).message}`); }
    }
    // prom-client's process metrics (the `process_*` row)
    expect(metric(last, 'holoserve_process_cpu_seconds_total')).toBeGreaterThan(metric(first, 'holoserve_process_cpu_seconds_total'));
    expect(metric(last, 'holoserve_process_resident_memory_bytes')).toBeGreaterThan(0);
  }, 120_000);
});
