/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project
 * elsewhere (dependencies from the npm cache that `npm ci` filled, so it runs offline), then
 * the installed `holoserve/client` and `holoserve` (the kernels) imported by plain Node and
 * type-checked by tsc, one request sent to a real server started from this repo, and the
 * installed `holoserve` bin asked for --help.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startServer, type Server } from '../server/harness.js';

const D = 1024;
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

describe('npm pack → install elsewhere → import', () => {
  let dir: string;
  let srv: Server;
  let files: string[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'holoserve-pack-'));
    // `npm test` has just built dist/; --ignore-scripts keeps the prepare build from rewriting
    // dist/ under the other test files' servers (the prepare script itself is `npm run build`).
    const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as { filename: string; files: { path: string }[] }[];
    files = packed[0].files.map((f) => f.path);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true, type: 'module' }));
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed[0].filename)], dir);
    srv = await startServer({ HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '1' });
  }, 180_000);
  afterAll(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships the compiled server, client, kernels and WASM, and nothing from bench/, test/ or src/*.ts', () => {
    for (const f of ['dist/src/client/client.js', 'dist/src/client/client.d.ts', 'dist/src/kernels/index.js', 'dist/src/cli/main.js', 'dist/workers/shard.js', 'dist/kernels.wasm', 'dist/scan.wasm', 'dist/finite.wasm', 'dist/src/worker/scan-helper.js', 'package.json', 'README.md']) {
      expect(files).toContain(f);
    }
    // the huge-pages addon, wherever this build could compile it (test/memory/huge-pages.test.ts)
    expect(files.includes('dist/native/huge-pages.node')).toBe(existsSync(join(ROOT, 'dist/native/huge-pages.node')));
    expect(files.filter((f) => /^(bench|test|dist\/bench)\/|^src\/|\.map$/.test(f))).toEqual([]);
  });

  it('the installed client and kernels compute a bind that matches, over a real server', () => {
    writeFileSync(join(dir, 'use.mjs'), `
      import { connect } from 'holoserve/client';
      import { createHrr, bindWith, role, cosine } from 'holoserve';
      const c = await connect(process.env.URL);
      const hello = await c.hello();
      const a = await c.encode('the cat sat on the mat');
      const s = await c.bind(a, { role: 'subject' });
      const hrr = await createHrr(${D});
      const local = bindWith(hrr, a, role('subject', ${D}, 0));
      let maxAbs = 0;
      for (let i = 0; i < ${D}; i++) maxAbs = Math.max(maxAbs, Math.abs(s[i] - local[i]));
      const st = await c.stats('pack-tenant');
      c.close();
      console.log(JSON.stringify({ dim: hello.dim, n: s.length, maxAbs, cos: cosine(s, local), statsKeys: Object.keys(st).sort() }));
    `);
    const out = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: dir, env: { ...process.env, URL: srv.url }, encoding: 'utf8', timeout: 60_000 }));
    expect(out.dim).toBe(D);
    expect(out.n).toBe(D);
    // float32 FFT bind on both sides (the same pffft kernels): equal to rounding
    expect(out.maxAbs).toBeLessThan(1e-6);
    expect(out.cos).toBeGreaterThan(0.999999);
    expect(out.statsKeys).not.toContain('id');
    expect(out.statsKeys).not.toContain('ok');
  });

  it('type-checks a TypeScript user of the installed package (exports → .d.ts)', () => {
    writeFileSync(join(dir, 'use.ts'), `
      import { connect, type HoloClient } from 'holoserve/client';
      import { createHrr, sinkhorn } from 'holoserve';
      export async function f(url: string): Promise<number> {
        const c: HoloClient = await connect(url);
        const r = await c.unbind(new Float32Array(8), { role: 'x' });
        const h = await createHrr(256);
        void sinkhorn; void h;
        return r.epsUsed;
      }
    `);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'use.ts'], { cwd: dir, encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout);
    }
    expect(out).toBe('');
  });

  it('installs the holoserve bin, whose --help lists serve', () => {
    expect(readdirSync(join(dir, 'node_modules/.bin'))).toContain('holoserve');
    const help = execFileSync(join(dir, 'node_modules/.bin/holoserve'), ['--help'], { encoding: 'utf8' });
    expect(help).toMatch(/^ {2}serve {2}/m);
  });
});
