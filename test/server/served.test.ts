/**
 * The served path's promises, read back from /metrics: identical requests in flight are
 * computed once (coalescing), concurrent requests share pool tasks (batching); the HTTP
 * routes; and the admin ops: live knobs, and the seed's failure drills run for real (a worker
 * crash fails only its batch, promptly, and the pool replaces the thread).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, connect, f32, type HoloClient } from '../../src/client/client.js';
import { bind as refBind, norm } from '../../src/kernels/index.js';
import { Metrics } from '../../src/metrics/registry.js';
import { shardOf } from '../../src/pool/shard.js';
import { startServer, type Server } from './harness.js';
import { bits, errorCode, metric, rawSocket, scrape, seededVec } from './support.js';

const D = 1024;
const randVec = (seed: number, n = D) => seededVec(seed, n);

let admin: Server;
let client: HoloClient;

beforeAll(async () => {
  admin = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_ADMIN_OPS: '1' });
  client = await connect(admin.url);
});

afterAll(async () => {
  client?.close();
  await admin?.stop();
});

describe('coalescing and batching', () => {
  it('64 identical concurrent binds on one connection: one computation, 63 coalesced, identical answers', async () => {
    const a = randVec(1), b = randVec(2);
    const before = await scrape(admin.http);
    const got = await Promise.all(Array.from({ length: 64 }, () => client.bind(a, b)));
    const after = await scrape(admin.http);
    const want = refBind(a, b);
    for (const v of got) {
      expect(bits(v)).toEqual(bits(got[0]));
      let m = 0;
      for (let i = 0; i < D; i++) m = Math.max(m, Math.abs(v[i] - want[i]));
      expect(m).toBeLessThanOrEqual(1e-6 * norm(a) * norm(b));
    }
    const computed = metric(after, 'holoserve_computations_total', { op: 'bind' }) - metric(before, 'holoserve_computations_total', { op: 'bind' });
    const coalesced = metric(after, 'holoserve_coalesced_total', { op: 'bind' }) - metric(before, 'holoserve_coalesced_total', { op: 'bind' });
    expect(computed).toBeGreaterThanOrEqual(1);
    expect(computed).toBeLessThanOrEqual(2);
    expect(coalesced).toBeGreaterThanOrEqual(62);
    expect(computed + coalesced).toBe(64);
  });

  it('identical binds from four connections at once are coalesced too', async () => {
    const conns = await Promise.all(Array.from({ length: 4 }, () => connect(admin.url)));
    try {
      const a = randVec(3), b = randVec(4);
      const before = await scrape(admin.http);
      const got = (await Promise.all(conns.map((c) => Promise.all(Array.from({ length: 16 }, () => c.bind(a, b)))))).flat();
      const after = await scrape(admin.http);
      for (const v of got) expect(bits(v)).toEqual(bits(got[0]));
      const computed = metric(after, 'holoserve_computations_total', { op: 'bind' }) - metric(before, 'holoserve_computations_total', { op: 'bind' });
      const coalesced = metric(after, 'holoserve_coalesced_total', { op: 'bind' }) - metric(before, 'holoserve_coalesced_total', { op: 'bind' });
      expect(computed + coalesced).toBe(64);
      // Four sockets' frames may be read over several turns (10 computations seen on a loaded
      // machine, 1 when idle): still most of them must join one in flight.
      expect(coalesced).toBeGreaterThanOrEqual(32);
    } finally {
      for (const c of conns) c.close();
    }
  });

  it('requests that differ are not coalesced, and each gets its own answer', async () => {
    const a = randVec(5);
    const before = await scrape(admin.http);
    const bs = Array.from({ length: 20 }, (_, i) => randVec(100 + i));
    const got = await Promise.all(bs.map((b) => client.bind(a, b)));
    const after = await scrape(admin.http);
    got.forEach((v, i) => {
      const want = refBind(a, bs[i]);
      let m = 0;
      for (let j = 0; j < D; j++) m = Math.max(m, Math.abs(v[j] - want[j]));
      expect(m).toBeLessThanOrEqual(1e-6 * norm(a) * norm(bs[i]));
    });
    expect(metric(after, 'holoserve_computations_total', { op: 'bind' }) - metric(before, 'holoserve_computations_total', { op: 'bind' })).toBe(20);
    expect(metric(after, 'holoserve_coalesced_total', { op: 'bind' }) - metric(before, 'holoserve_coalesced_total', { op: 'bind' })).toBe(0);
  });

  it('a recall pipelined after a write sees it: reads never coalesce across a write', async () => {
    const s = await rawSocket(admin.url);
    const { replies } = s;
    try {
      const tenant = 'pipeline-tenant';
      const q = bin(randVec(60));
      const sock = (s.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      sock.cork(); // one TCP write: the server reads all four in one turn
      s.send({ id: 1, op: 'remember', tenant, key: 'first', vector: bin(randVec(61)) });
      s.send({ id: 2, op: 'recall', tenant, vector: q, k: 5 });
      s.send({ id: 3, op: 'remember', tenant, key: 'match', vector: q });
      s.send({ id: 4, op: 'recall', tenant, vector: q, k: 5 });
      process.nextTick(() => sock.uncork());
      const deadline = Date.now() + 10_000;
      while (replies.length < 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      const byId = new Map(replies.map((r) => [r.id as number, r]));
      for (const id of [1, 2, 3, 4]) expect(byId.get(id)).toMatchObject({ ok: true });
      const keys = (id: number) => (byId.get(id)!.hits as { key: string }[]).map((h) => h.key);
      expect(keys(2)).toEqual(['first']);
      expect(keys(4)[0]).toBe('match');
      expect(keys(4)).toHaveLength(2);
    } finally {
      s.ws.close();
    }
  });

  it('a lone bind on an idle server runs on the main thread (idle path), with the same bits as on a worker', async () => {
    await new Promise((r) => setTimeout(r, 50)); // nothing in flight, nothing lingering
    const a = randVec(41), b = randVec(42);
    const m0 = await scrape(admin.http);
    const lone = await client.bind(a, b);
    const m1 = await scrape(admin.http);
    expect(metric(m1, 'holoserve_idle_path_total') - metric(m0, 'holoserve_idle_path_total')).toBe(1);
    // it is accounted like a worker's request (the same item loop, worker/run.ts)
    expect(metric(m1, 'holoserve_worker_requests_total') - metric(m0, 'holoserve_worker_requests_total')).toBe(1);
    await new Promise((r) => setTimeout(r, 50)); // past coalesceLingerMs: the same bind computes again
    const burst = await Promise.all([client.bind(a, b), ...Array.from({ length: 15 }, (_, i) => client.bind(randVec(100 + i), b))]);
    const m2 = await scrape(admin.http);
    const computed = metric(m2, 'holoserve_computations_total', { op: 'bind' }) - metric(m1, 'holoserve_computations_total', { op: 'bind' });
    expect(computed).toBe(16);
    expect(metric(m2, 'holoserve_idle_path_total') - metric(m1, 'holoserve_idle_path_total')).toBeLessThan(16); // batches went to workers
    expect(bits(burst[0])).toEqual(bits(lone));
    const want = refBind(a, b);
    let m = 0;
    for (let i = 0; i < D; i++) m = Math.max(m, Math.abs(lone[i] - want[i]));
    expect(m).toBeLessThanOrEqual(1e-6 * norm(a) * norm(b));
  });

  it('under concurrent load the mean batch is larger than one request', async () => {
    const conns = await Promise.all(Array.from({ length: 3 }, () => connect(admin.url)));
    try {
      const before = await scrape(admin.http);
      await Promise.all(conns.map((c, k) => Promise.all(Array.from({ length: 200 }, (_, i) => c.bind(randVec(1000 * k + i), { role: `load-${i % 7}` })))));
      const after = await scrape(admin.http);
      const sum = metric(after, 'holoserve_batch_size_sum', { kind: 'hrr' }) - metric(before, 'holoserve_batch_size_sum', { kind: 'hrr' });
      const count = metric(after, 'holoserve_batch_size_count', { kind: 'hrr' }) - metric(before, 'holoserve_batch_size_count', { kind: 'hrr' });
      expect(sum).toBe(600);
      expect(count).toBeGreaterThan(0);
      expect(sum / count).toBeGreaterThan(1);
    } finally {
      for (const c of conns) c.close();
    }
  });
});

describe('HTTP routes and metrics', () => {
  it('GET /healthz and /readyz are 200 on a ready server; plain HTTP on /v1 426; unknown paths 404', async () => {
    const h = await fetch(`${admin.http}/healthz`);
    expect([h.status, await h.text()]).toEqual([200, 'ok\n']);
    const r = await fetch(`${admin.http}/readyz`);
    expect([r.status, await r.text()]).toEqual([200, 'ready\n']);
    expect((await fetch(`${admin.http}/nope`)).status).toBe(404);
    // plain HTTP on the WebSocket endpoint: 426 with the reason, and upgrades still work
    const v1 = await fetch(`${admin.http}/v1`);
    expect(v1.status).toBe(426);
    expect(v1.headers.get('upgrade')).toBe('websocket');
    expect(await v1.text()).toMatch(/WebSocket endpoint/);
    expect((await fetch(`${admin.http}/v1`, { method: 'POST', body: 'x' })).status).toBe(426);
    const fresh = await connect(admin.url);
    expect((await fresh.hello()).server).toBe('holoserve');
    fresh.close();
  });

  it('GET /metrics is Prometheus text with every metric the registry defines', async () => {
    const res = await fetch(`${admin.http}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const local = new Metrics();
    const names = local.registry.getMetricsAsArray().map((m) => m.name);
    local.registry.clear();
    expect(names.filter((n) => n.startsWith('holoserve_')).length).toBeGreaterThan(25);
    for (const n of names) expect([n, text.includes(`# HELP ${n} `)]).toEqual([n, true]);
    for (const n of ['holoserve_requests_total', 'holoserve_batch_size', 'holoserve_unbind_eps_used_ratio', 'holoserve_unbind_floored_bins_ratio', 'holoserve_coalesced_total', 'holoserve_worker_restarts_total']) {
      expect(text).toContain(`# TYPE ${n} `);
    }
  });

  it('an unbind is observed in the eps signal: λ/‖b‖² by mode when the floor bit, and the floored-bin fraction', async () => {
    const before = await scrape(admin.http);
    const a = randVec(7), b = randVec(8);
    const b2 = norm(b) ** 2;
    const r = await client.unbind(refBind(a, b), b, { mode: 'exact', eps: 0.125 * b2 });
    expect(r.epsUsed).toBeCloseTo(0.125 * b2, 9);
    expect(r.flooredBins).toBeGreaterThan(0); // λ = P̄/8 floors ~1 − e^(−1/8) ≈ 12% of a random b's bins
    // a role never bites (every bin has power 1 ≥ λ): seen in the floored fraction (0), not in the eps signal
    await client.unbind(refBind(a, b), { role: 'object' }, { mode: 'wiener' });
    const after = await scrape(admin.http);
    const d = (name: string, labels: Record<string, string> = {}) => metric(after, name, labels) - metric(before, name, labels);
    expect(d('holoserve_unbind_eps_used_ratio_count', { mode: 'exact' })).toBe(1);
    expect(d('holoserve_unbind_eps_used_ratio_count', { mode: 'wiener' })).toBe(0);
    expect(d('holoserve_unbind_eps_used_ratio_sum', { mode: 'exact' })).toBeCloseTo(0.125, 6); // scale-free: eps/‖b‖²
    expect(d('holoserve_unbind_eps_used_ratio_bucket', { mode: 'exact', le: '0.3' })).toBe(1);
    expect(d('holoserve_unbind_eps_used_ratio_bucket', { mode: 'exact', le: '0.1' })).toBe(0);
    expect(d('holoserve_unbind_floored_bins_ratio_count', { mode: 'exact' })).toBe(1);
    expect(d('holoserve_unbind_floored_bins_ratio_sum', { mode: 'exact' })).toBeCloseTo(r.flooredBins / (D / 2 + 1), 9);
    expect(d('holoserve_unbind_floored_bins_ratio_count', { mode: 'wiener' })).toBe(1);
    expect(d('holoserve_unbind_floored_bins_ratio_sum', { mode: 'wiener' })).toBe(0);
    expect(metric(after, 'holoserve_requests_total', { op: 'unbind', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
  });

  it('errors are counted by op and code', async () => {
    const before = metric(await scrape(admin.http), 'holoserve_requests_total', { op: 'bind', outcome: 'bad_dimension' });
    expect(await errorCode(client.bind(randVec(1, 8), randVec(2)))).toBe('bad_dimension');
    expect(metric(await scrape(admin.http), 'holoserve_requests_total', { op: 'bind', outcome: 'bad_dimension' }) - before).toBe(1);
  });
});

describe('admin ops (adminOps on)', () => {
  it('hello lists the admin ops (a server without adminOps leaves them out: protocol.test.ts)', async () => {
    const h = await client.hello();
    expect(h.ops).toContain('knobs');
    expect(h.ops).toContain('drill');
    expect(h).not.toHaveProperty('id');
  });

  it('knobs: reads the live knobs', async () => {
    const r = await client.request('knobs');
    expect(r.knobs).toMatchObject({ unbindBeta: 1e-3, rerank: false, rerankMargin: 0.02, rerankCandidates: 8 }); // every live knob: test/server/knobs.test.ts
  });

  it('knobs: unbindBeta = 0.01 takes effect at once in every worker (epsUsed = 0.01·‖b‖²)', async () => {
    const r = await client.request('knobs', { set: { unbindBeta: 0.01 } });
    expect((r.knobs as Record<string, unknown>).unbindBeta).toBe(0.01);
    // 8 unbinds at once spread over both workers (least busy first)
    const cases = Array.from({ length: 8 }, (_, i) => ({ a: randVec(200 + i), b: randVec(300 + i) }));
    const got = await Promise.all(cases.map(({ a, b }) => client.unbind(refBind(a, b), b)));
    got.forEach((u, i) => {
      const b2 = norm(cases[i].b) ** 2;
      expect(u.epsUsed / b2).toBeCloseTo(0.01, 12);
    });
    // an explicit beta still wins over the knob
    const { a, b } = cases[0];
    expect((await client.unbind(refBind(a, b), b, { beta: 0.5 })).epsUsed / norm(b) ** 2).toBeCloseTo(0.5, 12);
  });

  it('a lone unbind on the idle path answers under the live knobs, bit for bit as a worker does', async () => {
    // unbindBeta, wienerSnr and the truth budget changed: the main thread must take them as a worker does
    await client.request('knobs', { set: { unbindBeta: 0.02, wienerSnr: 25, epsilonTotal: 0.001 } });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const a = randVec(800), b = randVec(801), c = refBind(a, b);
    const b2 = norm(b) ** 2;
    const cases: { key: Float32Array | { role: string }; opts: { mode?: 'exact' | 'wiener' }; lambda: number }[] = [
      { key: b, opts: {}, lambda: 0.02 * b2 }, // exact: λ = unbindBeta·‖b‖²
      { key: b, opts: { mode: 'wiener' }, lambda: b2 / 25 }, // wiener: λ = ‖b‖²/wienerSnr
      { key: { role: 'agent' }, opts: { mode: 'wiener' }, lambda: 1 / 25 }, // a role: |R_k| = 1
    ];
    const idle = async () => metric(await scrape(admin.http), 'holoserve_idle_path_total');
    for (const { key, opts, lambda } of cases) {
      await sleep(50); // nothing in flight, nothing lingering
      const i0 = await idle();
      const lone = await client.unbind(c, key, opts);
      expect(await idle() - i0).toBe(1);
      expect(lone.epsUsed / lambda).toBeCloseTo(1, 9);
      expect(lone.overBudget).toBe(true); // relErr ≥ λ/(1+λ)-ish ≫ epsilonTotal 0.001
      // The same unbind on a worker: behind a bundle (never local) and 15 other unbinds in one
      // burst, so it is never lone; tried again if a stall let any of the burst take the idle path.
      let worker: typeof lone | undefined;
      for (let attempt = 0; attempt < 5 && !worker; attempt++) {
        await sleep(50);
        const j0 = await idle();
        const got = await Promise.all([
          client.bundle([a, b]).then(() => undefined),
          ...Array.from({ length: 15 }, (_, i) => client.unbind(refBind(randVec(900 + i), b), key, opts).then(() => undefined)),
          client.unbind(c, key, opts),
        ]);
        if ((await idle()) === j0) worker = got[16];
      }
      expect(worker).toBeDefined();
      expect(bits(lone.vector)).toEqual(bits(worker!.vector));
      expect({ epsUsed: lone.epsUsed, relErr: lone.relErr, flooredBins: lone.flooredBins, overBudget: lone.overBudget })
        .toEqual({ epsUsed: worker!.epsUsed, relErr: worker!.relErr, flooredBins: worker!.flooredBins, overBudget: worker!.overBudget });
    }
    await client.request('knobs', { set: { unbindBeta: 0.01, wienerSnr: 1e4, epsilonTotal: 0.05 } }); // as the tests below expect
  });

  it('drill elevated-epsilon reports a healthy engine', async () => {
    // at the default beta: the 0.01 set above floors ~1% of a Gaussian key's bins, relErr ≈ 0.06 > the budget
    await client.request('knobs', { set: { unbindBeta: 1e-3 } });
    const r = await client.request('drill', { scenario: 'elevated-epsilon' });
    expect(r).toMatchObject({ ok: true, scenario: 'elevated-epsilon', pass: true });
    const unitary = r.unitary as Record<string, { worstCosine: number }>;
    for (const mode of ['exact', 'wiener', 'approx']) expect(unitary[mode].worstCosine).toBeGreaterThanOrEqual(0.999);
    await client.request('knobs', { set: { unbindBeta: 0.01 } }); // as the knobs test left it (the replaced-worker test reads it)
  });

  it('drill role-cache-corruption purges, recomputes and verifies roles bit for bit', async () => {
    const r = await client.request('drill', { scenario: 'role-cache-corruption' });
    expect(r).toMatchObject({ ok: true, scenario: 'role-cache-corruption', pass: true, corrupt: { memory: 0, file: 0 } });
    expect((r.invariants as { memoryChecked: number }).memoryChecked).toBeGreaterThan(0);
    expect(r.computed as number).toBeGreaterThanOrEqual(64); // the default prewarm set
    expect(r.purged as number).toBeGreaterThanOrEqual(64);
    const { role } = await import('../../src/kernels/index.js');
    expect(bits(await client.role('agent'))).toEqual(bits(role('agent', D, 0)));
  });

  it('drill recall-latency-spike turns the rerank off', async () => {
    await client.request('knobs', { set: { rerank: true } });
    const r = await client.request('drill', { scenario: 'recall-latency-spike', windowMs: 100 });
    expect(r).toMatchObject({ scenario: 'recall-latency-spike', pass: true, rerankWasOn: true, rerankOffInWorkers: 2, hotShards: [] });
    expect((r.knobs as Record<string, unknown>).rerank).toBe(false);
    expect(((await client.request('knobs')).knobs as Record<string, unknown>).rerank).toBe(false);
  });

  it('drill worker-crash: the crashing batch fails `internal` within 5 s, the pool replaces the thread, requests keep working', async () => {
    // a tenant that lives on worker 0, with an acknowledged (durable) item before the crash
    let tenant = '';
    for (let i = 0; tenant === ''; i++) if (shardOf(`crash-tenant-${i}`, 64) % 2 === 0) tenant = `crash-tenant-${i}`;
    const before = randVec(70);
    expect(await client.remember(tenant, 'before-crash', before)).toMatchObject({ stored: true });
    const t0 = performance.now();
    const r = await client.request('drill', { scenario: 'worker-crash', worker: 0 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r).toMatchObject({ ok: true, scenario: 'worker-crash', worker: 0, outcome: 'internal' });
    // Requests keep working on both workers (least-busy routing starts at worker 0).
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(Array.from({ length: 16 }, (_, i) => client.bind(randVec(500 + i), { role: 'agent' })));
      expect(got).toHaveLength(16);
    }
    const deadline = Date.now() + 5000;
    let restarts = 0;
    while (Date.now() < deadline) {
      await client.bind(randVec(1), randVec(2));
      restarts = metric(await scrape(admin.http), 'holoserve_worker_restarts_total');
      if (restarts >= 1) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(restarts).toBeGreaterThanOrEqual(1);
    expect(admin.proc.exitCode).toBeNull();
    // the replacement thread serves the tenant's memory from the store, and takes writes
    expect((await client.recall(tenant, before, 3)).hits.map((h) => h.key)).toEqual(['before-crash']);
    expect(await client.remember(tenant, 'after-crash', randVec(71))).toMatchObject({ stored: true });
    expect(await client.stats(tenant)).toMatchObject({ items: 2 });
  });

  it('a replaced worker serves with the live knobs, not the start-up ones', async () => {
    // After the crash above: unbindBeta is still 0.01 from the knobs test.
    expect(((await client.request('knobs')).knobs as Record<string, unknown>).unbindBeta).toBe(0.01);
    const cases = Array.from({ length: 8 }, (_, i) => ({ a: randVec(600 + i), b: randVec(700 + i) }));
    for (const { a, b } of cases) { // one at a time: each goes to the least busy, worker 0 first
      const u = await client.unbind(refBind(a, b), b);
      expect(u.epsUsed / norm(b) ** 2).toBeCloseTo(0.01, 12);
    }
  });

  it('a batch riding with the crash fails `internal`; nothing else is lost', async () => {
    const s = await rawSocket(admin.url);
    const { replies } = s;
    try {
      s.send({ id: 1, op: 'drill', scenario: 'worker-crash', worker: 1 });
      for (let i = 0; i < 30; i++) s.send({ id: 100 + i, op: 'bind', a: bin(randVec(800 + i)), role: 'agent' });
      const deadline = Date.now() + 10_000;
      while (replies.length < 31 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(replies).toHaveLength(31);
      const drill = replies.find((x) => x.id === 1)!;
      expect(drill).toMatchObject({ ok: true, outcome: 'internal', worker: 1 });
      for (const x of replies.filter((y) => y.id !== 1)) {
        if (x.ok) expect(f32(x.vector as Uint8Array)).toHaveLength(D);
        else expect((x.error as { code: string }).code).toBe('internal');
      }
    } finally {
      s.ws.close();
    }
  });
});

describe('admin ops off (the default)', () => {
  let plain: Server;
  beforeAll(async () => {
    plain = await startServer({ HOLOSERVE_DIM: '256', HOLOSERVE_WORKERS: '1', HOLOSERVE_PREWARM_ROLES: '[]' });
  });
  afterAll(async () => { await plain?.stop(); });

  it('knobs and drill answer unauthorized, and change nothing', async () => {
    const c = await connect(plain.url);
    try {
      expect(await errorCode(c.request('knobs'))).toBe('unauthorized');
      expect(await errorCode(c.request('knobs', { set: { unbindBeta: 0.5 } }))).toBe('unauthorized');
      for (const scenario of ['worker-crash', 'role-cache-corruption', 'elevated-epsilon', 'recall-latency-spike']) {
        expect(await errorCode(c.request('drill', { scenario }))).toBe('unauthorized');
      }
      const b = randVec(9, 256);
      const u = await c.unbind(refBind(randVec(10, 256), b), b);
      expect(u.epsUsed / norm(b) ** 2).toBeCloseTo(1e-3, 12);
      expect(metric(await scrape(plain.http), 'holoserve_worker_restarts_total')).toBe(0);
    } finally {
      c.close();
    }
  });
});
