/**
 * Readiness as documented, with a real HTTP client: the listener is up before the prewarm, and
 * /readyz answers 503 "prewarming" (WebSocket upgrades refused with that reason) until ready;
 * on SIGTERM it answers 503 "draining" (upgrades refused) until the last request in flight is
 * answered, then the listener closes and the process exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/client.js';
import { spawnServer, startServer } from './harness.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** GET /readyz: status and body, or 'down' when nothing listens. */
async function readyz(http: string): Promise<{ status: number; body: string } | 'down'> {
  try {
    const r = await fetch(`${http}/readyz`);
    return { status: r.status, body: (await r.text()).trim() };
  } catch {
    return 'down';
  }
}

/** A WebSocket upgrade: 'open', or the HTTP status and body it was refused with. */
function upgrade(url: string): Promise<'open' | { status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => { ws.close(); resolve('open'); });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    ws.once('error', () => undefined);
  });
}

describe('readiness', () => {
  it('while prewarming: the listener answers /readyz 503 "prewarming" and refuses WebSockets, then 200', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-ready-')); dirs.push(dataDir);
    const roles = JSON.stringify(Array.from({ length: 1000 }, (_, i) => `warm:${i}`));
    // a fixed free port: the test must reach the listener before the ready line says which
    const port = 20000 + Math.floor(Math.random() * 20000);
    const { proc, output } = spawnServer({ PORT: String(port), HOLOSERVE_PREWARM_ROLES: roles, HOLOSERVE_WORKERS: '1' }, dataDir);
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    const http = `http://127.0.0.1:${port}`;
    const seen: string[] = [];
    let refused: 'open' | { status: number; body: string } | undefined;
    const t0 = Date.now();
    for (;;) {
      const r = await readyz(http);
      if (r !== 'down') {
        seen.push(`${r.status} ${r.body}`);
        if (r.status === 503 && refused === undefined) refused = await upgrade(`ws://127.0.0.1:${port}/v1`);
        if (r.status === 200) break;
      }
      expect(Date.now() - t0, output()).toBeLessThan(60_000);
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(seen[0]).toBe('503 prewarming');
    expect(refused).toEqual({ status: 503, body: 'prewarming: not ready yet, retry when GET /readyz answers 200' });
    expect(output().indexOf('listening on')).toBeLessThan(output().indexOf('prewarmed 1000 roles'));
    expect(await upgrade(`ws://127.0.0.1:${port}/v1`)).toBe('open');
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);

  it('while draining: 503 "draining" and refused upgrades until the last request is answered; then the listener closes; exit 0', async () => {
    const s = await startServer({ HOLOSERVE_WORKERS: '1', HOLOSERVE_DIM: '1024' });
    const c = await connect(s.url);
    const n = 48, size = 64;
    let answered = 0, lastAnsweredAt = 0;
    const outcomes = Array.from({ length: n }, (_, q) => {
      const cost = Float64Array.from({ length: size * size }, (_, k) => ((k * 31 + q) % 97) / 97);
      return c.request('sinkhorn', { cost: Buffer.from(cost.buffer), n: size, m: size, epsilon: 0.002, tol: 0, maxIter: 3000 })
        .then(() => 'ok', (e: Error) => e.message)
        .finally(() => { answered++; lastAnsweredAt = Date.now(); });
    });
    await new Promise((r) => setTimeout(r, 100));
    const answeredBefore = answered;
    expect(answeredBefore).toBeLessThan(n);
    const exit = s.stop();
    const during: { at: number; r: Awaited<ReturnType<typeof readyz>> }[] = [];
    let refusedWhileDraining: Awaited<ReturnType<typeof upgrade>> | undefined;
    for (;;) {
      const r = await readyz(s.http);
      during.push({ at: Date.now(), r });
      if (r === 'down') break;
      if (refusedWhileDraining === undefined && answered < n) refusedWhileDraining = await upgrade(s.url);
      await new Promise((res) => setTimeout(res, 10));
    }
    // each request is answered: ok when it reached the server before the drain began, else unavailable
    const got = await Promise.all(outcomes);
    for (const o of got) expect(['ok', 'server is shutting down']).toContain(o);
    expect(got.filter((o) => o === 'ok').length).toBeGreaterThan(answeredBefore); // requests in flight finished during the drain
    expect(await exit).toBe(0);
    // the first polls may come before the server handled the signal
    const first = during.findIndex((d) => d.r === 'down' || (d.r.status === 503));
    const draining = during.slice(first).filter((d) => d.r !== 'down');
    expect(draining.length).toBeGreaterThan(0);
    for (const d of draining) expect(d.r).toEqual({ status: 503, body: 'draining' });
    expect(draining[0].at).toBeLessThan(lastAnsweredAt); // observable while requests were still being answered
    expect(during.at(-1)!.at).toBeGreaterThanOrEqual(lastAnsweredAt); // the listener closed only after the last answer
    expect(refusedWhileDraining).toEqual({ status: 503, body: 'draining: the server is shutting down' });
  }, 90_000);
});
