/**
 * Structured logs (src/log.ts): every line the server writes is one JSON object with level,
 * time and msg; nothing is logged per request at the default level; LOG_LEVEL filters; a shard
 * worker thread logs the same JSON (with its thread id); `serve --log-format pretty` prints the
 * human view, and the pretty formatter is checked against its input.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/client.js';
import { prettyLine } from '../../src/log.js';
import { logLines, ROOT, spawnServer, startServer, type Server } from './harness.js';
import { seededVec } from './support.js';

const D = 1024;
const ENV = { HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2' };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('JSON lines at the default level', () => {
  let srv: Server;
  beforeAll(async () => {
    srv = await startServer(ENV);
    // the last start-up line comes after ready (the background tenant prefetch)
    for (let i = 0; i < 200 && !/prefetched/.test(srv.output()); i++) await new Promise((r) => setTimeout(r, 25));
  });
  afterAll(async () => { await srv?.stop(); });

  it('every line is a JSON object with level, ISO time, pid and msg', () => {
    const lines = srv.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect(o.level).toBe('info');
      expect(new Date(o.time as string).toISOString()).toBe(o.time);
      expect(o.pid).toBe(srv.proc.pid);
      expect(typeof o.msg).toBe('string');
    }
  });

  it('500 requests (hrr, tenant memory, one error) add no log line', async () => {
    const before = srv.output().length;
    const c = await connect(srv.url);
    const a = seededVec(1, D), b = seededVec(2, D);
    // two waves of 200: each within the connection's 256 credits (maxInflightPerConnection)
    for (let w = 0; w < 2; w++) await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? c.bind(a, b) : c.cosine(a, b))));
    for (let i = 0; i < 99; i++) await c.remember('log-tenant', `k${i}`, seededVec(10 + i, D));
    await expect(c.request('no-such-op')).rejects.toMatchObject({ code: 'unknown_op' });
    c.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(srv.output().slice(before)).toBe('');
  });
});

describe('LOG_LEVEL, --log-format, workers', () => {
  it('LOG_LEVEL=warn: the info lines (ready included) are gone, and the server serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holoserve-log-'));
    const port = await freePort();
    const { proc, output } = spawnServer({ ...ENV, PORT: String(port), LOG_LEVEL: 'warn' }, dir);
    try {
      let ok = false;
      for (let i = 0; i < 300 && !ok; i++) {
        ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 50));
      }
      expect(ok).toBe(true);
      expect(output()).toBe('');
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holoserve serve --log-format pretty: human lines, the ready line as text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holoserve-log-'));
    const proc = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'serve', '--log-format', 'pretty'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...ENV, PORT: '0', HOST: '127.0.0.1', HOLOSERVE_DATA_DIR: dir, HOLOSERVE_ROLE_FILE: join(dir, 'roles.bin') },
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      for (let i = 0; i < 600 && !/ready on/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}ready on ws:\/\/127\.0\.0\.1:\d+\/v1 \(D=1024, engine=pffft, workers=2, auth=loopback-open\) version=\S+$/m);
      expect(logLines(out)).toEqual([]);
    } finally {
      proc.kill('SIGTERM');
      expect(await new Promise((r) => proc.once('exit', r))).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holoserve serve --log-format xml is refused (exit 2, naming the choices)', async () => {
    const proc = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'serve', '--log-format', 'xml'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    expect(await new Promise((r) => proc.once('exit', r))).toBe(2);
    expect(err).toMatch(/--log-format must be json or pretty, got xml/);
  });

  it('a worker thread logs JSON lines with its thread id, on the same stdout', async () => {
    // the compiled log.ts in a real worker thread, in a child process whose stdout we read
    const code = `
      const { Worker } = require('node:worker_threads');
      const w = new Worker("import('${join(ROOT, 'dist/src/log.js')}').then(({ log }) => log.error({ err: new Error('boom'), worker: 1 }, 'store commit failed'))", { eval: true });
      w.on('exit', () => process.exit(0));`;
    const proc = spawn(process.execPath, ['-e', code], { env: { ...process.env, LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise((r) => proc.once('exit', r));
    const [line, ...rest] = logLines(out);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 'error', msg: 'store commit failed', worker: 1, pid: proc.pid, thread: 1 });
    expect((line.err as { message: string; stack: string }).message).toBe('boom');
    expect((line.err as { stack: string }).stack).toMatch(/^Error: boom\n {4}at /);
  });
});

describe('prettyLine', () => {
  it('time of day, padded level, message, then only the fields the message does not show', () => {
    const line = JSON.stringify({ level: 'warn', time: '2026-11-29T21:55:06.229Z', pid: 7, msg: 'drain timed out after 5000 ms', ms: 5000, pending: 3, tags: ['a'] });
    expect(prettyLine(line, false)).toBe('21:55:06.229 WARN  drain timed out after 5000 ms pending=3 tags=["a"]\n');
    expect(prettyLine(line, true)).toBe('21:55:06.229 \x1b[33mWARN \x1b[0m drain timed out after 5000 ms pending=3 tags=["a"]\n');
  });
});
