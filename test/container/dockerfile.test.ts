/**
 * The Dockerfile, read as data (no container builder runs in CI: docs/OPERATIONS.md says what
 * was built where): a base pinned by exact tag, a build stage and a slim runtime stage without
 * bench/, test/ or dev dependencies, a data directory the runtime user owns, loopback defaults,
 * the CLI as its command, and a HEALTHCHECK on /readyz — whose exact command is run here against
 * a real server (exit 0) and against a port nobody listens on (exit 1).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServer, type Server } from '../server/harness.js';

interface Instr { op: string; args: string }

/** Dockerfile → instructions (continuation lines joined, comments dropped). */
function parse(text: string): Instr[] {
  const out: Instr[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (cur === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    cur += (cur ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const m = /^(\S+)\s*(.*)$/.exec(cur)!;
      out.push({ op: m[1].toUpperCase(), args: m[2] });
      cur = '';
    }
  }
  return out;
}

const file = parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stages: Instr[][] = [];
for (const i of file) {
  if (i.op === 'FROM') stages.push([]);
  stages.at(-1)?.push(i);
}
const runtime = stages.at(-1)!;
const build = stages[0];
const args = (st: Instr[], op: string) => st.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  it('pins the base by exact tag (node:MAJOR.MINOR.PATCH-debian-slim), both stages on it', () => {
    const arg = file.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toMatch(/^NODE_IMAGE=node:\d+\.\d+\.\d+-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/);
    expect(stages.length).toBe(2);
    expect(args(build, 'FROM')).toEqual(['${NODE_IMAGE} AS build']);
    expect(args(runtime, 'FROM')).toEqual(['${NODE_IMAGE}']);
  });

  it('the build stage compiles with npm ci (prepare) and drops dev dependencies; bench/ and test/ never enter', () => {
    const run = args(build, 'RUN').join(' && ');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toMatch(/npm prune --omit=dev/);
    const copied = [...args(build, 'COPY'), ...args(runtime, 'COPY')].join('\n');
    expect(copied).not.toMatch(/\bbench\b|\btest\b/);
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['bench', 'test', 'node_modules', 'dist']));
  });

  it('the runtime stage copies only package.json, the pruned node_modules and dist/ from the build', () => {
    expect(args(runtime, 'COPY')).toEqual(['--from=build /app/package.json ./', '--from=build /app/node_modules ./node_modules', '--from=build /app/dist ./dist']);
    expect(args(runtime, 'RUN').join(' ')).not.toMatch(/npm (ci|install)/);
  });

  it('/data is created and owned by node before USER node; the store and role file live there', () => {
    const ops = runtime.map((i) => `${i.op} ${i.args}`);
    const chown = ops.findIndex((o) => /^RUN .*mkdir -p \/data && chown node:node \/data/.test(o));
    const user = ops.indexOf('USER node');
    expect(chown).toBeGreaterThan(-1);
    expect(user).toBeGreaterThan(chown);
    expect(ops).toContain('VOLUME /data');
    const env = args(runtime, 'ENV').join(' ');
    expect(env).toMatch(/HOLOSERVE_DATA_DIR=\/data\b/);
    expect(env).toMatch(/HOLOSERVE_ROLE_FILE=\/data\/roles\.bin\b/);
  });

  it('defaults to loopback (starts without tokens); the command is the package bin', () => {
    expect(args(runtime, 'ENV').join(' ')).toMatch(/HOST=127\.0\.0\.1\b/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(args(runtime, 'CMD').map((a) => JSON.parse(a) as string[])).toEqual([['node', pkg.bin.holoserve, 'serve']]);
  });

  describe('HEALTHCHECK', () => {
    const hc = args(runtime, 'HEALTHCHECK')[0];
    const cmd = JSON.parse(/CMD (\[.*\])$/.exec(hc)![1]) as string[];
    let srv: Server;
    beforeAll(async () => { srv = await startServer({ HOLOSERVE_DIM: '1024', HOLOSERVE_WORKERS: '1' }); });
    afterAll(async () => { await srv?.stop(); });

    it('has a start period and retries, and runs node (the slim image has no curl)', () => {
      expect(hc).toMatch(/--interval=\d+s --timeout=\d+s --start-period=\d+s --retries=\d+ CMD/);
      expect(cmd[0]).toBe('node');
      expect(cmd.join(' ')).toMatch(/\/readyz/);
    });

    it('its command exits 0 against a ready server and 1 where nothing listens', async () => {
      const ok = spawnSync(process.execPath, cmd.slice(1), { env: { ...process.env, PORT: String(srv.port) }, timeout: 10_000 });
      expect(ok.status).toBe(0);
      const port = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
      const down = spawnSync(process.execPath, cmd.slice(1), { env: { ...process.env, PORT: String(port) }, timeout: 10_000 });
      expect(down.status).toBe(1);
    });
  });
});
