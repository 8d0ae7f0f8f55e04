/**
 * `holoserve plan` (SEED §10): the seed's worked example reproduced by the arithmetic; a measured
 * mix against a real server on loopback (small D and items, short phases), whose printed plan is
 * recomputed here from its own measured numbers; --from reading a real server's /metrics.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/client.js';
import { ROOT, startServer, type Server } from '../server/harness.js';
import { seededVec } from '../server/support.js';

const run = promisify(execFile);
const CLI = join(ROOT, 'dist/src/cli/main.js');

async function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'plan', ...args], { timeout: 120_000 });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('holoserve plan', () => {
  it("the seed's example: 1200 RPS × 30 ms → 36 workers → 3 pods of 16 workers + headroom → 4 pods", async () => {
    const r = await plan('--rps', '1200', '--latency-ms', '30', '--cores-per-pod', '8', '--workers-per-pod', '16');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('36 workers');
    expect(r.stdout).toContain('= 3 (2.25) without headroom');
    expect(r.stdout).toContain('= 4 pods');
    const j = JSON.parse((await plan('--rps', '1200', '--latency-ms', '30', '--workers-per-pod', '16', '--json')).stdout);
    expect(j).toMatchObject({ concurrency: 36, workers: 36, podsNoHeadroom: 3, pods: 4, safety: 1.5 });
    // the low end of the seed's safety range leaves no headroom pod: ⌈36·1.3/16⌉ = ⌈2.925⌉ = 3
    expect(JSON.parse((await plan('--rps', '1200', '--latency-ms', '30', '--workers-per-pod', '16', '--safety', '1.3', '--json')).stdout).pods).toBe(3);
  });

  it('refuses bad input with exit 2 and the reason', async () => {
    for (const [args, msg] of [
      [['--latency-ms', '30'], '--rps is required'],
      [['--rps', '10', '--mix', 'bind=0.5,recall=0.4'], 'sum to'],
      [['--rps', '10', '--mix', 'heat=1'], "op 'heat' is not measurable"],
      [['--rps=-1', '--latency-ms', '3'], '--rps must be'],
      [['--rps', '10', '--latency-ms', '3', '--bogus'], 'bogus'],
    ] as [string[], string][]) {
      const r = await plan(...args);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stderr).toContain(msg);
    }
  });

  it('a measured mix: costs from a real served run, the plan recomputed from them', async () => {
    const r = await plan('--rps', '1200', '--mix', 'bind=0.5,recall=0.4,sinkhorn=0.1', '--items', '256', '--dim', '1024', '--seconds', '0.5', '--workers', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      ops: { op: string; requests: number; cpuSecondsPerRequest: number; meanLatencySeconds: number }[];
      cpuSecondsPerRequest: number; plan: { cores: number; workers: number; pods: number; podsNoHeadroom: number; efficiency: number };
      measured: { mixRps1: number; mixRpsN: number; speedup: number; workers: number };
    };
    expect(j.ops.map((o) => o.op)).toEqual(['bind', 'recall', 'sinkhorn']);
    for (const o of j.ops) {
      expect(o.requests).toBeGreaterThan(0);
      expect(o.cpuSecondsPerRequest).toBeGreaterThan(0);
      expect(o.cpuSecondsPerRequest).toBeLessThan(1);
      expect(o.meanLatencySeconds).toBeGreaterThan(0);
    }
    const cpu = 0.5 * j.ops[0].cpuSecondsPerRequest + 0.4 * j.ops[1].cpuSecondsPerRequest + 0.1 * j.ops[2].cpuSecondsPerRequest;
    expect(j.cpuSecondsPerRequest).toBeCloseTo(cpu, 12);
    expect(j.measured.speedup).toBeCloseTo(j.measured.mixRpsN / j.measured.mixRps1, 12);
    const e = Math.min(1, j.measured.speedup / 2);
    expect(j.plan.efficiency).toBeCloseTo(e, 12);
    expect(j.plan.cores).toBeCloseTo(1200 * cpu, 9);
    expect(j.plan.workers).toBe(Math.ceil(1200 * cpu));
    expect(j.plan.podsNoHeadroom).toBe(Math.ceil((1200 * cpu) / (8 * e)));
    expect(j.plan.pods).toBe(Math.ceil((1200 * cpu * 1.5) / (8 * e)));
  }, 180_000);

  describe('--from a running server', () => {
    let srv: Server;
    beforeAll(async () => { srv = await startServer({ HOLOSERVE_DIM: '1024', HOLOSERVE_WORKERS: '1' }); });
    afterAll(async () => { await srv?.stop(); });

    it("reads per-op latency and CPU per request from its /metrics", async () => {
      const c = await connect(srv.url);
      for (let i = 0; i < 20; i++) await c.bind(seededVec(i, 1024), seededVec(i + 100, 1024));
      c.close();
      const metrics = await (await fetch(`${srv.http}/metrics`)).text();
      const r = await plan('--rps', '100', '--mix', 'bind=1', '--from', `${srv.http}/metrics`, '--json');
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { ops: { op: string; requests: number; meanLatencySeconds: number }[]; plan: { workers: number; efficiency: number } };
      expect(j.ops[0].op).toBe('bind');
      expect(j.ops[0].requests).toBeGreaterThanOrEqual(20);
      const sum = Number(/^holoserve_request_seconds_sum\{op="bind"\} (\S+)$/m.exec(metrics)![1]);
      const count = Number(/^holoserve_request_seconds_count\{op="bind"\} (\S+)$/m.exec(metrics)![1]);
      expect(j.ops[0].meanLatencySeconds).toBeCloseTo(sum / count, 4); // the /metrics read later may include later requests only if any were sent
      expect(j.plan.efficiency).toBe(1);
      const text = await plan('--rps', '100', '--mix', 'bind=1', '--from', `${srv.http}/metrics`);
      expect(text.stdout).toContain('scaling with cores NOT measured');
      expect((await plan('--rps', '100', '--mix', 'recall=1', '--from', `${srv.http}/metrics`)).stderr).toContain("op 'recall' has no requests");
    });
  });
});
