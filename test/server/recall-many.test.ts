/**
 * recall.many and recall's scan options over the real server (D = 1024, 2 workers): a
 * recall.many over tenants on both workers answers, query by query, exactly what a recall of that
 * tenant answers (keys, scores, margin, candidates), in exact and binary mode; its errors are
 * typed and per query where they belong to one query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient, type RecallResult } from '../../src/client/client.js';
import { shardOf } from '../../src/pool/shard.js';
import { startServer, type Server } from './harness.js';
import { errorCode, seededVec } from './support.js';

const D = 1024;
const vec = (seed: number) => seededVec(seed, D);

describe('recall.many, D = 1024, 2 workers', () => {
  let srv: Server;
  let c: HoloClient;
  const tenants = ['many-a', 'many-b', 'many-c', 'many-d', 'many-e', 'many-f'];

  beforeAll(async () => {
    srv = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_SHARDS: '64', HOLOSERVE_RECALL_CACHE_TTL_MS: '0', HOLOSERVE_ADMIN_OPS: '1' });
    c = await connect(srv.url);
    const w = [];
    for (const [ti, t] of tenants.entries()) for (let i = 0; i < 40; i++) w.push(c.remember(t, `k${i}`, vec(1000 * ti + i), { payload: { t, i } }));
    await Promise.all(w);
  });
  afterAll(async () => {
    c?.close();
    await srv?.stop();
  });

  it('the tenants span both workers', () => {
    expect(new Set(tenants.map((t) => shardOf(t, 64) % 2))).toEqual(new Set([0, 1]));
  });

  for (const mode of ['exact', 'binary'] as const) {
    it(`equals per-tenant recalls, query by query (${mode}), unknown tenant empty`, async () => {
      const queries = [...tenants.flatMap((t, ti) => [0, 7, 33].map((i) => ({ tenant: t, query: vec(1000 * ti + i) }))),
        { tenant: tenants[0], query: vec(424242) }, { tenant: 'many-nobody', query: vec(5) }];
      const many = await c.recallMany(queries, { k: 5, mode, oversampling: 2 });
      expect(many.results).toHaveLength(queries.length);
      for (const [i, q] of queries.entries()) {
        const one = await c.recall(q.tenant, q.query, 5, { mode, oversampling: 2 });
        const got = many.results[i] as RecallResult;
        expect(got.hits).toEqual(one.hits);
        expect(got.margin).toBe(one.margin);
        expect(got.candidates).toBe(one.candidates);
      }
      // Each stored vector is its own top-1 at score 1 in both modes.
      for (let i = 0; i < 18; i++) {
        const r = many.results[i] as RecallResult;
        expect(r.hits[0].key).toBe(`k${[0, 7, 33][i % 3]}`);
        expect(Math.abs(r.hits[0].score - 1)).toBeLessThan(1e-6);
      }
      expect((many.results[19] as RecallResult).hits).toEqual([]);
    });
  }

  it('per-query k and mode override the defaults; binary rescoring counts max(k, 2)·oversampling candidates', async () => {
    const r = await c.recallMany([{ tenant: 'many-a', query: vec(1), k: 3 }, { tenant: 'many-a', query: vec(1), mode: 'exact' }], { k: 2, mode: 'binary', oversampling: 3 });
    const [a, b] = r.results as RecallResult[];
    expect(a.hits).toHaveLength(3);
    expect(a.candidates).toBe(9);
    expect(b.hits).toHaveLength(2);
    expect(b.candidates).toBe(10); // exact: every item scanned in float32, min(40, max(k, 2) + 8 guard) rescored
  });

  it('low margin → more candidates: with the rerank knob on, a binary recall below rerankMargin is rescored over 4× oversampling', async () => {
    const q = vec(999_999); // unrelated to every item: margin ≈ 0.01
    const before = await c.recall('many-b', q, 2, { mode: 'binary', oversampling: 2 });
    expect(before.candidates).toBe(4);
    expect(before.margin).toBeLessThan(0.5);
    await c.request('knobs', { set: { rerank: true, rerankMargin: 0.5 } });
    try {
      const low = await c.recall('many-b', q, 2, { mode: 'binary', oversampling: 2 });
      expect(low.candidates).toBe(16);
      const sure = await c.recall('many-b', vec(1000 + 5), 2, { mode: 'binary', oversampling: 2 }); // a stored item: margin ≈ 1
      expect(sure.margin).toBeGreaterThan(0.5);
      expect(sure.candidates).toBe(4);
    } finally {
      await c.request('knobs', { set: { rerank: false } });
    }
  });

  it('bad input is a typed error naming the query', async () => {
    expect(await errorCode(c.request('recall.many', { queries: [] }))).toBe('bad_request');
    expect(await errorCode(c.request('recall.many', { queries: [{ tenant: 'x', vector: new Uint8Array(8) }] }))).toBe('bad_dimension');
    expect(await errorCode(c.request('recall.many', { queries: [{ tenant: 'x', vector: new Uint8Array(4 * D) }], mode: 'fuzzy' }))).toBe('bad_request');
    expect(await errorCode(c.request('recall.many', { queries: Array.from({ length: 1025 }, () => ({ tenant: 'x', text: 'a' })) }))).toBe('too_large');
    expect(await errorCode(c.request('recall', { tenant: 'x', vector: new Uint8Array(4 * D), oversampling: 0 }))).toBe('bad_request');
  });
});
