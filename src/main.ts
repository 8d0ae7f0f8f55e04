/**
 * The one file that knows every room and wires them: config and truth budget (loaded by the
 * caller, src/cli/commands/serve.ts) → listener up, /readyz 503 → FFT workers → role table →
 * prewarm (SEED §5) → ready. stop() drains: /readyz answers 503 and new WebSockets are refused
 * while the requests in flight finish; then the listener closes.
 */
import { endianness } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isLoopback, type Config } from './config.js';
import { LiveKnobs, knobsFile, pick } from './knobs/live.js';
import { gaugeValue, LIVE_NAMES, NAMES } from './knobs/table.js';
import { Dispatcher } from './batch/dispatcher.js';
import { tokenize } from './kernels/hrr/encode.js';
import { roleTableBytes } from './roles/table.js';
import { Metrics } from './metrics/registry.js';
import { tenantLoad } from './metrics/load.js';
import type { WorkerInfo } from './pool/messages.js';
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
import { DimensionController } from './dimension/controller.js';
import { readDimensionState } from './dimension/state.js';
import { redisOptions } from './store/open.js';
import { watchRedis } from './store/redis-metrics.js';
import { joinCluster } from './cluster/membership.js';
import { log } from './log.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function timed<T>(step: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  const ms = Number((performance.now() - t0).toFixed(1));
  log.info({ step, ms }, `${step} (${ms} ms)`);
  return r;
}

export interface StartOptions {
  /** re-reads the configuration as at start (flags > env > file > defaults) for a reload */
  reload?: () => Config;
  /** live knobs kept from the last run (dataDir/knobs.json), already merged into cfg */
  persisted?: Record<string, unknown>;
}

export async function start(cfg: Config, opts: StartOptions = {}): Promise<{ listening: Listening; stop: () => Promise<void>; reload: (who: string) => Promise<Record<string, unknown>> }> {
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

  // 1. configuration and the truth budget (loaded by the caller: the knob table), the live knobs.
  // A dimension rollout's state in the store decides the served D (src/dimension/state.ts): a
  // switch outlives the configured dim.
  const dimState = readDimensionState(cfg.dataDir, cfg.dim);
  if (dimState.served.D !== cfg.dim) {
    log.info({ dim: dimState.served.D }, `serving D=${dimState.served.D}, not the configured ${cfg.dim}: a dimension rollout switched it (${cfg.dataDir}/dimension.json)`);
    cfg = { ...cfg, dim: dimState.served.D };
  }
  const metrics = new Metrics();
  const live = new LiveKnobs(cfg, knobsFile(cfg.dataDir), (f, m) => log.info(f, m), opts.persisted);
  const budget = live.describe().budget as Record<string, number>;
  log.info({ budget }, `truth budget ${Object.entries(budget).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  live.onChange((k) => { for (const n of LIVE_NAMES) metrics.knob.set({ name: n }, gaugeValue(n, (k as Record<string, unknown>)[n])); });
  const state: ServerState = { ready: false, draining: false };
  // The shared store's configuration is checked before any worker opens it (refusal: exit 1).
  const redis = cfg.store === 'redis' ? await timed(`Redis checked (${cfg.redisPrefix})`, () => watchRedis(redisOptions(cfg), metrics.registry, (w) => log.warn({ redis: cfg.redisPrefix }, `WARNING: ${w}`))) : undefined;

  // 2. the listener, before the prewarm: /readyz answers 503 "prewarming" and WebSocket
  // upgrades are refused until ready (server/app.ts); the frame handler is wired at step 6.
  let handler: FrameHandler | undefined;
  const front = { onMessage: (...a: Parameters<FrameHandler['onMessage']>) => handler!.onMessage(...a) } as unknown as FrameHandler;
  const listening = await listen(uws, cfg, front, metrics, state);
  log.info({ host: cfg.host, port: listening.port }, `listening on ${cfg.host}:${listening.port} (/readyz 503 until prewarmed)`);

  const sab = createRoleTableBuffer(cfg.dim, cfg.roleTableCapacity);
  let roles = new RoleTable(sab);
  const shards = new ShardMap(cfg.shards, cfg.workers);
  const pool = new ShardPool(cfg, sab, new URL('../workers/shard.js', import.meta.url));

  // 3. the HRR engine in every worker, then the top-N roles (from the role file when valid)
  const infos = await timed(`started ${cfg.workers} shard workers`, () => pool.broadcast<WorkerInfo>({ type: 'init' }));
  const info = infos[0];
  if (infos.some((i) => i.layout !== info.layout)) throw new Error('workers disagree on the FFT engine');
  if (info.fallbackReason) log.warn(`WARNING: FFT engine fell back to fft.js: ${info.fallbackReason}`);
  log.info(`Sinkhorn and heat loops: ${info.kernels}`);
  log.info(`Tenant slab pages: ${info.slabPages}`);
  await pool.startLocal(sab, info.layout);
  log.info(`FFT engine ${info.engine} (${info.layout}, finite check ${info.outputCheck}), D=${cfg.dim}, role table ${cfg.roleTableCapacity} roles (${(roleTableBytes(cfg.dim, cfg.roleTableCapacity) / 2 ** 20).toFixed(0)} MiB shared, committed as used)`);
  let meta = { D: cfg.dim, seed: cfg.roleSeed, layout: info.layout };
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
  /** Stored roles equal fresh ones, bit for bit (≤ 8 sampled at start; the drill checks all). */
  const verifyRoles = async (): Promise<{ checked: number; bad: string[] }> => {
    const all = [...roles.readyEntries()];
    const sample = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 8)) === 0).slice(0, 8);
    const r = await pool.run<{ bad: string[] }>(0, { type: 'roles.check', items: sample });
    return { checked: sample.length, bad: r.bad };
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

  // 4. system prompts: encoded and pinned in every worker's embedding cache
  if (cfg.systemPrompts.length > 0) {
    await timed(`pinned ${cfg.systemPrompts.length} system prompts`, async () => {
      const tokens = [...new Set(cfg.systemPrompts.flatMap(tokenize))];
      const refs = roles.acquire(tokens);
      await pool.broadcast({ type: 'pin', texts: cfg.systemPrompts, roles: refs });
      roles.release(refs);
    });
  }

  // 5. the dispatcher; the batching knobs are read from its options object, kept live here
  let arena = new VectorArena(cfg.dim);
  metrics.sources = {
    vectorsHeld: () => arena.taken,
    roles: () => ({ size: roles.size, evictions: roles.evictions }),
    restarts: () => pool.restarts,
    load: () => tenantLoad(pool, shards),
    workers: cfg.workers, shards: cfg.shards,
  };
  const limits: Limits = {
    arena,
    dim: cfg.dim, maxFrameBytes: cfg.maxFrameBytes, sinkhornMaxSize: cfg.sinkhornMaxSize,
    graphMaxNodes: cfg.graphMaxNodes, graphMaxEdges: cfg.graphMaxEdges, maxPayloadBytes: 64 * 1024,
    maxTextChars: 64 * 1024, maxTokens: Math.max(1, Math.floor(cfg.roleTableCapacity / 4)), maxBundle: 1024, maxK: 1024,
    graphMaxBytes: cfg.graphMaxBytes, heatMaxWork: cfg.heatMaxWork, sinkhornMaxWork: cfg.sinkhornMaxWork,
  };
  const dispatchOpts = {
    workers: cfg.workers, windowMs: cfg.batchWindowMs, batchMax: cfg.batchMax, pipeline: cfg.workerPipeline, maxQueued: cfg.maxQueued,
    coalesceLingerMs: cfg.coalesceLingerMs, knobs: () => ({ knobs: live.snapshot(), version: live.version }),
  };
  const dispatcher = new Dispatcher(dispatchOpts, pool, roles, shards, metrics, arena);
  live.onChange((k, changes) => {
    pool.knobsChanged(k, live.version);
    Object.assign(dispatchOpts, { windowMs: k.batchWindowMs, batchMax: k.batchMax, pipeline: k.workerPipeline, coalesceLingerMs: k.coalesceLingerMs });
    if (changes.length > 0) dispatcher.knobsChanged(); // answers computed under the old knobs stop being joinable
  });
  const hello = {
    server: 'holoserve', version: VERSION, dim: cfg.dim, engine: info.engine,
    ops: OP_NAMES.filter((op) => cfg.adminOps || !ADMIN_OPS.includes(op)),
    limits: {
      maxFrameBytes: cfg.maxFrameBytes, maxInflight: cfg.maxInflightPerConnection, sinkhornMaxSize: cfg.sinkhornMaxSize,
      graphMaxNodes: cfg.graphMaxNodes, graphMaxEdges: cfg.graphMaxEdges, maxPayloadBytes: limits.maxPayloadBytes,
      maxTextChars: limits.maxTextChars, maxTokens: limits.maxTokens, maxBundle: limits.maxBundle, maxK: limits.maxK,
      graphMaxBytes: cfg.graphMaxBytes, heatMaxWork: cfg.heatMaxWork, sinkhornMaxWork: cfg.sinkhornMaxWork,
    },
  };

  /** Config reload (SIGHUP, `holoserve knobs reload`): the live knobs take the file's values. */
  const reload = async (who: string): Promise<Record<string, unknown>> => {
    if (!opts.reload) throw new HoloError('bad_request', 'this server was started without a reloadable configuration');
    let next: Config;
    try {
      next = opts.reload();
    } catch (e) {
      throw new HoloError('bad_request', `reload refused, nothing changed: ${(e as Error).message}`);
    }
    const changed = live.set(pick(next), who, false);
    const restartNeeded = NAMES.filter((n) => !LIVE_NAMES.includes(n) && JSON.stringify(next[n]) !== JSON.stringify(cfg[n]));
    if (restartNeeded.length > 0) log.warn({ restartNeeded }, `reload: ${restartNeeded.join(', ')} changed but need a restart`);
    return { changed, restartNeeded };
  };
  const startedAt = Date.now();
  const adminDeps: AdminDeps = {
    enabled: cfg.adminOps, cfg, pool, roles, dispatcher, live, meta, prewarm: prewarmRoles, reload, metrics,
    load: () => tenantLoad(pool, shards),
    status: async () => {
      const workers = await pool.broadcast<Record<string, unknown>>({ type: 'status' });
      const over = (await metrics.overBudget.get()).values.map((v) => [v.labels.op, v.value]);
      const sum = (k: string) => workers.reduce((a, w) => a + ((w[k] as number) ?? 0), 0);
      return {
        ready: state.ready, draining: state.draining, version: VERSION, uptimeSeconds: (Date.now() - startedAt) / 1000,
        workers: { count: pool.size, restarts: pool.restarts, perWorker: workers },
        requests: { pending: dispatcher.pending },
        tenantsLoaded: sum('tenantsLoaded'),
        memory: { heldBytes: sum('heldBytes') + sum('otherHeldBytes'), budgetBytes: cfg.memoryBudgetBytes },
        caches: { roleTable: { size: roles.size, capacity: cfg.roleTableCapacity }, embeddingEntries: sum('embeddingCacheEntries'), recallEntries: sum('recallCacheEntries') },
        budget: { ...(live.describe().budget as object), overBudgetReplies: Object.fromEntries(over) },
        knobsVersion: live.version,
      };
    },
  };
  // 6. the front end; everything else is lazy
  const dimension = new DimensionController({
    cfg, pool, shards, dispatcher,
    log: (msg) => log.info(msg),
    roles: () => roles,
    serve: async (D, table) => {
      // Under the dispatcher's barrier: no batch is in flight, none starts until this returns.
      roles = table;
      meta = { ...meta, D };
      arena = new VectorArena(D);
      limits.dim = D;
      limits.arena = arena;
      hello.dim = D;
      adminDeps.roles = table;
      adminDeps.meta = meta;
      dispatcher.swapDimension(table, arena);
      await pool.startLocal(table.sab, info.layout, D);
      // The role file is rebuilt for the new D (the prewarm roles, in the background).
      void prewarmRoles().then(() => { if (cfg.roleFile) saveRoleFile(cfg.roleFile, roles, meta); })
        .catch((e: unknown) => log.error(`role prewarm at D=${D} failed: ${String(e)}`));
    },
    shadowDim: (D) => { limits.shadowDim = D; },
    memoryBudgetBytes: cfg.memoryBudgetBytes, metrics,
  });
  adminDeps.dimension = dimension;
  handler = new FrameHandler(cfg, limits, dispatcher, metrics, state, () => hello, (p) => admin(adminDeps, p));
  // Ownership across processes sharing the Redis: joined once listening, so that tenants sent here are served.
  const cluster = cfg.advertiseUrl ? await timed(`joined the members as ${cfg.advertiseUrl}`, () => joinCluster({ url: cfg.redisUrl, prefix: cfg.redisPrefix, self: cfg.advertiseUrl, heartbeatMs: cfg.heartbeatMs })) : undefined;
  if (cluster) state.ownerOf = (t) => { const o = cluster.owner(t); return o === cfg.advertiseUrl ? null : o; };
  state.ready = true;
  const auth = authRequired(cfg) ? 'required' : 'loopback-open';
  log.info({ url: `ws://${cfg.host}:${listening.port}/v1`, host: cfg.host, port: listening.port, dim: cfg.dim, engine: info.engine, workers: cfg.workers, auth, version: VERSION },
    `ready on ws://${cfg.host}:${listening.port}/v1 (D=${cfg.dim}, engine=${info.engine}, workers=${cfg.workers}, auth=${auth})`);

  // Seed §3: tenants most recently active before the last shutdown, loaded in the background.
  void dimension.resume().catch((e: unknown) => log.error(`dimension rollout resume failed: ${String(e)}`));
  if (cfg.prefetchTenants > 0) {
    void (async () => {
      const recent = await pool.run<string[]>(0, { type: 'recent', limit: cfg.prefetchTenants });
      const byWorker = Array.from({ length: pool.size }, () => [] as string[]);
      for (const t of recent) if (!state.ownerOf?.(t)) byWorker[shards.worker(t)].push(t);
      const n = await Promise.all(byWorker.map((ts, w) => (ts.length ? pool.run<number>(w, { type: 'prefetch', tenants: ts }) : 0)));
      log.info(`prefetched ${n.reduce((a, b) => a + b, 0)} recently active tenants`);
    })().catch((e: unknown) => log.error({ err: e }, 'tenant prefetch failed'));
  }

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    // The listener stays up while draining: /readyz answers 503 "draining" and new WebSockets
    // are refused (server/app.ts) until the last request in flight is answered.
    state.draining = true;
    await cluster?.leave(); // the others take our tenants over (our leases are released at worker close)
    log.info(`draining ${dispatcher.pending} requests in flight`);
    const drained = await Promise.race([
      dispatcher.idle().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), cfg.drainTimeoutMs).unref()),
    ]);
    if (!drained) log.warn(`drain timed out after ${cfg.drainTimeoutMs} ms with ${dispatcher.pending} requests pending`);
    listening.close();
    listening.closeSockets();
    await dimension.close();
    if (cfg.roleFile) saveRoleFile(cfg.roleFile, roles, meta);
    await pool.broadcast({ type: 'close' }).catch((e: unknown) => log.error({ err: e }, 'worker close failed'));
    await pool.close();
    await redis?.close();
    log.info('stopped');
  })());
  return { listening, stop, reload };
}

// `node dist/src/main.js [flags]` is `holoserve serve [flags]` (tests and old scripts use it).
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const { serveWith } = await import('./cli/commands/serve.js');
  const code = await serveWith(start, process.argv.slice(2));
  if (code !== 0) process.exit(code);
}

