/**
 * The server's life: SIGTERM drains what is in flight and exits 0; the role file survives a
 * restart, and a corrupt or tampered one is purged and rebuilt (the seed's "role cache
 * corruption"); refusals at start: uWebSockets.js's slow fallback, and a bad setting (exit 2,
 * naming it).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, connect } from '../../src/client/client.js';
import { role } from '../../src/kernels/index.js';
import { spawnServer, startServer } from './harness.js';
import { bits, rawSocket } from './support.js';

const D = 1024;
const BASE = { HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2' };

/** Runs the compiled server until it exits by itself (start-up refusals). */
function runToExit(env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; output: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-exit-'));
  const { proc, output } = spawnServer(env, dataDir);
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, output: output() });
    });
  });
}

/** Role-vector check against the in-process construction, over a fresh connection. */
async function rolesMatch(url: string, tokens: string[]): Promise<void> {
  const c = await connect(url);
  try {
    for (const t of tokens) expect([t, bits(await c.role(t))]).toEqual([t, bits(role(t, D, 0))]);
  } finally {
    c.close();
  }
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('SIGTERM', () => {
  it('answers every request in flight (ok, or unavailable once draining began) and exits 0', async () => {
    const s = await startServer(BASE);
    const { replies, closed, send } = await rawSocket(s.url);
    // 200 Sinkhorn problems of 16×16 that never meet tol = 0: 4000 iterations each, a few ms
    // apiece, so most are still queued or running when the signal lands. The signal goes
    // once the first reply is back: by then the server has read every frame (2 KiB each), so
    // none can be cut off unread by the socket closing at the end of the drain.
    const N = 200;
    const cost = new Float64Array(16 * 16);
    for (let i = 1; i <= N; i++) {
      for (let k = 0; k < cost.length; k++) cost[k] = ((k * 7919 + i * 104729) % 1000) / 1000;
      send({ id: i, op: 'sinkhorn', n: 16, m: 16, cost: bin(cost), epsilon: 0.01, tol: 0, maxIter: 4000 });
    }
    while (replies.length === 0) await new Promise((r) => setTimeout(r, 1));
    const code = await s.stop('SIGTERM'); // sends the one signal, waits for the exit
    expect(code).toBe(0);
    await closed;
    const byId = new Map<number, number>();
    for (const r of replies) byId.set(r.id, (byId.get(r.id) ?? 0) + 1);
    expect(byId.size).toBe(N);
    expect([...byId.values()].every((n) => n === 1)).toBe(true);
    for (const r of replies) expect(r.ok || r.error!.code === 'unavailable').toBe(true);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThan(0);
    const out = s.output();
    expect(out).toMatch(/SIGTERM: shutting down/);
    const draining = /draining (\d+) requests in flight/.exec(out);
    expect(Number(draining?.[1])).toBeGreaterThan(0); // the drain had work to wait for
    expect(out).toMatch(/stopped/);
    expect(out).not.toMatch(/drain timed out/);
  });

  it('SIGINT drains the same way and exits 0', async () => {
    const s = await startServer({ ...BASE, HOLOSERVE_WORKERS: '1' });
    const c = await connect(s.url);
    const pending = Promise.allSettled(Array.from({ length: 50 }, (_, i) => c.role(`sigint-${i}`)));
    const code = await s.stop('SIGINT');
    expect(code).toBe(0);
    for (const r of await pending) {
      if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('unavailable');
    }
    c.close();
    expect(s.output()).toMatch(/SIGINT: shutting down/);
  });
});

describe('role file', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-roles-'));
  dirs.push(dataDir);
  const file = join(dataDir, 'roles.bin');
  const TOKENS = ['agent', 'pos:5', 'value', 'not-prewarmed'];

  it('is written at start and stop, then reused on restart ("loaded N roles")', async () => {
    const a = await startServer(BASE, { dataDir });
    expect(a.output()).toMatch(/prewarmed 64 roles \(64 computed\)/);
    await rolesMatch(a.url, TOKENS);
    expect(await a.stop()).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBeGreaterThan(64 * 2 * D * 4);

    const b = await startServer(BASE, { dataDir });
    try {
      expect(b.output()).toMatch(/loaded (6[5-9]|64) roles from .*roles\.bin \(checksum and \d+ sampled roles verified\)/);
      expect(b.output()).toMatch(/prewarmed 64 roles \(0 computed\)/);
      await rolesMatch(b.url, TOKENS);
    } finally {
      expect(await b.stop()).toBe(0);
    }
  });

  it('a flipped byte is a checksum mismatch: purged, rebuilt, roles still bit-identical', async () => {
    const buf = readFileSync(file);
    const at = Math.floor(buf.length / 2);
    buf[at] ^= 0x40;
    writeFileSync(file, buf);
    const c = await startServer(BASE, { dataDir });
    try {
      expect(c.output()).toMatch(/role file .*roles\.bin: checksum mismatch \(corrupt file\); purging it and rebuilding/);
      expect(c.output()).toMatch(/prewarmed 64 roles \(64 computed\)/);
      expect((await fetch(`${c.http}/readyz`)).status).toBe(200);
      await rolesMatch(c.url, TOKENS);
    } finally {
      expect(await c.stop()).toBe(0);
    }
    // the rebuilt file is valid again
    const d = await startServer(BASE, { dataDir });
    try {
      expect(d.output()).toMatch(/loaded \d+ roles from/);
    } finally {
      await d.stop();
    }
  });

  it('a file with a valid checksum but a wrong role is caught by the sampled verification', async () => {
    // Layout (src/roles/file.ts): "HOLOROLE" | version | D | seed | layout | count |
    // entries [token | spectrum D×f32 | vector D×f32] | SHA-256. Entry 0 is always sampled.
    const buf = readFileSync(file);
    let o = 8 + 4 + 4 + 4;
    o += 4 + buf.readUInt32LE(o); // layout string
    o += 4; // count
    o += 4 + buf.readUInt32LE(o); // first token
    const vec0 = o + D * 4; // its vector half
    buf.writeFloatLE(buf.readFloatLE(vec0 + 12) + 0.25, vec0 + 12);
    const body = buf.subarray(0, buf.length - 32);
    createHash('sha256').update(body).digest().copy(buf, buf.length - 32);
    writeFileSync(file, buf);
    const e = await startServer(BASE, { dataDir });
    try {
      expect(e.output()).toMatch(/sampled roles differ from a fresh computation; purging and rebuilding/);
      await rolesMatch(e.url, TOKENS);
    } finally {
      await e.stop();
    }
  });

  it('a file made for another D is not loaded', async () => {
    const f = await startServer({ ...BASE, HOLOSERVE_DIM: '512' }, { dataDir });
    try {
      expect(f.output()).toMatch(/made for D=1024 seed=0 layout=\S+, serving D=512/);
      expect(f.output()).toMatch(/prewarmed 64 roles \(64 computed\)/);
    } finally {
      await f.stop();
    }
  });
});

describe('refusing to start', () => {
  it("uWebSockets.js's JS fallback: exits non-zero and says so", async () => {
    const r = await runToExit({ ...BASE, UWS_USE_FALLBACK: '1' });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.output).toMatch(/fell back to its slow\s+JS server/);
    expect(r.output).toMatch(/HOLOSERVE_ALLOW_UWS_FALLBACK=1/);
    expect(r.output).not.toMatch(/ready on/);
  });

  it('…unless HOLOSERVE_ALLOW_UWS_FALLBACK=1: then it starts, warns, and stops cleanly', async () => {
    const s = await startServer({ ...BASE, HOLOSERVE_WORKERS: '1', UWS_USE_FALLBACK: '1', HOLOSERVE_ALLOW_UWS_FALLBACK: '1' });
    expect(s.output()).toMatch(/WARNING: uWebSockets\.js is running its slow JS fallback/);
    expect((await fetch(`${s.http}/healthz`)).status).toBe(200);
    expect(await s.stop()).toBe(0);
  });

  // The fallback cannot run upgrade hooks, so the server installs one only when auth is on
  // (and refuses the fallback then); on loopback without tokens it serves.
  it('…and, so allowed, serves WebSocket requests', async () => {
    const s = await startServer({ ...BASE, HOLOSERVE_WORKERS: '1', UWS_USE_FALLBACK: '1', HOLOSERVE_ALLOW_UWS_FALLBACK: '1' });
    try {
      const c = await connect(s.url, { reconnect: false });
      try {
        expect((await c.hello()).dim).toBe(D);
        expect(bits(await c.role('agent'))).toEqual(bits(role('agent', D, 0)));
      } finally {
        c.close();
      }
      expect(s.proc.exitCode).toBeNull();
    } finally {
      await s.stop();
    }
  });

  it('a bad setting exits 2 with a message naming it', async () => {
    const dim = await runToExit({ HOLOSERVE_DIM: '1000' });
    expect(dim.code).toBe(2);
    expect(dim.output).toMatch(/bad configuration: (environment HOLOSERVE_DIM: )?config\.dim must be a power of two in \[256, 16384\], got 1000/);
    const workers = await runToExit({ HOLOSERVE_WORKERS: '0' });
    expect(workers.code).toBe(2);
    expect(workers.output).toMatch(/config\.workers/);
    const port = await runToExit({ PORT: 'eighty' });
    expect(port.code).toBe(2);
    expect(port.output).toMatch(/config\.port/);
  });

  it('listening off loopback without tokens is refused, naming config.host', async () => {
    const r = await runToExit({ ...BASE, HOST: '0.0.0.0' });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/config\.host is 0\.0\.0\.0 \(not loopback\)/);
  });
});
