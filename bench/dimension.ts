/**
 * One rolling dimension increase, measured (issue #13): a compiled server at D = 2048 (2
 * workers) with ≥ 5,000 items over several tenants (text items, 24-pair role–filler records,
 * filler anchors), then shadow at 8192, switch, finalize. Reports:
 *   - shadow time (rebuild start → coverage 1),
 *   - served latency of a fixed closed-loop load (text recalls + text remembers, 4 in flight)
 *     before the shadow, during it, and after it completed (dual writes still on), p50/p99,
 *   - the quality status: reconstruction delta distribution, cleanup score at both D,
 *   - the switch: how long the barrier held batches, and the longest latency of a request in
 *     flight across it.
 * Usage: npm run build && node dist/bench/dimension.js [--items-per-tenant 1100] [--tenants 5] [--share 0.25]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, type HoloClient } from '../src/client/client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({ options: { 'items-per-tenant': { type: 'string' }, tenants: { type: 'string' }, share: { type: 'string' }, records: { type: 'string' } } });
const TENANTS = Number(values.tenants ?? 5);
const ITEMS = Number(values['items-per-tenant'] ?? 1000); // text items per tenant
const RECORDS = Number(values.records ?? 20); // 24-slot records per tenant (each with 24 filler anchors)
const SHARE = Number(values.share ?? 0.25);
const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega'.split(' ');

const text = (t: number, i: number) => `${WORDS[i % 24]} ${WORDS[(i * 7 + t) % 24]} note ${i} of tenant ${t} ${WORDS[(i * 13) % 24]}`;
const filler = (t: number, r: number, s: number) => `value ${r} ${s} of ${t} ${WORDS[(r + s) % 24]}`;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
}

async function startServer(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', HOLOSERVE_DATA_DIR: dataDir, HOLOSERVE_DIM: '2048', HOLOSERVE_WORKERS: '2', HOLOSERVE_ADMIN_OPS: '1', HOLOSERVE_MEMORY_CAPACITY: '16384' },
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no ready line:\n${out}`)), 60_000);
    proc.stdout!.on('data', () => { const m = /ready on ws:\/\/[^:]+:(\d+)/.exec(out); if (m) { clearTimeout(t); res(Number(m[1])); } });
  });
  return { url: `ws://127.0.0.1:${port}/v1`, stop: () => new Promise((r) => { proc.once('exit', () => r()); proc.kill('SIGTERM'); }) };
}

/** A closed loop of `inflight` workers: text recall (k 10) and, one in eight, a text remember. */
async function load(c: HoloClient, until: () => boolean, inflight = 4): Promise<number[]> {
  const lat: number[] = [];
  let n = 0;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (!until()) {
      const i = n++;
      const t = i % TENANTS;
      const t0 = performance.now();
      if (i % 8 === 7) await c.remember(`tenant-${t}`, `live-${i}`, text(t, 100_000 + i));
      else await c.recall(`tenant-${t}`, text(t, (i * 37) % ITEMS), 10);
      lat.push(performance.now() - t0);
    }
  }));
  return lat;
}

const row = (name: string, lat: number[]) => ({ name, requests: lat.length, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: quantile(lat, 1) });

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holoserve-bench-dim-'));
  const srv = await startServer(dataDir);
  const c = await connect(srv.url, { timeoutMs: 600_000 });
  try {
    const t0 = performance.now();
    // in windows of 128 requests (the connection allows 256 in flight)
    let ps: Promise<unknown>[] = [];
    const send = async (p: Promise<unknown>) => { ps.push(p); if (ps.length >= 128) { await Promise.all(ps); ps = []; } };
    for (let t = 0; t < TENANTS; t++) {
      for (let i = 0; i < ITEMS; i++) await send(c.remember(`tenant-${t}`, `text-${i}`, text(t, i)));
      for (let r = 0; r < RECORDS; r++) {
        const rec: Record<string, string> = {};
        for (let s = 0; s < 24; s++) { rec[`slot-${s}`] = filler(t, r, s); await send(c.anchorPut(`tenant-${t}`, `f-${r}-${s}`, filler(t, r, s))); }
        await send(c.remember(`tenant-${t}`, `rec-${r}`, { record: rec }));
      }
    }
    await Promise.all(ps);
    const units = TENANTS * (ITEMS + RECORDS * 25);
    console.log(`filled ${units} items and anchors over ${TENANTS} tenants in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const phases: ReturnType<typeof row>[] = [];
    const timed = (ms: number) => { const end = performance.now() + ms; return () => performance.now() > end; };
    phases.push(row('before shadow (5 s)', await load(c, timed(5000))));

    const sh = await c.dimension('shadow', { dim: 8192, share: SHARE });
    const s0 = performance.now();
    let done = false;
    let shadowSeconds = 0;
    const poll = (async () => {
      while (!done) {
        const st = await c.dimension('status', { sample: 0 });
        if (st.coverage === 1) { done = true; shadowSeconds = (performance.now() - s0) / 1000; break; }
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    phases.push(row('during shadow', await load(c, () => done)));
    await poll;
    phases.push(row('after rebuild, dual writes on (5 s)', await load(c, timed(5000))));

    const status = await c.dimension('status', { sample: 100_000 });

    // the switch under the same load: the longest request in flight across it
    let switching = true;
    const during = load(c, () => !switching);
    await new Promise((r) => setTimeout(r, 500));
    const sw = await c.dimension('switch');
    await new Promise((r) => setTimeout(r, 500));
    switching = false;
    const switchLat = await during;
    const fin = await c.dimension('finalize');
    phases.push(row('across the switch (1 s)', switchLat));

    const q = status.quality as Record<string, any>;
    const report = {
      units, tenants: TENANTS, share: SHARE, shadow: sh, shadowSeconds, rebuildSeconds: status.rebuildSeconds, phases,
      delta: q.delta, served: q.served, other: q.other, topkAgreement: q.topkAgreement, top1Agreement: q.top1Agreement, replayed: q.replayed,
      switchHeldMs: sw.heldMs, switchLongestRequestMs: quantile(switchLat, 1), finalize: fin,
    };
    console.log(JSON.stringify(report, null, 1));
  } finally {
    c.close();
    await srv.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
