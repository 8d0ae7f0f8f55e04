/**
 * Issue #9's hostile frames over the real socket (frames built by hand, byte by byte): each is
 * answered at once with a 4xx-class code, never `internal`; nothing malformed is stored; every
 * stored payload comes back decodable by a strict stock decoder; the server stays up and small.
 */
import { decode as stockDecode } from '@msgpack/msgpack';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { openLmdbStore } from '../../src/store/lmdb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin } from '../../src/client/client.js';
import { describeBug } from '../../src/errors.js';
import { startServer, type Server } from './harness.js';
import { metric, packr, rawSocket, scrape, seededVec, type Raw } from './support.js';

const D = 256;
const enc = (s: string) => [...new TextEncoder().encode(s)];
const str = (s: string) => {
  const b = enc(s);
  return b.length < 32 ? [0xa0 | b.length, ...b] : [0xd9, b.length, ...b];
};
/** A map frame from raw key → value byte lists. */
const frame = (fields: [string, number[] | Uint8Array][]) => {
  const parts: Uint8Array[] = [Uint8Array.of(0x80 | fields.length)];
  for (const [k, v] of fields) parts.push(Uint8Array.from(str(k)), Uint8Array.from(v));
  return new Uint8Array(Buffer.concat(parts));
};
const int = (n: number) => [...packr.pack(n)];
const NINE = [0xa0, 0xa0, 0xd6, 0x62, 0xff, 0xff, 0xff, 0xfc, 0xc0];

let server: Server;
let raw: Raw;

beforeAll(async () => {
  server = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_PREWARM_ROLES: '[]' });
  raw = await rawSocket(server.url);
});
afterAll(async () => {
  raw?.ws.close();
  await server?.stop();
});

async function rss(): Promise<number> {
  return metric(await scrape(server.http), 'holoserve_process_resident_memory_bytes');
}

describe('issue #9 items 1–4 and 7: hostile frames', () => {
  it('1. the 9-byte bundled-strings frame: bad_request within a second, alone or in a field; RSS unchanged', async () => {
    const before = await rss();
    const t0 = performance.now();
    const r1 = await raw.ask(Uint8Array.from(NINE));
    expect(r1).toMatchObject({ id: 0, ok: false, error: { code: 'bad_request' } });
    // the same extension bytes as the tenant, and as the payload
    const ext = NINE.slice(2);
    const inField = [
      frame([['id', int(11)], ['op', str('remember')], ['tenant', ext], ['key', str('k')], ['text', str('hello world')]]),
      frame([['id', int(12)], ['op', str('remember')], ['tenant', str('t9')], ['key', str('k')], ['text', str('hello world')], ['payload', ext]]),
      frame([['id', int(13)], ['op', str('remember')], ['tenant', str('t9')], ['key', str('k')], ['text', str('hello world')], ['payload', [0x93, ...NINE.slice(0, 2), ...ext]]]),
    ];
    for (const f of inField) {
      const r = await raw.ask(f);
      expect(r).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/extension type 98/) } });
    }
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await rss()).toBeLessThan(before + 64 * 2 ** 20);
    expect(server.proc.exitCode).toBeNull();
  });

  it('2. a payload that is a 3 MB BigInt extension: bad_request naming type 66, quickly, no log flood', async () => {
    const n = 3_000_000;
    const ext = new Uint8Array(6 + n);
    ext.set([0xc9, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, 0x42]);
    ext.fill(0x7f, 6);
    const f = frame([['id', int(12)], ['op', str('remember')], ['tenant', str('t2')], ['key', str('k')], ['text', str('big int')], ['payload', ext]]);
    const logBefore = server.output().length;
    const t0 = performance.now();
    const r = await raw.ask(f);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r).toMatchObject({ id: 0, ok: false, error: { code: 'bad_request', message: expect.stringMatching(/extension type 66/) } });
    expect(server.output().length - logBefore).toBeLessThan(1024);
  });

  it('3. timestamp, structured-clone and error extensions in a payload are refused and nothing is stored', async () => {
    const exts = [
      [0xd6, 0xff, 0, 0, 0, 1], // timestamp 32
      [0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // malformed timestamp 64 (nanoseconds > 999999999)
      [0xc7, 12, 0xff, ...new Array(12).fill(0xff)], // timestamp 96
      [0xd4, 0x73, 0x90], // structured clone
      [0xd5, 0x65, 0x92, 0xa0], // error
      [0xd4, 0x72, 0x90], // record definition
    ];
    for (const [i, e] of exts.entries()) {
      const f = frame([['id', int(30 + i)], ['op', str('remember')], ['tenant', str('poison')], ['key', str(`k${i}`)], ['text', str('poison pill')], ['payload', [0x91, ...e]]]);
      const r = await raw.ask(f);
      expect([i, r.error?.code]).toEqual([i, 'bad_request']);
      expect(r.error!.message).toMatch(/extension type/);
    }
    expect(await raw.ask({ id: 40, op: 'stats', tenant: 'poison' })).toMatchObject({ ok: true, items: 0 });
  });

  it('3. what is stored round-trips through a strict stock decoder (recall replies decode with @msgpack/msgpack)', async () => {
    const payload = { s: 'ß🐘', ints: [0, -1, 255, -129, 2 ** 31, -(2 ** 31) - 1], big: 2n ** 63n - 1n, neg: -(2n ** 62n), f: 1.5, b: new Uint8Array([1, 2, 3]), nested: { a: [null, true, false] } };
    expect(await raw.ask({ id: 50, op: 'remember', tenant: 'clean', key: 'k', text: 'clean payload', payload })).toMatchObject({ ok: true });
    const ws = new WebSocket(server.url);
    await new Promise((r) => ws.once('open', r));
    const bytes = await new Promise<Buffer>((resolve) => {
      ws.once('message', (d: Buffer) => resolve(d));
      ws.send(packr.pack({ id: 51, op: 'recall', tenant: 'clean', text: 'clean payload', k: 1 }));
    });
    ws.close();
    const rep = stockDecode(bytes, { useBigInt64: true }) as { hits: { payload: typeof payload }[] };
    const p = rep.hits[0].payload;
    expect(p.s).toBe('ß🐘');
    expect(p.ints.map(Number)).toEqual(payload.ints);
    expect(BigInt(p.big)).toBe(payload.big);
    expect(BigInt(p.neg)).toBe(payload.neg);
    expect(p.f).toBe(1.5);
    expect([...p.b]).toEqual([1, 2, 3]);
    expect(p.nested).toEqual({ a: [null, true, false] });
  });

  it('4. client mistakes are never `internal`: deep nesting (2,000), huge declared lengths, cycles (an extension)', async () => {
    const before = metric(await scrape(server.http), 'holoserve_requests_total', { outcome: 'internal' });
    const deep = [...new Array(2000).fill(0x91), 0xc0];
    const frames = [
      frame([['id', int(60)], ['op', str('remember')], ['tenant', str('t4')], ['key', str('k')], ['text', str('deep')], ['payload', deep]]),
      frame([['id', int(61)], ['op', str('remember')], ['tenant', str('t4')], ['key', str('k')], ['text', str('len')], ['payload', [0xdd, 0xff, 0xff, 0xff, 0xff]]]),
      frame([['id', int(62)], ['op', str('remember')], ['tenant', str('t4')], ['key', str('k')], ['text', str('cycle')], ['payload', [0xd4, 0x73, 0x00]]]),
      frame([['id', int(63)], ['op', str('bind')], ['a', [0xc6, 0x7f, 0xff, 0xff, 0xff]]]),
    ];
    for (const f of frames) expect((await raw.ask(f)).error?.code).toBe('bad_request');
    expect(metric(await scrape(server.http), 'holoserve_requests_total', { outcome: 'internal' })).toBe(before);
    expect(await raw.ask({ id: 64, op: 'stats', tenant: 't4' })).toMatchObject({ ok: true, items: 0 });
  });

  it('7. float ids (2.0, −0.0) are not integers: bad_request with id 0', async () => {
    for (const idBytes of [[0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0], [0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0], [0xca, 0x40, 0, 0, 0]]) {
      const r = await raw.ask(frame([['id', idBytes], ['op', str('hello')]]));
      expect(r).toMatchObject({ id: 0, ok: false, error: { code: 'bad_request', message: expect.stringMatching(/'id'/) } });
    }
    expect((await raw.ask(frame([['id', [0xcf, 0, 0, 0, 0, 0, 0, 0, 2]], ['op', str('hello')]]))).id).toBe(2);
    const v = seededVec(1, D);
    expect((await raw.ask({ id: 70, op: 'cosine', a: bin(v), b: bin(v) })).ok).toBe(true);
  });
});

describe('2. `internal` is counted and its log line bounded', () => {
  let admin: Server;
  beforeAll(async () => {
    admin = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_PREWARM_ROLES: '[]', HOLOSERVE_ADMIN_OPS: 'true' });
  });
  afterAll(async () => { await admin?.stop(); });

  it('a crashed worker (drill worker-crash) moves holoserve_internal_errors_total', async () => {
    const s = await rawSocket(admin.url);
    try {
      expect(metric(await scrape(admin.http), 'holoserve_internal_errors_total')).toBe(0);
      expect(await s.ask({ id: 1, op: 'drill', scenario: 'worker-crash', worker: 0 })).toMatchObject({ ok: true, outcome: 'internal' });
      expect(metric(await scrape(admin.http), 'holoserve_internal_errors_total', { op: 'drill.crash' })).toBe(1);
    } finally {
      s.ws.close();
    }
  });

  it('describeBug keeps a bug line short whatever the error carries', () => {
    const e = new RangeError('x'.repeat(3_000_000));
    const line = describeBug(e);
    expect(line.length).toBeLessThan(1500);
    expect(line).toMatch(/^RangeError: x{200}…/);
    expect(describeBug('y'.repeat(10_000)).length).toBeLessThan(300);
  });
});

describe('7. a reader past its backpressure budget is closed with 1013 and a reason, after the replies it is owed', () => {
  let slow: Server;
  beforeAll(async () => {
    // uWS's bound: 64 KiB + 64 credits × (32 KiB + 4 KiB) ≈ 2.4 MB; 1 MiB heat replies overflow it
    slow = await startServer({
      HOLOSERVE_DIM: '8192', HOLOSERVE_WORKERS: '2', HOLOSERVE_PREWARM_ROLES: '[]',
      HOLOSERVE_MAX_BACKPRESSURE_BYTES: String(64 * 1024), HOLOSERVE_MAX_INFLIGHT_PER_CONNECTION: '64',
    });
  });
  afterAll(async () => { await slow?.stop(); });

  it('paused reader, 16 heat replies of 1 MiB: closed 1013 with its reason, the replies before it intact', async () => {
    const s = await rawSocket(slow.url);
    const sock = (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    const n = 131_072;
    const src = bin(Uint32Array.from({ length: n - 1 }, (_, i) => i));
    const dst = bin(Uint32Array.from({ length: n - 1 }, (_, i) => i + 1));
    sock.pause();
    for (let i = 1; i <= 16; i++) {
      const x = new Float64Array(n);
      x[i] = 1; // distinct: no coalescing
      s.send({ id: i, op: 'heat', n, src, dst, signal: bin(x), t: 0.5, K: 4 });
    }
    // wait until the server gave up on this connection, still without reading
    const deadline = Date.now() + 30_000;
    while (metric(await scrape(slow.http), 'holoserve_replies_dropped_total') === 0) {
      if (Date.now() > deadline) throw new Error('the server never closed the paused reader');
      await new Promise((r) => setTimeout(r, 100));
    }
    sock.resume();
    const closed = await s.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/^replies not read: \d+ bytes unsent/);
    expect(s.replies.length).toBeGreaterThan(0);
    expect(s.replies.length).toBeLessThan(16);
    for (const r of s.replies) {
      expect(r.ok).toBe(true);
      expect((r.result as Uint8Array).byteLength).toBe(8 * n);
    }
    // the server is fine
    const fresh = await rawSocket(slow.url);
    expect((await fresh.ask({ id: 1, op: 'hello' })).ok).toBe(true);
    fresh.ws.close();
  });
});

describe('3. a payload stored before the profile existed (with an extension type) cannot poison readers', () => {
  let old: Server;
  const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-poison-'));
  const v = seededVec(5, D);
  const norm = Math.hypot(...v);
  const unit = v.map((x) => x / norm);
  beforeAll(async () => {
    // what an older server let a writer store: a timestamp extension with 0xffffffff nanoseconds
    const store = openLmdbStore(dataDir);
    const item = (key: string, payload: Uint8Array) => ({ key, vector: unit, payload, salience: 0.5, reward: 0, createdMs: 1, lastAccessMs: 1, novelty: 1 });
    await store.commit([
      { kind: 'item.put', tenant: 'old', item: item('poisoned', Uint8Array.from([0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])) },
      { kind: 'item.put', tenant: 'old', item: item('fine', packr.pack({ ok: 1 })) },
      { kind: 'tenant.touch', tenant: 'old', atMs: 1 },
    ]);
    await store.close();
    old = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '1', HOLOSERVE_PREWARM_ROLES: '[]' }, { dataDir });
  });
  afterAll(async () => {
    await old?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('recall leaves the bad payload out (payloadDropped) and the reply decodes with a strict stock decoder', async () => {
    const ws = new WebSocket(old.url);
    await new Promise((r) => ws.once('open', r));
    const bytes = await new Promise<Buffer>((resolve) => {
      ws.once('message', (d: Buffer) => resolve(d));
      ws.send(packr.pack({ id: 1, op: 'recall', tenant: 'old', vector: bin(unit), k: 2 }));
    });
    ws.close();
    const rep = stockDecode(bytes) as { ok: boolean; hits: { key: string; payload?: unknown; payloadDropped?: boolean }[] };
    expect(rep.ok).toBe(true);
    const byKey = Object.fromEntries(rep.hits.map((h) => [h.key, h]));
    expect(byKey.poisoned.payloadDropped).toBe(true);
    expect(byKey.poisoned.payload).toBeUndefined();
    expect(byKey.fine.payload).toEqual({ ok: 1 });
    expect(byKey.fine.payloadDropped).toBeUndefined();
  });
});
