/** What a run compares against: the in-process kernel and native FFTW baseline, op setup (recall, heat), the coalescing trial. (bench/load/, docs/LOAD.md) */
import { availableParallelism } from 'node:os';
import { bin, connect } from '../../src/client/client.js';
import { bindSpectrum, bindWith, createHrr, role, roleSpectrum, unbindWith } from '../../src/kernels/index.js';
import { measure } from '../timing.js';
import { buildFftwBind, checkNativeAgrees, runNative, writeNativeInput } from '../fftw-bind.js';
import { Op } from './args.js';
import { gaussian, int, now, rng, sleep } from './util.js';
import { FramePool, HEAT_GRAPH, ID_PLACEHOLDER, RECALL_TENANT, SEND_OPTS, decodeReply, packr } from './frames.js';
import { Target, delta, scrape } from './server.js';
import { Conn, oneShot } from './driver.js';
// ---------------------------------------------------------------------------------------------
// In-process kernel rate

export interface InProcess {
  D: number; engine: string; tBindRoleUs: number; tBindUs: number; tUnbindUs: number; cores: number; perThread: number; limit: number;
  /** native FFTW (bench/native/fftw-bind.c) in this run, µs: cached-role bind and exact unbind */
  native?: { bindSpectrumUs: number; unbindUs: number; bindUs: number };
}

/** The native FFTW baseline at D, timed now (undefined, and why printed, without cc/libfftw3). */
export async function nativeBaseline(D: number): Promise<InProcess['native']> {
  const native = buildFftwBind();
  if (!native) return undefined;
  try {
    const hrr = await createHrr(D, 'pffft');
    const u = rng(11);
    const a = gaussian(D, u), b = gaussian(D, u);
    const x = { a, b, c: bindWith(hrr, a, b), r: role('agent', D, 0), R: roleSpectrum(hrr, role('agent', D, 0)) };
    writeNativeInput(native.dir, hrr, x);
    const t = runNative(native, D);
    checkNativeAgrees(native.dir, hrr, x);
    return { bindSpectrumUs: t.bind_spectrum_us, unbindUs: t.unbind_us, bindUs: t.bind_us };
  } finally {
    native.remove();
  }
}

export async function inProcess(D: number): Promise<InProcess> {
  const hrr = await createHrr(D, 'pffft');
  const R = roleSpectrum(hrr, role('agent', D, 0));
  const u = rng(7);
  const a = gaussian(D, u), b = gaussian(D, u), out = new Float32Array(D);
  const inner = Math.max(1, Math.round(20 * 8192 / D));
  const r1 = measure('bind-role', `D=${D}`, () => bindSpectrum(hrr, a, R, out), { warmup: 300, inner, reps: 400, budgetMs: 1500 });
  const r2 = measure('bind', `D=${D}`, () => bindWith(hrr, a, b, out), { warmup: 100, inner, reps: 200, budgetMs: 700 });
  const cores = availableParallelism();
  const perThread = 1e6 / r1.medianUs;
  const c = bindWith(hrr, a, b), uout = new Float32Array(D);
  const r3 = measure('unbind', `D=${D}`, () => unbindWith(hrr, c, b, {}, uout), { warmup: 100, inner, reps: 200, budgetMs: 700 });
  const native = await nativeBaseline(D);
  const res: InProcess = { D, engine: hrr.engine.name, tBindRoleUs: r1.medianUs, tBindUs: r2.medianUs, tUnbindUs: r3.medianUs, cores, perThread, limit: cores * perThread, native };
  console.log(`\n== in-process kernel (this process, single thread, ${res.engine}, D=${D}) ==`);
  console.log(`  bind-by-role (bindSpectrum, cached role spectrum): t_bind = ${res.tBindRoleUs.toFixed(1)} µs median (p10 ${r1.p10Us.toFixed(1)}, p90 ${r1.p90Us.toFixed(1)})`);
  console.log(`  bind(a, b) for reference: ${res.tBindUs.toFixed(1)} µs median; exact unbind(c, b) ${res.tUnbindUs.toFixed(1)} µs`);
  console.log(`  in-process limit = ${cores} cores × 1/t_bind = ${cores} × ${int(perThread)}/s = ${int(res.limit)} binds/s`);
  if (native) console.log(`  native FFTW (fftw-bind.c, -O3 -march=native, same run): cached-role bind ${native.bindSpectrumUs.toFixed(1)} µs, bind ${native.bindUs.toFixed(1)} µs, exact unbind ${native.unbindUs.toFixed(1)} µs`);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Setup for recall and heat

export async function setupOp(op: Op, url: string, D: number, items: number, nodes: number): Promise<void> {
  if (op !== 'recall' && op !== 'heat') return;
  const c = await connect(url, { timeoutMs: 60_000 });
  try {
    if (op === 'recall') {
      const t = now();
      const u = rng(99);
      // 16 in flight, each retried (up to 5 times) when the server answers an error: a burst of
      // writes to one tenant can meet the worker's task-queue limit (see docs/LOAD.md).
      let retries = 0;
      const failures: Record<string, number> = {};
      const one = async (i: number) => {
        const vector = bin(gaussian(D, u));
        for (let attempt = 0; ; attempt++) {
          try {
            await c.request('remember', { tenant: RECALL_TENANT, key: `item-${i}`, vector });
            return;
          } catch (e) {
            const why = `${(e as { code?: string }).code}: ${(e as Error).message}`;
            failures[why] = (failures[why] ?? 0) + 1;
            if (attempt >= 5) throw e;
            retries++;
            await sleep(5 * (attempt + 1));
          }
        }
      };
      for (let i = 0; i < items; i += 16) await Promise.all(Array.from({ length: Math.min(16, items - i) }, (_, j) => one(i + j)));
      const st = await c.stats(RECALL_TENANT);
      console.log(`  recall: remembered ${items} vectors in tenant '${RECALL_TENANT}' (${st.items} items, capacity ${st.capacity}) in ${((now() - t) / 1000).toFixed(1)} s` +
        (retries ? `; ${retries} remembers retried after errors: ${Object.entries(failures).map(([k, v]) => `${v}× ${k}`).join('; ')}` : ''));
    } else {
      const u = rng(123);
      const E = nodes * 4;
      const src = new Uint32Array(E), dst = new Uint32Array(E);
      for (let i = 0; i < nodes; i++) {
        src[4 * i] = i; dst[4 * i] = (i + 1) % nodes; // a ring keeps it connected
        for (let j = 1; j < 4; j++) { src[4 * i + j] = i; dst[4 * i + j] = Math.floor(u() * nodes); }
      }
      const r = await c.graphPut(HEAT_GRAPH, { n: nodes, src, dst });
      console.log(`  heat: graph '${HEAT_GRAPH}' put once (n=${r.n}, nnz=${r.nnz}); heat requests go to the worker that holds it`);
    }
  } finally {
    c.close();
  }
}

/** One request of the op, decoded in full: fails early, with the server's message, if the op does not work. */
export async function probe(op: Op, pool: FramePool, c: Conn, D: number): Promise<void> {
  const id = c.newId();
  const k = pool.take(id);
  const buf = Buffer.from(k >= 0 ? pool.frames[k] : pool.spare(id));
  if (k >= 0) pool.frees[k]();
  const r = await oneShot(c, buf, id);
  if (!r.reply.ok) throw new Error(`${op} probe failed: ${r.reply.code}: ${r.reply.message}`);
  const v = r.reply.msg.vector;
  if ((op === 'bind' || op === 'bind-role' || op === 'unbind') && !(v instanceof Uint8Array && v.byteLength === 4 * D)) {
    throw new Error(`${op} probe: reply has no vector of ${D} float32`);
  }
}

// ---------------------------------------------------------------------------------------------
// Coalescing check: N identical requests at once → 1 computation

export interface CoalesceTrial { sent: number; computed: number; coalesced: number; errors: number; sendMs: number; lastReplyMs: number }

export async function coalesceTrial(conns: Conn[], target: Target, D: number, seed: number, n = 64): Promise<CoalesceTrial> {
  const body = { id: ID_PLACEHOLDER, op: 'bind', a: bin(gaussian(D, rng(seed))), role: 'agent' };
  const before = await scrape(target.http);
  if (!before) throw new Error(`cannot read ${target.http}/metrics`);
  let replies = 0, errors = 0, sendMs = 0, lastReplyMs = 0;
  const done = new Promise<void>((res) => {
    const frames: [Conn, Buffer][] = [];
    for (let i = 0; i < n; i++) {
      const c = conns[i % conns.length];
      const id = c.newId();
      frames.push([c, Buffer.from(packr.pack({ ...body, id }))]);
    }
    for (const c of new Set(frames.map(([x]) => x))) {
      c.onReply = (data, t) => {
        const r = decodeReply(data);
        if (!r.ok) errors++;
        if (++replies === n) { lastReplyMs = t - t0; res(); }
      };
    }
    const t0 = now();
    for (const [c, f] of frames) c.ws.send(f, SEND_OPTS); // all in one tick
    sendMs = now() - t0;
  });
  await Promise.race([done, sleep(30_000)]);
  for (const c of conns) c.onReply = () => {};
  await sleep(50);
  const after = (await scrape(target.http))!;
  return {
    sent: n, errors: errors + (n - replies), sendMs, lastReplyMs,
    computed: delta(after, before, 'holoserve_computations_total{op="bind"}'),
    coalesced: delta(after, before, 'holoserve_coalesced_total{op="bind"}'),
  };
}
