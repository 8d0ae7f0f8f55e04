/**
 * The one file that knows every room and wires them: config → FFT workers → role table →
 * prewarm (SEED §5) → front end → ready. SIGTERM/SIGINT drain in-flight requests and exit 0.
 */
import { endianness } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isLoopback, loadConfig, type Config } from './config.js';
import { Dispatcher } from './batch/dispatcher.js';
import { tokenize } from './kernels/hrr/encode.js';
import { roleTableBytes } from './roles/table.js';
import { Metrics } from './metrics/registry.js';
import type { Knobs, WorkerInfo } from './pool/messages.js';
import { ShardPool } from './pool/pool.js';
import { createRoleTableBuffer, RoleTable } from './roles/table.js';
import { loadRoleFile, removeRoleFile, saveRoleFile } from './roles/file.js';
import { ShardMap } from './pool/shard.js';
import { OP_NAMES, type Limits } from './protocol/ops.js';
import { VectorArena } from './protocol/arena.js';
import { listen, type Listening } from './server/app.js';
import { authRequired } from './server/auth.js';
import { FrameHandler, type ServerState } from './server/connection.js';
import { FALLBACK_MESSAGE, loadUws } from './server/uws.js';
import { admin, ADMIN_OPS, type AdminDeps } from './server/admin.js';
import { HoloError } from './errors.js';
import { log } from './log.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function timed<T>(step: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  const ms = Number((performance.now() - t0).toFixed(1));
  log.info({ step, ms }, `${step} (${ms} ms)`);
  return r;
}

export async function start(cfg: Config): Promise<{ listening: Listening; stop: () => Promise<void> }> {
  if (endianness() !== 'LE') throw new Error('holoserve needs a little-endian host (the wire format is little-endian)');
  const uws = loadUws();
  if (!uws.native) {
    if (!cfg.allowUwsFallback) throw new Error(`${FALLBACK_MESSAGE} (${uws.skipped.join('; ')})`);
    if (authRequired(cfg)) throw new Error('uWebSockets.js is on its JS fallback, which cannot check bearer tokens (no upgrade hooks): refusing to serve with auth required');
    log.warn('WARNING: uWebSockets.js is running its slow JS fallback (allowUwsFallback is set)');
  }
  log.info({ uws: uws.copy, native: uws.native, skipped: uws.skipped }, `uWebSockets.js: ${uws.copy}${uws.native ? '' : ' (JS fallback)'}`);
  if (!isLoopback(cfg.host) && cfg.tokens.length === 0) {
    throw new Error(`config.host is ${cfg.host} (not loopback): configure config.tokens, or every connection would be refused`);
  }

  // 1. configuration (loaded by the caller) and the rooms
  const metrics = new Metrics();
  const state: ServerState = { ready: false, draining: false };
  const sab = createRoleTableBuffer(cfg.dim, cfg.roleTableCapacity);
  const roles = new RoleTable(sab);
  const shards = new ShardMap(cfg.shards, cfg.workers);
  const pool = new ShardPool(cfg, sab, new URL('../workers/shard.js', import.meta.url));

  // 2. the HRR engine in every worker, then the top-N roles (from the role file when valid)
  const infos = await timed(`started ${cfg.workers} shard workers`, () => pool.broadcast<WorkerInfo>({ type: 'init' }));
  const info = infos[0];
  if (infos.some((i) => i.layout !== info.layout)) throw new Error('workers disagree on the FFT engine');
  if (info.fallbackReason) log.warn(`WARNING: FFT engine fell back to fft.js: ${info.fallbackReason}`);
  log.info(`Sinkhorn and heat loops: ${info.kernels}`);
  log.info(`FFT engine ${info.engine} (${info.layout}), D=${cfg.dim}, role table ${cfg.roleTableCapacity} roles (${(roleTableBytes(cfg.dim, cfg.roleTableCapacity) / 2 ** 20).toFixed(0)} MiB shared, committed as used)`);
  const meta = { D: cfg.dim, seed: cfg.roleSeed, layout: info.layout };
  /** The top-N roles, split across the workers; each computes its share into the table. */
  const prewarmRoles = async (): Promise<number> => {
    const refs = roles.acquire(cfg.prewarmRoles);
    try {
      const todo = refs.filter((r) => r.compute);
      const parts = Array.from({ length: pool.size }, (_, w) => todo.filter((_, i) => i % pool.size === w));
      const made = await Promise.all(parts.map((p, w) => (p.length ? pool.run<number>(w, { type: 'roles.compute', roles: p }) : 0)));
      return made.reduce((a, b) => a + b, 0);
    } finally {
      roles.release(refs);
    }
  };
  /** The corruption drill's invariant: stored roles equal fresh ones, bit for bit (≤ 8 sampled). */
  const verifyRoles = async (): Promise<{ checked: number; bad: string[] }> => {
    const all = [...roles.readyEntries()];
    const sample = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 8)) === 0).slice(0, 8);
    const refs = roles.acquire(sample.map((e) => e.token));
    try {
      return { checked: refs.length, bad: await pool.run<string[]>(0, { type: 'roles.verify', roles: refs }) };
    } finally {
      roles.release(refs);
    }
  };
  await timed('role table ready', async () => {
    if (cfg.roleFile) {
      const r = loadRoleFile(cfg.roleFile, roles, meta);
      if ('problem' in r && r.problem !== 'no file') {
        log.warn(`role file ${cfg.roleFile}: ${r.problem}; purging it and rebuilding`);
        roles.purge();
        removeRoleFile(cfg.roleFile);
      } else if (r.loaded > 0) {
        const v = await verifyRoles();
        if (v.bad.length > 0) {
          log.warn(`role file ${cfg.roleFile}: ${v.bad.length} sampled roles differ from a fresh computation; purging and rebuilding`);
          roles.purge();
          removeRoleFile(cfg.roleFile);
        } else {
          log.info(`loaded ${r.loaded} roles from ${cfg.roleFile} (checksum and ${v.checked} sampled roles verified)`);
        }
      }
    }
    const made = await prewarmRoles();
    log.info(`prewarmed ${cfg.prewarmRoles.length} roles (${made} computed)`);
    if (cfg.roleFile) saveRoleFile(cfg.roleFile, roles, meta);
  });

  // 3. system prompts: encoded and pinned in every worker's embedding cache
  if (cfg.systemPrompts.length > 0) {
    await timed(`pinned ${cfg.systemPrompts.length} system prompts`, async () => {
      const tokens = [...new Set(cfg.systemPrompts.flatMap(tokenize))];
      const refs = roles.acquire(tokens);
      await pool.broadcast({ type: 'pin', texts: cfg.systemPrompts, roles: refs });
      roles.release(refs);
    });
  }

  // 4. the front end; everything else is lazy
  const arena = new VectorArena(cfg.dim);
  metrics.vectorsHeld = () => arena.taken;
  const limits: Limits = {
    arena,
    dim: cfg.dim, maxFrameBytes: cfg.maxFrameBytes, sinkhornMaxSize: cfg.sinkhornMaxSize,
    graphMaxNodes: cfg.graphMaxNodes, graphMaxEdges: cfg.graphMaxEdges, maxPayloadBytes: 64 * 1024,
    maxTextChars: 64 * 1024, maxTokens: Math.max(1, Math.floor(cfg.roleTableCapacity / 4)), maxBundle: 1024, maxK: 1024,
  };
  const dispatcher = new Dispatcher(
    { workers: cfg.workers, windowMs: cfg.batchWindowMs, batchMax: cfg.batchMax, pipeline: cfg.workerPipeline, maxQueued: cfg.maxQueued, coalesceLingerMs: cfg.coalesceLingerMs },
    pool, roles, shards, metrics, arena,
  );
  const hello = {
    server: 'holoserve', version: VERSION, dim: cfg.dim, engine: info.engine,
    ops: OP_NAMES.filter((op) => cfg.adminOps || !ADMIN_OPS.includes(op)),
    limits: {
      maxFrameBytes: cfg.maxFrameBytes, maxInflight: cfg.maxInflightPerConnection, sinkhornMaxSize: cfg.sinkhornMaxSize,
      graphMaxNodes: cfg.graphMaxNodes, graphMaxEdges: cfg.graphMaxEdges, maxPayloadBytes: limits.maxPayloadBytes,
      maxTextChars: limits.maxTextChars, maxTokens: limits.maxTokens, maxBundle: limits.maxBundle, maxK: limits.maxK,
    },
  };
  const knobs: Knobs = { unbindBeta: cfg.unbindBeta, rerank: cfg.rerank, rerankMargin: cfg.rerankMargin, rerankCandidates: cfg.rerankCandidates };
  const adminDeps: AdminDeps = {
    enabled: cfg.adminOps, pool, roles, dispatcher, knobs,
    rebuildRoles: async () => {
      const purged = roles.purge();
      if (cfg.roleFile) removeRoleFile(cfg.roleFile);
      const computed = await prewarmRoles();
      const verified = await verifyRoles();
      if (verified.bad.length > 0) throw new HoloError('internal', `roles differ after rebuild: ${verified.bad.join(', ')}`);
      if (cfg.roleFile) saveRoleFile(cfg.roleFile, roles, meta);
      return { purged, computed, verified: verified.checked };
    },
  };
  const handler = new FrameHandler(cfg, limits, dispatcher, metrics, state, () => hello, (p) => admin(adminDeps, p));
  const listening = await listen(uws, cfg, handler, metrics, state);
  state.ready = true;
  const auth = authRequired(cfg) ? 'required' : 'loopback-open';
  log.info({ url: `ws://${cfg.host}:${listening.port}/v1`, host: cfg.host, port: listening.port, dim: cfg.dim, engine: info.engine, workers: cfg.workers, auth, version: VERSION },
    `ready on ws://${cfg.host}:${listening.port}/v1 (D=${cfg.dim}, engine=${info.engine}, workers=${cfg.workers}, auth=${auth})`);

  // Seed §3: tenants most recently active before the last shutdown, loaded in the background.
  if (cfg.prefetchTenants > 0) {
    void (async () => {
      const recent = await pool.run<string[]>(0, { type: 'recent', limit: cfg.prefetchTenants });
      const byWorker = Array.from({ length: pool.size }, () => [] as string[]);
      for (const t of recent) byWorker[shards.worker(t)].push(t);
      const n = await Promise.all(byWorker.map((ts, w) => (ts.length ? pool.run<number>(w, { type: 'prefetch', tenants: ts }) : 0)));
      log.info(`prefetched ${n.reduce((a, b) => a + b, 0)} recently active tenants`);
    })().catch((e: unknown) => log.error({ err: e }, 'tenant prefetch failed'));
  }

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    state.draining = true;
    listening.close();
    log.info(`draining ${dispatcher.pending} requests in flight`);
    const drained = await Promise.race([
      dispatcher.idle().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), cfg.drainTimeoutMs).unref()),
    ]);
    if (!drained) log.warn(`drain timed out after ${cfg.drainTimeoutMs} ms with ${dispatcher.pending} requests pending`);
    listening.closeSockets();
    if (cfg.roleFile) saveRoleFile(cfg.roleFile, roles, meta);
    await pool.broadcast({ type: 'close' }).catch((e: unknown) => log.error({ err: e }, 'worker close failed'));
    await pool.close();
    log.info('stopped');
  })());
  return { listening, stop };
}

/**
 * Loads the config, starts, and resolves with the exit code once stopped: 0 after a SIGTERM or
 * SIGINT drained, 1 if start or shutdown failed, 2 for a bad configuration.
 */
export function runServer(): Promise<number> {
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (e) {
    process.stderr.write(`holoserve: bad configuration: ${(e as Error).message}\n`);
    return Promise.resolve(2);
  }
  return new Promise((exit) => {
    // The handlers go in before start() can print "ready": a SIGTERM right after the ready line
    // (or during start-up) must drain and exit 0, not meet the default action and kill the process.
    const started = start(cfg);
    const onSignal = (sig: string) => {
      log.info(`${sig}: shutting down`);
      started.then(({ stop }) => stop()).then(() => exit(0), (e: unknown) => { log.fatal({ err: e }, 'shutdown failed'); exit(1); });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
    started.catch((e: unknown) => {
      log.fatal({ err: e }, `failed to start: ${(e as Error).message}`);
      exit(1);
    });
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) void runServer().then((code) => process.exit(code));
