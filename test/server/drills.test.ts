/**
 * The drills over the CLI against a real server: `holoserve drill SCENARIO` prints the report
 * as JSON and exits 1 when it fails. elevated-epsilon passes at the default knobs and fails when
 * unbindBeta or wienerSnr push reconstruction past the truth budget; role-cache-corruption
 * finds a role corrupted in memory and one corrupted in the role file, then rebuilds and passes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { role } from '../../src/kernels/index.js';
import { cli } from './cli.js';
import { startServer, type Server } from './harness.js';
import { bits } from './support.js';

const D = 1024;
let server: Server;
let client: HoloClient;
beforeAll(async () => {
  server = await startServer({ HOLOSERVE_ADMIN_OPS: '1', HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2' });
  client = await connect(server.url);
}, 60_000);
afterAll(async () => { client?.close(); await server?.stop(); });

const drill = (...args: string[]) => cli(['drill', ...args, '--url', server.url]);

describe('elevated-epsilon', () => {
  it('passes at the defaults: every recovery within epsilon_total, unitary and non-unitary keys', async () => {
    const r = await drill('elevated-epsilon');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const j = r.json as Record<string, Record<string, Record<string, number>>> & { pass: boolean; scenario: string };
    expect([j.scenario, j.pass]).toEqual(['elevated-epsilon', true]);
    expect(Object.keys(j.unitary).sort()).toEqual(['approx', 'exact', 'wiener']);
    expect(Object.keys(j.nonUnitary).sort()).toEqual(['exact', 'wiener']);
    for (const kind of ['unitary', 'nonUnitary']) {
      for (const m of Object.values(j[kind])) {
        expect(m.worstRelErr).toBeLessThanOrEqual(0.05);
        // the reported prediction (the filter error) agrees with the measured error
        expect(Math.abs(m.worstRelErr - m.predictedRelErr)).toBeLessThanOrEqual(1e-3 + 0.05 * m.predictedRelErr);
      }
    }
    expect(j.nonUnitary.exact.worstRelErr).toBeGreaterThan(0); // weak bins of a Gaussian key are floored
  }, 60_000);

  it('fails (exit 1, with the numbers) when unbindBeta is 5: every bin of a unitary role is floored, â = a/5', async () => {
    expect((await cli(['knobs', 'set', 'unbindBeta=5', '--url', server.url])).code).toBe(0);
    const r = await drill('elevated-epsilon');
    expect(r.code).toBe(1);
    const j = r.json as { pass: boolean; failures: string[]; unitary: Record<string, { worstRelErr: number }> };
    expect(j.pass).toBe(false);
    expect(j.unitary.exact.worstRelErr).toBeCloseTo(0.8, 5); // 1 − 1/5
    expect(j.failures.join('\n')).toMatch(/unitary exact: relative error 0\.800 > epsilon_total 0\.05/);
    await client.request('knobs', { set: { unbindBeta: 0.001 } });
    expect((await drill('elevated-epsilon')).code).toBe(0);
  }, 60_000);

  it('fails when wienerSnr is 2 (λ = 0.5: a unitary role recovers a/1.5)', async () => {
    await client.request('knobs', { set: { wienerSnr: 2 } });
    const r = await drill('elevated-epsilon');
    expect(r.code).toBe(1);
    expect((r.json as { unitary: Record<string, { worstRelErr: number }> }).unitary.wiener.worstRelErr).toBeCloseTo(0.5 / 1.5, 5);
    await client.request('knobs', { set: { wienerSnr: 1e4 } });
    expect((await drill('elevated-epsilon')).code).toBe(0);
  }, 60_000);
});

describe('role-cache-corruption', () => {
  it('finds one role corrupted in memory and one in the role file, then purges, rebuilds and passes', async () => {
    await client.role('never-prewarmed'); // a role outside the prewarm set is checked too
    const r = await drill('role-cache-corruption', '--inject');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const j = r.json as { pass: boolean; injected: { memory: string; file: string }; corrupt: { memory: number; file: number; memoryTokens: string[]; fileTokens: string[] }; checked: { memory: number; file: number; fileChecksumOk: boolean }; invariants: Record<string, unknown> };
    expect(j.corrupt.memory).toBe(1);
    expect(j.corrupt.file).toBe(1);
    expect(j.corrupt.memoryTokens).toEqual([j.injected.memory]);
    expect(j.corrupt.fileTokens).toEqual([j.injected.file]);
    expect(j.checked.memory).toBe(65);
    expect(j.checked.file).toBe(64);
    expect(j.checked.fileChecksumOk).toBe(true); // a silent corruption: only the bit-for-bit check sees it
    expect(j.invariants).toMatchObject({ deterministic: true, unitary: true });
    expect(j.pass).toBe(true);
    // after the drill the served roles and the file are bit-identical to fresh computations
    for (const t of [j.injected.memory, j.injected.file]) expect(bits(await client.role(t))).toEqual(bits(role(t, D, 0)));
    const again = await drill('role-cache-corruption');
    expect((again.json as { corrupt: { memory: number; file: number } }).corrupt).toMatchObject({ memory: 0, file: 0 });
    expect(readFileSync(join(server.dataDir, 'roles.bin')).length).toBeGreaterThan(64 * 8 * D);
  }, 120_000);

  it('an unknown scenario exits 1 naming the scenarios; --help exits 0', async () => {
    const r = await drill('elevated-epsilom');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown drill 'elevated-epsilom' \(worker-crash \| role-cache-corruption \| elevated-epsilon \| recall-latency-spike\)/);
    expect((await cli(['drill', '--help'])).code).toBe(0);
  });
});

describe('status', () => {
  it('answers readiness, workers, tenants loaded, caches and budget use', async () => {
    await client.remember('status-tenant', 'k', 'some text');
    const r = await cli(['status', '--url', server.url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json as Record<string, any>;
    expect(j).toMatchObject({ ready: true, draining: false, workers: { count: 2, restarts: 0 } });
    expect(j.tenantsLoaded).toBeGreaterThanOrEqual(1);
    expect(j.caches.roleTable.size).toBeGreaterThanOrEqual(64);
    expect(j.budget.epsilon_total).toBe(0.05);
    expect(j.workers.perWorker).toHaveLength(2);
  });
});
