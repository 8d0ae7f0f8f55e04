/**
 * The truth budget in computed replies, checked against independent computations: unbind's
 * relErr against a float64 DFT of b and against the error actually measured on a basis vector;
 * heat's truncationBound against mpmath's e^{−t}I_k(t) (test/fixtures/heat.json) and its real
 * error against scipy's expm_multiply; Sinkhorn's marginal error recomputed from the plan. A
 * reply over budget says so, and holoserve_over_budget_total{op} counts it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { startServer, type Server } from './harness.js';
import { metric, scrape, seededVec } from './support.js';

const D = 1024;
let server: Server;
let client: HoloClient;
beforeAll(async () => {
  server = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '1' });
  client = await connect(server.url);
}, 60_000);
afterAll(async () => { client?.close(); await server?.stop(); });

const f32buf = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const f64buf = (v: Float64Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** |B_k|², k = 0..D/2, by a direct float64 DFT (no FFT, independent of the server's engines). */
function power(b: Float32Array): Float64Array {
  const out = new Float64Array(D / 2 + 1);
  for (let k = 0; k <= D / 2; k++) {
    let re = 0, im = 0;
    for (let j = 0; j < D; j++) { const a = (-2 * Math.PI * ((k * j) % D)) / D; re += b[j] * Math.cos(a); im += b[j] * Math.sin(a); }
    out[k] = re * re + im * im;
  }
  return out;
}
function expectedRelErr(p: Float64Array, mode: string, lambda: number): number {
  let s = 0;
  for (let k = 0; k <= D / 2; k++) {
    const h = mode === 'exact' ? Math.min(1, p[k] / lambda) : p[k] / (p[k] + lambda);
    s += (k === 0 || k === D / 2 ? 1 : 2) * (1 - h) ** 2;
  }
  return Math.sqrt(s / D);
}

describe('unbind', () => {
  it('reports λ, floored bins and relErr = the filter error, which equals the error measured on a basis vector', async () => {
    const b = seededVec(11, D, (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
    const p = power(b);
    const a = new Float32Array(D); a[17] = 1;
    const c = await client.bind(a, b);
    for (const [mode, beta] of [['exact', 1e-3], ['exact', 0.05], ['wiener', 1e-3], ['wiener', 0.2]] as const) {
      const r = await client.request('unbind', { c: f32buf(c), b: f32buf(b), mode, beta });
      const lambda = r.epsUsed as number;
      const meanPower = p.reduce((s, x, k) => s + (k === 0 || k === D / 2 ? x : 2 * x), 0) / D;
      expect(lambda / meanPower).toBeCloseTo(beta, 6);
      const want = expectedRelErr(p, mode, lambda);
      expect(Math.abs((r.relErr as number) - want)).toBeLessThanOrEqual(1e-4 * want + 1e-6);
      if (mode === 'exact') expect(r.flooredBins).toBe(p.filter((x) => x < lambda).length);
      const u = new Float32Array(new Uint8Array(r.vector as Uint8Array).buffer);
      const measured = Math.sqrt(u.reduce((s, x, i) => s + (x - a[i]) ** 2, 0));
      expect(Math.abs(measured - want)).toBeLessThanOrEqual(1e-3 * want + 1e-5);
      expect(r.overBudget).toBe(want > 0.05);
    }
  }, 60_000);

  it('over budget: a wiener unbind with a low SNR says so and is counted', async () => {
    const before = metric(await scrape(server.http), 'holoserve_over_budget_total', { op: 'unbind' });
    const c = await client.bind(seededVec(3, D), { role: 'agent' });
    const r = await client.request('unbind', { c: f32buf(c), role: 'agent', mode: 'wiener', snr: 2 });
    expect(r.relErr).toBeCloseTo(0.5 / 1.5, 6); // unitary role: λ/(1+λ), λ = 1/snr
    expect(r.overBudget).toBe(true);
    expect(metric(await scrape(server.http), 'holoserve_over_budget_total', { op: 'unbind' })).toBe(before + 1);
  });
});

interface HeatCase { name: string; n: number; src: number[]; dst: number[]; weight: number[]; runs: { t: number; K: number; x: number[]; y: number[] }[] }
const fixture = JSON.parse(readFileSync(new URL('../fixtures/heat.json', import.meta.url), 'utf8')) as { cases: HeatCase[]; bessel: { t: number; ive_mp: number[] }[] };
/** 2 Σ_{k≥K} e^{−t} I_k(t) from mpmath's values (k < 200; the rest is below 1e-300 for t ≤ 20) */
const mpTail = (t: number, K: number) => 2 * fixture.bessel.find((b) => b.t === t)!.ive_mp.slice(K).reduce((s, x) => s + x, 0);

describe('heat', () => {
  const g = fixture.cases.find((c) => c.name === 'random50')!;
  const ask = (t: number, x: number[], K?: number) => client.request('heat', {
    n: g.n, src: Buffer.from(Uint32Array.from(g.src).buffer), dst: Buffer.from(Uint32Array.from(g.dst).buffer), weight: f64buf(Float64Array.from(g.weight)),
    signal: f64buf(Float64Array.from(x)), t, K,
  });

  it('reports K and the Chebyshev tail bound (= mpmath), and the real error (vs scipy) stays within it', async () => {
    for (const run of g.runs.filter((r) => r.t === 2 || r.t === 5)) {
      for (const K of [3, 6, 10]) {
        const r = await ask(run.t, run.x, K);
        const bound = r.truncationBound as number;
        expect(Math.abs(bound - mpTail(run.t, K))).toBeLessThanOrEqual(1e-12 * mpTail(run.t, K));
        const y = new Float64Array(new Uint8Array(r.result as Uint8Array).buffer);
        const err = Math.hypot(...Array.from(y, (v, i) => v - run.y[i])), xn = Math.hypot(...run.x);
        expect(err).toBeLessThanOrEqual(bound * xn + 1e-12);
        expect(r.overBudget).toBe(bound > 0.02);
      }
    }
  });

  it('without K: K = max(chebyshev_K, the smallest K whose bound ≤ rel_err); a bound past rel_err says overBudget', async () => {
    const run = g.runs.find((r) => r.t === 20)!;
    const r = await ask(20, run.x);
    const K = r.K as number;
    expect(mpTail(20, K)).toBeLessThanOrEqual(0.02);
    if (K > 24) expect(mpTail(20, K - 1)).toBeGreaterThan(0.02);
    else expect(K).toBe(24);
    const before = metric(await scrape(server.http), 'holoserve_over_budget_total', { op: 'heat' });
    const low = await ask(20, run.x, 2);
    expect(low.overBudget).toBe(true);
    expect(metric(await scrape(server.http), 'holoserve_over_budget_total', { op: 'heat' })).toBe(before + 1);
    const list = await client.request('heat', { ...{ n: g.n, src: Buffer.from(Uint32Array.from(g.src).buffer), dst: Buffer.from(Uint32Array.from(g.dst).buffer) }, signal: f64buf(Float64Array.from(run.x)), t: [1, 5], K: 8 });
    expect(list.truncationBound).toEqual([expect.closeTo(mpTail(1, 8), 15), expect.closeTo(mpTail(5, 8), 12)]);
  });
});

describe('sinkhorn', () => {
  const n = 4, m = 5;
  const cost = Float64Array.from({ length: n * m }, (_, k) => ((k * 7) % 11) / 10);
  it('the default tol is sinkhorn_tol; marginalError is the plan’s (recomputed here); tolMet and overBudget follow', async () => {
    const r = await client.request('sinkhorn', { cost: f64buf(cost), n, m, epsilon: 0.02 });
    expect(r.tol).toBe(1e-3);
    const plan = new Float64Array(new Uint8Array(r.plan as Uint8Array).buffer);
    let e = 0;
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < m; j++) s += plan[i * m + j]; e += Math.abs(s - 1 / n); }
    for (let j = 0; j < m; j++) { let s = 0; for (let i = 0; i < n; i++) s += plan[i * m + j]; e += Math.abs(s - 1 / m); }
    expect(Math.abs((r.marginalError as number) - e)).toBeLessThanOrEqual(1e-15);
    expect(r.tolMet).toBe(e <= 1e-3);
    expect(r.tolMet).toBe(true);
    expect(r.overBudget).toBe(false);
    const before = metric(await scrape(server.http), 'holoserve_over_budget_total', { op: 'sinkhorn' });
    const short = await client.request('sinkhorn', { cost: f64buf(cost), n, m, epsilon: 0.001, maxIter: 1, tol: 1e-12 });
    expect([short.tolMet, short.overBudget, (short.marginalError as number) > 1e-12]).toEqual([false, true, true]);
    expect(metric(await scrape(server.http), 'holoserve_over_budget_total', { op: 'sinkhorn' })).toBe(before + 1);
  });
});
