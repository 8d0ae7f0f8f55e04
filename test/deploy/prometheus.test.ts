/**
 * deploy/prometheus/rules.yml and deploy/grafana/holoserve.json, run for real:
 *   1. `promtool test rules` on the synthetic series of rules.test.yml;
 *   2. a real Prometheus (Debian's `prometheus`, loopback, free port, temp dir, 1 s scrape and
 *      evaluation) scrapes a real holoserve while a workload runs at the default beta, then with
 *      beta raised 10x through the knobs admin op: the eps alert must go pending, then firing,
 *      as Prometheus's HTTP API reports (test copy of the rules: 10 m/5 m windows → 20 s,
 *      `offset 10m` → 20 s, every `for:` → 3 s; the 1-day baseline window stays);
 *   3. every PromQL target of every dashboard panel evaluates without error against that
 *      Prometheus and returns a finite value for the workload.
 * Bounded: the workload throttles itself (~25 requests/s) and every wait has a deadline.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type HoloClient } from '../../src/client/client.js';
import { bind as refBind } from '../../src/kernels/index.js';
import { ROOT, startServer, type Server } from '../server/harness.js';
import { errorCode, seededVec } from '../server/support.js';

const run = promisify(execFile);
const D = 1024;
const RULES = join(ROOT, 'deploy/prometheus/rules.yml');
const DASHBOARD = join(ROOT, 'deploy/grafana/holoserve.json');
const MISSING = 'needs Debian\'s prometheus package (promtool and prometheus on PATH): apt-get install prometheus (.ci/run does)';

/** The rules with the test's short windows (see the header). */
export function shortRules(text: string): string {
  return text.replaceAll('[10m]', '[20s]').replaceAll('offset 10m', 'offset 20s').replaceAll('[5m]', '[20s]').replace(/for: \d+m/g, 'for: 3s');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PromSample { metric: Record<string, string>; value: [number, string] }

describe('deploy/prometheus: promtool unit tests', () => {
  it('promtool test rules rules.test.yml passes (and promtool check rules on rules.yml)', async () => {
    const check = await run('promtool', ['check', 'rules', RULES]).catch((e: Error) => { throw new Error(`${MISSING}: ${e.message}`); });
    expect(check.stdout).toContain('SUCCESS');
    const t = await run('promtool', ['test', 'rules', 'rules.test.yml'], { cwd: join(ROOT, 'deploy/prometheus') });
    expect(t.stdout).toContain('SUCCESS');
  });
});

describe('deploy/prometheus + deploy/grafana against a real Prometheus scraping a real holoserve', () => {
  let srv: Server;
  let client: HoloClient;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let dir = '';
  let promLog = '';

  async function query(expr: string): Promise<PromSample[]> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] | [number, string] } };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
    if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
    return body.data.result as PromSample[];
  }

  beforeAll(async () => {
    srv = await startServer({
      HOLOSERVE_DIM: String(D), HOLOSERVE_WORKERS: '2', HOLOSERVE_SHARDS: '8', HOLOSERVE_ADMIN_OPS: '1',
      HOLOSERVE_MEMORY_CAPACITY: '16', HOLOSERVE_ANCHORS_MAX: '4',
    });
    client = await connect(srv.url);
    dir = mkdtempSync(join(tmpdir(), 'holoserve-prom-'));
    writeFileSync(join(dir, 'rules.yml'), shortRules(readFileSync(RULES, 'utf8')));
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}',
      'rule_files: [rules.yml]',
      `scrape_configs: [{job_name: holoserve, static_configs: [{targets: ['127.0.0.1:${srv.port}']}]}]`,
      '',
    ].join('\n'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    prom.on('error', (e) => { promLog += `${MISSING}: ${e.message}\n`; });
    prom.stdout!.on('data', (d: Buffer) => { promLog += d.toString(); });
    prom.stderr!.on('data', (d: Buffer) => { promLog += d.toString(); });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline || prom.exitCode !== null) throw new Error(`prometheus did not get ready:\n${promLog}`);
      await sleep(200);
    }
  }, 60_000);

  afterAll(async () => {
    client?.close();
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
    }
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // The workload: unbinds of fresh random keys (the floor bites in ~1e-3 of the bins, ~half the
  // unbinds at D = 1024), plus binds by role, memory ops, and one bad request a round.
  let stop = false;
  let rounds = 0;
  let workload: Promise<void> = Promise.resolve();
  function startWorkload(): void {
    stop = false;
    workload = (async () => {
      const tenant = 'prom-tenant';
      while (!stop) {
        const i = rounds++;
        const a = seededVec(1000 + i, D), b = seededVec(2000 + i, D);
        const c = refBind(a, b);
        await Promise.all([
          client.unbind(c, b), client.unbind(c, b, { mode: 'wiener' }),
          client.unbind(c, seededVec(3000 + i, D)), client.unbind(c, seededVec(4000 + i, D)),
          client.bind(a, { role: `r${i % 3}` }), client.bind(a, b), client.bind(a, b), // the pair coalesces
        ]);
        if (i % 4 === 0) {
          await client.remember(tenant, `k${i % 40}`, `note ${i % 24} about the prometheus test`);
          await client.recall(tenant, `note ${i % 6} about`, 3);
          await client.recall(tenant, `note ${i % 6} about`, 3);
          await client.anchorPut(tenant, `anchor${i % 6}`, seededVec(5000 + (i % 6), D));
          await client.cleanup(tenant, seededVec(5000 + (i % 6), D));
          expect(await errorCode(client.bind(seededVec(1, 8), b))).toBe('bad_dimension');
        }
        await sleep(150);
      }
    })();
  }

  it('the eps alert goes pending, then firing, when beta is raised 10x (knobs admin op)', async () => {
    const t0 = Date.now();
    startWorkload();
    try {
      // 1. a baseline: p95 samples older than the 20 s offset exist
      const baselineBy = Date.now() + 90_000;
      let base: PromSample[] = [];
      while (Date.now() < baselineBy) {
        base = await query('holoserve:unbind_eps_used_ratio:p95_10m:baseline_1d{mode="exact"}');
        if (base.length > 0) break;
        await sleep(1000);
      }
      expect(base.length, `no baseline after 90 s:\n${promLog}`).toBe(1);
      const before = await query('holoserve:unbind_eps_used_ratio:p95_10m{mode="exact"}');
      const alertsBefore = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      expect(alertsBefore.data.alerts.filter((a) => a.labels.alertname === 'HoloserveUnbindEpsAboveBaseline')).toEqual([]);

      // 2. beta 1e-3 → 1e-2 in every worker
      const raisedAt = Date.now();
      await client.request('knobs', { set: { unbindBeta: 0.01 } });
      const states: string[] = [];
      let firing: { labels: Record<string, string>; state: string; activeAt: string; value: string } | undefined;
      const firingBy = Date.now() + 60_000;
      while (Date.now() < firingBy && !firing) {
        const r = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string; activeAt: string; value: string }[] } };
        for (const a of r.data.alerts) {
          if (a.labels.alertname !== 'HoloserveUnbindEpsAboveBaseline') continue;
          const st = `${a.labels.mode}:${a.state}`;
          if (!states.includes(st)) states.push(st);
          if (a.state === 'firing' && a.labels.mode === 'exact') firing = a;
        }
        if (!firing) await sleep(500);
      }
      const after = await query('holoserve:unbind_eps_used_ratio:p95_10m{mode="exact"}');
      const baseNow = await query('holoserve:unbind_eps_used_ratio:p95_10m:baseline_1d{mode="exact"}');
      const floored = await query('histogram_quantile(0.95, sum by (le, mode) (rate(holoserve_unbind_floored_bins_ratio_bucket[20s])))');
      console.log(JSON.stringify({
        alert: firing, states, secondsFromRaiseToFiring: firing ? (Date.now() - raisedAt) / 1000 : null, testSeconds: (Date.now() - t0) / 1000,
        p95Before: before[0]?.value[1], baselineBefore: base[0]?.value[1], p95After: after[0]?.value[1], baselineAtFiring: baseNow[0]?.value[1],
        flooredBinsP95: floored.map((s) => [s.metric.mode, s.value[1]]), rounds,
      }, null, 1));
      expect(states).toContain('exact:pending');
      expect(firing, `alert did not fire in 60 s; states ${states.join(' → ')}`).toBeDefined();
      expect(firing!.labels).toMatchObject({ mode: 'exact', severity: 'warning' });
      expect(Number(firing!.value)).toBeGreaterThan(3 * Number(baseNow[0].value[1]));
      // before: every bitten unbind at λ/P̄ = beta = 1e-3 exactly, interpolated in (3e-4, 1e-3];
      // after: the p95 is in beta's new bucket (3e-3, 1e-2] (the 20 s window may still mix in old ones)
      expect(Number(before[0].value[1])).toBeCloseTo(3e-4 + 0.95 * 7e-4, 12);
      expect(Number(after[0].value[1])).toBeGreaterThan(3e-3);
      expect(Number(after[0].value[1])).toBeLessThanOrEqual(1e-2);
    } finally {
      stop = true;
      await workload;
      await client.request('knobs', { set: { unbindBeta: 0.001 } });
    }
  }, 200_000);

  it('every dashboard panel query evaluates without error and returns data for the workload', async () => {
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const report: string[] = [];
    const empty: string[] = [];
    let n = 0;
    for (const p of dash.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        const r = await query(t.expr); // throws on a PromQL error
        const finite = r.filter((s) => Number.isFinite(Number(s.value[1])));
        n++;
        report.push(`${p.title} | ${t.expr.slice(0, 70)} | ${r.length} series, ${finite.length} finite`);
        if (finite.length === 0) empty.push(`${p.title}: ${t.expr}`);
      }
    }
    console.log(`${dash.panels.length} panels, ${n} queries\n${report.join('\n')}`);
    expect(empty).toEqual([]);
  }, 60_000);
});
