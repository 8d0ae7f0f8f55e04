/**
 * Issue #9 items 5 and 8 over the real socket: every budget (graph bytes, graph bytes per
 * worker, reply size, heat and Sinkhorn work, tenants per connection per second) refuses with
 * its code and moves holoserve_budget_refusals_total{budget}; stored graphs are scoped to a
 * tenant or a token; admin ops need an admin token; /metrics needs a token when auth is on.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, connect, type HoloClient } from '../../src/client/client.js';
import { startServer, type Server } from './harness.js';
import { errorCode, metric, rawSocket, scrape } from './support.js';

const u32 = (xs: number[]) => bin(Uint32Array.from(xs));
const f64 = (xs: ArrayLike<number>) => bin(Float64Array.from(xs));
/** The path 0–1–…–(n−1). */
const path = (n: number) => ({ n, src: u32(Array.from({ length: n - 1 }, (_, i) => i)), dst: u32(Array.from({ length: n - 1 }, (_, i) => i + 1)) });

describe('budgets', () => {
  let server: Server;
  const MiB = 1024 * 1024;
  beforeAll(async () => {
    server = await startServer({
      HOLOSERVE_DIM: '256', HOLOSERVE_WORKERS: '1', HOLOSERVE_PREWARM_ROLES: '[]',
      HOLOSERVE_GRAPH_MAX_BYTES: String(24 * MiB), HOLOSERVE_GRAPH_BYTES_PER_WORKER: String(24 * MiB),
      HOLOSERVE_HEAT_MAX_WORK: String(5e6), HOLOSERVE_SINKHORN_MAX_WORK: String(1e7),
      HOLOSERVE_TENANTS_PER_CONNECTION_PER_SECOND: '5',
    });
  });
  afterAll(async () => { await server?.stop(); });
  const refusals = async (budget: string) => metric(await scrape(server.http), 'holoserve_budget_refusals_total', { budget });

  it('graph bytes: the 57-byte graph.put (n = 1,000,000, one edge) is too_large before anything is allocated', async () => {
    const s = await rawSocket(server.url);
    try {
      const rep = await s.ask({ id: 1, op: 'graph.put', graph: 'big', n: 1_000_000, src: u32([0]), dst: u32([1]) });
      expect(rep.error?.code).toBe('too_large');
      expect(rep.error!.message).toContain(`${32 * 1_000_000 + 48} bytes`);
      expect(rep.error!.message).toMatch(/graphMaxBytes/);
      expect(await refusals('graph_bytes')).toBe(1);
      // inline heat builds a graph too
      const h = await s.ask({ id: 2, op: 'heat', ...path(300_001), n: 400_000, signal: f64(new Float64Array(10)), t: 1, K: 1 });
      expect(h.error?.code).toBe('too_large');
      expect(await refusals('graph_bytes')).toBe(2);
    } finally {
      s.ws.close();
    }
  });

  it('graph bytes per worker: older graphs leave (LRU) to make room, counted in holoserve_graph_evictions_total', async () => {
    const s = await rawSocket(server.url);
    try {
      // each keeps 20·n + 24·nnz = 20·300000 + 24·599998 ≈ 20.4 MB: with a 24 MiB budget, one at a time
      const g = path(300_000);
      const p1 = await s.ask({ id: 1, op: 'graph.put', graph: 'g1', ...g });
      expect(p1).toMatchObject({ ok: true, n: 300_000, nnz: 599_998, bytes: 20 * 300_000 + 24 * 599_998 });
      expect((await s.ask({ id: 2, op: 'graph.put', graph: 'g2', ...g })).ok).toBe(true);
      expect((await s.ask({ id: 3, op: 'heat', graph: 'g1', signal: f64(new Float64Array(300_000)), t: 0.1, K: 2 })).error?.code).toBe('not_found');
      expect((await s.ask({ id: 4, op: 'heat', graph: 'g2', signal: f64(new Float64Array(300_000)), t: 0.1, K: 2 })).ok).toBe(true);
      expect(metric(await scrape(server.http), 'holoserve_graph_evictions_total')).toBe(1);
    } finally {
      s.ws.close();
    }
  });

  it('reply size: a heat whose reply would exceed maxFrameBytes is refused with the size it would have had', async () => {
    const s = await rawSocket(server.url);
    try {
      const n = 20_000, times = 64;
      const before = await refusals('reply_bytes');
      const t0 = performance.now();
      const rep = await s.ask({ id: 1, op: 'heat', ...path(n), signal: f64(new Float64Array(n)), t: Array.from({ length: times }, (_, i) => i / 10), K: 1 });
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(rep.error?.code).toBe('too_large');
      expect(rep.error!.message).toContain(`${8 * n * times + 16 * times + 64} bytes`);
      expect(await refusals('reply_bytes')).toBe(before + 1);
    } finally {
      s.ws.close();
    }
  });

  it('heat work K·(nnz + n·|t|): inline refused on the main thread, stored refused by its worker', async () => {
    const s = await rawSocket(server.url);
    try {
      const n = 10_000;
      const before = await refusals('heat_work');
      const sig = f64(new Float64Array(n).fill(1));
      // K = 200, |t| = 4: 200·(19998 + 40000) ≈ 1.2e7 > 5e6
      expect((await s.ask({ id: 1, op: 'heat', ...path(n), signal: sig, t: [1, 2, 3, 4], K: 200 })).error?.code).toBe('too_large');
      expect((await s.ask({ id: 2, op: 'graph.put', graph: 'w', ...path(n) })).ok).toBe(true);
      const rep = await s.ask({ id: 3, op: 'heat', graph: 'w', signal: sig, t: [1, 2, 3, 4], K: 200 });
      expect(rep.error?.code).toBe('too_large');
      expect(rep.error!.message).toMatch(/heatMaxWork/);
      expect(await refusals('heat_work')).toBe(before + 2);
      // within the budget it runs: x = √degree spans L's null space (L = I − D^{−1/2} A D^{−1/2}), so exp(−tL)x = x
      const x = Float64Array.from({ length: n }, (_, i) => Math.sqrt(i === 0 || i === n - 1 ? 1 : 2));
      const ok = await s.ask({ id: 4, op: 'heat', graph: 'w', signal: f64(x), t: 1, K: 20 });
      const y = new Float64Array(new Uint8Array(ok.result as Uint8Array).slice().buffer);
      expect(Math.max(...y.map((v, i) => Math.abs(v - x[i])))).toBeLessThan(1e-9);
    } finally {
      s.ws.close();
    }
  });

  it('sinkhorn work maxIter·n·m', async () => {
    const s = await rawSocket(server.url);
    try {
      const cost = f64(new Float64Array(64 * 64).fill(1));
      const rep = await s.ask({ id: 1, op: 'sinkhorn', n: 64, m: 64, cost, epsilon: 0.1, maxIter: 100_000 });
      expect(rep.error?.code).toBe('too_large');
      expect(rep.error!.message).toContain(`${100_000 * 64 * 64}`);
      expect(await refusals('sinkhorn_work')).toBe(1);
      expect((await s.ask({ id: 2, op: 'sinkhorn', n: 64, m: 64, cost, epsilon: 0.1, maxIter: 2000 })).ok).toBe(true);
    } finally {
      s.ws.close();
    }
  });

  it('tenants per connection per second: the 6th new name in a second is overloaded, other connections unaffected', async () => {
    const s = await rawSocket(server.url);
    const other = await rawSocket(server.url);
    try {
      for (let i = 0; i < 5; i++) s.send({ id: i, op: 'stats', tenant: `rate-${i}` });
      for (let i = 0; i < 5; i++) s.send({ id: i, op: 'stats', tenant: `rate-${i}` }); // the same names again: free
      s.send({ id: 99, op: 'stats', tenant: 'rate-new' });
      const replies = await s.until(11);
      expect(replies.filter((r) => r.ok)).toHaveLength(10);
      expect(replies.find((r) => r.id === 99)?.error?.code).toBe('overloaded');
      expect((await other.ask({ id: 1, op: 'stats', tenant: 'rate-new' })).ok).toBe(true);
      expect(await refusals('tenant_rate')).toBe(1);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await s.ask({ id: 100, op: 'stats', tenant: 'rate-new' })).ok).toBe(true);
    } finally {
      s.ws.close();
      other.ws.close();
    }
  });
});

describe('reply size after computing (a recall of large payloads)', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ HOLOSERVE_DIM: '256', HOLOSERVE_WORKERS: '1', HOLOSERVE_PREWARM_ROLES: '[]', HOLOSERVE_MAX_FRAME_BYTES: '65536' });
  });
  afterAll(async () => { await server?.stop(); });

  it('a reply over maxFrameBytes becomes too_large with its size; a smaller k is answered', async () => {
    const s = await rawSocket(server.url);
    try {
      const pad = new Uint8Array(30_000).fill(7);
      for (let i = 0; i < 3; i++) expect((await s.ask({ id: i, op: 'remember', tenant: 'big', key: `k${i}`, text: `item ${i}`, payload: pad })).ok).toBe(true);
      const rep = await s.ask({ id: 9, op: 'recall', tenant: 'big', text: 'item', k: 3 });
      expect(rep.error?.code).toBe('too_large');
      const size = Number(/would be (\d+) bytes/.exec(rep.error!.message)?.[1]);
      expect(size).toBeGreaterThan(3 * 30_000);
      expect(size).toBeLessThan(3 * 30_000 + 1024);
      expect(metric(await scrape(server.http), 'holoserve_budget_refusals_total', { budget: 'reply_bytes' })).toBe(1);
      expect(metric(await scrape(server.http), 'holoserve_requests_total', { op: 'recall', outcome: 'too_large' })).toBe(1);
      const two = await s.ask({ id: 10, op: 'recall', tenant: 'big', text: 'item', k: 2 });
      expect((two.hits as unknown[]).length).toBe(2);
    } finally {
      s.ws.close();
    }
  });
});

describe('scoping (issue #9 item 8)', () => {
  let server: Server;
  const tok = (t: string, tenants: string[], admin = false) => ({ salt: `s-${t}`, sha256: createHash('sha256').update(`s-${t}`).update(t).digest('hex'), tenants, admin });
  let A: HoloClient, B: HoloClient, C: HoloClient;
  beforeAll(async () => {
    server = await startServer({
      HOLOSERVE_DIM: '256', HOLOSERVE_WORKERS: '2', HOLOSERVE_PREWARM_ROLES: '[]', HOLOSERVE_ADMIN_OPS: 'true',
      HOLOSERVE_TOKENS: JSON.stringify([tok('token-a', ['a']), tok('token-b', ['b']), tok('token-c', ['*'], true)]),
    });
    [A, B, C] = await Promise.all(['token-a', 'token-b', 'token-c'].map((token) => connect(server.url, { token })));
  });
  afterAll(async () => {
    for (const c of [A, B, C]) c?.close();
    await server?.stop();
  });

  const g = { ...path(4), signal: f64([1, 0, 0, 0]), t: 1 };

  it('a graph stored without a tenant belongs to its token: another token cannot run or delete it', async () => {
    expect(await A.request('graph.put', { graph: 'shared-name', n: g.n, src: g.src, dst: g.dst })).toMatchObject({ ok: true });
    expect(await errorCode(B.request('heat', { graph: 'shared-name', signal: g.signal, t: 1 }))).toBe('not_found');
    expect(await B.request('graph.delete', { graph: 'shared-name' })).toMatchObject({ removed: false });
    expect(await errorCode(A.request('heat', { graph: 'shared-name', signal: g.signal, t: 1 }))).toBe('ok');
    // B may store its own under the same name; each sees its own
    expect(await B.request('graph.put', { graph: 'shared-name', ...path(3) })).toMatchObject({ n: 3 });
    expect(await A.request('graph.put', { graph: 'shared-name', n: g.n, src: g.src, dst: g.dst })).toMatchObject({ n: 4 });
  });

  it('a graph stored under a tenant is checked like memory ops', async () => {
    expect(await A.request('graph.put', { graph: 'tg', tenant: 'a', n: g.n, src: g.src, dst: g.dst })).toMatchObject({ ok: true });
    expect(await errorCode(B.request('heat', { graph: 'tg', tenant: 'a', signal: g.signal, t: 1 }))).toBe('unauthorized');
    expect(await errorCode(B.request('graph.delete', { graph: 'tg', tenant: 'a' }))).toBe('unauthorized');
    expect(await errorCode(B.request('heat', { graph: 'tg', tenant: 'b', signal: g.signal, t: 1 }))).toBe('not_found');
    expect(await errorCode(A.request('heat', { graph: 'tg', signal: g.signal, t: 1 }))).toBe('not_found'); // the token's scope is another
    expect(await errorCode(C.request('heat', { graph: 'tg', tenant: 'a', signal: g.signal, t: 1 }))).toBe('ok'); // '*' may use tenant a
  });

  it('admin ops need a token with admin: true', async () => {
    expect(await errorCode(A.request('knobs'))).toBe('unauthorized');
    expect(await errorCode(B.request('drill', { scenario: 'worker-crash' }))).toBe('unauthorized');
    // knobs' ops (issue #11) pass the same check: status, a knob change, a drill
    expect(await errorCode(A.request('status'))).toBe('unauthorized');
    expect(await errorCode(B.request('knobs', { set: { rerank: true } }))).toBe('unauthorized');
    expect(await errorCode(A.request('drill', { scenario: 'elevated-epsilon' }))).toBe('unauthorized');
    expect(await C.request('knobs')).toMatchObject({ ok: true, knobs: { unbindBeta: 1e-3, rerank: false } });
    expect(await C.request('status')).toMatchObject({ ok: true, ready: true });
  });

  it('/metrics needs a token when auth is required', async () => {
    expect((await fetch(`${server.http}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.http}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const res = await fetch(`${server.http}/metrics`, { headers: { authorization: 'Bearer token-b' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/holoserve_requests_total/);
  });
});
