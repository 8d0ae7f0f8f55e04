/**
 * Every error code provoked over the real socket (STYLE §7): each bad frame gets exactly one
 * reply with its code, the connection that sent it stays usable, the server stays up, and a
 * second connection (the sentinel, checked after every test) never notices. Then the flow
 * control: credits (maxInflightPerConnection), the frame limit, a reader that stops reading
 * (maxBackpressureBytes), and bearer-token auth.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bin, connect, f32, HoloClientError, type HoloClient } from '../../src/client/client.js';
import { cosine, role } from '../../src/kernels/index.js';
import { startServer, type Server } from './harness.js';
import { metric, packr, rawSocket, scrape, seededVec, type Raw, type Reply } from './support.js';

const D = 1024;
const MAX_FRAME = 65536;
const randVec = (seed: number, n = D) => seededVec(seed, n);

function expectError(rep: Reply, code: string, id: number): void {
  expect(rep.ok).toBe(false);
  expect(rep.error?.code).toBe(code);
  expect(typeof rep.error?.message).toBe('string');
  expect(rep.id).toBe(id);
}

let server: Server;
let sentinel: HoloClient;
let raw: Raw;
const sa = randVec(900), sb = randVec(901);

beforeAll(async () => {
  server = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_MAX_FRAME_BYTES: String(MAX_FRAME) });
  sentinel = await connect(server.url);
  raw = await rawSocket(server.url);
});

afterAll(async () => {
  sentinel?.close();
  raw?.ws.close();
  await server?.stop();
});

afterEach(async () => {
  // The server is up, and the other connection never noticed.
  if (!server) return;
  expect(server.proc.exitCode).toBeNull();
  expect(await sentinel.cosine(sa, sb)).toBe(cosine(sa, sb));
  expect((await fetch(`${server.http}/healthz`)).status).toBe(200);
});

describe('bad frames: one error reply each, the connection stays usable', () => {
  const stillUsable = async (r: Raw = raw) => {
    const rep = await r.ask({ id: 99, op: 'role', token: 'still-here' });
    expect(rep.ok).toBe(true);
    expect(f32(rep.vector as Uint8Array)).toEqual(role('still-here', D, 0));
  };

  it('garbage bytes → bad_request (id 0)', async () => {
    expectError(await raw.ask(Uint8Array.from([0xc1, 0xc1, 0xff, 0x00, 0x13, 0x37])), 'bad_request', 0);
    expectError(await raw.ask(new Uint8Array(0)), 'bad_request', 0);
    await stillUsable();
  });

  it('truncated msgpack → bad_request (id 0)', async () => {
    const full = packr.pack({ id: 5, op: 'bind', a: bin(randVec(1)), b: bin(randVec(2)) });
    expectError(await raw.ask(full.subarray(0, full.length - 100)), 'bad_request', 0);
    expectError(await raw.ask(full.subarray(0, 3)), 'bad_request', 0);
    await stillUsable();
  });

  it('an array instead of a map, or a scalar → bad_request', async () => {
    expectError(await raw.ask(packr.pack([{ id: 6, op: 'hello' }])), 'bad_request', 0);
    expectError(await raw.ask(packr.pack(6)), 'bad_request', 0);
    expectError(await raw.ask(packr.pack(null)), 'bad_request', 0);
    await stillUsable();
  });

  it('two maps in one frame → one bad_request reply, neither map runs', async () => {
    const two = Buffer.concat([packr.pack({ id: 7, op: 'hello' }), packr.pack({ id: 8, op: 'hello' })]);
    expectError(await raw.ask(two), 'bad_request', 0);
    await stillUsable();
  });

  it('a text frame → bad_request', async () => {
    expectError(await raw.ask(JSON.stringify({ id: 9, op: 'hello' }), false), 'bad_request', 0);
    expectError(await raw.ask(packr.pack({ id: 9, op: 'hello' }).toString('latin1'), false), 'bad_request', 0);
    await stillUsable();
  });

  it('missing, negative, non-integer or non-number id → bad_request with id 0', async () => {
    for (const id of [undefined, -1, 1.5, '12', null, [1], Number.MAX_SAFE_INTEGER + 2]) {
      const f: Record<string, unknown> = { op: 'role', token: 'x' };
      if (id !== undefined) f.id = id;
      const rep = await raw.ask(f);
      expectError(rep, 'bad_request', 0);
      expect(rep.error!.message).toMatch(/id/);
    }
    await stillUsable();
  });

  it('missing or non-string op → bad_request; unknown op → unknown_op; both keep the id', async () => {
    expectError(await raw.ask({ id: 10 }), 'bad_request', 10);
    expectError(await raw.ask({ id: 11, op: 42 }), 'bad_request', 11);
    expectError(await raw.ask({ id: 12, op: 'teleport' }), 'unknown_op', 12);
    expectError(await raw.ask({ id: 13, op: '__proto__' }), 'unknown_op', 13);
    expectError(await raw.ask({ id: 14, op: 'x'.repeat(5000) }), 'unknown_op', 14);
    await stillUsable();
  });

  it('wrong types: a string or a list where a bin is expected, a bin of 4·D+1 bytes → bad_request', async () => {
    const b = bin(randVec(3));
    expectError(await raw.ask({ id: 20, op: 'bind', a: 'x'.repeat(4 * D), b }), 'bad_request', 20);
    expectError(await raw.ask({ id: 21, op: 'bind', a: Array.from(randVec(4)), b }), 'bad_request', 21);
    expectError(await raw.ask({ id: 22, op: 'bind', a: new Uint8Array(4 * D + 1), b }), 'bad_request', 22);
    expectError(await raw.ask({ id: 23, op: 'role', token: 123 }), 'bad_request', 23);
    expectError(await raw.ask({ id: 24, op: 'sinkhorn', n: '2', m: 2, cost: bin(new Float64Array(4)), epsilon: 1 }), 'bad_request', 24);
    expectError(await raw.ask({ id: 25, op: 'heat', n: 2, src: 'a', dst: 'b', signal: bin(new Float64Array(2)), t: 1 }), 'bad_request', 25);
    await stillUsable();
  });

  it('wrong vector length → bad_dimension', async () => {
    const b = bin(randVec(3));
    for (const n of [D - 1, D + 1, D / 2, 2 * D, 1]) {
      expectError(await raw.ask({ id: 30 + n, op: 'bind', a: bin(randVec(4, n)), b }), 'bad_dimension', 30 + n);
    }
    expectError(await raw.ask({ id: 40, op: 'cosine', a: b, b: bin(randVec(5, 8)) }), 'bad_dimension', 40);
    expectError(await raw.ask({ id: 41, op: 'bundle', vectors: [b, bin(randVec(5, D - 4))] }), 'bad_dimension', 41);
    expectError(await raw.ask({ id: 42, op: 'remember', tenant: 't', key: 'k', vector: bin(randVec(5, D * 2)) }), 'bad_dimension', 42);
    await stillUsable();
  });

  it('NaN or ±Inf anywhere in a vector → bad_request, for every op that takes one', async () => {
    const s = await rawSocket(server.url);
    try {
      const sent = new Map<number, string>();
      let id = 100;
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        for (const at of [0, 517, D - 1]) {
          const x = randVec(6);
          x[at] = bad;
          const good = bin(randVec(7));
          const frames: Record<string, unknown>[] = [
            { op: 'bind', a: bin(x), b: good },
            { op: 'bind', a: good, b: bin(x) },
            { op: 'bind', a: bin(x), role: 'agent' },
            { op: 'unbind', c: bin(x), b: good },
            { op: 'unbind', c: good, b: bin(x), mode: 'approx' },
            { op: 'unbind', c: bin(x), role: 'agent', mode: 'wiener' },
            { op: 'bundle', vectors: [good, bin(x)] },
            { op: 'cosine', a: good, b: bin(x) },
            { op: 'remember', tenant: 'nan-tenant', key: 'k', vector: bin(x) },
            { op: 'recall', tenant: 'nan-tenant', vector: bin(x) },
            { op: 'anchor.put', tenant: 'nan-tenant', name: 'n', vector: bin(x) },
          ];
          for (const f of frames) {
            s.send({ id: ++id, ...f });
            sent.set(id, `${String(f.op)} ${bad} at ${at}`);
          }
        }
      }
      // float64 arrays too
      const cost = new Float64Array(4).fill(1);
      cost[2] = Number.NaN;
      s.send({ id: ++id, op: 'sinkhorn', n: 2, m: 2, cost: bin(cost), epsilon: 1 });
      sent.set(id, 'sinkhorn cost NaN');
      s.send({ id: ++id, op: 'heat', n: 2, src: bin(Uint32Array.from([0])), dst: bin(Uint32Array.from([1])), signal: bin(Float64Array.from([1, Infinity])), t: 1 });
      sent.set(id, 'heat signal Inf');
      const replies = await s.until(sent.size);
      await new Promise((r) => setTimeout(r, 50));
      expect(s.replies).toHaveLength(sent.size);
      expect(replies.map((r) => [sent.get(r.id), r.error?.code]).sort()).toEqual([...sent.values()].map((w) => [w, 'bad_request']).sort());
      // and nothing was stored
      expect(await s.ask({ id: 1, op: 'stats', tenant: 'nan-tenant' })).toMatchObject({ ok: true, items: 0, anchors: 0 });
      await stillUsable(s);
    } finally {
      s.ws.close();
    }
  });

  it('a zero vector in unbind (b) → bad_request; in cosine it is defined (0)', async () => {
    const zero = bin(new Float32Array(D));
    for (const mode of ['exact', 'wiener', 'approx']) {
      expectError(await raw.ask({ id: 310, op: 'unbind', c: bin(randVec(8)), b: zero, mode }), 'bad_request', 310);
    }
    expectError(await raw.ask({ id: 311, op: 'bundle', vectors: [zero] }), 'bad_request', 311);
    expectError(await raw.ask({ id: 312, op: 'remember', tenant: 'zero', key: 'k', vector: zero }), 'bad_request', 312);
    expect(await raw.ask({ id: 313, op: 'cosine', a: zero, b: bin(randVec(9)) })).toEqual({ id: 313, ok: true, cosine: 0 });
    await stillUsable();
  });

  it('sinkhorn with n or m = 65 → too_large; other limits too', async () => {
    const cost = bin(new Float64Array(65 * 2).fill(1));
    expectError(await raw.ask({ id: 320, op: 'sinkhorn', n: 65, m: 2, cost, epsilon: 0.1 }), 'too_large', 320);
    expectError(await raw.ask({ id: 321, op: 'sinkhorn', n: 2, m: 65, cost, epsilon: 0.1 }), 'too_large', 321);
    expectError(await raw.ask({ id: 322, op: 'heat', n: 2, src: bin(Uint32Array.from([0])), dst: bin(Uint32Array.from([1])), signal: bin(new Float64Array(2)), t: 1, K: 500 }), 'too_large', 322);
    expectError(await raw.ask({ id: 324, op: 'recall', tenant: 't', text: 'x', k: 5000 }), 'too_large', 324);
    await stillUsable();
  });

  it('a frame over maxFrameBytes closes that socket with 1009 and a reason (not a reset), and only that one', async () => {
    const victim = await rawSocket(server.url);
    const big = packr.pack({ id: 330, op: 'hello', pad: new Uint8Array(100 * 1024) });
    expect(big.length).toBeGreaterThan(MAX_FRAME);
    victim.sendBytes(big);
    const closed = await victim.closed;
    expect(closed.code).toBe(1009);
    expect(closed.reason).toBe(`frame of ${big.length} bytes exceeds maxFrameBytes = ${MAX_FRAME}`);
    expect(victim.replies).toHaveLength(0);
    await stillUsable();
  });

  it('a frame over twice maxFrameBytes closes that socket, and only that one', async () => {
    const victim = await rawSocket(server.url);
    victim.sendBytes(packr.pack({ id: 331, op: 'hello', pad: new Uint8Array(2 * MAX_FRAME + 1024) }));
    // uWS sends close 1009 and drops the TCP connection at once; the rest of the frame still
    // in flight makes that a reset, so the client may see 1006 (abnormal) instead.
    expect([1006, 1009]).toContain((await victim.closed).code);
    expect(victim.replies).toHaveLength(0);
    await stillUsable();
  });

  it('a client that closes with requests in flight does not disturb the server', async () => {
    const quitter = await rawSocket(server.url);
    for (let i = 0; i < 100; i++) quitter.send({ id: i, op: 'bind', a: bin(randVec(i)), role: 'agent' });
    quitter.ws.terminate();
    await quitter.closed;
    await stillUsable();
  });
});

describe('credits: maxInflightPerConnection', () => {
  it('10,000 requests sent without waiting: each gets exactly one reply, the excess `overloaded`', async () => {
    const s = await rawSocket(server.url);
    try {
      const N = 10_000;
      const roles = Array.from({ length: 64 }, (_, i) => role(`credit-${i}`, D, 0));
      for (let i = 1; i <= N; i++) s.send({ id: i, op: 'role', token: `credit-${i % 64}` });
      const replies = await s.until(N, 60_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.replies).toHaveLength(N);
      const count = new Map<number, number>();
      const codes: Record<string, number> = {};
      for (const rep of replies) {
        count.set(rep.id, (count.get(rep.id) ?? 0) + 1);
        const c = rep.ok ? 'ok' : rep.error!.code;
        codes[c] = (codes[c] ?? 0) + 1;
        if (rep.ok) expect(f32(rep.vector as Uint8Array)).toEqual(roles[rep.id % 64]);
      }
      expect(count.size).toBe(N);
      expect([...count.values()].every((c) => c === 1)).toBe(true);
      expect(Object.keys(codes).sort()).toEqual(['ok', 'overloaded']);
      expect(codes.ok).toBeGreaterThanOrEqual(256);
      expect(codes.overloaded).toBeGreaterThan(0);
      // the connection recovers once replies are read
      const rep = await s.ask({ id: N + 1, op: 'role', token: 'after-credits' });
      expect(rep.ok).toBe(true);
    } finally {
      s.ws.close();
    }
  });
});

describe('a reader that stops reading (maxBackpressureBytes)', () => {
  let slow: Server;
  const BIG_D = 8192;
  beforeAll(async () => {
    // uWS drops (and the server then closes with 1013) past 4 × maxBackpressureBytes; the
    // server stops accepting at 1 × that, so the replies it still owes must fit in the other
    // 3 MiB: 64 credits × 32 KiB = 2 MiB do. (With the default 256 credits they would not:
    // 8 MiB. Then a paused reader is disconnected instead of refused: see the report.)
    slow = await startServer({
      HOLOSERVE_DIM: String(BIG_D), HOLOSERVE_WORKERS: '2', HOLOSERVE_MAX_BACKPRESSURE_BYTES: String(1 << 20),
      HOLOSERVE_MAX_INFLIGHT_PER_CONNECTION: '64', HOLOSERVE_PREWARM_ROLES: '["agent"]', HOLOSERVE_ROLE_TABLE_CAPACITY: '64',
    });
  });
  afterAll(async () => { await slow?.stop(); });

  it('keeps memory bounded while paused (the excess is `overloaded`) and delivers every owed reply after', async () => {
    const rss = async () => {
      const t = await scrape(slow.http);
      // prom-client's default metrics, prefixed holoserve_process_ (the name doubles "process")
      return metric(t, 'holoserve_process_process_resident_memory_bytes') || metric(t, 'holoserve_process_resident_memory_bytes');
    };
    const answered = async () => metric(await scrape(slow.http), 'holoserve_requests_total', { op: 'bind' });
    const rss0 = await rss();
    expect(rss0).toBeGreaterThan(0);
    const s = await rawSocket(slow.url);
    try {
      const N = 2000;
      const sock = (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      sock.pause();
      const a = new Float32Array(BIG_D).fill(0.01);
      for (let i = 1; i <= N; i++) {
        a[0] = i; // distinct requests: no coalescing
        s.send({ id: i, op: 'bind', a: bin(a), role: 'agent' });
      }
      // wait until the server has answered (computed or refused) all N while we read nothing
      const deadline = Date.now() + 30_000;
      let gone: { code: number } | undefined;
      void s.closed.then((c) => { gone = c; });
      while ((await answered()) < N) {
        const dropped = metric(await scrape(slow.http), 'holoserve_replies_dropped_total');
        if (Date.now() > deadline || dropped > 0 || gone) {
          throw new Error(`server answered ${await answered()} of ${N}; replies dropped ${dropped}; socket closed ${JSON.stringify(gone)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const rssPaused = await rss();
      expect(s.replies).toHaveLength(0);
      // Buffering all N replies (32 KiB each) would take 62.5 MiB; measured growth ~25 MiB,
      // mostly garbage from the 62.5 MiB of request frames read meanwhile.
      expect(rssPaused - rss0).toBeLessThan(N * BIG_D * 4);
      sock.resume();
      const replies = await s.until(N, 30_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.replies).toHaveLength(N);
      const ids = new Set(replies.map((r) => r.id));
      expect(ids.size).toBe(N);
      const ok = replies.filter((r) => r.ok);
      const over = replies.filter((r) => !r.ok && r.error!.code === 'overloaded');
      expect(ok.length + over.length).toBe(N);
      expect(ok.length).toBeGreaterThan(0);
      expect(over.length).toBeGreaterThan(N / 2);
      expect(over.some((r) => /not being read/.test(r.error!.message))).toBe(true);
      for (const r of ok) expect(f32(r.vector as Uint8Array)).toHaveLength(BIG_D);
      const text = await scrape(slow.http);
      expect(metric(text, 'holoserve_replies_dropped_total')).toBe(0);
      // and the connection serves again
      const rep = await s.ask({ id: N + 1, op: 'role', token: 'agent' });
      expect(rep.ok).toBe(true);
    } finally {
      s.ws.close();
    }
  });
});

describe('a request naming more roles than the role table holds', () => {
  let small: Server;
  beforeAll(async () => {
    small = await startServer({
      HOLOSERVE_DIM: '256', HOLOSERVE_WORKERS: '1', HOLOSERVE_ROLE_TABLE_CAPACITY: '64', HOLOSERVE_PREWARM_ROLES: '[]',
    });
  });
  afterAll(async () => { await small?.stop(); });

  const words = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '); // 100 distinct tokens > 64

  /** Sends the frames in one TCP write, so the server reads them in one turn: one batch. */
  async function together(frames: Record<string, unknown>[]): Promise<Reply[]> {
    const s = await rawSocket(small.url);
    try {
      const sock = (s.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
      sock.cork();
      for (const f of frames) s.send(f);
      process.nextTick(() => sock.uncork());
      const replies = await s.until(frames.length);
      return [...replies].sort((p, q) => p.id - q.id);
    } finally {
      s.ws.close();
    }
  }

  it('fits when alone under the limit, and a second request is unaffected afterwards', async () => {
    const [rep] = await together([{ id: 1, op: 'encode', text: 'w1 w2 w3' }]);
    expect(rep.ok).toBe(true);
  });

  // A text with more distinct words than a quarter of the role table is refused at the edge
  // (too_large, not retryable); its batch-mates are answered normally (the dispatcher acquires
  // roles request by request).
  it('fails only the oversized request (too_large), not its batch-mates', async () => {
    const replies = await together([
      { id: 1, op: 'encode', text: words },
      { id: 2, op: 'role', token: 'innocent' },
      { id: 3, op: 'bind', a: bin(randVec(1, 256)), role: 'other' },
    ]);
    expect(replies.map((r) => r.ok)).toEqual([false, true, true]);
    expect(replies[0].error!.code).toBe('too_large');
  });
});

describe('bearer-token auth', () => {
  let authed: Server;
  const token = 'correct-horse-battery-staple';
  beforeAll(async () => {
    const salt = 's';
    const sha256 = createHash('sha256').update(salt + token).digest('hex');
    authed = await startServer({
      HOLOSERVE_DIM: '256', HOLOSERVE_WORKERS: '1', HOLOSERVE_TOKENS: JSON.stringify([{ salt, sha256, tenants: ['alice'] }]),
      HOLOSERVE_PREWARM_ROLES: '[]',
    });
  });
  afterAll(async () => { await authed?.stop(); });

  async function refusal(opts: { token?: string }): Promise<string> {
    try {
      const c = await connect(authed.url, { ...opts, reconnect: false });
      c.close();
      return 'connected';
    } catch (e) {
      return e instanceof HoloClientError ? e.code : String(e);
    }
  }

  it('refuses the upgrade without a valid token (401 → unauthorized)', async () => {
    expect(await refusal({})).toBe('unauthorized');
    expect(await refusal({ token: 'wrong' })).toBe('unauthorized');
    expect(await refusal({ token: `${token}x` })).toBe('unauthorized');
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(authed.url.replace('ws:', 'http:'), {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', authorization: 'Bearer nope' },
      });
      req.on('response', (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('upgrade', () => resolve(101));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
  });

  it('a token grants its tenants only: alice ok, bob unauthorized; tenant-free ops ok', async () => {
    const c = await connect(authed.url, { token });
    try {
      expect(await c.remember('alice', 'k', 'hello world')).toMatchObject({ stored: true });
      expect((await c.recall('alice', 'hello', 1)).hits[0].key).toBe('k');
      for (const call of [
        () => c.remember('bob', 'k', 'hello world'),
        () => c.recall('bob', 'hello'),
        () => c.stats('bob'),
        () => c.forget('bob', 'k'),
      ]) {
        const code = await call().then(() => 'ok', (e: unknown) => (e as HoloClientError).code);
        expect(code).toBe('unauthorized');
      }
      expect(await c.role('agent')).toEqual(role('agent', 256, 0));
      expect(await c.cosine(randVec(1, 256), randVec(1, 256))).toBeCloseTo(1, 12);
    } finally {
      c.close();
    }
  });
});
