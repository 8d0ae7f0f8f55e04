/**
 * `holoserve dimension …` against a running compiled server (D = 1024 → 2048): exit codes,
 * the server's refusals printed, status lines, and the switch seen in hello.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { connect, type HoloClient } from '../../src/client/client.js';
import { ROOT, startServer, type Server } from '../server/harness.js';

function cli(url: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'dimension', ...args, '--url', url], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('holoserve dimension (CLI)', () => {
  let srv: Server;
  let c: HoloClient;
  beforeAll(async () => {
    srv = await startServer({ HOLOSERVE_DIM: '1024', HOLOSERVE_WORKERS: '2', HOLOSERVE_ADMIN_OPS: '1' });
    c = await connect(srv.url);
    for (let i = 0; i < 5; i++) await c.remember('t', `k${i}`, `item number ${i} of the cli test`);
    await c.remember('t', 'rec', { record: { who: 'alice', what: 'a letter', to: { role: 'bob' } } });
  }, 120_000);
  afterAll(async () => {
    c?.close();
    await srv?.stop();
  });

  it('refuses bad usage and bad D with exit codes 2 and 1', () => {
    expect(cli(srv.url, 'sideways').code).toBe(2);
    expect(cli(srv.url, 'shadow').code).toBe(2);
    const bad = cli(srv.url, 'shadow', '3000');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/bad_dimension: dim must be a power of two in \[256, 16384\], got 3000/);
    const st = cli(srv.url, 'status');
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/phase serving: serving D=1024/);
  });

  it('shadow, status until ready, switch', async () => {
    const sh = cli(srv.url, 'shadow', '2048', '--share', '1');
    expect(sh.code).toBe(0);
    expect(sh.out).toMatch(/shadow: phase shadow, served 1024, other 2048, tenants 1, units 6/);
    let st = cli(srv.url, 'status');
    for (let i = 0; i < 100 && st.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      st = cli(srv.url, 'status');
    }
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/coverage 100\.00 % \(1\/1 tenants rebuilt/);
    expect(st.out).toMatch(/records measured 1: reconstruction delta p50/);
    expect(st.out).toMatch(/→ ready to switch/);
    const sw = cli(srv.url, 'switch');
    expect(sw.code).toBe(0);
    expect(sw.out).toMatch(/switch: phase switched, served 2048, other 1024/);
    expect((await c.hello()).dim).toBe(2048);
    expect((await c.recall('t', 'item number 3 of the cli test', 1)).hits[0].key).toBe('k3');
  }, 120_000);
});
