import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdbStore } from '../../src/store/lmdb.js';
import { openRedisStore } from '../../src/store/redis.js';
import { startRedis, type RedisServer } from '../../bench/redis-server.js';
import type { AnchorRecord, ItemRecord, Store, Write } from '../../src/store/store.js';
import { HoloError } from '../../src/errors.js';
import { rng } from '../../bench/seeded.js';

/** Arbitrary float32 bit patterns: NaN payloads, ±0, ±Inf, subnormals — the store must not care. */
function anyBits(r: () => number, D: number): Float32Array {
  const u = Uint32Array.from({ length: D }, () => Math.floor(r() * 2 ** 32));
  u[0] = 0x80000000; // −0
  u[1] = 0x7fc00001; // a NaN with payload
  u[2] = 0x00000001; // smallest subnormal
  u[3] = 0x7f800000; // +Inf
  return new Float32Array(u.buffer);
}

function bits(v: Float32Array): number[] {
  return [...new Uint32Array(v.buffer, v.byteOffset, v.length)];
}

function itemOf(r: () => number, key: string, D: number): ItemRecord {
  const it: ItemRecord = {
    key,
    vector: anyBits(r, D),
    salience: r(),
    reward: r() * 4 - 2,
    createdMs: 1.7e12 + Math.floor(r() * 1e6),
    lastAccessMs: 1.7e12 + Math.floor(r() * 1e6) + 0.25,
  };
  if (r() < 0.7) it.novelty = r() * 2;
  const p = r();
  if (p < 0.4) it.payload = Uint8Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256));
  else if (p < 0.5) it.payload = new Uint8Array(0);
  return it;
}

function expectSameItem(got: ItemRecord, want: ItemRecord): void {
  expect(bits(got.vector)).toEqual(bits(want.vector));
  expect({ ...got, vector: null, payload: got.payload && [...got.payload] }).toEqual({
    ...want, vector: null, payload: want.payload && [...want.payload],
  });
}

async function rejects(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof HoloError ? e.code : `not a HoloError: ${String(e)}`;
  }
  return 'none';
}

/**
 * One Store implementation under the contract: `open(dir)` opens the store named by a fresh
 * temporary directory (LMDB: the directory; Redis: a key prefix derived from its name, on one
 * redis-server started for the suite), so "same dir" means "same data" for both.
 */
interface Impl {
  name: string;
  open(dir: string): Store | Promise<Store>;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** One suite, run over every implementation (Hono's common-case style); each test gets a fresh directory. */
function storeSuite({ name, open, start, stop }: Impl): void {
  describe(name, () => {
    if (start) beforeAll(start);
    if (stop) afterAll(stop);
    const dirs: string[] = [];
    const freshDir = () => {
      const d = mkdtempSync(join(tmpdir(), 'holoserve-store-'));
      dirs.push(d);
      return d;
    };
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('round trip: write, close, reopen, load — vectors and payloads bit-identical', async () => {
      const dir = freshDir();
      const r = rng(1);
      const items = Array.from({ length: 20 }, (_, i) => itemOf(r, `item-${i}`, 8192));
      const anchors: AnchorRecord[] = Array.from({ length: 5 }, (_, i) => ({ name: `anchor-${i}`, vector: anyBits(r, 8192), lastMatchedMs: 1e12 + i }));
      let s = await open(dir);
      await s.commit([
        ...items.map((item): Write => ({ kind: 'item.put', tenant: 'acme', item })),
        ...anchors.map((anchor): Write => ({ kind: 'anchor.put', tenant: 'acme', anchor })),
      ]);
      await s.close();
      s = await open(dir);
      const got = await s.loadTenant('acme');
      expect(got.items.map((i) => i.key).sort()).toEqual(items.map((i) => i.key).sort());
      const byKey = new Map(got.items.map((i) => [i.key, i]));
      for (const it of items) expectSameItem(byKey.get(it.key)!, it);
      expect(got.anchors.length).toBe(5);
      for (const a of anchors) {
        const b = got.anchors.find((x) => x.name === a.name)!;
        expect(bits(b.vector)).toEqual(bits(a.vector));
        expect(b.lastMatchedMs).toBe(a.lastMatchedMs);
      }
      expect(await s.loadTenant('nobody')).toEqual({ items: [], anchors: [] });
      await s.close();
    });

    it('overwrites and deletes', async () => {
      const s = await open(freshDir());
      const r = rng(2);
      const [a, b, c] = ['a', 'b', 'c'].map((k) => itemOf(r, k, 256));
      await s.commit([
        { kind: 'item.put', tenant: 't', item: a },
        { kind: 'item.put', tenant: 't', item: b },
        { kind: 'anchor.put', tenant: 't', anchor: { name: 'x', vector: anyBits(r, 256), lastMatchedMs: 1 } },
      ]);
      const b2 = itemOf(r, 'b', 256);
      await s.commit([
        { kind: 'item.delete', tenant: 't', key: 'a' },
        { kind: 'item.put', tenant: 't', item: b2 },
        { kind: 'item.put', tenant: 't', item: c },
        { kind: 'anchor.delete', tenant: 't', name: 'x' },
        { kind: 'item.delete', tenant: 't', key: 'never-there' },
      ]);
      const got = await s.loadTenant('t');
      expect(got.items.map((i) => i.key)).toEqual(['b', 'c']);
      expectSameItem(got.items[0], b2);
      expect(got.anchors).toEqual([]);
      await s.close();
    });

    it('a commit with one bad write writes nothing', async () => {
      const s = await open(freshDir());
      const r = rng(3);
      const code = await rejects(s.commit([
        { kind: 'item.put', tenant: 't', item: itemOf(r, 'ok', 256) },
        { kind: 'item.put', tenant: 't', item: itemOf(r, '', 256) },
      ]));
      expect(code).toBe('bad_request');
      expect((await s.loadTenant('t')).items).toEqual([]);
      expect(await rejects(s.commit([{ kind: 'tenant.touch', tenant: '', atMs: 1 }]))).toBe('bad_request');
      expect(await rejects(s.commit([{ kind: 'tenant.touch', tenant: 'a\uDC00', atMs: 1 }]))).toBe('bad_request');
      expect(await rejects(s.commit([{ kind: 'tenant.touch', tenant: 'x'.repeat(257), atMs: 1 }]))).toBe('too_large');
      expect(await rejects(s.commit([{ kind: 'item.delete', tenant: 't', key: '€'.repeat(342) }]))).toBe('too_large');
      await s.commit([{ kind: 'item.delete', tenant: 't', key: '€'.repeat(341) }]); // 1023 bytes
      await s.close();
    });

    it('recentTenants: most recently touched first, across reopen', async () => {
      const dir = freshDir();
      let s = await open(dir);
      expect(await s.recentTenants(5)).toEqual([]);
      await s.commit([
        { kind: 'tenant.touch', tenant: 't1', atMs: 100 },
        { kind: 'tenant.touch', tenant: 't2', atMs: 200 },
        { kind: 'tenant.touch', tenant: 't3', atMs: 150 },
      ]);
      await s.commit([{ kind: 'tenant.touch', tenant: 't1', atMs: 300 }]);
      expect(await s.recentTenants(10)).toEqual(['t1', 't2', 't3']);
      expect(await s.recentTenants(2)).toEqual(['t1', 't2']);
      expect(await s.recentTenants(0)).toEqual([]);
      // Two touches of one tenant in one commit: the last wins, no stale index entry remains.
      await s.commit([
        { kind: 'tenant.touch', tenant: 't3', atMs: 400 },
        { kind: 'tenant.touch', tenant: 't3', atMs: 50 },
        { kind: 'tenant.touch', tenant: '🐙/\0', atMs: 1e13 },
      ]);
      await s.close();
      s = await open(dir);
      expect(await s.recentTenants(10)).toEqual(['🐙/\0', 't1', 't2', 't3']);
      await s.close();
    });

    it('a 1000-item single commit', async () => {
      const s = await open(freshDir());
      const r = rng(4);
      const items = Array.from({ length: 1000 }, (_, i) => itemOf(r, `k${i}`, 8192));
      await s.commit(items.map((item) => ({ kind: 'item.put', tenant: 'big', item })));
      const got = await s.loadTenant('big');
      expect(got.items.length).toBe(1000);
      const byKey = new Map(got.items.map((i) => [i.key, i]));
      for (const i of [0, 1, 499, 999]) expectSameItem(byKey.get(`k${i}`)!, items[i]);
      await s.close();
    });

    it('odd tenant and key strings never collide (NUL, "/", emoji, prefixes)', async () => {
      const s = await open(freshDir());
      const pairs: [string, string][] = [
        ['a', 'b/c'], ['a/b', 'c'], ['a', 'bc'], ['ab', 'c'], ['a\0', 'b'], ['a', '\0b'], ['a\0b', 'c'],
        ['🐙', 'x'], ['🐙x', ''.concat('y')], ['\u00ff', 'k'], ['ÿ', 'k2'], ['a', '\uFFFF'], ['a\uFFFF', 'z'],
        ['ab', 'ab'], ['a', 'bab'], ['__proto__', '__proto__'], ['a', 'constructor'], ['a', '__proto__'],
      ];
      const r = rng(5);
      const writes: Write[] = pairs.map(([tenant, key], i) => ({ kind: 'item.put', tenant, item: { ...itemOf(r, key, 4), reward: i } }));
      writes.push(...pairs.map(([tenant, name], i): Write => ({ kind: 'anchor.put', tenant, anchor: { name, vector: anyBits(r, 4), lastMatchedMs: i } })));
      await s.commit(writes);
      const tenants = [...new Set(pairs.map((p) => p[0]))];
      for (const t of tenants) {
        const want = pairs.map((p, i) => ({ p, i })).filter(({ p }) => p[0] === t);
        const got = await s.loadTenant(t);
        expect(got.items.map((it) => [it.key, it.reward]).sort()).toEqual(want.map(({ p, i }) => [p[1], i]).sort());
        expect(got.anchors.map((a) => [a.name, a.lastMatchedMs]).sort()).toEqual(want.map(({ p, i }) => [p[1], i]).sort());
      }
      await s.close();
    });

    it('arbitrary Unicode (tenant, key) pairs load back exactly (property)', async () => {
      const s = await open(freshDir());
      const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(fc.tuple(name, name), { minLength: 1, maxLength: 12, selector: ([t, k]) => JSON.stringify([t, k]) }), async (pairs) => {
          // Each run writes into its own tenant namespace by prefixing a run number + NUL.
          const ns = `${run++}\0`;
          const r = rng(run);
          await s.commit(pairs.map(([t, k], i) => ({ kind: 'item.put', tenant: ns + t, item: { ...itemOf(r, k, 4), reward: i } })));
          for (const t of new Set(pairs.map((p) => p[0]))) {
            const got = (await s.loadTenant(ns + t)).items.map((it) => [it.key, it.reward]);
            const want = pairs.map((p, i) => ({ p, i })).filter(({ p }) => p[0] === t).map(({ p, i }) => [p[1], i]);
            expect(got.sort()).toEqual(want.sort());
          }
        }),
        { seed: 7, numRuns: 40 },
      );
      await s.close();
    });

    it('several stores on different directories in one process stay independent', async () => {
      const r = rng(6);
      const s1 = await open(freshDir());
      const s2 = await open(freshDir());
      const i1 = itemOf(r, 'k', 64), i2 = itemOf(r, 'k', 64);
      await Promise.all([
        s1.commit([{ kind: 'item.put', tenant: 't', item: i1 }, { kind: 'tenant.touch', tenant: 'one', atMs: 1 }]),
        s2.commit([{ kind: 'item.put', tenant: 't', item: i2 }, { kind: 'tenant.touch', tenant: 'two', atMs: 1 }]),
      ]);
      expectSameItem((await s1.loadTenant('t')).items[0], i1);
      expectSameItem((await s2.loadTenant('t')).items[0], i2);
      expect(await s1.recentTenants(5)).toEqual(['one']);
      expect(await s2.recentTenants(5)).toEqual(['two']);
      await Promise.all([s1.close(), s2.close()]);
      expect(await rejects(s1.loadTenant('t'))).toBe('unavailable');
    });

    it('two stores on one directory share its data (lmdb-js: one env per path per process; Redis: one prefix)', async () => {
      const dir = freshDir();
      const r = rng(7);
      const a = await open(dir), b = await open(dir);
      const item = itemOf(r, 'k', 64);
      await a.commit([{ kind: 'item.put', tenant: 't', item }]);
      expectSameItem((await b.loadTenant('t')).items[0], item);
      await a.close();
      // b keeps working after a closed (lmdb-js: the environment is reference-counted).
      await b.commit([{ kind: 'item.delete', tenant: 't', key: 'k' }]);
      expect((await b.loadTenant('t')).items).toEqual([]);
      await b.close();
    });
  });
}

let redis: RedisServer | undefined;
/** A key prefix per "directory": its base name (holoserve-store-XXXXXX) is a valid prefix. */
const prefixOf = (dir: string) => `${dir.slice(dir.lastIndexOf('/') + 1)}:`;

const IMPLS: Impl[] = [
  { name: 'LmdbStore', open: (dir) => openLmdbStore(dir) },
  {
    name: 'RedisStore',
    start: async () => { redis = await startRedis(); },
    stop: async () => { await redis?.stop(); },
    open: (dir) => openRedisStore({ url: redis!.url, prefix: prefixOf(dir), allowEviction: false, allowWithoutFsync: false, waitReplicas: 0, waitTimeoutMs: 1000 }),
  },
];
for (const impl of IMPLS) storeSuite(impl);

describe('data directory names', () => {
  it('a directory whose name has a dot is used as a directory (lmdb-js would take it for a file)', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'holoserve-dot-'));
    const dir = join(parent, 'data.d');
    try {
      for (let round = 0; round < 2; round++) { // created by the first open, existing for the second
        const s = openLmdbStore(dir);
        const v = new Float32Array(256).fill(round + 0.5);
        await s.commit([{ kind: 'item.put', tenant: 't', item: { key: `k${round}`, vector: v, salience: 0.5, reward: 0, createdMs: 1, lastAccessMs: 1 } }]);
        const got = await s.loadTenant('t');
        expect(got.items.map((i) => i.key)).toEqual(round === 0 ? ['k0'] : ['k0', 'k1']);
        await s.close();
      }
      const { statSync } = await import('node:fs');
      expect(statSync(dir).isDirectory()).toBe(true);
      expect(statSync(join(dir, 'data.mdb')).isFile()).toBe(true);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
