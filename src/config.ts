/**
 * Every setting, its default and its unit. Sources, later wins: these defaults, a JSON file
 * named by HOLOSERVE_CONFIG, then environment variables (HOST, PORT, HOLOSERVE_<NAME> with the
 * setting's name in UPPER_SNAKE, e.g. HOLOSERVE_BATCH_WINDOW_MS=2). Validated at start: a bad
 * value stops the server with a message naming the setting.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { isSupportedDim } from './kernels/check.js';

export interface Config {
  /** Listen address. Loopback needs no auth; any other address requires tokens. */
  host: string;
  /** TCP port (0: ephemeral, the ready line says which). */
  port: number;
  /** HRR dimension D served (power of two in [256, 16384]). */
  dim: number;
  /** Seed of every role (roles differ per seed). */
  roleSeed: number;
  /** FFT engine: 'pffft' (WASM SIMD, float32) or 'fftjs' (float64 reference). */
  fftEngine: 'pffft' | 'fftjs';
  /** Shard worker threads (each owns the shards that hash to it). */
  workers: number;
  /** Number of shards tenants hash to (jump hash); shard s is served by worker s mod workers. */
  shards: number;
  /** Micro-batch window: the longest a request waits for company, milliseconds. */
  batchWindowMs: number;
  /** A finished pure computation stays joinable by identical requests this long, ms (0: off). */
  coalesceLingerMs: number;
  /** Largest batch sent to a worker as one task, requests. */
  batchMax: number;
  /** Batches in flight per worker before new requests queue (1 executing + pipelined). */
  workerPipeline: number;
  /** Maximum WebSocket frame, bytes. */
  maxFrameBytes: number;
  /** Requests in flight per connection (credits); beyond: `overloaded`. */
  maxInflightPerConnection: number;
  /** Requests queued server-wide before `overloaded`. */
  maxQueued: number;
  /** Buffered reply bytes per connection before new requests are refused, bytes. */
  maxBackpressureBytes: number;
  /** Idle WebSocket timeout, seconds (uWS: multiple of 4, 8..960; 0 disables). */
  idleTimeoutSeconds: number;
  /** Sinkhorn n and m limit (the seed's request-path rule). */
  sinkhornMaxSize: number;
  /** Heat: node and edge limits for one graph. */
  graphMaxNodes: number;
  graphMaxEdges: number;
  /** Graphs kept per worker (least recently used leave). */
  graphsPerWorker: number;
  /** Role table: distinct tokens kept (LRU beyond), roles generated at start. */
  roleTableCapacity: number;
  prewarmRoles: string[];
  /** Role table file (persisted with a checksum); '' disables persistence. */
  roleFile: string;
  /** Data directory for the durable store (LMDB) and the role file. */
  dataDir: string;
  // ── durable store (issue #15: docs/OPERATIONS.md "Store"; src/store/open.ts) ──
  /** 'lmdb' (embedded, one machine) or 'redis' (shared by many pods). Chosen once at start. */
  store: 'lmdb' | 'redis';
  /** redis://[user:password@]host:port[/db] (or rediss:// for TLS). */
  redisUrl: string;
  /** Namespace of every key holoserve writes: letters, digits, '_', '.', '-', then one ':'. */
  redisPrefix: string;
  /** Start even if Redis's maxmemory-policy can evict keys (acknowledged memory may vanish). */
  allowRedisEviction: boolean;
  /** Start even if Redis does not fsync every write (appendonly yes + appendfsync always). */
  allowRedisWithoutFsync: boolean;
  /** Replicas that must acknowledge each commit (Redis WAIT) before it is acknowledged; 0: none. */
  redisWaitReplicas: number;
  /** How long a commit waits for those replicas, ms. */
  redisWaitTimeoutMs: number;
  /**
   * This process's URL as clients reach it (ws://host:port/v1). Set (Redis mode only): the
   * processes sharing the Redis own tenants by lease and answer `moved` for the others' ('': off).
   */
  advertiseUrl: string;
  /** A tenant's lease: held this long past its last use by its owner, ms. */
  leaseTtlMs: number;
  /** Membership heartbeat period, ms; a process silent for 3 periods is out. */
  heartbeatMs: number;
  // ── end durable store ──
  /** Working-memory capacity per tenant, items. */
  memoryCapacity: number;
  /** Anchors per tenant. */
  anchorsMax: number;
  /** Eviction policy at memory pressure: 'oldest' or 'salience'. */
  evictionPolicy: 'oldest' | 'salience';
  /** Recall result cache TTL, milliseconds (< 2000). */
  recallCacheTtlMs: number;
  /** Embedding cache entries per worker; system prompts are pinned. */
  embeddingCacheSize: number;
  systemPrompts: string[];
  /** Tenants prefetched at start (most recently active before shutdown). */
  prefetchTenants: number;
  /** HRR-first rerank: on/off, margin threshold, candidates reranked. Live knobs. */
  rerank: boolean;
  rerankMargin: number;
  rerankCandidates: number;
  /** Unbind regularisation beta default (see kernels/hrr/unbind.ts). Live knob. */
  unbindBeta: number;
  // ---- recall at scale (issue #10; docs/MEMORY.md "Recall", docs/OPERATIONS.md) ----
  /** How recall scans by default: 'exact' (every row) or 'binary' (1-bit index + exact rescoring). */
  recallMode: 'exact' | 'binary';
  /** Binary mode: candidates rescored exactly = max(k, 2) × this. */
  recallOversampling: number;
  /** Tenant memory held in RAM over all workers, bytes; least recently used tenants are unloaded past it. */
  memoryBudgetBytes: number;
  /** Helper threads per worker that share an exact scan of a slab ≥ 8 MiB (0: the worker scans alone). */
  recallSplitThreads: number;
  // ---- end recall at scale ----
  /** Auth tokens: salted SHA-256 hashes mapped to tenants ('*' for any); admin: may run the admin ops. Required off loopback. */
  tokens: { salt: string; sha256: string; tenants: string[]; admin?: boolean }[];
  /** Enable the admin ops (knobs, drill). Off by default: they change or break a live server. */
  adminOps: boolean;
  /** Run even if uWebSockets.js fell back to its slow JS server. */
  allowUwsFallback: boolean;
  /** Grace for draining in-flight requests at SIGTERM, milliseconds. */
  drainTimeoutMs: number;
  // ---- Budgets on hostile input (issue #9; docs/OPERATIONS.md "Budgets"). Each refusal is
  // counted in holoserve_budget_refusals_total{budget}. ----
  /** Largest graph (graph.put, inline heat): peak kernel memory while building it, 32·n + 48·m bytes (m edges). */
  graphMaxBytes: number;
  /** Stored graphs per worker, bytes kept (20·n + 24·nnz each); least recently used leave first. */
  graphBytesPerWorker: number;
  /** Heat work per request: K·(nnz + n·|t|) multiply-adds (~1 ns each). */
  heatMaxWork: number;
  /** Sinkhorn work per request: maxIter·n·m (the iteration bound times the plan's size). */
  sinkhornMaxWork: number;
  /** Distinct tenants one connection may name per second (new names beyond: `overloaded`). */
  tenantsPerConnectionPerSecond: number;
  /** GET /metrics needs `Authorization: Bearer <token>` (any configured token) whenever auth is required. */
  metricsToken: boolean;
}

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 7878,
  dim: 8192,
  roleSeed: 0,
  fftEngine: 'pffft',
  // cores − 1: the main thread (uWS, decode, replies) needs a core of its own; measured on 2
  // cores, 1 worker served bind-by-role at 1.05–1.16× the rate of 2 (docs/LOAD.md).
  workers: Math.max(1, availableParallelism() - 1),
  shards: 64,
  batchWindowMs: 5,
  coalesceLingerMs: 10,
  batchMax: 64,
  workerPipeline: 2,
  maxFrameBytes: 4 * 1024 * 1024,
  maxInflightPerConnection: 256,
  maxQueued: 20_000,
  maxBackpressureBytes: 16 * 1024 * 1024,
  idleTimeoutSeconds: 120,
  sinkhornMaxSize: 64,
  graphMaxNodes: 1_000_000,
  graphMaxEdges: 10_000_000,
  graphsPerWorker: 64,
  roleTableCapacity: 2048,
  prewarmRoles: [],
  roleFile: './data/roles.bin',
  dataDir: './data',
  // durable store (issue #15)
  store: 'lmdb',
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'holoserve:',
  allowRedisEviction: false,
  allowRedisWithoutFsync: false,
  redisWaitReplicas: 0,
  redisWaitTimeoutMs: 1000,
  advertiseUrl: '',
  leaseTtlMs: 5000,
  heartbeatMs: 1000,
  memoryCapacity: 4096,
  anchorsMax: 1024,
  evictionPolicy: 'oldest',
  recallCacheTtlMs: 1000,
  embeddingCacheSize: 4096,
  systemPrompts: [],
  prefetchTenants: 16,
  rerank: false,
  rerankMargin: 0.02,
  rerankCandidates: 8,
  unbindBeta: 1e-3,
  // ---- recall at scale (issue #10) ----
  recallMode: 'binary',
  recallOversampling: 16,
  memoryBudgetBytes: Math.floor(totalmem() / 4),
  recallSplitThreads: 0,
  // ---- end recall at scale ----
  tokens: [],
  adminOps: false,
  allowUwsFallback: false,
  drainTimeoutMs: 10_000,
  // budgets (issue #9)
  graphMaxBytes: 256 * 1024 * 1024,
  graphBytesPerWorker: 512 * 1024 * 1024,
  heatMaxWork: 1e9,
  sinkhornMaxWork: 1e8,
  tenantsPerConnectionPerSecond: 2000,
  metricsToken: true,
};

/** The default top-N roles generated at start: position and common structure tokens. */
export function defaultPrewarmRoles(n = 64): string[] {
  const base = ['agent', 'user', 'system', 'subject', 'verb', 'object', 'time', 'place', 'cause', 'effect',
    'goal', 'state', 'action', 'result', 'before', 'after', 'left', 'right', 'name', 'value'];
  const out = [...base];
  for (let i = 0; out.length < n; i++) out.push(`pos:${i}`);
  return out.slice(0, n);
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** Parses an environment string into the type of the default. */
function fromEnv(name: keyof Config, raw: string): unknown {
  const d = DEFAULTS[name];
  if (typeof d === 'number') return Number(raw);
  if (typeof d === 'boolean') return raw === '1' || raw.toLowerCase() === 'true';
  if (Array.isArray(d)) return JSON.parse(raw);
  return raw;
}

/** Loads defaults ← HOLOSERVE_CONFIG file ← environment, then validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const cfg: Config = { ...DEFAULTS, prewarmRoles: defaultPrewarmRoles() };
  if (env.HOLOSERVE_CONFIG) {
    const file = JSON.parse(readFileSync(env.HOLOSERVE_CONFIG, 'utf8')) as Partial<Config>;
    for (const [k, v] of Object.entries(file)) {
      if (!(k in DEFAULTS)) throw new Error(`config file: unknown setting '${k}'`);
      (cfg as unknown as Record<string, unknown>)[k] = v;
    }
  }
  if (env.HOST) cfg.host = env.HOST;
  if (env.PORT) cfg.port = Number(env.PORT);
  for (const k of Object.keys(DEFAULTS) as (keyof Config)[]) {
    const raw = env['HOLOSERVE_' + snake(k)];
    if (raw !== undefined) (cfg as unknown as Record<string, unknown>)[k] = fromEnv(k, raw);
  }
  Object.assign(cfg, overrides);
  validateConfig(cfg);
  return cfg;
}

/** Throws Error naming the setting, Piscina-style: "config.port must be ...". */
export function validateConfig(c: Config): void {
  const int = (k: keyof Config, lo: number, hi: number) => {
    const v = c[k] as number;
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) throw new Error(`config.${k} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  };
  const num = (k: keyof Config, lo: number, hi: number) => {
    const v = c[k] as number;
    if (!(typeof v === 'number' && v >= lo && v <= hi)) throw new Error(`config.${k} must be a number in [${lo}, ${hi}], got ${String(v)}`);
  };
  int('port', 0, 65535);
  if (!isSupportedDim(c.dim)) throw new Error(`config.dim must be a power of two in [256, 16384], got ${c.dim}`);
  int('roleSeed', 0, 0xffffffff);
  if (c.fftEngine !== 'pffft' && c.fftEngine !== 'fftjs') throw new Error(`config.fftEngine must be 'pffft' or 'fftjs'`);
  int('workers', 1, 256);
  int('shards', 1, 1 << 16);
  num('batchWindowMs', 0, 1000);
  int('batchMax', 1, 4096);
  num('coalesceLingerMs', 0, 1000);
  int('workerPipeline', 1, 64);
  int('maxFrameBytes', 1024, 256 * 1024 * 1024);
  if (c.maxFrameBytes < 4 * c.dim + 1024) throw new Error(`config.maxFrameBytes must be ≥ 4·dim + 1024 = ${4 * c.dim + 1024} (a vector and its reply must fit in a frame)`);
  int('maxInflightPerConnection', 1, 1 << 20);
  int('maxQueued', 1, 1 << 24);
  int('maxBackpressureBytes', 64 * 1024, 1 << 30);
  int('idleTimeoutSeconds', 0, 960);
  if (c.idleTimeoutSeconds !== 0 && (c.idleTimeoutSeconds < 8 || c.idleTimeoutSeconds % 4 !== 0)) {
    throw new Error('config.idleTimeoutSeconds must be 0 or a multiple of 4 in [8, 960] (uWS rule)');
  }
  int('sinkhornMaxSize', 1, 4096);
  int('graphMaxNodes', 1, 1 << 28);
  int('graphMaxEdges', 1, 1 << 30);
  int('graphsPerWorker', 1, 1 << 16);
  int('roleTableCapacity', 1, 1 << 20);
  if (!Array.isArray(c.prewarmRoles) || c.prewarmRoles.some((t) => typeof t !== 'string')) throw new Error('config.prewarmRoles must be a list of strings');
  if (c.prewarmRoles.length > c.roleTableCapacity) throw new Error('config.prewarmRoles has more roles than config.roleTableCapacity');
  // durable store (issue #15)
  if (c.store !== 'lmdb' && c.store !== 'redis') throw new Error(`config.store must be 'lmdb' or 'redis', got ${String(c.store)}`);
  if (typeof c.redisUrl !== 'string' || !/^rediss?:\/\/./.test(c.redisUrl)) throw new Error('config.redisUrl must be a redis:// or rediss:// URL');
  if (typeof c.redisPrefix !== 'string' || !/^[A-Za-z0-9_.-]{1,64}:$/.test(c.redisPrefix)) {
    throw new Error(`config.redisPrefix must be 1-64 of [A-Za-z0-9_.-] followed by one ':' (e.g. 'holoserve:'), got ${JSON.stringify(c.redisPrefix)}`);
  }
  int('redisWaitReplicas', 0, 64);
  int('redisWaitTimeoutMs', 1, 60_000);
  if (typeof c.advertiseUrl !== 'string' || (c.advertiseUrl !== '' && !/^wss?:\/\/./.test(c.advertiseUrl))) throw new Error("config.advertiseUrl must be '' or a ws:// or wss:// URL");
  if (c.advertiseUrl !== '' && c.store !== 'redis') throw new Error("config.advertiseUrl (tenant ownership across processes) needs config.store 'redis'");
  int('leaseTtlMs', 100, 600_000);
  int('heartbeatMs', 10, 60_000);
  int('memoryCapacity', 1, 1 << 22);
  int('anchorsMax', 1, 1 << 20);
  if (c.evictionPolicy !== 'oldest' && c.evictionPolicy !== 'salience') throw new Error(`config.evictionPolicy must be 'oldest' or 'salience'`);
  num('recallCacheTtlMs', 0, 1999);
  int('embeddingCacheSize', 1, 1 << 22);
  int('prefetchTenants', 0, 1 << 16);
  num('rerankMargin', 0, 2);
  int('rerankCandidates', 2, 1024);
  if (!(c.unbindBeta > 0 && Number.isFinite(c.unbindBeta))) throw new Error('config.unbindBeta must be a positive finite number');
  // ---- recall at scale (issue #10) ----
  if (c.recallMode !== 'exact' && c.recallMode !== 'binary') throw new Error(`config.recallMode must be 'exact' or 'binary'`);
  int('recallOversampling', 1, 1024);
  int('memoryBudgetBytes', 1 << 20, Number.MAX_SAFE_INTEGER);
  int('recallSplitThreads', 0, 64);
  // ---- end recall at scale ----
  int('drainTimeoutMs', 0, 600_000);
  // budgets (issue #9)
  int('graphMaxBytes', 1024, 2 ** 40);
  int('graphBytesPerWorker', 1024, 2 ** 40);
  if (c.graphMaxBytes > c.graphBytesPerWorker) throw new Error('config.graphMaxBytes must be ≤ config.graphBytesPerWorker (a graph must fit its worker)');
  num('heatMaxWork', 1, 1e15);
  num('sinkhornMaxWork', 1, 1e15);
  int('tenantsPerConnectionPerSecond', 1, 1 << 24);
  if (typeof c.metricsToken !== 'boolean') throw new Error('config.metricsToken must be a boolean');
  if (!Array.isArray(c.tokens)) throw new Error('config.tokens must be a list');
  for (const t of c.tokens) {
    if (typeof t.salt !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256) || !Array.isArray(t.tenants) || (t.admin !== undefined && typeof t.admin !== 'boolean')) {
      throw new Error('config.tokens entries must be {salt: string, sha256: 64 hex chars, tenants: string[], admin?: boolean}');
    }
  }
}

/** True for 127.0.0.0/8, ::1 and localhost: the addresses that need no auth. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
