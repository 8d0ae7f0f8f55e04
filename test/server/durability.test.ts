/**
 * Durability over the real socket: every acknowledged write survives a SIGKILL, bit for bit.
 *
 *   1. N = 200 items (vectors + msgpack payloads) over 4 tenants on both workers, pipelined;
 *      every ack awaited, then SIGKILL at once (no drain, no close).
 *   2. The dead server's LMDB store, opened directly: every stored vector equals, bit for bit,
 *      the sent vector normalised as the server normalises (memory/tenant.ts → normalize in
 *      kernels/hrr/cosine.ts: float64 norm with four partial sums, then float32 x_i · (1/‖x‖)).
 *   3. Restarted on the same data directory: every item recalled by its exact vector, top-1,
 *      score 1 within 1e-7, payload intact.
 *   4. Deletes are durable too: items evicted at the 0.9 mark (capacity 100), a forget and an
 *      anchor.delete are still gone after the SIGKILL; the anchors put are still there.
 *   5. A graceful (SIGTERM) restart prefetches the most recently active tenants.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/client.js';
import { normalize } from '../../src/kernels/hrr/cosine.js';
import { shardOf } from '../../src/pool/shard.js';
import { openLmdbStore } from '../../src/store/lmdb.js';
import { startServer, type Server } from './harness.js';
import { bits, seededVec, unpackr } from './support.js';

const D = 1024;
const N = 200;
const ENV = { HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_SHARDS: '64', HOLOSERVE_MEMORY_CAPACITY: '100' };

/** Seeded vector with uneven magnitudes (so normalisation actually rounds). */
const randVec = (seed: number) => seededVec(seed, D, (r) => (r() - 0.5) * (1 + 9 * r()));

interface Sent { tenant: string; key: string; vector: Float32Array; payload: unknown }

const TENANTS = ['dur-alpha', 'dur-beta', 'dur-gamma', 'dur-δέλτα'];
const OPS_TENANT = 'dur-deletes';

describe('durability: acknowledged writes survive SIGKILL', () => {
  let dataDir: string;
  const sent: Sent[] = [];

  beforeAll(async () => {
    expect(new Set(TENANTS.map((t) => shardOf(t, 64) % 2))).toEqual(new Set([0, 1]));
    const srv = await startServer(ENV, { keepData: true });
    dataDir = srv.dataDir;
    const c = await connect(srv.url);
    for (let i = 0; i < N; i++) {
      const tenant = TENANTS[i % TENANTS.length];
      sent.push({ tenant, key: `item-${i}`, vector: randVec(i + 1), payload: { i, tenant, list: [i, `v${i}`, { odd: i % 2 === 1 }], f: i / 7 } });
    }
    const acks = await Promise.all(sent.map((s) => c.remember(s.tenant, s.key, s.vector, { payload: s.payload })));
    expect(acks.every((a) => a.stored === true && a.evicted === 0)).toBe(true);
    // deletes: 91 writes at capacity 100 evict the 11 oldest; then a forget and an anchor.delete
    const ev = await Promise.all(Array.from({ length: 91 }, (_, i) => c.remember(OPS_TENANT, `o${i}`, randVec(5000 + i))));
    expect(ev.reduce((n, a) => n + a.evicted, 0)).toBe(11);
    await Promise.all([c.anchorPut(OPS_TENANT, 'keep', randVec(6000)), c.anchorPut(OPS_TENANT, 'drop', randVec(6001))]);
    const [f, d] = await Promise.all([c.forget(OPS_TENANT, 'o50'), c.anchorDelete(OPS_TENANT, 'drop')]);
    expect([f.removed, d.removed]).toEqual([true, true]);
    // Killed as soon as the last ack is in: no drain, no worker close, no final touch.
    c.close();
    await srv.stop('SIGKILL');
    expect(srv.proc.signalCode).toBe('SIGKILL');
  });

  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the dead server\'s LMDB store holds every vector bit for bit as the server normalised it', async () => {
    const store = openLmdbStore(dataDir);
    try {
      let checked = 0;
      for (const t of TENANTS) {
        const { items, anchors } = await store.loadTenant(t);
        expect(anchors).toEqual([]);
        const mine = sent.filter((s) => s.tenant === t);
        expect(items.map((x) => x.key).sort()).toEqual(mine.map((s) => s.key).sort());
        const byKey = new Map(items.map((x) => [x.key, x]));
        for (const s of mine) {
          const stored = byKey.get(s.key)!;
          const want = normalize(s.vector);
          expect(stored.vector.length).toBe(D);
          expect(bits(stored.vector)).toEqual(bits(want));
          expect(unpackr.unpack(stored.payload!)).toEqual(s.payload);
          checked++;
        }
      }
      expect(checked).toBe(N);
      // every tenant's last write touched it: the prefetch index knows all four
      expect(new Set(await store.recentTenants(16))).toEqual(new Set([...TENANTS, OPS_TENANT]));
    } finally {
      await store.close();
    }
  });

  it('after restart on the same data dir every item is recalled by its exact vector, score 1 within 1e-7', async () => {
    const srv = await startServer(ENV, { dataDir });
    try {
      const c = await connect(srv.url);
      const replies = await Promise.all(sent.map((s) => c.recall(s.tenant, s.vector, 2)));
      let worst = 0;
      replies.forEach((r, i) => {
        expect(r.hits[0].key).toBe(sent[i].key);
        expect(r.hits[0].payload).toEqual(sent[i].payload);
        worst = Math.max(worst, Math.abs(r.hits[0].score - 1));
        expect(r.hits[1].score).toBeLessThan(0.3);
      });
      expect(worst).toBeLessThan(1e-7);
      for (const t of TENANTS) expect((await c.stats(t)).items).toBe(N / TENANTS.length);

      // deletes survived: o0…o10 evicted, o50 forgotten, anchor 'drop' deleted, 'keep' kept
      expect(await c.stats(OPS_TENANT)).toMatchObject({ items: 79, anchors: 1 });
      const ops = await Promise.all(Array.from({ length: 91 }, (_, i) => c.recall(OPS_TENANT, randVec(5000 + i), 1)));
      ops.forEach((r, i) => {
        const gone = i <= 10 || i === 50;
        expect(r.hits[0].key === `o${i}`, `o${i}`).toBe(!gone);
      });
      expect(await c.cleanup(OPS_TENANT, randVec(6001))).toMatchObject({ key: 'keep' });
      expect((await c.cleanup(OPS_TENANT, randVec(6000))).score).toBeGreaterThan(0.999);
      c.close();
    } finally {
      await srv.stop();
    }
  });
});

describe('prefetch of recently active tenants at start', () => {
  it('a graceful restart logs "prefetched N recently active tenants" with every active tenant', async () => {
    const tenants = ['pf-one', 'pf-two', 'pf-three'];
    const srv = await startServer(ENV, { keepData: true });
    const dataDir = srv.dataDir;
    try {
      const c = await connect(srv.url);
      await Promise.all(tenants.map((t, i) => c.remember(t, 'k', randVec(900 + i))));
      // a recall-only tenant is touched at shutdown too
      await c.recall('pf-reader', randVec(1), 1);
      c.close();
      expect(await srv.stop('SIGTERM')).toBe(0);
      expect(srv.output()).toMatch(/stopped/);

      const again = await startServer(ENV, { dataDir });
      try {
        const deadline = Date.now() + 15_000;
        let m: RegExpExecArray | null = null;
        while (!(m = /prefetched (\d+) recently active tenants/.exec(again.output())) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(m, again.output()).not.toBeNull();
        const n = Number(m![1]);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBe(tenants.length + 1);
        // and the prefetched data is what was written
        const c2 = await connect(again.url);
        for (const [i, t] of tenants.entries()) {
          const r = await c2.recall(t, randVec(900 + i), 1);
          expect(r.hits[0].key).toBe('k');
          expect(Math.abs(r.hits[0].score - 1)).toBeLessThan(1e-7);
        }
        c2.close();
      } finally {
        await again.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
