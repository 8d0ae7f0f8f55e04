/**
 * THE knob table: every setting of holoserve, defined once (name, type, range, default, unit,
 * live or restart-only, doc line). Everything else derives from it: the Config type, config
 * validation (validate.ts), env names (HOLOSERVE_<UPPER_SNAKE>), CLI flags (--kebab-case), the
 * `knobs` admin op (the live ones), docs/OPERATIONS.md's settings table (test/knobs checks it
 * matches `markdownTable()`), and the workers' copy of the live knobs.
 *
 * Live knobs change while serving (knobs op, `holoserve knobs set`, config reload on SIGHUP);
 * restart-only ones need a restart. The six truth-budget knobs (budget: the name the guidelines
 * give them) are loaded first and bound the error every computed reply may report
 * (docs/OPERATIONS.md "The truth budget").
 */
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';

export type Kind = 'int' | 'number' | 'boolean' | 'string' | 'enum' | 'strings' | 'json';

export interface Spec<T, L extends boolean = boolean> {
  kind: Kind;
  /** the default, or how to derive it from the settings before it in the table */
  default: T | ((c: Record<string, unknown>) => T);
  /** how the docs show the default when it is derived */
  defaultDoc?: string;
  /** numbers: inclusive range, or exclusive at the bottom when minExclusive */
  min?: number;
  max?: number;
  minExclusive?: boolean;
  /** enum: the allowed values */
  values?: readonly string[];
  unit: string;
  live: L;
  doc: string;
  /** the truth-budget field this knob is (snake_case, as the guidelines name it) */
  budget?: string;
  /** further env names read for it (kept working from before the table) */
  envAliases?: string[];
  /** a rule beyond type and range; returns the problem */
  check?: (v: T) => string | undefined;
}

/** Settings whose value is a JSON document (tokens). */
export interface TokenEntry { salt: string; sha256: string; tenants: string[]; admin?: boolean }

type More<T, L extends boolean> = Partial<Omit<Spec<T>, 'live'>> & { live?: L };
const int = <L extends boolean = false>(d: number | ((c: Record<string, unknown>) => number), min: number, max: number, unit: string, doc: string, more: More<number, L> = {}): Spec<number, L> =>
  ({ kind: 'int', default: d, min, max, unit, live: false as L, doc, ...more });
const num = <L extends boolean = false>(d: number, min: number, max: number, unit: string, doc: string, more: More<number, L> = {}): Spec<number, L> =>
  ({ kind: 'number', default: d, min, max, unit, live: false as L, doc, ...more });
const bool = <L extends boolean = false>(d: boolean, doc: string, more: More<boolean, L> = {}): Spec<boolean, L> =>
  ({ kind: 'boolean', default: d, unit: '', live: false as L, doc, ...more });
const str = (d: string | ((c: Record<string, unknown>) => string), unit: string, doc: string, more: More<string, false> = {}): Spec<string, false> =>
  ({ kind: 'string', default: d, unit, live: false, doc, ...more });
function oneOf<const V extends readonly string[]>(values: V, d: V[number], doc: string): Spec<V[number], false> {
  return { kind: 'enum', default: d, values, unit: '', live: false, doc };
}
const strings = (d: (c: Record<string, unknown>) => string[], defaultDoc: string, doc: string): Spec<string[], false> =>
  ({ kind: 'strings', default: d, defaultDoc, unit: '', live: false, doc });
const LIVE = { live: true } as const;

/** The default top-N roles generated at start: position and common structure tokens. */
export function defaultPrewarmRoles(n = 64): string[] {
  const base = ['agent', 'user', 'system', 'subject', 'verb', 'object', 'time', 'place', 'cause', 'effect',
    'goal', 'state', 'action', 'result', 'before', 'after', 'left', 'right', 'name', 'value'];
  const out = [...base];
  for (let i = 0; out.length < n; i++) out.push(`pos:${i}`);
  return out.slice(0, n);
}

export const TABLE = {
  // ---- the truth budget (loaded first; SEED §5) ----
  epsilonTotal: num(0.05, 0, 1, 'relative', 'largest relative error a computed reply may report; above it the reply says overBudget', { minExclusive: true, live: true, budget: 'epsilon_total' }),
  wienerLambda: num(1e-4, 0, 1, '× ‖b‖²', 'smallest Wiener λ (relative to b’s mean bin power) an unbind may use when λ comes from a knob, bounding noise gain', { minExclusive: true, live: true, budget: 'wiener_lambda' }),
  chebyshevK: int(24, 1, 200, 'terms', 'default number of Chebyshev terms in heat (raised to meet relErr)', { live: true, budget: 'chebyshev_K' }),
  relErr: num(0.02, 0, 1, 'relative', 'heat’s Chebyshev tail bound must be ≤ this: K is raised from chebyshevK until it is (cap 200)', { minExclusive: true, live: true, budget: 'rel_err' }),
  sinkhornTol: num(1e-3, 0, 1, 'mass', 'default Sinkhorn marginal tolerance (Σ|P1−a| + Σ|Pᵀ1−b|) when a request gives no tol', { live: true, budget: 'sinkhorn_tol' }),
  apprEps: num(1e-4, 0, 1, '× ‖b‖²', 'smallest exact-mode floor λ (relative to b’s mean bin power) when λ comes from beta', { minExclusive: true, live: true, budget: 'appr_eps' }),

  // ---- listening ----
  host: str('127.0.0.1', 'address', 'listen address; off loopback, tokens are required', { envAliases: ['HOST'] }),
  port: int(7878, 0, 65535, 'TCP port', 'listen port; 0 = ephemeral (the ready line says which)', { envAliases: ['PORT'] }),

  // ---- engine ----
  dim: int(8192, 256, 16384, 'D', 'HRR dimension D, a power of two', { check: (v) => ((v & (v - 1)) === 0 ? undefined : `must be a power of two in [256, 16384], got ${v}`) }),
  roleSeed: int(0, 0, 0xffffffff, 'uint32', 'seed of every role (roles differ per seed)'),
  fftEngine: oneOf(['pffft', 'fftjs'] as const, 'pffft', 'pffft (WASM SIMD, float32) or fftjs (float64 reference); pffft falls back to fft.js if it cannot load'),
  // cores − 1: the main thread (uWS, decode, replies) needs a core of its own; measured on 2
  // cores, 1 worker served bind-by-role at 1.05–1.16× the rate of 2 (docs/LOAD.md).
  workers: int((): number => Math.max(1, availableParallelism() - 1), 1, 256, 'threads', 'shard worker threads (the main thread keeps a core for uWS, decode and replies)', { defaultDoc: 'cores − 1' }),
  shards: int(64, 1, 1 << 16, 'shards', 'shards tenants hash to (jump hash); shard s is served by worker s mod workers'),

  // ---- batching (live: the dispatcher reads them per batch) ----
  batchWindowMs: num(5, 0, 1000, 'ms', 'longest a request waits for company in the batcher', LIVE),
  coalesceLingerMs: num(10, 0, 1000, 'ms', 'a finished pure computation stays joinable by identical requests this long (0: in flight only)', LIVE),
  batchMax: int(64, 1, 4096, 'requests', 'largest batch sent to a worker as one task', LIVE),
  workerPipeline: int(2, 1, 64, 'batches', 'batches in flight per worker before requests queue', LIVE),

  // ---- limits ----
  maxFrameBytes: int(4 * 1024 * 1024, 1024, 256 * 1024 * 1024, 'bytes', 'largest frame answered normally (up to 2× is answered too_large; beyond, the socket closes); ≥ 4·dim + 1024'),
  maxInflightPerConnection: int(256, 1, 1 << 20, 'requests', 'unanswered requests per connection (credits)'),
  maxQueued: int(20_000, 1, 1 << 24, 'requests', 'requests queued server-wide before overloaded'),
  maxBackpressureBytes: int(16 * 1024 * 1024, 64 * 1024, 1 << 30, 'bytes', 'unsent reply bytes per connection before new requests are refused'),
  idleTimeoutSeconds: int(120, 0, 960, 's', 'idle WebSocket timeout (0, or a multiple of 4 in [8, 960]: the uWS rule)', {
    check: (v) => (v === 0 || (v >= 8 && v % 4 === 0) ? undefined : 'must be 0 or a multiple of 4 in [8, 960] (uWS rule)'),
  }),
  sinkhornMaxSize: int(64, 1, 4096, 'n, m', 'largest n and m of sinkhorn'),
  graphMaxNodes: int(1_000_000, 1, 1 << 28, 'nodes', 'nodes per graph'),
  graphMaxEdges: int(10_000_000, 1, 1 << 30, 'edges', 'edges per graph'),
  graphsPerWorker: int(64, 1, 1 << 16, 'graphs', 'stored graphs per worker (LRU)'),

  // ---- budgets on hostile input (issue #9; docs/OPERATIONS.md "Budgets"); each refusal is
  // counted in holoserve_budget_refusals_total{budget} ----
  graphMaxBytes: int(256 * 1024 * 1024, 1024, 2 ** 40, 'bytes', 'largest graph (graph.put, inline heat): peak kernel memory while building it, 32·n + 48·m (≤ graphBytesPerWorker)'),
  graphBytesPerWorker: int(512 * 1024 * 1024, 1024, 2 ** 40, 'bytes', 'stored graphs per worker, bytes kept (20·n + 24·nnz each); least recently used leave first'),
  heatMaxWork: num(1e9, 1, 1e15, 'multiply-adds', 'heat work per request: K·(nnz + n·|t|) (~1 ns each)'),
  sinkhornMaxWork: num(1e8, 1, 1e15, 'cell updates', 'Sinkhorn work per request: maxIter·n·m (the iteration bound times the plan’s size)'),
  tenantsPerConnectionPerSecond: int(2000, 1, 1 << 24, 'tenants/s', 'distinct tenants one connection may name per second (new names beyond: overloaded)'),

  // ---- roles ----
  roleTableCapacity: int(2048, 1, 1 << 20, 'roles', 'distinct roles in the shared table (LRU beyond); 64 KiB each at D = 8192'),
  prewarmRoles: strings(() => defaultPrewarmRoles(), '64 tokens', 'roles generated at start (JSON list in env and flags)'),

  // ---- data ----
  dataDir: str('./data', 'path', 'data directory: LMDB, the role file and knobs.json (live knobs set at run time) unless set apart'),
  roleFile: str((c) => join(c.dataDir as string, 'roles.bin'), 'path', "role table file (checksummed); '' disables", { defaultDoc: '<dataDir>/roles.bin' }),

  // ---- durable store (issue #15: docs/OPERATIONS.md "Store"; src/store/open.ts), chosen once at start ----
  store: oneOf(['lmdb', 'redis'] as const, 'lmdb', 'durable store: lmdb (embedded, one machine) or redis (shared by many pods)'),
  redisUrl: str('redis://127.0.0.1:6379', 'URL', 'redis://[user:password@]host:port[/db] (rediss:// for TLS)', {
    check: (v) => (/^rediss?:\/\/./.test(v) ? undefined : `must be a redis:// or rediss:// URL, got ${JSON.stringify(v)}`),
  }),
  redisPrefix: str('holoserve:', 'key prefix', "namespace of every key holoserve writes: 1-64 of [A-Za-z0-9_.-], then one ':'", {
    check: (v) => (/^[A-Za-z0-9_.-]{1,64}:$/.test(v) ? undefined : `must be 1-64 of [A-Za-z0-9_.-] followed by one ':' (e.g. 'holoserve:'), got ${JSON.stringify(v)}`),
  }),
  allowRedisEviction: bool(false, "start even if Redis's maxmemory-policy can evict keys (acknowledged memory may vanish)"),
  allowRedisWithoutFsync: bool(false, 'start even if Redis does not fsync every write (appendonly yes + appendfsync always)'),
  redisWaitReplicas: int(0, 0, 64, 'replicas', 'replicas that must acknowledge each commit (Redis WAIT) before it is acknowledged; 0: none'),
  redisWaitTimeoutMs: int(1000, 1, 60_000, 'ms', 'how long a commit waits for those replicas; fewer: the write answers unavailable'),
  advertiseUrl: str('', 'URL', "this process's ws://host:port/v1 as clients reach it; set (store redis only): processes sharing the Redis own tenants by lease and answer moved for the others' ('': off)", {
    check: (v) => (v === '' || /^wss?:\/\/./.test(v) ? undefined : `must be '' or a ws:// or wss:// URL, got ${JSON.stringify(v)}`),
  }),
  leaseTtlMs: int(5000, 100, 600_000, 'ms', "a tenant's lease: held this long past its last use by its owner"),
  heartbeatMs: int(1000, 10, 60_000, 'ms', 'membership heartbeat period; a process silent for 3 periods is out'),

  // ---- memory (live ones reach every loaded tenant at its worker's next memory batch) ----
  memoryCapacity: int(4096, 1, 1 << 22, 'items', 'working-memory items per tenant'),
  highWater: num(0.9, 0, 1, 'fraction', 'evict when items / memoryCapacity exceeds this (> lowWater)', LIVE),
  lowWater: num(0.8, 0, 1, 'fraction', 'evict down to items / memoryCapacity ≤ this (< highWater)', LIVE),
  salienceAlpha: num(0.5, 0, 1000, 'weight', 'salience weight α of novelty', LIVE),
  salienceBeta: num(0.3, 0, 1000, 'weight', 'salience weight β of reward', LIVE),
  salienceGamma: num(0.2, 0, 1000, 'weight', 'salience weight γ of recency', LIVE),
  salienceTauSeconds: num(3600, 0, 1e9, 's', 'recency time constant τ', { minExclusive: true, live: true }),
  anchorsMax: int(1024, 1, 1 << 20, 'anchors', 'anchors per tenant', LIVE),
  evictionPolicy: oneOf(['oldest', 'salience'] as const, 'oldest', 'which items leave at memory pressure'),
  recallCacheTtlMs: num(1000, 0, 1999, 'ms', 'recall result cache TTL (0 disables)', LIVE),
  embeddingCacheSize: int(4096, 1, 1 << 22, 'entries', 'encoded texts kept per worker (LRU; system prompts pinned)'),
  systemPrompts: strings(() => [], '[]', 'texts encoded at start and pinned (JSON list in env and flags)'),
  prefetchTenants: int(16, 0, 1 << 16, 'tenants', 'recently active tenants loaded in the background at start'),

  // ---- recall at scale (issue #10; docs/MEMORY.md "Recall"); the mode and oversampling are
  // read per recall from the live knobs (a request's mode/oversampling wins) ----
  recallMode: { ...oneOf(['exact', 'binary'] as const, 'binary', 'how recall scans by default: exact (every row) or binary (1-bit index + exact rescoring)'), live: true },
  recallOversampling: int(16, 1, 1024, '×', 'binary mode: candidates rescored exactly = max(k, 2) × this', LIVE),
  memoryBudgetBytes: int((): number => Math.floor(totalmem() / 4), 1 << 20, Number.MAX_SAFE_INTEGER, 'bytes', 'tenant memory held in RAM over all workers; least recently used tenants are unloaded past it (split evenly per worker, ≤ 3 GiB each: one wasm32 memory); a worker whose slab memory is full answers overloaded', { defaultDoc: 'RAM / 4' }),
  slabHugePages: bool(true, 'advise Linux to back the tenant slabs with 2 MiB transparent huge pages (exact scans out of cache ~5–12 % faster; needs the native addon npm run build makes where a C compiler is, and THP mode madvise or always)'),
  recallSplitThreads: int(0, 0, 64, 'threads', 'helper threads per worker sharing an exact scan of a slab ≥ 8 MiB (0: the worker scans alone)'),

  // ---- HRR knobs ----
  rerank: bool(false, 'HRR-first rerank of low-margin text recalls', LIVE),
  rerankMargin: num(0.02, 0, 2, 'cosine', 'recall margin below which the rerank runs', LIVE),
  rerankCandidates: int(8, 2, 1024, 'items', 'candidates reranked', LIVE),
  unbindBeta: num(1e-3, 0, 1e6, '× ‖b‖²', 'default unbind regularisation β (λ = β·‖b‖²) when a request gives no eps, snr or beta', { minExclusive: true, live: true }),
  wienerSnr: num(1e4, 0, 1e12, 'ratio', 'default Wiener SNR when a request gives none: λ = ‖b‖²/wienerSnr (floored at wienerLambda·‖b‖²)', { minExclusive: true, live: true }),

  // ---- security and operations ----
  tokens: { kind: 'json', default: () => [], defaultDoc: '[]', unit: '', live: false,
    doc: '[{salt, sha256, tenants, admin?}]: sha256 = hex SHA-256(salt ‖ token); tenants ["*"] for all; admin: true may run the admin ops (JSON in env and flags)' } as Spec<TokenEntry[], false>,
  adminOps: bool(false, 'enables the admin ops (knobs, drill, status); once tokens are configured they need an admin token'),
  metricsToken: bool(true, 'GET /metrics needs Authorization: Bearer <token> (any configured token) whenever auth is required'),
  allowUwsFallback: bool(false, 'run even on uWebSockets.js’s slow JS fallback (loopback without tokens only)'),
  drainTimeoutMs: int(10_000, 0, 600_000, 'ms', 'SIGTERM grace for requests in flight'),
} as const;

export type SpecValue<S> = S extends Spec<infer T, boolean> ? T : never;
export type Config = { -readonly [K in keyof typeof TABLE]: SpecValue<(typeof TABLE)[K]> };
export type KnobName = keyof typeof TABLE;
export const NAMES = Object.keys(TABLE) as KnobName[];

export function spec(name: string): Spec<unknown> {
  return (TABLE as Record<string, Spec<unknown>>)[name];
}

/** The live knobs' names, in table order. */
export const LIVE_NAMES: KnobName[] = NAMES.filter((n) => spec(n).live);
/** The values of the live knobs (what every batch carries to its worker). */
export type Knobs = { [K in KnobName as (typeof TABLE)[K] extends { live: true } ? K : never]: Config[K] };

/** A live knob's value as the holoserve_knob gauge shows it: booleans 0/1, an enum its index in values. */
export function gaugeValue(name: string, v: unknown): number {
  const s = spec(name);
  return s.kind === 'enum' ? s.values!.indexOf(v as string) : Number(v);
}

/** The truth budget: knob name → the guidelines' field name. */
export const BUDGET: [KnobName, string][] = NAMES.filter((n) => spec(n).budget).map((n) => [n, spec(n).budget!]);

/** camelCase → UPPER_SNAKE: batchWindowMs → BATCH_WINDOW_MS. */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}
export const envName = (n: string): string => 'HOLOSERVE_' + snake(n);
/** camelCase → kebab-case flag: batchWindowMs → --batch-window-ms. */
export const flagName = (n: string): string => n.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** The range of a knob as the error messages and docs show it: "(0, 1]", "0 | 8..960", "pffft | fftjs". */
export function rangeText(s: Spec<unknown>): string {
  if (s.kind === 'enum') return s.values!.join(' | ');
  if (s.kind === 'boolean') return 'true | false';
  if (s.kind === 'int' || s.kind === 'number') return `${s.minExclusive ? '(' : '['}${s.min}, ${s.max}]`;
  if (s.kind === 'strings') return 'list of strings';
  if (s.kind === 'json') return 'JSON';
  return 'string';
}
