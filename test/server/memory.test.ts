/**
 * The memory room over the real socket: the compiled server (test/server/harness.ts), the TS
 * client, real values asserted.
 *
 *   server A  D = 1024, 2 workers, 64 shards, capacity 100 (oldest-first eviction), admin ops:
 *             round trips on tenants of both workers, payloads, margins, text recall, anchors,
 *             forget, stats, eviction at the 0.9 mark, recall cache invalidation, HRR rerank.
 *   server B  D = 8192 (default): the role-filler structure (24 pairs) cleaned up through the
 *             anchor book.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { shardOf } from '../../src/pool/shard.js';
import { startServer, type Server } from './harness.js';
import { body, metric, scrape, seededVec } from './support.js';

const D = 1024;
const SHARDS = 64;
const WORKERS = 2;

/** Gaussian vector (Box–Muller), seeded; not normalised (the server normalises). */
const randVec = (seed: number, n = D) => seededVec(seed, n, (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const k = 1 / Math.sqrt(s);
  return v.map((x) => x * k);
}

const workerOf = (tenant: string) => shardOf(tenant, SHARDS) % WORKERS;

/** The first `n` names `prefix0, prefix1, …` on worker `w`, all on different shards. */
function tenantsOn(w: number, n: number, prefix: string): string[] {
  const out: string[] = [];
  const shards = new Set<number>();
  for (let i = 0; out.length < n; i++) {
    const t = `${prefix}${i}`;
    const s = shardOf(t, SHARDS);
    if (s % WORKERS === w && !shards.has(s)) { out.push(t); shards.add(s); }
  }
  return out;
}

type Hit = { key: string; score: number; payload?: unknown };
type RecallReply = { hits: Hit[]; margin: number; reranked: boolean; cached?: boolean };

describe('memory room, D = 1024, 2 workers (server A)', () => {
  let srv: Server;
  let c: HoloClient;

  beforeAll(async () => {
    srv = await startServer({
      HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: String(WORKERS), HOLOSERVE_SHARDS: String(SHARDS),
      HOLOSERVE_MEMORY_CAPACITY: '100', HOLOSERVE_EVICTION_POLICY: 'oldest', HOLOSERVE_ADMIN_OPS: '1',
    });
    c = await connect(srv.url);
  });
  afterAll(async () => {
    c?.close();
    await srv?.stop();
  });

  it('remember → recall round trips on tenants of both workers: exact vector top-1 at score 1, payloads intact, margin = top1 − top2', async () => {
    const tenants = [...tenantsOn(0, 2, 'rt-a'), ...tenantsOn(1, 2, 'rt-b')];
    expect(new Set(tenants.map(workerOf))).toEqual(new Set([0, 1]));
    expect(new Set(tenants.map((t) => shardOf(t, SHARDS))).size).toBe(4);
    const payload = (t: string, i: number) => ({
      tenant: t, i, tags: ['a', 'ß', '🐘'], nested: { deep: [1, 2.5, -3, { x: null, ok: true }], big: 2 ** 40 }, text: 'x'.repeat(i * 10),
    });
    const vecs = new Map<string, Float32Array>();
    const writes: Promise<{ stored: boolean; evicted: number }>[] = [];
    tenants.forEach((t, ti) => {
      for (let i = 0; i < 12; i++) {
        const v = randVec(1000 * ti + i);
        vecs.set(`${t}/${i}`, v);
        writes.push(c.remember(t, `k${i}`, v, { payload: payload(t, i) }));
      }
    });
    for (const w of await Promise.all(writes)) expect(body(w)).toEqual({ stored: true, evicted: 0 });

    for (const t of tenants) {
      for (let i = 0; i < 12; i++) {
        const r = (await c.recall(t, vecs.get(`${t}/${i}`)!, 3)) as unknown as RecallReply;
        expect(r.hits).toHaveLength(3);
        expect(r.hits[0].key).toBe(`k${i}`);
        expect(Math.abs(r.hits[0].score - 1)).toBeLessThan(1e-6);
        expect(r.hits[0].payload).toEqual(payload(t, i));
        // random 1024-d Gaussians: |cos| ≲ 4/√D = 0.125
        expect(Math.abs(r.hits[1].score)).toBeLessThan(0.2);
        expect(r.hits[0].score).toBeGreaterThanOrEqual(r.hits[1].score);
        expect(r.hits[1].score).toBeGreaterThanOrEqual(r.hits[2].score);
        expect(r.margin).toBe(r.hits[0].score - r.hits[1].score);
        expect(r.reranked).toBe(false);
      }
      const s = await c.stats(t);
      expect(s).toMatchObject({ items: 12, capacity: 100, utilization: 0.12, evictions: 0, anchors: 0 });
    }

    // k = 1: the margin still uses the true runner-up.
    const t0 = tenants[0], q = randVec(4242);
    const two = (await c.recall(t0, q, 2)) as unknown as RecallReply;
    const one = (await c.recall(t0, q, 1)) as unknown as RecallReply;
    expect(one.hits).toHaveLength(1);
    expect(one.hits[0].key).toBe(two.hits[0].key);
    expect(one.hits[0].score).toBe(two.hits[0].score);
    expect(one.margin).toBe(two.hits[0].score - two.hits[1].score);

    // A scaled copy of a stored vector is the same direction: score 1.
    const scaled = vecs.get(`${t0}/3`)!.map((x) => x * -0.001 * -7);
    const r = (await c.recall(t0, scaled, 1)) as unknown as RecallReply;
    expect(r.hits[0].key).toBe('k3');
    expect(Math.abs(r.hits[0].score - 1)).toBeLessThan(1e-6);
    // The opposite direction ranks it last.
    const all = (await c.recall(t0, vecs.get(`${t0}/3`)!.map((x) => -x), 12)) as unknown as RecallReply;
    expect(all.hits[11].key).toBe('k3');
    expect(Math.abs(all.hits[11].score + 1)).toBeLessThan(1e-6);
  });

  it('overwriting a key replaces its vector and payload; payloads of every msgpack kind round-trip', async () => {
    const t = 'overwrite';
    await c.remember(t, 'k', randVec(1), { payload: { v: 1 } });
    await c.remember(t, 'other', randVec(2));
    expect(body(await c.remember(t, 'k', randVec(3), { payload: { v: 2 } }))).toEqual({ stored: true, evicted: 0 });
    expect((await c.stats(t)).items).toBe(2);
    const now = await c.recall(t, randVec(3), 1);
    expect(now.hits[0]).toMatchObject({ key: 'k', payload: { v: 2 } });
    expect(Math.abs(now.hits[0].score - 1)).toBeLessThan(1e-6);
    const old = await c.recall(t, randVec(1), 2);
    expect(Math.max(...old.hits.map((h) => h.score))).toBeLessThan(0.2);

    const payloads: unknown[] = [null, 0, -1.25, '', 'ünïcödé', false, [], {}, [[[1]]], { a: { b: { c: { d: 'deep' } } } }, 2 ** 53 - 1, -(2 ** 31)];
    await Promise.all(payloads.map((p, i) => c.remember(t, `p${i}`, randVec(100 + i), { payload: p })));
    await c.remember(t, 'none', randVec(99));
    for (const [i, p] of payloads.entries()) {
      const r = await c.recall(t, randVec(100 + i), 1);
      expect(r.hits[0].key).toBe(`p${i}`);
      expect('payload' in r.hits[0], `p${i}`).toBe(true);
      expect(r.hits[0].payload).toEqual(p);
    }
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
    await c.remember(t, 'bin', randVec(98), { payload: { raw: bytes } });
    const rb = await c.recall(t, randVec(98), 1);
    expect(new Uint8Array((rb.hits[0].payload as { raw: Uint8Array }).raw)).toEqual(bytes);
    // no payload: no payload field at all
    const rn = await c.recall(t, randVec(99), 1);
    expect(rn.hits[0].key).toBe('none');
    expect('payload' in rn.hits[0]).toBe(false);
  });

  it('text remember + text recall finds the lexically closest text', async () => {
    const t = 'texts';
    const texts: Record<string, string> = {
      cat: 'the cat sat on the mat',
      dog: 'a dog ran across the park chasing a ball',
      stock: 'stock prices fell sharply on monday',
      rain: 'heavy rain is expected over the weekend',
      cook: 'slowly cook the onions in butter',
    };
    await Promise.all(Object.entries(texts).map(([k, v]) => c.remember(t, k, v, { payload: { text: v } })));
    const cases: [string, string][] = [
      ['the cat sat on a mat', 'cat'],
      ['dog chasing a ball in the park', 'dog'],
      ['prices of stock fell', 'stock'],
      ['rain expected this weekend', 'rain'],
      ['cook onions in butter', 'cook'],
    ];
    for (const [query, want] of cases) {
      const r = (await c.recall(t, query, 5)) as unknown as RecallReply;
      expect(r.hits[0].key, query).toBe(want);
      expect(r.hits[0].payload).toEqual({ text: texts[want] });
      expect(r.margin).toBeGreaterThan(0.1);
    }
    const exact = (await c.recall(t, texts.cat, 2)) as unknown as RecallReply;
    expect(exact.hits[0].key).toBe('cat');
    expect(Math.abs(exact.hits[0].score - 1)).toBeLessThan(1e-6);
  });

  it('anchor.put / cleanup / anchor.delete, forget, and the stats fields', async () => {
    const t = 'anchors-and-forget';
    for (let i = 0; i < 5; i++) expect(body(await c.anchorPut(t, `a${i}`, randVec(500 + i)))).toEqual({ stored: true, evicted: null });
    // A noisy copy cleans up to its anchor: noise of equal norm gives cosine ≈ 1/√2.
    for (let i = 0; i < 5; i++) {
      const clean = unit(randVec(500 + i)), noise = unit(randVec(900 + i));
      const r = await c.cleanup(t, clean.map((x, j) => x + noise[j]));
      expect(r.key).toBe(`a${i}`);
      expect(r.score).toBeGreaterThan(0.6);
      expect(r.margin).toBeGreaterThan(0.4);
    }
    let s = await c.stats(t);
    expect(body(s)).toEqual({ items: 0, capacity: 100, utilization: 0, evictions: 0, anchors: 5, anchorsMax: 1024, saturation: 5 / 1024 });

    expect(body(await c.anchorDelete(t, 'a2'))).toEqual({ removed: true });
    expect(body(await c.anchorDelete(t, 'a2'))).toEqual({ removed: false });
    const after = await c.cleanup(t, randVec(502));
    expect(after.key).not.toBe('a2');
    expect(Math.abs(after.score)).toBeLessThan(0.2);
    // put overwrites a held name without evicting
    expect(body(await c.anchorPut(t, 'a0', randVec(502)))).toEqual({ stored: true, evicted: null });
    expect((await c.cleanup(t, randVec(502))).key).toBe('a0');

    await c.remember(t, 'x', randVec(600));
    await c.remember(t, 'y', randVec(601));
    expect((await c.recall(t, randVec(600), 1)).hits[0].key).toBe('x');
    expect(body(await c.forget(t, 'x'))).toEqual({ removed: true });
    expect(body(await c.forget(t, 'x'))).toEqual({ removed: false });
    const r = await c.recall(t, randVec(600), 5);
    expect(r.hits.map((h) => h.key)).toEqual(['y']);
    s = await c.stats(t);
    expect(body(s)).toEqual({ items: 1, capacity: 100, utilization: 0.01, evictions: 0, anchors: 4, anchorsMax: 1024, saturation: 4 / 1024 });

    // an empty anchor book has nothing to clean up to
    await expect(c.cleanup('no-anchors-here', randVec(1))).rejects.toMatchObject({ code: 'not_found' });
    // an unknown tenant is simply empty
    expect(body(await c.stats('never-written'))).toEqual({ items: 0, capacity: 100, utilization: 0, evictions: 0, anchors: 0, anchorsMax: 1024, saturation: 0 });
    expect(await c.recall('never-written', randVec(1))).toMatchObject({ hits: [], margin: 0 });
  });

  it('eviction at the 0.9 mark: 90 items stay, the 91st write evicts the 11 oldest down to 0.8', async () => {
    const t = 'evict-oldest';
    const acks = await Promise.all(Array.from({ length: 90 }, (_, i) => c.remember(t, `e${i}`, randVec(7000 + i))));
    expect(acks.every((a) => a.stored && a.evicted === 0)).toBe(true);
    expect(await c.stats(t)).toMatchObject({ items: 90, capacity: 100, utilization: 0.9, evictions: 0 });

    const ack = await c.remember(t, 'e90', randVec(7090));
    expect(body(ack)).toEqual({ stored: true, evicted: 11 });
    expect(await c.stats(t)).toMatchObject({ items: 80, capacity: 100, utilization: 0.8, evictions: 11 });

    // oldest first: e0 … e10 are gone, e11 … e90 are held
    const recalls = await Promise.all(Array.from({ length: 91 }, (_, i) => c.recall(t, randVec(7000 + i), 1)));
    recalls.forEach((r, i) => {
      if (i <= 10) {
        expect(r.hits[0].key, `e${i} should be evicted`).not.toBe(`e${i}`);
        expect(r.hits[0].score).toBeLessThan(0.2);
      } else {
        expect(r.hits[0].key).toBe(`e${i}`);
        expect(Math.abs(r.hits[0].score - 1)).toBeLessThan(1e-6);
      }
    });
    // the next write is below the mark again
    expect(body(await c.remember(t, 'e91', randVec(7091)))).toEqual({ stored: true, evicted: 0 });
    expect(await c.stats(t)).toMatchObject({ items: 81, utilization: 0.81, evictions: 11 });
  });

  it('recall cache: a repeat is cached, a write invalidates it (awaited and pipelined)', async () => {
    const t = 'cache';
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.remember(t, `c${i}`, randVec(300 + i))));
    const q = randVec(399);
    const hits0 = metric(await scrape(srv.http), 'holoserve_recall_cache_hits_total');
    const r1 = (await c.recall(t, q, 3)) as unknown as RecallReply;
    const r2 = (await c.recall(t, q, 3)) as unknown as RecallReply;
    expect(r1.cached).toBeUndefined();
    expect(r2.cached).toBe(true);
    expect(r2.hits).toEqual(r1.hits);
    expect(r2.margin).toBe(r1.margin);
    expect(metric(await scrape(srv.http), 'holoserve_recall_cache_hits_total')).toBeGreaterThanOrEqual(hits0 + 1);

    // awaited: a new item equal in direction to the query is top-1 on the next recall
    await c.remember(t, 'new1', q.map((x) => 2 * x));
    const r3 = (await c.recall(t, q, 3)) as unknown as RecallReply;
    expect(r3.cached).toBeUndefined();
    expect(r3.hits[0].key).toBe('new1');
    expect(Math.abs(r3.hits[0].score - 1)).toBeLessThan(1e-6);
    expect(r3.hits[1]).toEqual(r1.hits[0]);

    // pipelined: cache the answer, then recall / remember / recall without awaiting in between
    const q2 = randVec(398);
    await c.recall(t, q2, 3);
    const before = c.recall(t, q2, 3) as unknown as Promise<RecallReply>;
    const write = c.remember(t, 'new2', q2);
    const afterWrite = c.recall(t, q2, 3) as unknown as Promise<RecallReply>;
    const [b, w, a] = await Promise.all([before, write, afterWrite]);
    expect(w.stored).toBe(true);
    expect(b.hits[0].key).not.toBe('new2');
    expect(a.cached).toBeUndefined();
    expect(a.hits[0].key).toBe('new2');
    expect(Math.abs(a.hits[0].score - 1)).toBeLessThan(1e-6);

    // forget invalidates too
    const r4 = (await c.recall(t, q2, 3)) as unknown as RecallReply;
    expect(r4.cached).toBe(true);
    const [f, r5] = await Promise.all([c.forget(t, 'new2'), c.recall(t, q2, 3) as unknown as Promise<RecallReply>]);
    expect(f.removed).toBe(true);
    expect(r5.hits.map((h) => h.key)).not.toContain('new2');

    // text queries are cached and invalidated the same way
    await c.remember(t, 'txt', 'purple elephants dance');
    await c.recall(t, 'elephants dance', 2);
    expect(((await c.recall(t, 'elephants dance', 2)) as unknown as RecallReply).cached).toBe(true);
    const [, tx] = await Promise.all([c.remember(t, 'txt2', 'elephants dance'), c.recall(t, 'elephants dance', 2) as unknown as Promise<RecallReply>]);
    expect(tx.hits[0].key).toBe('txt2');
  });

  it('HRR-first rerank: low-margin text recalls are reranked when the knob is on, not when off', async () => {
    const t = 'rerank';
    const items: Record<string, string> = {
      dbm: 'dog bites man', mbd: 'man bites dog', cat: 'cat chases mouse', mail: 'man delivers mail', walk: 'dog walks home',
    };
    await Promise.all(Object.entries(items).map(([k, v]) => c.remember(t, k, v)));
    const on = await c.request('knobs', { set: { rerank: true, rerankMargin: 0.5 } });
    expect(on.knobs).toMatchObject({ rerank: true, rerankMargin: 0.5 });
    try {
      const r = (await c.recall(t, 'dog bites man', 5)) as unknown as RecallReply;
      expect(r.reranked).toBe(true);
      expect(r.hits.slice(0, 2).map((h) => h.key)).toEqual(['dbm', 'mbd']);
      // scores stay cosines: exact match 1, same words in another order ≈ n/(2n−1) = 0.6
      expect(Math.abs(r.hits[0].score - 1)).toBeLessThan(1e-6);
      expect(r.hits[1].score).toBeGreaterThan(0.45);
      expect(r.hits[1].score).toBeLessThan(0.75);
      expect(r.margin).toBeLessThan(0.5);
      // the reverse query puts the reverse text first
      const rev = (await c.recall(t, 'man bites dog', 5)) as unknown as RecallReply;
      expect(rev.reranked).toBe(true);
      expect(rev.hits.slice(0, 2).map((h) => h.key)).toEqual(['mbd', 'dbm']);
      // a margin above the threshold is not reranked
      const wide = (await c.recall(t, 'cat chases mouse', 5)) as unknown as RecallReply;
      expect(wide.margin).toBeGreaterThan(0.5);
      expect(wide.reranked).toBe(false);
      // vector queries are never reranked
      const enc = await c.encode('dog bites man');
      expect(((await c.recall(t, enc, 5)) as unknown as RecallReply).reranked).toBe(false);

      // the same text recall right after the knob goes off (within the cache TTL)
      const off = await c.request('knobs', { set: { rerank: false } });
      expect(off.knobs).toMatchObject({ rerank: false });
      const r2 = (await c.recall(t, 'dog bites man', 5)) as unknown as RecallReply;
      expect(r2.reranked).toBe(false);
      expect(r2.hits.slice(0, 2).map((h) => h.key)).toEqual(['dbm', 'mbd']);
      // and back on: reranked again at once
      await c.request('knobs', { set: { rerank: true } });
      expect(((await c.recall(t, 'dog bites man', 5)) as unknown as RecallReply).reranked).toBe(true);
    } finally {
      await c.request('knobs', { set: { rerank: false, rerankMargin: 0.02 } });
    }
  });
});

describe('role-filler structure at D = 8192 (server B)', () => {
  const DB = 8192;
  const PAIRS = 24;
  let srv: Server;
  let c: HoloClient;

  beforeAll(async () => {
    srv = await startServer({ HOLOSERVE_DIM: String(DB), HOLOSERVE_WORKERS: String(WORKERS), HOLOSERVE_SHARDS: String(SHARDS) });
    c = await connect(srv.url);
  });
  afterAll(async () => {
    c?.close();
    await srv?.stop();
  });

  it(`s = Σ bind(filler_i, role_i) over ${PAIRS} pairs; unbind(s, role_i) cleans up to filler_i for every pair`, async () => {
    expect((await c.hello()).dim).toBe(DB);
    const t = 'role-filler';
    const fillers = Array.from({ length: PAIRS }, (_, i) => unit(randVec(20_000 + i, DB)));
    const roles = Array.from({ length: PAIRS }, (_, i) => `slot-${i}`);
    const puts = await Promise.all(fillers.map((f, i) => c.anchorPut(t, `filler-${i}`, f)));
    expect(puts.every((p) => p.stored && p.evicted === null)).toBe(true);
    // distractor anchors that are in no pair
    await Promise.all(Array.from({ length: 8 }, (_, i) => c.anchorPut(t, `distractor-${i}`, randVec(30_000 + i, DB))));
    expect((await c.stats(t)).anchors).toBe(PAIRS + 8);

    const bound = await Promise.all(fillers.map((f, i) => c.bind(f, { role: roles[i] })));
    const s = await c.bundle(bound);
    expect(s.length).toBe(DB);

    const results = await Promise.all(roles.map(async (r) => c.cleanup(t, (await c.unbind(s, { role: r })).vector)));
    let minMargin = Infinity, minScore = Infinity;
    results.forEach((res, i) => {
      expect(res.key, `role ${roles[i]}`).toBe(`filler-${i}`);
      minMargin = Math.min(minMargin, res.margin);
      minScore = Math.min(minScore, res.score);
    });
    // expected: score ≈ 1/√24 ≈ 0.20, others ≈ 0 ± 0.011·√(24)/√24·… ; the margin must stay clear of 0
    expect(minScore).toBeGreaterThan(0.12);
    expect(minMargin).toBeGreaterThan(0.05);
    console.log(`role-filler D=${DB}, ${PAIRS} pairs: all cleaned up; smallest margin ${minMargin.toFixed(4)}, smallest score ${minScore.toFixed(4)}`);

    // An unbind by a role not in the structure cleans up to nothing in particular.
    const stray = await c.cleanup(t, (await c.unbind(s, { role: 'not-a-slot' })).vector);
    expect(stray.score).toBeLessThan(0.08);
  });
});
