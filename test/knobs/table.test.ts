/**
 * The knob table and its loader: precedence flags > knobs.json > env > file > defaults, errors
 * that name the source and the nearest valid name, paths under dataDir, the live set's one
 * validator (nothing half-applied), and the docs table generated from the table.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { markdownTable, regenerate } from '../../src/knobs/doc.js';
import { LiveKnobs } from '../../src/knobs/live.js';
import { editDistance, knobsFile, load, nearest } from '../../src/knobs/load.js';
import { BUDGET, LIVE_NAMES, NAMES, TABLE } from '../../src/knobs/table.js';
import { parseServeArgs } from '../../src/cli/commands/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'holoserve-knobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, body: string) => { const p = join(dir, name); writeFileSync(p, body); return p; };

describe('sources and precedence', () => {
  it('flags > env > file > defaults, per setting', () => {
    const f = file('a.json', JSON.stringify({ batchWindowMs: 1, batchMax: 10, port: 1111, dataDir: dir }));
    const { cfg, origin } = load({ file: f, env: { HOLOSERVE_BATCH_MAX: '20', PORT: '2222' }, flags: { port: '3333' } });
    expect(cfg.batchWindowMs).toBe(1); // file
    expect(cfg.batchMax).toBe(20); // env over file
    expect(cfg.port).toBe(3333); // flag over env over file
    expect(cfg.anchorsMax).toBe(1024); // default
    expect(origin).toMatchObject({ batchWindowMs: `config file ${f}`, batchMax: 'env HOLOSERVE_BATCH_MAX', port: 'flag --port' });
  });

  it('HOLOSERVE_CONFIG names the file when --config does not; old env names (HOST, PORT, HOLOSERVE_DATA_DIR) still work', () => {
    const f = file('b.json', JSON.stringify({ rerankCandidates: 5 }));
    const { cfg } = load({ env: { HOLOSERVE_CONFIG: f, HOST: '127.0.0.2', PORT: '0', HOLOSERVE_DATA_DIR: dir } });
    expect([cfg.rerankCandidates, cfg.host, cfg.port, cfg.dataDir]).toEqual([5, '127.0.0.2', 0, dir]);
  });

  it('knobs.json in dataDir (live knobs set at run time) is above env and below flags', () => {
    const d = mkdtempSync(join(dir, 'kept-'));
    writeFileSync(knobsFile(d), JSON.stringify({ unbindBeta: 0.004, batchMax: 7 }));
    const { cfg } = load({ env: { HOLOSERVE_DATA_DIR: d, HOLOSERVE_UNBIND_BETA: '0.002' }, flags: { batchMax: '9' } });
    expect(cfg.unbindBeta).toBe(0.004);
    expect(cfg.batchMax).toBe(9);
    writeFileSync(knobsFile(d), JSON.stringify({ port: 1 }));
    expect(() => load({ env: { HOLOSERVE_DATA_DIR: d } })).toThrow(`${knobsFile(d)}: 'port' is not a live knob`);
  });

  it('every path follows dataDir unless set', () => {
    expect(load({ env: {}, flags: { dataDir: '/srv/h' }, persisted: false }).cfg.roleFile).toBe('/srv/h/roles.bin');
    expect(load({ env: { HOLOSERVE_DATA_DIR: '/srv/e' }, persisted: false }).cfg.roleFile).toBe('/srv/e/roles.bin');
    expect(load({ env: { HOLOSERVE_DATA_DIR: '/srv/e', HOLOSERVE_ROLE_FILE: '/r.bin' }, persisted: false }).cfg.roleFile).toBe('/r.bin');
    expect(load({ env: {}, persisted: false }).cfg.roleFile).toBe('data/roles.bin');
    expect(knobsFile('/srv/h')).toBe('/srv/h/knobs.json');
  });
});

describe('errors name the source and the nearest valid name', () => {
  it('unknown HOLOSERVE_* variable', () => {
    expect(() => load({ env: { HOLOSERVE_BATCH_WINDOW: '3' } })).toThrow('unknown variable HOLOSERVE_BATCH_WINDOW (did you mean HOLOSERVE_BATCH_WINDOW_MS?)');
    expect(() => load({ env: { HOLOSERVE_UNBIND_BEAT: '3' } })).toThrow('did you mean HOLOSERVE_UNBIND_BETA?');
  });
  it('unknown flag', () => {
    expect(() => parseServeArgs(['--prot', '9'])).toThrow('unknown flag --prot (did you mean --port?)');
    expect(() => parseServeArgs(['--data-dri', '/x'])).toThrow('did you mean --data-dir?');
    expect(() => parseServeArgs(['serve-now'])).toThrow("unexpected argument 'serve-now'");
    expect(parseServeArgs(['--port', '9', '--admin-ops', '--config', '/c.json'])).toEqual({ file: '/c.json', flags: { port: '9', adminOps: true }, help: false });
    expect(parseServeArgs(['--no-rerank']).flags).toEqual({ rerank: false });
  });
  it('a bad config file: its path in every error', () => {
    const bad = file('bad.json', '{"port": 1,');
    expect(() => load({ file: bad, env: {} })).toThrow(`config file ${bad}: not valid JSON`);
    const unknown = file('unknown.json', '{"batchWindowMS": 1}');
    expect(() => load({ file: unknown, env: {} })).toThrow(`config file ${unknown}: unknown setting 'batchWindowMS' (did you mean 'batchWindowMs'?)`);
    const range = file('range.json', '{"port": 70000}');
    expect(() => load({ file: range, env: {} })).toThrow(`config file ${range}: config.port must be an integer in [0, 65535], got 70000`);
    expect(() => load({ file: join(dir, 'missing.json'), env: {} })).toThrow(`config file ${join(dir, 'missing.json')}: cannot read it (ENOENT)`);
  });
  it('a bad value names the setting and its range', () => {
    expect(() => load({ env: { HOLOSERVE_UNBIND_BETA: '0' } })).toThrow('environment HOLOSERVE_UNBIND_BETA: config.unbindBeta must be a number in (0, 1000000], got 0');
    expect(() => load({ env: { PORT: 'eighty' } })).toThrow('config.port must be a number in [0, 65535], got "eighty"');
    expect(() => load({ env: { HOLOSERVE_IDLE_TIMEOUT_SECONDS: '10' } })).toThrow('config.idleTimeoutSeconds must be 0 or a multiple of 4');
    expect(() => load({ env: { HOLOSERVE_FFT_ENGINE: 'fftw' } })).toThrow('config.fftEngine must be one of pffft | fftjs, got "fftw"');
    expect(() => load({ env: { HOLOSERVE_LOW_WATER: '0.95' } })).toThrow('config.lowWater must be < highWater, got 0.95 ≥ 0.9');
  });
  it("hostile-input budgets (issue #9) are knobs: env, flags, ranges and the rules across settings", () => {
    const { cfg, origin } = load({ env: { HOLOSERVE_HEAT_MAX_WORK: '1e5', HOLOSERVE_METRICS_TOKEN: '0' }, flags: { tenantsPerConnectionPerSecond: '5' }, persisted: false });
    expect([cfg.heatMaxWork, cfg.metricsToken, cfg.tenantsPerConnectionPerSecond]).toEqual([1e5, false, 5]);
    expect(origin).toMatchObject({ heatMaxWork: 'env HOLOSERVE_HEAT_MAX_WORK', tenantsPerConnectionPerSecond: 'flag --tenants-per-connection-per-second' });
    expect([cfg.graphMaxBytes, cfg.graphBytesPerWorker, cfg.sinkhornMaxWork]).toEqual([256 * 1024 * 1024, 512 * 1024 * 1024, 1e8]);
    for (const n of ['graphMaxBytes', 'graphBytesPerWorker', 'heatMaxWork', 'sinkhornMaxWork', 'tenantsPerConnectionPerSecond', 'metricsToken'] as const) expect(LIVE_NAMES).not.toContain(n);
    expect(() => load({ env: { HOLOSERVE_SINKHORN_MAX_WORK: '0' }, persisted: false })).toThrow('config.sinkhornMaxWork must be a number in [1, 1000000000000000], got 0');
    expect(() => load({ env: { HOLOSERVE_GRAPH_MAX_BYTES: String(2 ** 30) }, persisted: false })).toThrow('env HOLOSERVE_GRAPH_MAX_BYTES: config.graphMaxBytes must be ≤ config.graphBytesPerWorker');
    // a vector (4·D bytes) and its reply framing must fit in a frame: 4·8192 + 1024 = 33792
    expect(() => load({ flags: { maxFrameBytes: 33_791 }, persisted: false })).toThrow('flag --max-frame-bytes: config.maxFrameBytes must be ≥ 4·dim + 1024 = 33792');
    expect(load({ flags: { maxFrameBytes: 33_792 }, persisted: false }).cfg.maxFrameBytes).toBe(33_792);
    const tok = { salt: 's', sha256: 'a'.repeat(64), tenants: ['*'] };
    expect(load({ flags: { tokens: [{ ...tok, admin: true }] }, persisted: false }).cfg.tokens[0].admin).toBe(true);
    expect(() => load({ flags: { tokens: [{ ...tok, admin: 'yes' }] }, persisted: false })).toThrow('admin?: boolean');
  });

  it('edit distance and nearest (independent small cases)', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(nearest('prot', ['port', 'host', 'dim'])).toBe('port');
  });
});

describe('the live knobs', () => {
  it('the table has the knobs the issue names as live, and the six budget fields', () => {
    for (const k of ['unbindBeta', 'wienerSnr', 'rerank', 'rerankMargin', 'rerankCandidates', 'salienceAlpha', 'salienceBeta', 'salienceGamma',
      'highWater', 'lowWater', 'anchorsMax', 'recallCacheTtlMs', 'batchWindowMs', 'batchMax', 'workerPipeline', 'coalesceLingerMs']) expect(LIVE_NAMES).toContain(k);
    expect(Object.fromEntries(BUDGET.map(([k, b]) => [b, TABLE[k].default]))).toEqual({
      epsilon_total: 0.05, wiener_lambda: 1e-4, chebyshev_K: 24, rel_err: 0.02, sinkhorn_tol: 1e-3, appr_eps: 1e-4,
    });
    expect(NAMES.slice(0, 6).map((n) => TABLE[n].budget)).toEqual(BUDGET.map(([, b]) => b)); // loaded first
  });

  it('set validates everything before applying anything, logs old → new, persists, and bumps the version', () => {
    const d = mkdtempSync(join(dir, 'live-'));
    const { cfg } = load({ env: { HOLOSERVE_DATA_DIR: d } });
    const lines: string[] = [];
    const fields: Record<string, unknown>[] = [];
    const live = new LiveKnobs(cfg, knobsFile(d), (f, m) => { fields.push(f); lines.push(m); });
    expect(() => live.set({ unbindBeta: 0.01, batchMax: 0 }, 't')).toThrow('knob batchMax must be an integer in [1, 4096], got 0');
    expect(live.snapshot().unbindBeta).toBe(0.001); // nothing half-applied
    expect(() => live.set({ port: 1 }, 't')).toThrow("'port' is restart-only");
    expect(() => live.set({ unbindBetta: 1 }, 't')).toThrow("unknown knob 'unbindBetta' (did you mean 'unbindBeta'?)");
    expect(() => live.set({ lowWater: 0.95 }, 't')).toThrow('knob lowWater must be < highWater, got 0.95 ≥ 0.9');
    expect(live.version).toBe(0);
    const before = live.snapshot();
    live.set({ unbindBeta: '0.01', rerank: 'true' }, 'tester');
    expect(before.unbindBeta).toBe(0.001); // a snapshot handed to a batch never changes
    expect(live.snapshot()).toMatchObject({ unbindBeta: 0.01, rerank: true });
    expect(live.version).toBe(1);
    expect(lines).toEqual(['knob unbindBeta: 0.001 → 0.01 (by tester)', 'knob rerank: false → true (by tester)']);
    expect(fields).toEqual([{ knob: 'unbindBeta', old: 0.001, new: 0.01, by: 'tester' }, { knob: 'rerank', old: false, new: true, by: 'tester' }]);
    expect(JSON.parse(readFileSync(knobsFile(d), 'utf8'))).toEqual({ unbindBeta: 0.01, rerank: true });
    expect(load({ env: { HOLOSERVE_DATA_DIR: d } }).cfg.unbindBeta).toBe(0.01); // a restart keeps it
    live.set({ unbindBeta: 0.001, rerank: false }, 'reload', false); // a reload clears the run-time layer
    expect(() => readFileSync(knobsFile(d))).toThrow();
    expect(live.describe()).toMatchObject({ budget: { epsilon_total: 0.05, chebyshev_K: 24 }, ranges: { unbindBeta: '(0, 1000000]' } });
  });
});

describe('docs', () => {
  it("docs/OPERATIONS.md's settings table is the one generated from the knob table", () => {
    const doc = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8');
    expect(regenerate(doc)).toBe(doc);
    for (const n of NAMES) expect(markdownTable()).toContain(`| \`${n}\``);
  });
});
