/**
 * The rolling dimension increase over the real socket (issue #13): a compiled server at
 * D = 2048 with tenants holding text items, 24-pair role–filler records, anchors made from
 * the fillers' texts and one raw vector; shadow at 8192; coverage reaches 1; switch; every
 * record is found again at 8192 (recall of the record rebuilt from server ops scores 1) and
 * each slot cleans up to its filler's anchor, with larger cleanup margins than at 2048;
 * rollback, switch again, finalize; kill -9 mid-shadow and resume. Bad input changes nothing.
 *
 * Independent reference: the record vector is recomputed through the server's own public ops
 * (encode, bind by role, bundle) at the served D, and the stored item must be its exact
 * nearest neighbour (cosine > 0.9999); the filler expected for each slot is the test's own map.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, HoloClientError, type HoloClient } from '../../src/client/client.js';
import { startServer, type Server } from './harness.js';
import { metric, scrape, seededVec } from './support.js';

const TENANTS = ['acme', 'globex', 'initech'];
const SLOTS = 24;
const RECORDS = 3; // per tenant
const BUDGET = 64 * 2 ** 20; // memoryBudgetBytes: 32 MiB per worker
const ENV = { HOLOSERVE_DIM: '2048', HOLOSERVE_WORKERS: '2', HOLOSERVE_ADMIN_OPS: '1', HOLOSERVE_MEMORY_BUDGET_BYTES: String(BUDGET) };

const fillerText = (t: string, r: number, s: number) => `${t} value ${r} ${s} w${(r * 31 + s * 7) % 97}`;
const recordOf = (t: string, r: number): Record<string, string> => {
  const rec: Record<string, string> = {};
  for (let s = 0; s < SLOTS; s++) rec[`slot-${s}`] = fillerText(t, r, s);
  return rec;
};
const anchorName = (r: number, s: number) => `f-${r}-${s}`;

async function populate(c: HoloClient): Promise<void> {
  for (const t of TENANTS) {
    for (let i = 0; i < 6; i++) await c.remember(t, `text-${i}`, `${t} note number ${i} about item ${i * 3}`);
    for (let r = 0; r < RECORDS; r++) {
      await c.remember(t, `rec-${r}`, { record: recordOf(t, r) });
      for (let s = 0; s < SLOTS; s++) await c.anchorPut(t, anchorName(r, s), fillerText(t, r, s));
    }
    for (let i = 0; i < 4; i++) await c.anchorPut(t, `distractor-${i}`, `${t} unrelated distractor ${i}`);
  }
}

/** For each record: the server's own recomputation found as the stored item; each slot's cleanup. */
async function checkRecords(c: HoloClient): Promise<{ minScore: number; minMargin: number; meanScore: number }> {
  let minScore = Infinity, minMargin = Infinity, sum = 0, n = 0;
  for (const t of TENANTS) {
    for (let r = 0; r < RECORDS; r++) {
      const rec = recordOf(t, r);
      const pairs = [];
      for (const [slot, text] of Object.entries(rec)) pairs.push(await c.bind(await c.encode(text), { role: slot }));
      const v = await c.bundle(pairs);
      const hit = (await c.recall(t, v, 1)).hits[0];
      expect(hit.key).toBe(`rec-${r}`);
      expect(hit.score).toBeGreaterThan(0.9999);
      for (let s = 0; s < SLOTS; s++) {
        const u = (await c.unbind(v, { role: `slot-${s}` })).vector;
        const cl = await c.cleanup(t, u);
        expect(cl.key).toBe(anchorName(r, s));
        minScore = Math.min(minScore, cl.score);
        minMargin = Math.min(minMargin, cl.margin);
        sum += cl.score;
        n++;
      }
    }
  }
  return { minScore, minMargin, meanScore: sum / n };
}

async function waitFor<T>(f: () => Promise<T>, ok: (x: T) => boolean, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const x = await f();
    if (ok(x)) return x;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting; last: ${JSON.stringify(x).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function code(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
    return ['ok', ''];
  } catch (e) {
    return [(e as HoloClientError).code, (e as Error).message];
  }
}

describe('dimension rollout 2048 → 8192 (issue #13)', () => {
  let srv: Server;
  let c: HoloClient;
  const raw2048 = seededVec(7, 2048);
  const raw8192 = seededVec(8, 8192);

  const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-dim-'));

  beforeAll(async () => {
    srv = await startServer(ENV, { dataDir });
    c = await connect(srv.url, { timeoutMs: 120_000 });
    await populate(c);
    await c.remember('acme', 'raw-1', raw2048);
  }, 240_000);
  afterAll(async () => {
    c?.close();
    await srv?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let at2048: { minScore: number; minMargin: number; meanScore: number };

  it('serves D = 2048 and every record cleans up to its filler there', async () => {
    expect((await c.hello()).dim).toBe(2048);
    at2048 = await checkRecords(c);
    expect((await c.dimension('status')).phase).toBe('serving');
  }, 240_000);

  it('refuses bad rollout requests with clear errors and changes nothing', async () => {
    expect(await code(c.dimension('shadow', { dim: 3000 }))).toEqual(['bad_dimension', 'dim must be a power of two in [256, 16384], got 3000']);
    expect((await code(c.dimension('shadow', { dim: 32768 })))[0]).toBe('bad_dimension');
    expect((await code(c.dimension('shadow', { dim: 2048 })))[1]).toMatch(/already served/);
    expect((await code(c.dimension('switch')))[1]).toMatch(/no rollout/);
    expect((await code(c.dimension('rollback')))[1]).toMatch(/nothing to roll back/);
    expect((await code(c.dimension('finalize')))[1]).toMatch(/no rollout to finalize/);
    expect((await code(c.remember('acme', 'x', raw2048, { shadowVector: raw8192 })))[1]).toMatch(/only while a dimension rollout runs/);
    expect(existsSync(join(srv.dataDir, 'dimension.json'))).toBe(false);
    expect((await c.hello()).dim).toBe(2048);
  });

  it('shadows at 8192: refuses a second shadow and an early switch; counts the raw vector as unmovable', async () => {
    const r = await c.dimension('shadow', { dim: 8192, share: 0.2, chunkMs: 10 });
    expect(r).toMatchObject({ phase: 'shadow', served: 2048, other: 8192, tenants: 3 });
    // 3 tenants × (6 texts + 3 records + 72 filler anchors + 4 distractors) + 1 raw
    expect(r.units).toBe(3 * (6 + RECORDS + RECORDS * SLOTS + 4) + 1);
    expect((await code(c.dimension('shadow', { dim: 16384 })))[1]).toMatch(/already in phase 'shadow'/);
    const early = await code(c.dimension('switch'));
    expect(early[0]).toBe('bad_request');
    expect(early[1]).toMatch(/not complete \(coverage \d/);
    expect((await c.hello()).dim).toBe(2048);
    const st = await waitFor(() => c.dimension('status', { sample: 0 }), (s) => s.tenantsDone === 3, 180_000);
    expect(st.unmovable).toBe(1);
    expect(metric(await scrape(srv.http), 'holoserve_dimension_coverage_ratio')).toBeCloseTo(st.coverage as number, 12);
    expect(st.coverage).toBeCloseTo(1 - 1 / (r.units as number), 12);
    expect(st.criteria).toMatchObject({ coverage: false });
    // The two rooms share each worker's part of memoryBudgetBytes in proportion to D
    // (2048 : 8192), so together they stay within it; each holds no more than its part.
    const share = BUDGET / 2;
    const per = ((await c.request('status')).workers as { perWorker: Record<string, number>[] }).perWorker;
    expect(per).toHaveLength(2);
    for (const w of per) {
      expect(w.otherDim).toBe(8192);
      expect(w.budgetBytes).toBe(Math.floor(share * 2048 / 10240));
      expect(w.otherBudgetBytes).toBe(Math.floor(share * 8192 / 10240));
      expect(w.heldBytes).toBeLessThanOrEqual(w.budgetBytes);
      expect(w.otherHeldBytes).toBeLessThanOrEqual(w.otherBudgetBytes);
    }
    const refused = await code(c.dimension('switch'));
    expect(refused[1]).toMatch(/1 raw-vector items\/anchors have no vector there .*acme 1.*force = 1/);
  }, 240_000);

  it('dual-writes during the shadow; a shadowVector makes the raw item movable; coverage reaches 1', async () => {
    await c.remember('acme', 'raw-1', raw2048, { shadowVector: raw8192 });
    await c.remember('globex', 'late-text', 'written during the shadow');
    await c.recall('acme', 'acme note number 2 about item 6', 1); // a recent query to replay
    const st = await c.dimension('status', { sample: 64 });
    expect(st.coverage).toBe(1);
    expect(st.unmovable).toBe(0);
    const q = st.quality as Record<string, any>;
    expect(q.records).toBe(TENANTS.length * RECORDS);
    // the right filler wins every cleanup at both D; the reconstruction cosine ≈ 1/√24 at both
    expect(q.served.cleanupAccuracy).toBe(1);
    expect(q.other.cleanupAccuracy).toBe(1);
    expect(q.served.recon.mean).toBeGreaterThan(0.15);
    expect(q.other.recon.mean).toBeGreaterThan(0.15);
    expect(q.delta.max).toBeLessThan(0.05);
    expect(q.other.cleanupMargin.min).toBeGreaterThan(q.served.cleanupMargin.min);
    expect(q.replayed).toBe(1);
    expect(q.topkAgreement.mean).toBe(1); // the same top-1 (text-2) at both D
    expect(st.criteria).toMatchObject({ coverage: true, maxDelta: 0.02 });
    // the same numbers exported
    const m = await scrape(srv.http);
    expect(metric(m, 'holoserve_dimension_coverage_ratio')).toBe(1);
    expect(metric(m, 'holoserve_dimension')).toBe(2048);
    expect(metric(m, 'holoserve_dimension_reconstruction_delta', { quantile: 'p95' })).toBeCloseTo(q.delta.p95, 12);
    expect(metric(m, 'holoserve_dimension_cleanup_score', { side: 'other' })).toBeCloseTo(q.other.cleanupScore.mean, 12);
  }, 240_000);

  let at8192: { minScore: number; minMargin: number; meanScore: number };

  it('switches atomically: hello.dim, D-length vectors refused naming the new D, records clean up at 8192 with larger margins', async () => {
    // Requests in flight across the switch: each is computed wholly at one D. A bind of two
    // 2048-vectors either completes at 2048 (2048 floats back, equal to the same bind computed
    // before) or is refused naming the new D; none fails otherwise, none comes back at 8192.
    const a = seededVec(11, 2048), b = seededVec(12, 2048);
    const want = await c.bind(a, b);
    const inflight = Array.from({ length: 120 }, () => c.bind(a, b).then((r) => ({ ok: true as const, r }), (e: HoloClientError) => ({ ok: false as const, e })));
    const sw = await c.dimension('switch');
    const outs = await Promise.all(inflight);
    for (const o of outs) {
      if (o.ok) expect(Array.from(o.r)).toEqual(Array.from(want));
      else expect([o.e.code, o.e.message]).toEqual(['bad_dimension', expect.stringMatching(/expected D = 8192/)]);
    }
    expect(sw).toMatchObject({ phase: 'switched', served: 8192, other: 2048 });
    expect(typeof sw.heldMs).toBe('number');
    expect(JSON.parse(readFileSync(join(srv.dataDir, 'dimension.json'), 'utf8'))).toMatchObject({ phase: 'switched', served: { D: 8192 }, other: { D: 2048 } });
    const [cd, msg] = await code(c.recall('acme', raw2048, 1));
    expect(cd).toBe('bad_dimension');
    expect(msg).toMatch(/expected D = 8192/);
    expect(await c.dimRefresh).toBe(8192);
    expect(c.dim).toBe(8192);
    expect(metric(await scrape(srv.http), 'holoserve_dimension')).toBe(8192);
    expect((await c.recall('acme', raw8192, 1)).hits[0]).toMatchObject({ key: 'raw-1' });
    expect((await c.recall('globex', 'written during the shadow', 1)).hits[0].key).toBe('late-text');
    at8192 = await checkRecords(c);
    expect(at8192.minMargin).toBeGreaterThan(at2048.minMargin);
    expect(at8192.minScore).toBeGreaterThan(at2048.minScore);
  }, 240_000);

  it('rolls back to 2048, switches again, finalizes', async () => {
    await c.remember('initech', 'after-switch', 'text written at 8192');
    expect(await c.dimension('rollback')).toMatchObject({ phase: 'shadow', served: 2048, other: 8192 });
    expect((await c.hello()).dim).toBe(2048);
    expect((await c.recall('initech', 'text written at 8192', 1)).hits[0].key).toBe('after-switch');
    expect((await c.recall('acme', raw2048, 1)).hits[0].key).toBe('raw-1');
    expect(await c.dimension('switch')).toMatchObject({ phase: 'switched', served: 8192 });
    expect((await c.hello()).dim).toBe(8192);
    expect(await c.dimension('finalize')).toMatchObject({ phase: 'serving', served: 8192, dropped: 2048 });
    // one room again: it has the worker's whole part of the budget
    const per = ((await c.request('status')).workers as { perWorker: Record<string, number>[] }).perWorker;
    for (const w of per) {
      expect(w.budgetBytes).toBe(BUDGET / 2);
      expect(w.otherDim).toBeUndefined();
    }
    expect((await code(c.dimension('rollback')))[1]).toMatch(/nothing to roll back/);
    expect((await c.recall('initech', 'text written at 8192', 1)).hits[0].key).toBe('after-switch');
  }, 240_000);

  it('a restart after finalize serves 8192 from the store', async () => {
    c.close();
    expect(await srv.stop()).toBe(0);
    srv = await startServer(ENV, { dataDir });
    c = await connect(srv.url, { timeoutMs: 120_000 });
    expect((await c.hello()).dim).toBe(8192);
    expect((await c.recall('acme', raw8192, 1)).hits[0]).toMatchObject({ key: 'raw-1' });
    expect((await c.recall('globex', 'written during the shadow', 1)).hits[0].key).toBe('late-text');
  }, 240_000);
});

describe('dimension rollout: kill -9 mid-shadow resumes', () => {
  it('resumes the shadow from the store after SIGKILL, then switches', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-dim-kill-'));
    let srv = await startServer(ENV, { dataDir });
    let c = await connect(srv.url, { timeoutMs: 120_000 });
    try {
      await populate(c);
      await c.dimension('shadow', { dim: 8192, share: 0.05, chunkMs: 5 });
      const st = await c.dimension('status', { sample: 0 });
      expect(st.coverage).toBeLessThan(1);
      c.close();
      srv.proc.kill('SIGKILL');
      await new Promise((r) => srv.proc.once('exit', r));
      expect(JSON.parse(readFileSync(join(dataDir, 'dimension.json'), 'utf8'))).toMatchObject({ phase: 'shadow', other: { D: 8192 } });
      srv = await startServer(ENV, { dataDir });
      c = await connect(srv.url, { timeoutMs: 120_000 });
      expect(srv.output()).toMatch(/dimension rollout resumes: phase shadow, serving D=2048, other D=8192/);
      expect((await c.hello()).dim).toBe(2048);
      const done = await waitFor(() => c.dimension('status', { sample: 0 }), (s) => s.coverage === 1, 180_000);
      expect(done.phase).toBe('shadow');
      await c.dimension('switch');
      expect((await c.hello()).dim).toBe(8192);
      const r = await checkRecords(c);
      expect(r.minScore).toBeGreaterThan(0.1);
    } finally {
      c.close();
      await srv.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 480_000);
});
