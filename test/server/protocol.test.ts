/**
 * Every op over the real socket (compiled server, D = 1024, 2 workers), with the TS client and
 * with raw frames, against the in-process kernels (src/kernels/index.ts), which are tested
 * against numpy, POT and scipy elsewhere.
 *
 * Tolerances, and why:
 *   role, cosine, bundle, sinkhorn, heat: the worker runs the same code on the same bits as the
 *     in-process call: role bit for bit; sinkhorn and heat 1e-12 (float64, per the brief);
 *     cosine and bundle exactly.
 *   bind vs the fft.js reference: max |error| ≤ 1e-6·‖a‖‖b‖ (pffft float32 transforms,
 *     src/kernels/hrr/bind.ts).
 *   unbind vs the in-process pffft Hrr: max |error| ≤ 1e-6·‖â‖ (same engine; the bound is
 *     pffft's against numpy); epsUsed to 1e-12 relative, flooredBins exactly.
 *   encode vs the fft.js reference encode: 1e-6 absolute on a unit vector.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, connect, f32, f64, type HoloClient } from '../../src/client/client.js';
import {
  bind as refBind, buildGraph, bundle, cosine, createHrr, encode as refEncode, heat, heatMulti, norm, role, sinkhorn, unbindWith, type Hrr,
} from '../../src/kernels/index.js';
import { OP_NAMES } from '../../src/protocol/ops.js';
import { startServer, type Server } from './harness.js';
import { bits, errorCode, maxAbsDiff, packr, rawSocket, rng, seededVec, type Reply } from './support.js';

const D = 1024;
/** Gaussian-ish vector (sum of uniforms), seeded. */
const randVec = (seed: number, n = D) => seededVec(seed, n, (r) => (r() + r() + r() - 1.5) * 0.8);

let server: Server;
let client: HoloClient;
let hrr: Hrr;

beforeAll(async () => {
  [server, hrr] = await Promise.all([startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2' }), createHrr(D)]);
  client = await connect(server.url);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
});

describe('hello', () => {
  it('names the server, its version, D, every op it answers and the limits', async () => {
    const h = await client.hello();
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(h.server).toBe('holoserve');
    expect(h.version).toBe(pkg.version);
    expect(h.dim).toBe(D);
    expect(h.engine).toBe('pffft');
    // adminOps is off (the default): the admin ops are not offered
    expect([...h.ops].sort()).toEqual(OP_NAMES.filter((op) => !['knobs', 'status', 'drill', 'dimension'].includes(op)).sort());
    expect(h.limits).toEqual({
      maxFrameBytes: 4 * 1024 * 1024, maxInflight: 256, sinkhornMaxSize: 64, graphMaxNodes: 1_000_000,
      graphMaxEdges: 10_000_000, maxPayloadBytes: 65536, maxTextChars: 65536, maxTokens: 512, maxBundle: 1024, maxK: 1024,
      graphMaxBytes: 256 * 1024 * 1024, heatMaxWork: 1e9, sinkhornMaxWork: 1e8,
    });
  });
});

describe('HRR ops', () => {
  it('role equals the in-process role(token, D, seed) bit for bit', async () => {
    for (const token of ['agent', 'pos:3', 'never-prewarmed-token', 'ünï 🙂', 'x'.repeat(1024)]) {
      const v = await client.role(token);
      expect(bits(v)).toEqual(bits(role(token, D, 0)));
      expect(norm(v)).toBeCloseTo(1, 6);
    }
  });

  it('bind of two vectors matches the reference within 1e-6·‖a‖‖b‖', async () => {
    const a = randVec(1), b = randVec(2);
    const got = await client.bind(a, b);
    expect(maxAbsDiff(got, refBind(a, b))).toBeLessThanOrEqual(1e-6 * norm(a) * norm(b));
  });

  it('bind by role matches bind with the role vector', async () => {
    const a = randVec(3);
    const got = await client.bind(a, { role: 'subject' });
    const r = role('subject', D, 0);
    expect(maxAbsDiff(got, refBind(a, r))).toBeLessThanOrEqual(1e-6 * norm(a) * norm(r));
  });

  it('unbind in exact, wiener and approx modes matches the in-process kernel (epsUsed, flooredBins)', async () => {
    const a = randVec(4), b = randVec(5);
    const c = refBind(a, b);
    const b2 = norm(b) ** 2;
    const cases: { mode: 'exact' | 'wiener' | 'approx'; eps?: number; snr?: number; beta?: number; epsUsed: number }[] = [
      { mode: 'exact', epsUsed: 1e-3 * b2 }, // the live default beta
      { mode: 'exact', eps: 0.5 * b2, epsUsed: 0.5 * b2 }, // floors most bins
      { mode: 'exact', beta: 0.02, epsUsed: 0.02 * b2 },
      { mode: 'wiener', snr: 4 / b2, epsUsed: b2 / 4 },
      { mode: 'wiener', epsUsed: 1e-4 * b2 }, // the live default wienerSnr 1e4: λ = ‖b‖²/1e4
      { mode: 'approx', epsUsed: 0 },
    ];
    for (const { epsUsed, ...opts } of cases) {
      const got = await client.unbind(c, b, opts);
      const want = unbindWith(hrr, c, b, opts.mode === 'wiener' && opts.snr === undefined ? { ...opts, beta: 1e-4 } : opts);
      expect(got.epsUsed).toBeCloseTo(epsUsed, 12 - Math.ceil(Math.log10(Math.max(1, epsUsed))));
      expect(Math.abs(got.epsUsed - want.epsUsed)).toBeLessThanOrEqual(1e-12 * Math.max(1, want.epsUsed));
      expect([opts, got.flooredBins]).toEqual([opts, want.floored]);
      expect(maxAbsDiff(got.vector, want.vector)).toBeLessThanOrEqual(1e-6 * norm(want.vector));
    }
    // sanity of the modes themselves: floored bins with the big eps, none in approx
    expect((await client.unbind(c, b, { eps: 0.5 * b2 })).flooredBins).toBeGreaterThan(100);
    expect((await client.unbind(c, b, { mode: 'approx' })).flooredBins).toBe(0);
    expect(cosine((await client.unbind(c, b)).vector, a)).toBeGreaterThan(0.99);
  });

  it('unbind by role is the exact inverse of bind by role', async () => {
    const a = randVec(6);
    const c = await client.bind(a, { role: 'object' });
    for (const mode of ['exact', 'wiener', 'approx'] as const) {
      const r = await client.unbind(c, { role: 'object' }, { mode });
      expect(cosine(r.vector, a)).toBeGreaterThan(0.9999);
      expect(r.flooredBins).toBe(0);
      expect(r.epsUsed).toBeCloseTo(mode === 'approx' ? 0 : mode === 'wiener' ? 1e-4 : 1e-3, 15); // a role's power is 1
    }
  });

  it('bundle with weights equals the in-process bundle exactly, and is unit norm', async () => {
    const vs = [randVec(7), randVec(8), randVec(9)];
    const w = [0.5, -2, 3.25];
    const got = await client.bundle(vs, w);
    expect(bits(got)).toEqual(bits(bundle(vs, w)));
    expect(norm(got)).toBeCloseTo(1, 6);
    const asBin = f32((await client.request('bundle', { vectors: vs.map(bin), weights: bin(Float64Array.from(w)) })).vector as Uint8Array);
    expect(bits(asBin)).toEqual(bits(got));
    expect(bits(await client.bundle(vs))).toEqual(bits(bundle(vs)));
  });

  it('cosine equals the in-process cosine exactly', async () => {
    const a = randVec(10), b = randVec(11);
    expect(await client.cosine(a, b)).toBe(cosine(a, b));
    expect(await client.cosine(a, a)).toBe(cosine(a, a));
    expect(await client.cosine(a, new Float32Array(D))).toBe(0);
  });

  it('encode equals the reference encode within 1e-6', async () => {
    for (const text of ['The dog bites the man', 'man bites dog', 'Ünïcödé ＦＵＬＬＷＩＤＴＨ 42']) {
      const got = await client.encode(text);
      expect(maxAbsDiff(got, refEncode(text, D, 0))).toBeLessThanOrEqual(1e-6);
    }
  });

  it('float32 bins cross the wire bit for bit: subnormals, -0 and max float', async () => {
    // bundle([x]) = x/‖x‖ in float64, rounded once: every input bit matters to the output.
    // ‖x‖ ~ 1e-38 so the subnormals scale up to visible values instead of vanishing.
    const x = new Float32Array(D);
    const u = new Uint32Array(x.buffer);
    for (let i = 0; i < D; i++) u[i] = (i % 4 === 0 ? 0x80000000 : 0) | ((i * 2654435761) >>> 0) % 0x00800000; // ± subnormals
    u[1] = 0x80000000; // -0
    u[2] = 0x00000001; // smallest subnormal
    u[3] = 0x00800000; // smallest normal
    const got = await client.bundle([x], [1]);
    const want = bundle([x], [1]);
    expect(bits(got)).toEqual(bits(want));
    // (bundle sums from +0, so a −0 input comes out +0 on both sides; cosine below keeps −0)
    expect(got.filter((v) => v !== 0).length).toBeGreaterThan(D / 2); // the subnormals were not flushed
    // ±max float and friends: cosine in float64 over exactly the bits sent
    const y = randVec(12);
    y[0] = 3.4028234663852886e38; y[1] = -3.4028234663852886e38; y[2] = -0; y[3] = 1e-45;
    const z = randVec(13);
    z[0] = 1e38; z[5] = -1e-40;
    expect(await client.cosine(y, z)).toBe(cosine(y, z));
  });
});

describe('sinkhorn', () => {
  it('plan and cost equal the in-process sinkhorn to 1e-12; the plan has the asked marginals', async () => {
    const n = 7, m = 11, r = rng(21);
    const cost = Float64Array.from({ length: n * m }, () => r());
    const a = Float64Array.from({ length: n }, () => 0.1 + r());
    const b = Float64Array.from({ length: m }, () => 0.1 + r());
    const sa = a.reduce((s, x) => s + x, 0), sb = b.reduce((s, x) => s + x, 0);
    a.forEach((x, i) => { a[i] = x / sa; });
    b.forEach((x, j) => { b[j] = x / sb; });
    const got = await client.sinkhorn({ cost, n, m, epsilon: 0.05, a, b, tol: 1e-9 });
    const want = sinkhorn(a, b, cost, n, m, { epsilon: 0.05, tol: 1e-9 });
    expect(got.converged).toBe(true);
    expect(got.iterations).toBe(want.iterations);
    expect(got.tol).toBe(1e-9); // the truth-budget fields, typed by the client
    expect(got.tolMet).toBe(want.marginalError <= 1e-9);
    expect(got.overBudget).toBe(!(want.marginalError <= 1e-9) || want.numericalError);
    expect(maxAbsDiff(got.plan, want.plan)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(got.cost - want.cost)).toBeLessThanOrEqual(1e-12);
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let j = 0; j < m; j++) row += got.plan[i * m + j];
      expect(Math.abs(row - a[i])).toBeLessThanOrEqual(1e-9);
    }
    for (let j = 0; j < m; j++) {
      let col = 0;
      for (let i = 0; i < n; i++) col += got.plan[i * m + j];
      expect(Math.abs(col - b[j])).toBeLessThanOrEqual(1e-9);
    }
    expect(got.marginalError).toBeLessThanOrEqual(1e-9);
  });

  it('uniform marginals by default, and the documented 2×2 example', async () => {
    const got = await client.sinkhorn({ cost: Float64Array.from([0, 1, 1, 0]), n: 2, m: 2, epsilon: 1 });
    const want = sinkhorn(null, null, Float64Array.from([0, 1, 1, 0]), 2, 2, { epsilon: 1 });
    expect(maxAbsDiff(got.plan, want.plan)).toBeLessThanOrEqual(1e-12);
    expect(got.cost).toBeCloseTo(0.26894142, 8);
  });
});

describe('heat and graphs', () => {
  const n = 60, r = rng(31);
  const src = new Uint32Array(150), dst = new Uint32Array(150), weight = new Float64Array(150);
  for (let e = 0; e < 150; e++) {
    src[e] = e < n ? e : Math.floor(r() * n);
    dst[e] = e < n ? (e + 1) % n : Math.floor(r() * n);
    weight[e] = 0.1 + r();
  }
  const signal = Float64Array.from({ length: n }, () => r() - 0.5);
  const g = buildGraph(n, src, dst, weight);

  it('heat with a number t matches the in-process heat to 1e-12', async () => {
    const got = (await client.heat({ n, src, dst, weight, signal, t: 0.7 })) as Float64Array;
    expect(got).toBeInstanceOf(Float64Array);
    expect(maxAbsDiff(got, heat(g, signal, 0.7))).toBeLessThanOrEqual(1e-12);
    const t0 = (await client.heat({ n, src, dst, weight, signal, t: 0 })) as Float64Array;
    expect(maxAbsDiff(t0, signal)).toBeLessThanOrEqual(1e-12);
  });

  it('heat with a t list returns one result per t, each matching heatMulti', async () => {
    const ts = [0, 0.25, 1, 3.5];
    const got = (await client.heat({ n, src, dst, weight, signal, t: ts, K: 40 })) as Float64Array[];
    expect(Array.isArray(got)).toBe(true);
    const want = heatMulti(g, signal, ts, { K: 40 });
    expect(got).toHaveLength(ts.length);
    got.forEach((y, i) => expect(maxAbsDiff(y, want[i])).toBeLessThanOrEqual(1e-12));
  });

  it('graph.put, heat by graph id, graph.delete, then heat is not_found', async () => {
    const put = await client.graphPut('ring-60', { n, src, dst, weight });
    expect(put).toEqual({ graph: 'ring-60', n, nnz: g.nnz, bytes: 20 * n + 24 * g.nnz }); // bytes kept: 20·n + 24·nnz (docs/PROTOCOL.md)
    const byId = (await client.heat({ graph: 'ring-60', signal, t: [0.7, 2] })) as Float64Array[];
    expect(maxAbsDiff(byId[0], heat(g, signal, 0.7))).toBeLessThanOrEqual(1e-12);
    expect(maxAbsDiff(byId[1], heat(g, signal, 2))).toBeLessThanOrEqual(1e-12);
    expect(await client.request('graph.delete', { graph: 'ring-60' })).toMatchObject({ ok: true, removed: true });
    expect(await errorCode(client.heat({ graph: 'ring-60', signal, t: 1 }))).toBe('not_found');
    expect(await client.request('graph.delete', { graph: 'ring-60' })).toMatchObject({ ok: true, removed: false });
    expect(await errorCode(client.heat({ graph: 'never-put', signal, t: 1 }))).toBe('not_found');
  });
});

describe('tenant memory round trip', () => {
  it('remember, recall, anchor.put, cleanup, stats, forget', async () => {
    const t = 'proto-tenant';
    const v1 = randVec(41), v2 = randVec(42);
    expect(await client.remember(t, 'one', v1, { payload: { n: 1, tags: ['x'] } })).toMatchObject({ stored: true });
    expect(await client.remember(t, 'two', v2)).toMatchObject({ stored: true });
    const r = await client.recall(t, v1, 2);
    expect(r.hits.map((h) => h.key)).toEqual(['one', 'two']);
    expect(r.hits[0].score).toBeCloseTo(1, 6);
    expect(r.hits[0].payload).toEqual({ n: 1, tags: ['x'] });
    expect(await client.anchorPut(t, 'A', v2)).toMatchObject({ stored: true });
    expect(await client.cleanup(t, v2)).toMatchObject({ key: 'A' });
    expect(await client.stats(t)).toMatchObject({ items: 2, anchors: 1 });
    expect(await client.forget(t, 'one')).toMatchObject({ removed: true });
    expect((await client.recall(t, v1, 5)).hits.map((h) => h.key)).toEqual(['two']);
  });
});

describe('frames and ids', () => {
  it('every reply carries its request id (including 0 and ids above 2^32)', async () => {
    const s = await rawSocket(server.url);
    try {
      const ids = [0, 1, 77, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
      // ids ≥ 2^32 as uint64: msgpackr would pack a JS number that large as float64, which is not an id
      for (const id of ids) s.send({ id: id > 0xffffffff ? BigInt(id) : id, op: 'role', token: `id-${id}` });
      const replies = await s.until(ids.length);
      expect(replies.map((x) => x.id).sort((p, q) => p - q)).toEqual([...ids].sort((p, q) => p - q));
      for (const rep of replies) {
        expect(rep.ok).toBe(true);
        expect(bits(f32(rep.vector as Uint8Array))).toEqual(bits(role(`id-${rep.id}`, D, 0)));
      }
    } finally {
      s.ws.close();
    }
  });

  it('a frame with id 0 works like any other', async () => {
    const s = await rawSocket(server.url);
    try {
      const a = randVec(51), b = randVec(52);
      s.send({ id: 0, op: 'cosine', a: bin(a), b: bin(b) });
      const [rep] = await s.until(1);
      expect(rep).toEqual({ id: 0, ok: true, cosine: cosine(a, b) });
    } finally {
      s.ws.close();
    }
  });

  it('hundreds of pipelined requests on one connection are all answered, each with its own result', async () => {
    const s = await rawSocket(server.url);
    try {
      const N = 240; // under the 256 in-flight credit
      const want = new Map<number, (rep: Reply) => void>();
      const base = 1_000_000;
      for (let i = 0; i < N; i++) {
        const id = base + i * 7919;
        if (i % 3 === 0) {
          s.send({ id, op: 'role', token: `pipe-${i}` });
          want.set(id, (rep) => expect(bits(f32(rep.vector as Uint8Array))).toEqual(bits(role(`pipe-${i}`, D, 0))));
        } else if (i % 3 === 1) {
          const a = randVec(1000 + i), b = randVec(2000 + i);
          s.send({ id, op: 'cosine', a: bin(a), b: bin(b) });
          want.set(id, (rep) => expect(rep.cosine).toBe(cosine(a, b)));
        } else {
          const a = randVec(3000 + i);
          s.send({ id, op: 'bind', a: bin(a), role: `pipe-role-${i % 5}` });
          const r = role(`pipe-role-${i % 5}`, D, 0);
          want.set(id, (rep) => expect(maxAbsDiff(f32(rep.vector as Uint8Array), refBind(a, r))).toBeLessThanOrEqual(1e-6 * norm(a)));
        }
      }
      const replies = await s.until(N);
      await new Promise((res) => setTimeout(res, 100)); // no extra replies trail behind
      expect(s.replies).toHaveLength(N);
      const seen = new Set<number>();
      for (const rep of replies) {
        expect(rep.ok).toBe(true);
        expect(seen.has(rep.id)).toBe(false);
        seen.add(rep.id);
        want.get(rep.id)!(rep);
      }
      expect(seen.size).toBe(N);
    } finally {
      s.ws.close();
    }
  });

  it('the client pipelines too: concurrent typed calls resolve to their own results', async () => {
    const tokens = Array.from({ length: 100 }, (_, i) => `conc-${i}`);
    const got = await Promise.all(tokens.map((t) => client.role(t)));
    got.forEach((v, i) => expect(bits(v)).toEqual(bits(role(tokens[i], D, 0))));
    expect(client.inflight).toBe(0);
  });

  it('client.raw sends bytes as one frame and returns the decoded reply', async () => {
    const rep = await client.raw(packr.pack({ id: 4242, op: 'hello' }));
    expect(rep).toMatchObject({ id: 4242, ok: true, server: 'holoserve', dim: D });
  });
});
