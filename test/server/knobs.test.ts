/**
 * Every live knob, changed through each of the three ways (the knobs op, `holoserve knobs set`,
 * a config reload by SIGHUP or `holoserve knobs reload`), changes a computed result (or, for
 * the batcher's timing knobs, the batches the server forms), is exported as holoserve_knob, and
 * survives a restart (dataDir/knobs.json). A bad value is refused with its range, nothing applied.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { heatTerms } from '../../src/kernels/index.js';
import { LIVE_NAMES } from '../../src/knobs/table.js';
import { cli } from './cli.js';
import { startServer, type Server } from './harness.js';
import { errorCode, metric, scrape, seededVec } from './support.js';

const D = 1024;
const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-knobs-'));
const configFile = join(dataDir, 'holoserve.json');
/** the config file's base: coalesceLingerMs 500 so that its probe can wait 50 ms */
const BASE = { coalesceLingerMs: 500 };
const ENV = { HOLOSERVE_ADMIN_OPS: '1', HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_MEMORY_CAPACITY: '10', HOLOSERVE_EVICTION_POLICY: 'salience', HOLOSERVE_CONFIG: configFile, HOLOSERVE_PREFETCH_TENANTS: '0' };
let server: Server;
let client: HoloClient;
let n = 0;
const fresh = () => `t${++n}-${Math.random().toString(36).slice(2, 8)}`;

beforeAll(async () => {
  writeFileSync(configFile, JSON.stringify(BASE));
  server = await startServer(ENV, { dataDir });
  client = await connect(server.url);
}, 60_000);
afterAll(async () => {
  client?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const knobs = async () => (await client.request('knobs')) as unknown as { knobs: Record<string, unknown>; budget: Record<string, number> };
const unitVec = (seed: number) => { const v = seededVec(seed, D); const s = Math.hypot(...v); return v.map((x) => x / s); };

/** A computed result each knob changes: observe() at the default and at `value` differ as stated. */
interface Probe { knob: string; value: number | boolean | string; observe: () => Promise<unknown>; atDefault: unknown; atValue: unknown }

async function heavyHeat(K?: number): Promise<Record<string, unknown>> {
  const ring = 50;
  const src = Uint32Array.from({ length: ring }, (_, i) => i), dst = Uint32Array.from({ length: ring }, (_, i) => (i + 1) % ring);
  return client.request('heat', { n: ring, src: Buffer.from(src.buffer), dst: Buffer.from(dst.buffer), signal: Buffer.from(Float64Array.from({ length: ring }, (_, i) => (i === 0 ? 1 : 0)).buffer), t: 50, K });
}
const unbindRole = async (mode: string) => (await client.request('unbind', { c: Buffer.from(unitVec(1).buffer), role: 'agent', mode })) as Record<string, number | boolean>;
const gaussianB = unitVec(7);
const unbindB = async (mode = 'exact') => (await client.request('unbind', { c: Buffer.from(unitVec(2).buffer), b: Buffer.from(gaussianB.buffer), mode })) as Record<string, number | boolean>;
const b2 = gaussianB.reduce((s, x) => s + x * x, 0);
/** λ / ‖b‖², to 9 digits (the server sums ‖b‖² in its own order) */
const betaUsed = async () => Number((((await unbindB()).epsUsed as number) / b2).toPrecision(9));
async function itemsAfter(writes: number): Promise<number> {
  const t = fresh();
  for (let i = 0; i < writes; i++) await client.remember(t, `k${i}`, unitVec(100 + i));
  return (await client.stats(t)).items;
}
/** e_i: orthogonal unit vectors, so novelty is 1 for each new one and 0 for a repeat */
const basis = (i: number) => { const v = new Float32Array(D); v[i] = 1; return v; };
/**
 * Salience eviction (evictionPolicy 'salience', capacity 10): 'a' is written first, then 9 more
 * items; the 10th write evicts the 2 least salient. Does 'a' survive?
 *   alpha: 'a' new (novelty 1), the 9 others one repeated vector (novelty 0 after the first):
 *          0.5 + 0.2·rec vs 0.2·rec: 'a' survives; with α = 0 it is the oldest of equals and leaves.
 *   beta:  'a' with reward 1, the 9 others new with reward 0: 1 (clipped) vs 0.7: 'a' survives;
 *          with β = 0 it is the oldest of equals and leaves.
 */
async function survives(which: 'alpha' | 'beta'): Promise<boolean> {
  const t = fresh();
  await client.request('remember', { tenant: t, key: 'a', vector: Buffer.from(basis(0).buffer), reward: which === 'beta' ? 1 : 0 });
  for (let i = 1; i <= 9; i++) await client.remember(t, `k${i}`, basis(which === 'alpha' ? 1 : i));
  const top = (await client.recall(t, basis(0), 1)).hits[0];
  return top.key === 'a' && Math.abs(top.score - 1) < 1e-6;
}
async function recallTwiceCached(): Promise<boolean> {
  const t = fresh();
  await client.remember(t, 'a', unitVec(4));
  await client.recall(t, unitVec(4), 1);
  return (await client.request('recall', { tenant: t, vector: Buffer.from(unitVec(4).buffer), k: 1 })).cached === true;
}
/** candidates rescored by a k = 1 recall over 8 items (capacity 10: no eviction); oversampling as given */
async function recallCandidates(oversampling?: number): Promise<number> {
  const t = fresh();
  for (let i = 0; i < 8; i++) await client.remember(t, `k${i}`, unitVec(500 + i));
  return (await client.request('recall', { tenant: t, vector: Buffer.from(unitVec(500).buffer), k: 1, oversampling })).candidates as number;
}
async function reranked(): Promise<boolean> {
  const t = fresh();
  await client.remember(t, 'a', 'agent user system');
  await client.remember(t, 'b', 'agent user system'); // margin 0: below any rerankMargin > 0
  return (await client.recall(t, 'agent user system', 1)).reranked;
}
/** batch sizes (requests per pool task) of 24 unbinds sent together */
async function burst(): Promise<{ batches: number; requests: number }> {
  const before = await scrape(server.http);
  await Promise.all(Array.from({ length: 24 }, (_, i) => client.request('cosine', { a: Buffer.from(unitVec(200 + i).buffer), b: Buffer.from(unitVec(300 + i).buffer) })));
  const after = await scrape(server.http);
  const d = (name: string) => metric(after, name, { kind: 'hrr' }) - metric(before, name, { kind: 'hrr' });
  return { batches: d('holoserve_batch_size_count'), requests: d('holoserve_batch_size_sum') };
}
/** the same cosine asked twice, 50 ms apart: coalesced with the first answer while it lingers */
async function lingerJoins(): Promise<boolean> {
  const before = metric(await scrape(server.http), 'holoserve_coalesced_total', { op: 'cosine' });
  const a = Buffer.from(unitVec(400 + n++).buffer);
  await client.request('cosine', { a, b: a });
  await new Promise((r) => setTimeout(r, 50));
  await client.request('cosine', { a, b: a });
  return metric(await scrape(server.http), 'holoserve_coalesced_total', { op: 'cosine' }) > before;
}

const PROBES: Probe[] = [
  { knob: 'epsilonTotal', value: 1e-6, observe: async () => (await unbindB('wiener')).overBudget, atDefault: false, atValue: true },
  { knob: 'wienerLambda', value: 0.5, observe: async () => (await unbindRole('wiener')).epsUsed, atDefault: 1e-4, atValue: 0.5 },
  { knob: 'chebyshevK', value: 120, observe: async () => (await heavyHeat()).K, atDefault: Math.max(24, heatTerms(50, 0.02)), atValue: 120 },
  { knob: 'relErr', value: 1e-12, observe: async () => (await heavyHeat()).K, atDefault: Math.max(24, heatTerms(50, 0.02)), atValue: Math.max(24, heatTerms(50, 1e-12)) },
  { knob: 'sinkhornTol', value: 1e-10, observe: async () => (await client.request('sinkhorn', { cost: Buffer.from(Float64Array.from([0, 1, 1, 0, 2, 1]).buffer), n: 2, m: 3, epsilon: 0.05 })).tol, atDefault: 1e-3, atValue: 1e-10 },
  { knob: 'apprEps', value: 0.25, observe: async () => (await unbindRole('exact')).epsUsed, atDefault: 1e-3, atValue: 0.25 },
  { knob: 'unbindBeta', value: 0.01, observe: betaUsed, atDefault: 1e-3, atValue: 0.01 },
  { knob: 'wienerSnr', value: 100, observe: async () => (await unbindRole('wiener')).epsUsed, atDefault: 1e-4, atValue: 0.01 },
  { knob: 'highWater', value: 1, observe: () => itemsAfter(10), atDefault: 8, atValue: 10 },
  { knob: 'lowWater', value: 0.3, observe: () => itemsAfter(10), atDefault: 8, atValue: 3 },
  { knob: 'salienceAlpha', value: 0, observe: () => survives('alpha'), atDefault: true, atValue: false },
  { knob: 'salienceBeta', value: 0, observe: () => survives('beta'), atDefault: true, atValue: false },
  { knob: 'anchorsMax', value: 3, observe: async () => (await client.stats(fresh())).anchorsMax, atDefault: 1024, atValue: 3 },
  { knob: 'recallCacheTtlMs', value: 0, observe: recallTwiceCached, atDefault: true, atValue: false },
  { knob: 'rerank', value: true, observe: reranked, atDefault: false, atValue: true },
  // binary: min(8, max(k, 2)·oversampling); exact: min(8, max(k, 2) + 8 spare) (memory/scan.ts)
  { knob: 'recallOversampling', value: 1, observe: () => recallCandidates(), atDefault: 8, atValue: 2 },
  { knob: 'recallMode', value: 'exact', observe: () => recallCandidates(1), atDefault: 2, atValue: 8 },
  { knob: 'batchMax', value: 1, observe: async () => { const b = await burst(); return b.batches === b.requests; }, atDefault: false, atValue: true },
  { knob: 'coalesceLingerMs', value: 0, observe: lingerJoins, atDefault: true, atValue: false },
];
// rerankMargin and rerankCandidates need rerank on; salienceGamma and salienceTauSeconds weigh
// recency, which differs between items only as time passes;
// batchWindowMs and workerPipeline only change timing. They are exercised below by value.
const DEFAULTS: Record<string, unknown> = {};

type Path = 'op' | 'cli set' | 'SIGHUP' | 'cli reload';
async function setBy(path: Path, knob: string, value: unknown): Promise<void> {
  if (path === 'op') await client.request('knobs', { set: { [knob]: value } });
  else if (path === 'cli set') expect((await cli(['knobs', 'set', `${knob}=${String(value)}`, '--url', server.url])).code).toBe(0);
  else {
    writeFileSync(configFile, JSON.stringify({ ...BASE, [knob]: value }));
    if (path === 'SIGHUP') {
      server.proc.kill('SIGHUP');
      for (let i = 0; i < 100 && (await knobs()).knobs[knob] !== value; i++) await new Promise((r) => setTimeout(r, 20));
    } else {
      expect((await cli(['knobs', 'reload', '--url', server.url])).code).toBe(0);
    }
  }
  expect((await knobs()).knobs[knob]).toBe(value);
}
async function reset(): Promise<void> {
  writeFileSync(configFile, JSON.stringify(BASE));
  await client.request('knobs', { reload: true }); // back to the file's (default) values, knobs.json cleared
}

describe('each live knob, three ways', () => {
  it('defaults first: every probe sees its default', async () => {
    const k = (await knobs()).knobs;
    for (const p of PROBES) DEFAULTS[p.knob] = k[p.knob];
    for (const p of PROBES) expect([p.knob, await p.observe()]).toEqual([p.knob, p.atDefault]);
  }, 60_000);

  for (const path of ['op', 'cli set', 'SIGHUP', 'cli reload'] as Path[]) {
    it(`through ${path}: each knob changes its result, the gauge follows, and the reset restores it`, async () => {
      for (const p of PROBES) {
        await setBy(path, p.knob, p.value);
        expect([p.knob, await p.observe()]).toEqual([p.knob, p.atValue]);
        expect(metric(await scrape(server.http), 'holoserve_knob', { name: p.knob })).toBe(p.value === 'exact' ? 0 : Number(p.value)); // recallMode: its index in [exact, binary]
        await reset();
        expect([p.knob, await p.observe()]).toEqual([p.knob, p.atDefault]);
      }
    }, 180_000);
  }

  it('the knobs with no single-request effect are set the same three ways and reach the gauge', async () => {
    const rest: [string, number][] = [['rerankMargin', 0.5], ['rerankCandidates', 16], ['salienceGamma', 0.1], ['salienceTauSeconds', 60], ['batchWindowMs', 1], ['workerPipeline', 4]];
    for (const path of ['op', 'cli set', 'SIGHUP'] as Path[]) {
      for (const [k, v] of rest) {
        await setBy(path, k, v);
        expect(metric(await scrape(server.http), 'holoserve_knob', { name: k })).toBe(v);
      }
      await reset();
    }
    // rerankMargin 0 turns the rerank off for every margin (margin < 0 never holds)
    await client.request('knobs', { set: { rerank: true, rerankMargin: 0 } });
    expect(await reranked()).toBe(false);
    await reset();
  }, 120_000);
});

describe('refusals', () => {
  it('a bad value is refused with its range through every path, and nothing is half-applied', async () => {
    expect(await errorCode(client.request('knobs', { set: { unbindBeta: 0.5, batchMax: 0 } }))).toBe('bad_request');
    await client.request('knobs', { set: { batchMax: 0 } }).catch((e: Error) => expect(e.message).toMatch('knob batchMax must be an integer in [1, 4096], got 0'));
    expect((await knobs()).knobs.unbindBeta).toBe(0.001);
    const r = await cli(['knobs', 'set', 'unbindBeta=0.5', 'wienerSnr=-1', '--url', server.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch('knob wienerSnr must be a number in (0, 1000000000000], got -1');
    expect((await knobs()).knobs.unbindBeta).toBe(0.001);
    writeFileSync(configFile, JSON.stringify({ unbindBeta: 0.5, lowWater: 0.95 }));
    const rl = await cli(['knobs', 'reload', '--url', server.url]);
    expect(rl.code).toBe(1);
    expect(rl.stderr, rl.stderr).toMatch(`reload refused, nothing changed: config file ${configFile}: config.lowWater must be < highWater`);
    expect((await knobs()).knobs.unbindBeta).toBe(0.001);
    await reset();
    expect((await cli(['knobs', 'set', 'port=1', '--url', server.url])).stderr).toMatch("'port' is restart-only");
  }, 60_000);
});

describe('one consistent set per batch', () => {
  it('knobs changed together are never seen half-applied by a batch', async () => {
    // set A: wienerSnr 100 (λ = 0.01, relErr λ/(1+λ) = 0.0099) with epsilonTotal 0.009 → over budget;
    // set B: the defaults (λ = 1e-4, epsilonTotal 0.05). A half-applied set shows λ = 0.01 not over budget.
    const A = { wienerSnr: 100, epsilonTotal: 0.009 }, B = { wienerSnr: 1e4, epsilonTotal: 0.05 };
    const c = Buffer.from(unitVec(5).buffer);
    const replies: Promise<Record<string, unknown>>[] = [];
    for (let round = 0; round < 20; round++) {
      const flip = client.request('knobs', { set: round % 2 ? B : A });
      for (let i = 0; i < 10; i++) replies.push(client.request('unbind', { c, role: 'agent', mode: 'wiener' }));
      await flip;
    }
    const got = await Promise.all(replies);
    const seen = new Set(got.map((r) => `${r.epsUsed} ${r.overBudget}`));
    expect([...seen].every((x) => x === '0.01 true' || x === '0.0001 false')).toBe(true);
    expect(seen.size).toBe(2); // both sets were served
    await reset();
  }, 60_000);
});

describe('restart', () => {
  it('keeps knobs set at run time (dataDir/knobs.json); the op lists every live knob and the budget by name', async () => {
    await client.request('knobs', { set: { unbindBeta: 0.02, anchorsMax: 5, chebyshevK: 30 } });
    client.close();
    expect(await server.stop()).toBe(0);
    server = await startServer(ENV, { dataDir, keepData: true });
    client = await connect(server.url);
    expect(server.output()).toMatch(/live knobs kept from the last run \(unbindBeta, anchorsMax, chebyshevK\)/);
    const k = await knobs();
    expect(k.knobs).toMatchObject({ unbindBeta: 0.02, anchorsMax: 5, chebyshevK: 30 });
    expect(k.budget).toEqual({ epsilon_total: 0.05, wiener_lambda: 1e-4, chebyshev_K: 30, rel_err: 0.02, sinkhorn_tol: 1e-3, appr_eps: 1e-4 });
    expect(Object.keys(k.knobs).sort()).toEqual([...LIVE_NAMES].sort());
    expect(await betaUsed()).toBe(0.02);
    expect((await client.stats(fresh())).anchorsMax).toBe(5);
    await reset();
  }, 90_000);
});
