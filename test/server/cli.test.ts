/**
 * The operator CLI as a user runs it: `holoserve --help` lists every subcommand; `serve` takes
 * every setting as a flag, flags beat the environment, unknown flags and HOLOSERVE_* variables
 * and bad files are errors naming the nearest name or the file; `npm start` only starts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/client.js';
import { COMMANDS } from '../../src/cli/main.js';
import { cli } from './cli.js';
import { ROOT } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'holoserve-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('holoserve', () => {
  it('--help lists every subcommand; each subcommand has --help; an unknown one names the nearest', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toMatch(new RegExp(`\\n  ${c.name} +${c.summary.slice(0, 20).replace(/[()]/g, '.')}`));
    expect(COMMANDS.map((c) => c.name)).toEqual(['serve', 'knobs', 'drill', 'status', 'plan', 'dimension']); // plan: obs (#12); dimension: #13
    for (const c of COMMANDS) {
      const h = await cli([c.name, '--help']);
      expect([c.name, h.code]).toEqual([c.name, 0]);
      expect(h.stdout).toMatch(`usage: holoserve ${c.name}`);
    }
    expect((await cli(['serve', '--help'])).stdout).toMatch(/--batch-window-ms V +longest a request waits .*\[\[0, 1000\]; default 5; ms; live\]/);
    const bad = await cli(['knbos']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("unknown command 'knbos' (did you mean 'knobs'?)")]);
    // an unknown flag of any admin subcommand: usage error, exit 2, the message and its help (no stack trace)
    for (const c of COMMANDS.filter((x) => x.name !== 'serve')) {
      const u = await cli([c.name, '--bogus']);
      expect([c.name, u.code]).toEqual([c.name, 2]);
      expect(u.stderr).toMatch(new RegExp(`^holoserve ${c.name}: Unknown option '--bogus'.*\nusage: holoserve ${c.name}`));
      expect(u.stderr).not.toMatch(/\n +at /);
    }
  });

  it('serve: unknown flags, unknown HOLOSERVE_* variables and bad files exit 2 naming the nearest name or the file', async () => {
    const f = await cli(['serve', '--prot', '1']);
    expect([f.code, f.stderr]).toEqual([2, 'holoserve: bad configuration: unknown flag --prot (did you mean --port?)\n']);
    const e = await cli(['serve'], { HOLOSERVE_WORKER: '1' });
    expect([e.code, e.stderr]).toEqual([2, 'holoserve: bad configuration: environment: unknown variable HOLOSERVE_WORKER (did you mean HOLOSERVE_WORKERS?)\n']);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"port": 1,}');
    const b = await cli(['serve', '--config', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(`holoserve: bad configuration: config file ${bad}: not valid JSON`);
  });

  it('serve: flags beat env beat file, the data directory holds the role file, and status/knobs reach it', async () => {
    const dataDir = join(dir, 'data');
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ batchMax: 11, rerankCandidates: 5, dim: 512 }));
    const proc = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'serve', '--config', file, '--port', '0', '--data-dir', dataDir, '--batch-max', '33', '--admin-ops', '--workers', '1'], {
      cwd: ROOT, env: { ...process.env, HOLOSERVE_BATCH_MAX: '22', HOLOSERVE_RERANK_CANDIDATES: '6', HOLOSERVE_PORT: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(out)), 30_000);
      proc.stdout.on('data', () => { const m = /ready on ws:\/\/[^:]+:(\d+)\/v1/.exec(out); if (m) { clearTimeout(t); resolve(Number(m[1])); } });
    });
    try {
      const url = `ws://127.0.0.1:${port}/v1`;
      const k = (await cli(['knobs', 'get', '--url', url])).json as { knobs: Record<string, number> };
      expect(k.knobs.batchMax).toBe(33); // flag > env > file
      expect(k.knobs.rerankCandidates).toBe(6); // env > file
      const c = await connect(url);
      expect((await c.hello()).dim).toBe(512); // file
      c.close();
      expect(readFileSync(join(dataDir, 'roles.bin')).subarray(0, 8).toString()).toBe('HOLOROLE'); // roleFile follows dataDir
      const st = await cli(['status', '--url', url]);
      expect([st.code, (st.json as { ready: boolean }).ready]).toEqual([0, true]);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    const down = await cli(['status', '--url', `ws://127.0.0.1:${port}/v1`]);
    expect(down.code).toBe(1);
    expect((down.json as { ready: boolean }).ready).toBe(false);
  }, 60_000);

  it('npm start runs serve from dist without building', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('exec node dist/src/cli/main.js serve');
  });
});
