/**
 * Tenant isolation and auth over the real socket (compiled server, D = 1024, 2 workers).
 *
 *   - Tenants never see each other's items: same keys, different vectors, on the same shard, on
 *     different workers, one tenant name a prefix of another, names with NUL and separators.
 *   - Tokens (HOLOSERVE_TOKENS, salted SHA-256 computed here): alice's token may use tenant
 *     alice only; every memory op on bob is `unauthorized`; no token or a wrong one: the
 *     upgrade is refused (HTTP 401).
 *   - Off loopback (HOST=0.0.0.0): no tokens → the server refuses to start; with tokens it
 *     starts and requires them. Connections go to 127.0.0.1 only.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, HoloClientError, type HoloClient } from '../../src/client/client.js';
import { shardOf } from '../../src/pool/shard.js';
import { readyLine, startServer, type Server } from './harness.js';
import { body, seededVec } from './support.js';

const D = 1024;
const ENV = { HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_SHARDS: '64' };

const randVec = (seed: number) => seededVec(seed, D, (r) => r() + r() + r() - 1.5);

/** A name `prefix<i>` on the same shard as `like`. */
function sameShardAs(like: string, prefix: string): string {
  const s = shardOf(like, 64);
  for (let i = 0; ; i++) if (shardOf(`${prefix}${i}`, 64) === s) return `${prefix}${i}`;
}

describe('tenant isolation (loopback, no auth)', () => {
  let srv: Server;
  let c: HoloClient;

  beforeAll(async () => {
    srv = await startServer(ENV);
    c = await connect(srv.url);
  });
  afterAll(async () => {
    c?.close();
    await srv?.stop();
  });

  it('same keys in two tenants, different vectors: neither tenant ever sees the other\'s items', async () => {
    const a = 'iso-a';
    const pairs: [string, string][] = [
      [a, sameShardAs(a, 'iso-b')], // same shard: same worker, same LMDB range neighbourhood
      ['ann', 'anna'], // one tenant's name a prefix of the other's
      ['x', 'x\u0000k'], // NUL inside a name
      ['p/q', 'p'],
    ];
    const diffWorker = ['iso-w0', 'iso-w1'].map((p) => { for (let i = 0; ; i++) if (shardOf(`${p}${i}`, 64) % 2 === Number(p.at(-1))) return `${p}${i}`; });
    pairs.push([diffWorker[0], diffWorker[1]]);
    expect(shardOf(pairs[0][0], 64)).toBe(shardOf(pairs[0][1], 64));
    expect(shardOf(pairs[4][0], 64) % 2).not.toBe(shardOf(pairs[4][1], 64) % 2);

    for (const [pi, [ta, tb]] of pairs.entries()) {
      const va = Array.from({ length: 8 }, (_, i) => randVec(10_000 * pi + i));
      const vb = Array.from({ length: 8 }, (_, i) => randVec(10_000 * pi + 100 + i));
      await Promise.all([
        ...va.map((v, i) => c.remember(ta, `k${i}`, v, { payload: { owner: ta, i } })),
        ...vb.map((v, i) => c.remember(tb, `k${i}`, v, { payload: { owner: tb, i } })),
        c.anchorPut(ta, 'shared-name', va[0]),
        c.anchorPut(tb, 'shared-name', vb[0]),
      ]);
      for (let i = 0; i < 8; i++) {
        // A's vector in B: B's own items only, none of them close
        const inB = await c.recall(tb, va[i], 8);
        expect(inB.hits).toHaveLength(8);
        for (const h of inB.hits) {
          expect(h.payload).toMatchObject({ owner: tb });
          expect(h.score).toBeLessThan(0.3);
        }
        // and the same query in A finds A's item at score 1
        const inA = await c.recall(ta, va[i], 8);
        expect(inA.hits[0]).toMatchObject({ key: `k${i}`, payload: { owner: ta, i } });
        expect(Math.abs(inA.hits[0].score - 1)).toBeLessThan(1e-6);
        for (const h of inA.hits) expect(h.payload).toMatchObject({ owner: ta });
        const back = await c.recall(tb, vb[i], 1);
        expect(back.hits[0]).toMatchObject({ key: `k${i}`, payload: { owner: tb, i } });
      }
      // anchors with the same name: each tenant's own vector
      expect((await c.cleanup(ta, va[0])).score).toBeGreaterThan(0.999);
      expect((await c.cleanup(tb, va[0])).score).toBeLessThan(0.3);
      // forgetting in A leaves B's same key alone
      expect(body(await c.forget(ta, 'k0'))).toEqual({ removed: true });
      expect((await c.recall(tb, vb[0], 1)).hits[0].key).toBe('k0');
      expect((await c.recall(ta, va[0], 1)).hits[0].key).not.toBe('k0');
      expect((await c.stats(ta)).items).toBe(7);
      expect((await c.stats(tb)).items).toBe(8);
    }
  });

  it('the recall cache is per tenant: an identical recall in another tenant never gets the first tenant\'s cached answer', async () => {
    // Cache keys are built from tenant, k and the query; names and texts may hold any
    // character (NUL included), so the key must still tell the tenants apart.
    const victim = 'cv';
    const other = `cv\u00001\u0000t:b`;
    expect(shardOf(victim, 64) % 2).toBe(shardOf(other, 64) % 2); // same worker, same cache
    const text = `b\u00002\u0000t:c`;
    await c.remember(victim, 'secret', text, { payload: { secret: true } });
    await c.remember(other, 'mine', 'unrelated words entirely', { payload: { secret: false } });
    const v1 = await c.recall(victim, text, 1);
    expect(v1.hits[0].key).toBe('secret');
    const v2 = (await c.recall(victim, text, 1)) as unknown as { cached?: boolean };
    expect(v2.cached).toBe(true); // the victim's answer is in the cache now
    const o = await c.recall(other, 'c', 2);
    for (const h of o.hits) expect(h.payload).toEqual({ secret: false });
    expect(o.hits.map((h) => h.key)).toEqual(['mine']);
  });
});

function tokenEntry(salt: string, token: string, tenants: string[]) {
  return { salt, sha256: createHash('sha256').update(salt + token).digest('hex'), tenants };
}

const ALICE = 'alice-token-4f1c9e';
const BOB = 'bob-token-77a0d2';
const TOKENS = JSON.stringify([
  tokenEntry('s4lt-alice', ALICE, ['alice']),
  tokenEntry('another salt', BOB, ['bob']),
]);

/** Every memory op on `tenant`, as [op, params]. */
function memoryOps(tenant: string): [string, Record<string, unknown>][] {
  const v = new Uint8Array(randVec(5).buffer);
  return [
    ['remember', { tenant, key: 'k', vector: v, payload: { x: 1 } }],
    ['remember', { tenant, key: 'kt', text: 'some text' }],
    ['recall', { tenant, vector: v, k: 3 }],
    ['recall', { tenant, text: 'some text' }],
    ['anchor.put', { tenant, name: 'n', vector: v }],
    ['cleanup', { tenant, vector: v }],
    ['anchor.delete', { tenant, name: 'n' }],
    ['forget', { tenant, key: 'k' }],
    ['stats', { tenant }],
  ];
}

async function refused(url: string, token?: string): Promise<HoloClientError> {
  try {
    const c = await connect(url, { token, reconnect: false });
    c.close();
  } catch (e) {
    return e as HoloClientError;
  }
  throw new Error('the upgrade was accepted');
}

describe('auth with salted SHA-256 tokens (loopback, tokens configured)', () => {
  let srv: Server;
  let alice: HoloClient;
  let bob: HoloClient;

  beforeAll(async () => {
    srv = await startServer({ ...ENV, HOLOSERVE_TOKENS: TOKENS });
    alice = await connect(srv.url, { token: ALICE });
    bob = await connect(srv.url, { token: BOB });
  });
  afterAll(async () => {
    alice?.close();
    bob?.close();
    await srv?.stop();
  });

  it('the ready line says auth is required', () => {
    expect(readyLine(srv.output())?.auth).toBe('required');
  });

  it('no token, a wrong token, a malformed header: upgrade refused with 401', async () => {
    for (const token of [undefined, 'not-a-token', ALICE + 'x', 's4lt-alice' + ALICE]) {
      const e = await refused(srv.url, token);
      expect(e).toBeInstanceOf(HoloClientError);
      expect(e.code).toBe('unauthorized');
      expect(e.message).toMatch(/401/);
    }
    for (const authorization of ['Basic YWxpY2U6eA==', `Bearer`, `Token ${ALICE}`, `Bearer ${ALICE} extra`]) {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(srv.url, { headers: { authorization } });
        ws.once('open', () => { ws.close(); resolve(101); });
        ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); });
        ws.once('error', reject);
      });
      expect(status, authorization).toBe(401);
    }
  });

  it('alice\'s token: every memory op on bob is unauthorized, every one on alice succeeds', async () => {
    await bob.remember('bob', 'bobs-secret', randVec(77), { payload: 'bob only' });
    for (const [op, params] of memoryOps('bob')) {
      await expect(alice.request(op, params), op).rejects.toMatchObject({ code: 'unauthorized' });
    }
    for (const [op, params] of memoryOps('alice')) {
      const r = await alice.request(op, params);
      expect(r.ok, op).toBe(true);
    }
    // the refusals changed nothing in bob's memory
    const s = await bob.stats('bob');
    expect(s).toMatchObject({ items: 1, anchors: 0 });
    expect((await bob.recall('bob', randVec(77), 1)).hits[0]).toMatchObject({ key: 'bobs-secret', payload: 'bob only' });
    // and bob is refused on alice
    await expect(bob.recall('alice', randVec(5))).rejects.toMatchObject({ code: 'unauthorized' });
    // tenant-free ops are allowed to any authenticated connection
    expect((await alice.hello()).dim).toBe(D);
    expect((await alice.encode('hello world')).length).toBe(D);
  });
});

describe('listening off loopback', () => {
  it('HOST=0.0.0.0 without tokens: the server refuses to start, exit non-zero, with a message', async () => {
    const err = await startServer({ ...ENV, HOST: '0.0.0.0' }).then(
      async (s) => { await s.stop(); return null; },
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.message).toMatch(/server exited with [1-9]\d* before ready/);
    expect(err!.message).toMatch(/0\.0\.0\.0.*tokens/);
  });

  it('HOST=127.0.0.2 (loopback, 127/8) without tokens starts open, as auth treats it (not connected to)', async () => {
    const srv = await startServer({ ...ENV, HOST: '127.0.0.2' });
    try {
      expect(readyLine(srv.output())).toMatchObject({ level: 'info', host: '127.0.0.2', url: `ws://127.0.0.2:${srv.port}/v1`, auth: 'loopback-open' });
    } finally {
      expect(await srv.stop()).toBe(0);
    }
  });

  it('HOST=0.0.0.0 with tokens: starts, requires a token (connecting via 127.0.0.1 only)', async () => {
    const srv = await startServer({ ...ENV, HOST: '0.0.0.0', HOLOSERVE_TOKENS: TOKENS });
    try {
      expect(readyLine(srv.output())).toMatchObject({ level: 'info', host: '0.0.0.0', url: `ws://0.0.0.0:${srv.port}/v1`, auth: 'required' });
      expect(srv.url.startsWith('ws://127.0.0.1:')).toBe(true);
      expect((await refused(srv.url)).code).toBe('unauthorized');
      const a = await connect(srv.url, { token: ALICE });
      expect(body(await a.remember('alice', 'k', randVec(1)))).toEqual({ stored: true, evicted: 0 });
      expect((await a.recall('alice', randVec(1), 1)).hits[0].key).toBe('k');
      await expect(a.stats('bob')).rejects.toMatchObject({ code: 'unauthorized' });
      a.close();
    } finally {
      await srv.stop();
    }
  });
});
