/**
 * Tenant leases with fencing (store/redis.ts with an owner, store/redis-scripts.ts) on a real
 * redis-server, two stores standing for two processes A and B. A process is alive while its
 * heartbeat key exists (cluster/membership.ts writes it; here the test does, with the same key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { HoloError } from '../../src/errors.js';
import { openRedisStore } from '../../src/store/redis.js';
import type { ItemRecord, Store } from '../../src/store/store.js';
import { startRedis, type RedisServer } from '../../bench/redis-server.js';

const P = 'lease:';
const TTL = 400;
let redis: RedisServer;
let raw: Redis;
beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
});
afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

const open = (owner: string) => openRedisStore({
  url: redis.url, prefix: P, allowEviction: false, allowWithoutFsync: false, waitReplicas: 0, waitTimeoutMs: 1000, owner, leaseTtlMs: TTL,
});
const alive = (owner: string, ms: number) => raw.set(`${P}h${owner}`, '1', 'PX', ms);
const item = (key: string): ItemRecord => ({ key, vector: new Float32Array([1, 0, 0, 0]), salience: 1, reward: 0, createdMs: 1, lastAccessMs: 1 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function code(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (e) { return e instanceof HoloError ? `${e.code}: ${e.message}` : String(e); }
}

describe('leases', () => {
  let A: Store;
  let B: Store;
  beforeAll(async () => { [A, B] = await Promise.all([open('ws://a/v1'), open('ws://b/v1')]); });
  afterAll(async () => { await Promise.all([A?.close(), B?.close()]); });

  it('a live holder keeps its tenant; a lost lease fences the old holder\'s commit (nothing written)', async () => {
    await alive('ws://a/v1', 10_000);
    await A.loadTenant('t');
    await A.commit([{ kind: 'item.put', tenant: 't', item: item('by-a-1') }]);
    // B cannot take it while A is alive and holds it
    expect(await code(B.loadTenant('t'))).toMatch(/^unavailable: tenant is still held by ws:\/\/a\/v1/);
    // A "pauses": its heartbeat goes, B takes over
    await raw.del(`${P}hws://a/v1`);
    await alive('ws://b/v1', 10_000);
    expect((await B.loadTenant('t')).items.map((i) => i.key)).toEqual(['by-a-1']);
    // A resumes and commits with its old token: fenced, not applied
    expect(await code(A.commit([{ kind: 'item.put', tenant: 't', item: item('by-a-late') }]))).toMatch(/^unavailable: the lease on tenant "t" was lost/);
    await B.commit([{ kind: 'item.put', tenant: 't', item: item('by-b') }]);
    expect((await B.loadTenant('t')).items.map((i) => i.key)).toEqual(['by-a-1', 'by-b']);
    // and A is told to reload before it serves t again
    expect(await A.hold!('t')).toBe(false);
    expect(await B.hold!('t')).toBe(true);
    // epochs: A held 1, B holds 2
    expect(await raw.get(`${P}lt`)).toBe('2|ws://b/v1');
  });

  it('an unused lease expires after its TTL; a used one is renewed by commits and holds', async () => {
    await alive('ws://a/v1', 10_000);
    await alive('ws://b/v1', 10_000);
    await A.loadTenant('u');
    for (let i = 0; i < 4; i++) { // 4 × 150 ms > TTL: the commits' renewals keep it
      await sleep(150);
      await A.commit([{ kind: 'item.put', tenant: 'u', item: item(`u${i}`) }]);
    }
    expect(await code(B.loadTenant('u'))).toMatch(/still held by ws:\/\/a\/v1/);
    expect(await A.hold!('u')).toBe(true);
    await sleep(TTL + 100); // unused: expired although A is alive
    expect((await B.loadTenant('u')).items.length).toBe(4);
    expect(await A.hold!('u')).toBe(false);
  });

  it('close releases the leases at once', async () => {
    await alive('ws://a/v1', 10_000);
    const C = await open('ws://c/v1');
    await alive('ws://c/v1', 10_000);
    await C.loadTenant('v');
    expect(await code(A.loadTenant('v'))).toMatch(/still held by ws:\/\/c\/v1/);
    await C.close();
    expect(await code(A.loadTenant('v'))).toBe('ok');
  });
});
