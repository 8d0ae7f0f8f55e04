/**
 * The op table (docs/PROTOCOL.md "Ops"): for each op, how it is routed and batched and how its
 * fields are checked. Checking happens on the main thread before anything is queued, so a bad
 * field costs the sender an error frame and costs the workers nothing. Vectors and arrays are
 * copied once, into SharedArrayBuffer-backed arrays that the worker reads in place.
 */
import { Packr } from 'msgpackr';
import { BudgetError, HoloError } from '../errors.js';
import { graphBuildBytes } from '../kernels/graph/csr.js';
import { DEFAULT_K } from '../kernels/graph/heat.js';
import { tokenize } from '../kernels/hrr/encode.js';
import { recordTokens, type RecordFields } from '../kernels/hrr/record.js';
import { checkName, MAX_NAME_BYTES, MAX_TENANT_BYTES } from '../store/store.js';
import { f32, f64, u32 } from './vectors.js';
import type { VectorArena } from './arena.js';
import { asNumber, type Frame } from './codec.js';
import { LIVE_NAMES, NAMES } from '../knobs/table.js';
import { nearest } from '../knobs/load.js';

/** Which queue an op joins: each kind is batched separately per worker. */
export type OpKind = 'inline' | 'hrr' | 'ot' | 'graph' | 'memory';

/** How an op picks its worker: any (least loaded), by tenant, or by graph id. */
export type Route = 'any' | 'tenant' | 'graph';

export interface Limits {
  dim: number;
  maxFrameBytes: number;
  sinkhornMaxSize: number;
  graphMaxNodes: number;
  graphMaxEdges: number;
  maxPayloadBytes: number;
  maxTextChars: number;
  /** distinct tokens (roles) one text may name: a quarter of the role table */
  maxTokens: number;
  maxBundle: number;
  maxK: number;
  /** budgets (issue #9; absent: unbounded): graph build bytes, heat and Sinkhorn work */
  graphMaxBytes?: number;
  heatMaxWork?: number;
  sinkhornMaxWork?: number;
  /** where received D-vectors are put (pooled shared memory); plain SharedArrayBuffers if absent */
  arena?: VectorArena;
  /** D′ of a dimension rollout in progress (src/dimension/): `shadowVector` is accepted at it */
  shadowDim?: number;
}

/** A checked request: what the batcher, the coalescer and the worker need. */
export interface Parsed {
  op: string;
  kind: OpKind;
  route: Route;
  /** tenant (route 'tenant') or graph id (route 'graph') */
  routeKey?: string;
  /** role tokens the worker will need (bind/unbind by role, encode, text) */
  tokens?: string[];
  /** changes tenant state: later reads must not coalesce with earlier ones */
  write?: boolean;
  /** the op's fields, typed */
  params: Record<string, unknown>;
  /** recall.many: the recalls it fans out (batch/fanout.ts), each routed to its tenant's worker */
  parts?: Parsed[];
}

export interface OpSpec {
  kind: OpKind;
  route: Route;
  write?: boolean;
  parse(f: Frame, L: Limits): Omit<Parsed, 'op' | 'kind' | 'route'>;
}

// largeBigIntToFloat off (default): a BigInt payload integer is packed back as int64, exactly.
const payloadPackr = new Packr({ useRecords: false, variableMapSize: true });

// ---- field readers: each names the field in its error ----

/** recall's optional scan fields: mode 'exact' | 'binary', oversampling (integer in [1, 1024]). */
export function scanFields(f: Frame): { mode?: 'exact' | 'binary'; oversampling?: number } {
  const out: { mode?: 'exact' | 'binary'; oversampling?: number } = {};
  if (has(f, 'mode')) {
    if (f.mode !== 'exact' && f.mode !== 'binary') throw new HoloError('bad_request', "field 'mode' must be 'exact' or 'binary'");
    out.mode = f.mode;
  }
  const o = num(f, 'oversampling', { int: true, min: 1, max: 1024 });
  if (o !== undefined) out.oversampling = o;
  return out;
}

function has(f: Frame, k: string): boolean {
  return Object.hasOwn(f, k) && f[k] !== undefined && f[k] !== null;
}

export function str(f: Frame, k: string, maxChars: number, required = true): string | undefined {
  if (!has(f, k)) {
    if (required) throw new HoloError('bad_request', `missing field '${k}' (string)`);
    return undefined;
  }
  const v = f[k];
  if (typeof v !== 'string') throw new HoloError('bad_request', `field '${k}' must be a string`);
  if (v.length === 0) throw new HoloError('bad_request', `field '${k}' must not be empty`);
  if (v.length > maxChars) throw new HoloError('too_large', `field '${k}' has ${v.length} characters, limit ${maxChars}`);
  return v;
}

export function num(f: Frame, k: string, opts: { required?: boolean; int?: boolean; min?: number; max?: number; positive?: boolean } = {}): number | undefined {
  if (!has(f, k)) {
    if (opts.required) throw new HoloError('bad_request', `missing field '${k}' (number)`);
    return undefined;
  }
  const v = asNumber(f[k]);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HoloError('bad_request', `field '${k}' must be a finite number`);
  if (opts.int && !Number.isInteger(v)) throw new HoloError('bad_request', `field '${k}' must be an integer`);
  if (opts.positive && !(v > 0)) throw new HoloError('bad_request', `field '${k}' must be > 0`);
  if (opts.min !== undefined && v < opts.min) throw new HoloError('bad_request', `field '${k}' must be ≥ ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) throw new HoloError('too_large', `field '${k}' must be ≤ ${opts.max}`);
  return v;
}

function vec(f: Frame, k: string, L: Limits): Float32Array {
  if (!has(f, k)) throw new HoloError('bad_request', `missing field '${k}' (bin of ${L.dim} float32)`);
  return f32(k, f[k], L.dim, L.arena);
}

/** Tenant, item key and anchor name: non-empty valid Unicode, bounded in UTF-8 bytes. */
function name(f: Frame, k: string, maxBytes: number): string {
  const v = str(f, k, maxBytes)!;
  checkName(`field '${k}'`, v, maxBytes);
  return v;
}

function tenant(f: Frame): string {
  return name(f, 'tenant', MAX_TENANT_BYTES);
}

function text(f: Frame, L: Limits, required: boolean): { text?: string; tokens?: string[] } {
  const t = str(f, 'text', L.maxTextChars, required);
  if (t === undefined) return {};
  const tokens = [...new Set(tokenize(t))];
  if (tokens.length === 0) throw new HoloError('bad_request', "field 'text' has no tokens (letters or digits) to encode");
  if (tokens.length > L.maxTokens) {
    throw new HoloError('too_large', `field 'text' has ${tokens.length} distinct words, limit ${L.maxTokens} (a quarter of setting roleTableCapacity)`);
  }
  return { text: t, tokens };
}

/** Exactly one of vector | text (memory ops). */
function vectorOrText(f: Frame, L: Limits): { params: Record<string, unknown>; tokens?: string[] } {
  const hasV = has(f, 'vector'), hasT = has(f, 'text');
  if (hasV === hasT) throw new HoloError('bad_request', "give exactly one of 'vector' or 'text'");
  if (hasV) return { params: { vector: vec(f, 'vector', L) } };
  const { text: t, tokens } = text(f, L, true);
  return { params: { text: t }, tokens };
}

/** Most slots in one record. */
export const MAX_RECORD_SLOTS = 256;

/** record: {slot: text | {role: token}}, 1 … MAX_RECORD_SLOTS slots (kernels/hrr/record.ts). */
function record(f: Frame, L: Limits): { record: RecordFields; tokens: string[] } {
  const r = f.record;
  if (typeof r !== 'object' || r === null || Array.isArray(r) || r instanceof Uint8Array) throw new HoloError('bad_request', "field 'record' must be a map slot → text | {role}");
  const slots = Object.keys(r);
  if (slots.length === 0) throw new HoloError('bad_request', "field 'record' needs at least one slot");
  if (slots.length > MAX_RECORD_SLOTS) throw new HoloError('too_large', `field 'record' has ${slots.length} slots, limit ${MAX_RECORD_SLOTS}`);
  const out: RecordFields = {};
  let chars = 0;
  for (const slot of slots) {
    checkName("a slot of 'record'", slot, MAX_NAME_BYTES);
    const v = (r as Frame)[slot];
    if (typeof v === 'string') {
      if (tokenize(v).length === 0) throw new HoloError('bad_request', `record slot '${slot.slice(0, 64)}': the text has no tokens (letters or digits) to encode`);
      chars += v.length;
      out[slot] = v;
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Frame).role === 'string' && Object.keys(v).length === 1) {
      const token = (v as Frame).role as string;
      checkName(`record slot '${slot.slice(0, 64)}' role`, token, MAX_NAME_BYTES);
      out[slot] = { role: token };
    } else {
      throw new HoloError('bad_request', `record slot '${slot.slice(0, 64)}' must be a text or {role: token}`);
    }
  }
  if (chars > L.maxTextChars) throw new HoloError('too_large', `field 'record' has ${chars} characters of text, limit ${L.maxTextChars}`);
  const tokens = recordTokens(out);
  if (tokens.length > L.maxTokens) {
    throw new HoloError('too_large', `field 'record' names ${tokens.length} distinct roles and words, limit ${L.maxTokens} (a quarter of setting roleTableCapacity)`);
  }
  return { record: out, tokens };
}

/**
 * What a stored item or anchor is made from: exactly one of vector | text | record. A vector
 * may come with `shadowVector` at D′ while a dimension rollout runs (the server cannot rebuild
 * a raw vector at another D; docs/MEMORY.md).
 */
function itemSource(f: Frame, L: Limits): { params: Record<string, unknown>; tokens?: string[] } {
  const n = (has(f, 'vector') ? 1 : 0) + (has(f, 'text') ? 1 : 0) + (has(f, 'record') ? 1 : 0);
  if (n !== 1) throw new HoloError('bad_request', "give exactly one of 'vector', 'text' or 'record'");
  if (has(f, 'shadowVector')) {
    if (!has(f, 'vector')) throw new HoloError('bad_request', "'shadowVector' goes with 'vector' (text and records are rebuilt by the server)");
    if (L.shadowDim === undefined) throw new HoloError('bad_request', "'shadowVector' is accepted only while a dimension rollout runs (admin op 'dimension')");
    return { params: { vector: vec(f, 'vector', L), shadowVector: f32('shadowVector', f.shadowVector, L.shadowDim) } };
  }
  if (has(f, 'record')) { const r = record(f, L); return { params: { record: r.record }, tokens: r.tokens }; }
  return vectorOrText(f, L);
}

/** role token or vector b: bind/unbind's second operand. */
function roleOr(f: Frame, k: string, L: Limits): { params: Record<string, unknown>; tokens?: string[] } {
  const hasB = has(f, k), hasR = has(f, 'role');
  if (hasB === hasR) throw new HoloError('bad_request', `give exactly one of '${k}' or 'role'`);
  if (hasB) return { params: { [k]: vec(f, k, L) } };
  const token = str(f, 'role', 1024)!;
  return { params: { role: token }, tokens: [token] };
}

function tList(f: Frame): number | number[] {
  if (!has(f, 't')) throw new HoloError('bad_request', "missing field 't' (number or list of numbers)");
  const t = f.t;
  const check = (x0: unknown) => {
    const x = asNumber(x0);
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new HoloError('bad_request', "field 't' must be finite and ≥ 0");
    return x;
  };
  if (Array.isArray(t)) {
    if (t.length === 0 || t.length > 64) throw new HoloError('bad_request', "field 't' must list 1 to 64 times");
    return t.map(check);
  }
  return check(t);
}

function edges(f: Frame, L: Limits) {
  const n = num(f, 'n', { required: true, int: true, min: 1, max: L.graphMaxNodes })!;
  const src = u32('src', f.src, undefined, L.graphMaxEdges);
  const dst = u32('dst', f.dst, src.length, L.graphMaxEdges);
  const weight = has(f, 'weight') ? f64('weight', f.weight, src.length, L.graphMaxEdges) : null;
  const bytes = graphBuildBytes(n, src.length);
  if (L.graphMaxBytes !== undefined && bytes > L.graphMaxBytes) {
    throw new BudgetError('too_large', 'graph_bytes', `a graph of n = ${n} nodes and ${src.length} edges needs ${bytes} bytes to build (32·n + 48·m), limit ${L.graphMaxBytes} (setting graphMaxBytes)`);
  }
  return { n, src, dst, weight };
}

function graphId(f: Frame): string {
  return str(f, 'graph', 256)!;
}

/** Stored graphs belong to a tenant when one is named (checked like memory ops), else to the connection's token. */
function graphOwner(f: Frame): { tenant?: string } {
  return has(f, 'tenant') ? { tenant: tenant(f) } : {};
}

/** A reply of `bytes` would not fit in a frame: refused before it is computed. */
function checkReply(op: string, bytes: number, L: Limits, formula: string): void {
  if (bytes > L.maxFrameBytes) {
    throw new BudgetError('too_large', 'reply_bytes', `the ${op} reply would be ${bytes} bytes (${formula}), more than maxFrameBytes = ${L.maxFrameBytes}`);
  }
}

/** heat: reply n·|t|·8 bytes; work K·(nnz + n·|t|) (nnz ≤ 2·m inline; a stored graph's is checked by its worker). */
function heatBudget(n: number, times: number, K: number, nnz: number | undefined, L: Limits): void {
  checkReply('heat', 8 * n * times + 16 * times + 64, L, `n·|t|·8 = ${n}·${times}·8 plus framing`);
  if (nnz !== undefined && L.heatMaxWork !== undefined && K * (nnz + n * times) > L.heatMaxWork) {
    throw new BudgetError('too_large', 'heat_work', `heat work K·(nnz + n·|t|) = ${K * (nnz + n * times)} exceeds ${L.heatMaxWork} (setting heatMaxWork)`);
  }
}

/** The failure drills (src/server/drills/, run by server/admin.ts). */
export const DRILL_SCENARIOS = ['worker-crash', 'role-cache-corruption', 'elevated-epsilon', 'recall-latency-spike'] as const;
export type DrillScenario = typeof DRILL_SCENARIOS[number];

// ---- the table ----

/** Most queries in one recall.many. */
export const MAX_MANY = 1024;

export const OPS: Record<string, OpSpec> = {
  hello: { kind: 'inline', route: 'any', parse: () => ({ params: {} }) },
  // Admin (setting adminOps): live knobs and the seed's failure drills (docs/OPERATIONS.md).
  knobs: {
    kind: 'inline', route: 'any',
    parse: (f) => {
      const reload = has(f, 'reload') ? f.reload === true : false;
      if (has(f, 'reload') && typeof f.reload !== 'boolean') throw new HoloError('bad_request', "field 'reload' must be a boolean");
      if (!has(f, 'set')) return { params: { reload } };
      const set = f.set;
      if (typeof set !== 'object' || set === null || Array.isArray(set) || set instanceof Uint8Array) throw new HoloError('bad_request', "field 'set' must be a map of knobs");
      if (Object.keys(set).length > 256) throw new HoloError('bad_request', "field 'set' names more than 256 knobs");
      // Names here; values by the knob table's one validator when applied (src/knobs/live.ts).
      for (const k of Object.keys(set)) {
        if (!(LIVE_NAMES as string[]).includes(k)) {
          throw new HoloError('bad_request', (NAMES as string[]).includes(k) ? `'${k}' is restart-only (set it in the config and restart)`
            : `unknown knob '${k.slice(0, 64)}' (did you mean '${nearest(k.slice(0, 64), LIVE_NAMES)}'?)`);
        }
      }
      return { params: { set: { ...(set as Frame) }, reload } };
    },
  },
  status: { kind: 'inline', route: 'any', parse: () => ({ params: {} }) },
  drill: {
    kind: 'inline', route: 'any',
    parse: (f) => {
      const scenario = str(f, 'scenario', 64, true)!;
      if (!(DRILL_SCENARIOS as readonly string[]).includes(scenario)) throw new HoloError('bad_request', `unknown drill '${scenario}' (${DRILL_SCENARIOS.join(' | ')})`);
      if (has(f, 'inject') && typeof f.inject !== 'boolean') throw new HoloError('bad_request', "field 'inject' must be a boolean");
      const worker = num(f, 'worker', { int: true, min: 0, max: 255 });
      const windowMs = num(f, 'windowMs', { int: true, min: 0, max: 30_000 }); // recall-latency-spike's sampling window
      return { params: { scenario, worker, windowMs, inject: f.inject === true } };
    },
  },
  // Rolling dimension increase (src/dimension/controller.ts, docs/OPERATIONS.md "Changing D").
  dimension: {
    kind: 'inline', route: 'any',
    parse: (f) => {
      const action = str(f, 'action', 16)!;
      if (!['shadow', 'status', 'switch', 'rollback', 'finalize'].includes(action)) {
        throw new HoloError('bad_request', "field 'action' must be shadow | status | switch | rollback | finalize");
      }
      // dim: any integer here, so that the controller names the rule (power of two in [256, 16384])
      const dim = num(f, 'dim', { required: action === 'shadow', int: true });
      return {
        params: {
          action, dim,
          share: num(f, 'share', { positive: true, max: 1 }),
          chunkMs: num(f, 'chunkMs', { positive: true, max: 1000 }),
          maxDelta: num(f, 'maxDelta', { positive: true, max: 2 }),
          force: num(f, 'force', { int: true, min: 0 }),
          sample: num(f, 'sample', { int: true, min: 0, max: 100_000 }),
        },
      };
    },
  },
  role: {
    kind: 'hrr', route: 'any',
    parse: (f) => { const token = str(f, 'token', 1024)!; return { params: { token }, tokens: [token] }; },
  },
  bind: {
    kind: 'hrr', route: 'any',
    parse: (f, L) => { const r = roleOr(f, 'b', L); return { params: { a: vec(f, 'a', L), ...r.params }, tokens: r.tokens }; },
  },
  unbind: {
    kind: 'hrr', route: 'any',
    parse: (f, L) => {
      const r = roleOr(f, 'b', L);
      const mode = has(f, 'mode') ? f.mode : 'exact';
      if (mode !== 'exact' && mode !== 'wiener' && mode !== 'approx') throw new HoloError('bad_request', "field 'mode' must be 'exact', 'wiener' or 'approx'");
      return {
        params: { c: vec(f, 'c', L), ...r.params, mode, eps: num(f, 'eps', { positive: true }), snr: num(f, 'snr', { positive: true }), beta: num(f, 'beta', { positive: true }) },
        tokens: r.tokens,
      };
    },
  },
  bundle: {
    kind: 'hrr', route: 'any',
    parse: (f, L) => {
      const vs = f.vectors;
      if (!Array.isArray(vs) || vs.length === 0) throw new HoloError('bad_request', "field 'vectors' must be a non-empty list of bins");
      if (vs.length > L.maxBundle) throw new HoloError('too_large', `'vectors' has ${vs.length} entries, limit ${L.maxBundle}`);
      const vectors = vs.map((v, i) => f32(`vectors[${i}]`, v, L.dim, L.arena));
      let weights: Float64Array | null = null;
      if (has(f, 'weights')) {
        const w = f.weights;
        weights = w instanceof Uint8Array ? f64('weights', w, vectors.length)
          : Array.isArray(w) && w.map(asNumber).every((x) => typeof x === 'number' && Number.isFinite(x)) ? Float64Array.from(w.map(asNumber) as number[])
            : (() => { throw new HoloError('bad_request', "field 'weights' must be a list of finite numbers or a bin of float64"); })();
        if (weights.length !== vectors.length) throw new HoloError('bad_dimension', `'weights' has ${weights.length} entries, 'vectors' ${vectors.length}`);
      }
      return { params: { vectors, weights } };
    },
  },
  cosine: { kind: 'hrr', route: 'any', parse: (f, L) => ({ params: { a: vec(f, 'a', L), b: vec(f, 'b', L) } }) },
  encode: {
    kind: 'hrr', route: 'any',
    parse: (f, L) => { const t = text(f, L, true); return { params: { text: t.text }, tokens: t.tokens }; },
  },
  sinkhorn: {
    kind: 'ot', route: 'any',
    parse: (f, L) => {
      const lim = L.sinkhornMaxSize;
      const n = num(f, 'n', { required: true, int: true, min: 1 })!, m = num(f, 'm', { required: true, int: true, min: 1 })!;
      if (n > lim || m > lim) throw new HoloError('too_large', `sinkhorn n=${n}, m=${m}: limit is ${lim} (setting sinkhornMaxSize)`);
      const maxIter = num(f, 'maxIter', { int: true, min: 1, max: 100_000 });
      const work = (maxIter ?? 1000) * n * m; // 1000: the kernel's default maxIter
      if (L.sinkhornMaxWork !== undefined && work > L.sinkhornMaxWork) {
        throw new BudgetError('too_large', 'sinkhorn_work', `sinkhorn work maxIter·n·m = ${work} exceeds ${L.sinkhornMaxWork} (setting sinkhornMaxWork)`);
      }
      checkReply('sinkhorn', 8 * n * m + 256, L, `plan n·m·8 = ${n}·${m}·8 plus framing`);
      return {
        params: {
          n, m,
          cost: f64('cost', f.cost, n * m),
          a: has(f, 'a') ? f64('a', f.a, n) : null,
          b: has(f, 'b') ? f64('b', f.b, m) : null,
          epsilon: num(f, 'epsilon', { required: true, positive: true }),
          maxIter,
          tol: num(f, 'tol', { min: 0 }),
        },
      };
    },
  },
  heat: {
    kind: 'graph', route: 'any',
    parse: (f, L) => {
      const t = tList(f);
      const K = num(f, 'K', { int: true, min: 1, max: 200 });
      const times = Array.isArray(t) ? t.length : 1;
      if (has(f, 'graph')) {
        const g = graphId(f);
        const signal = f64('signal', f.signal, undefined, L.graphMaxNodes);
        heatBudget(signal.length, times, K ?? DEFAULT_K, undefined, L);
        return { routeKey: g, params: { graph: g, ...graphOwner(f), signal, t, K } };
      }
      const n = num(f, 'n', { required: true, int: true, min: 1, max: L.graphMaxNodes })!;
      const m = f.src instanceof Uint8Array ? f.src.byteLength >>> 2 : 0;
      heatBudget(n, times, K ?? DEFAULT_K, 2 * m, L); // before the edges are copied
      const e = edges(f, L);
      return { params: { ...e, signal: f64('signal', f.signal, e.n), t, K } };
    },
  },
  'graph.put': {
    kind: 'graph', route: 'graph', write: true,
    parse: (f, L) => { const g = graphId(f); return { routeKey: g, params: { graph: g, ...graphOwner(f), ...edges(f, L) } }; },
  },
  'graph.delete': {
    kind: 'graph', route: 'graph', write: true,
    parse: (f) => { const g = graphId(f); return { routeKey: g, params: { graph: g, ...graphOwner(f) } }; },
  },
  remember: {
    kind: 'memory', route: 'tenant', write: true,
    parse: (f, L) => {
      const t = tenant(f);
      const vt = itemSource(f, L);
      let payload: Uint8Array | undefined;
      if (Object.hasOwn(f, 'payload') && f.payload !== undefined) {
        payload = payloadPackr.pack(f.payload);
        if (payload.byteLength > L.maxPayloadBytes) throw new HoloError('too_large', `payload is ${payload.byteLength} bytes, limit ${L.maxPayloadBytes}`);
      }
      return {
        routeKey: t, tokens: vt.tokens,
        params: { tenant: t, key: name(f, 'key', MAX_NAME_BYTES), ...vt.params, payload, reward: num(f, 'reward', { min: -1e6, max: 1e6 }) ?? 0 },
      };
    },
  },
  recall: {
    kind: 'memory', route: 'tenant',
    parse: (f, L) => {
      const t = tenant(f);
      const vt = vectorOrText(f, L);
      return { routeKey: t, tokens: vt.tokens, params: { tenant: t, ...vt.params, k: num(f, 'k', { int: true, min: 1, max: L.maxK }) ?? 10, ...scanFields(f) } };
    },
  },
  // recall.many {queries: [{tenant, vector | text, k?, mode?, oversampling?}, …], k?, mode?, oversampling?}:
  // each query is checked as a recall (the top-level k, mode, oversampling are its defaults) and
  // answered by its tenant's worker; batch/fanout.ts sends them out in parallel and merges.
  'recall.many': {
    kind: 'memory', route: 'any',
    parse: (f, L) => {
      const qs = f.queries;
      if (!Array.isArray(qs) || qs.length === 0) throw new HoloError('bad_request', "field 'queries' must be a non-empty list of recall queries");
      if (qs.length > MAX_MANY) throw new HoloError('too_large', `field 'queries' has ${qs.length} entries, limit ${MAX_MANY}`);
      const defaults: Frame = {};
      for (const k of ['k', 'mode', 'oversampling']) if (has(f, k)) defaults[k] = f[k];
      const parts = qs.map((q, i): Parsed => {
        if (q === null || typeof q !== 'object' || Array.isArray(q) || q instanceof Uint8Array) {
          throw new HoloError('bad_request', `queries[${i}] must be a map`);
        }
        try {
          const p = OPS.recall.parse({ ...defaults, ...(q as Frame) }, L);
          return { op: 'recall', kind: 'memory', route: 'tenant', ...p };
        } catch (e) {
          if (e instanceof HoloError) throw new HoloError(e.code, `queries[${i}]: ${e.message}`);
          throw e;
        }
      });
      return { params: { queries: parts.length }, parts };
    },
  },
  cleanup: {
    kind: 'memory', route: 'tenant',
    parse: (f, L) => { const t = tenant(f); return { routeKey: t, params: { tenant: t, vector: vec(f, 'vector', L) } }; },
  },
  'anchor.put': {
    kind: 'memory', route: 'tenant', write: true,
    parse: (f, L) => {
      const t = tenant(f);
      const vt = itemSource(f, L);
      return { routeKey: t, tokens: vt.tokens, params: { tenant: t, name: name(f, 'name', MAX_NAME_BYTES), ...vt.params } };
    },
  },
  'anchor.delete': {
    kind: 'memory', route: 'tenant', write: true,
    parse: (f) => { const t = tenant(f); return { routeKey: t, params: { tenant: t, name: name(f, 'name', MAX_NAME_BYTES) } }; },
  },
  forget: {
    kind: 'memory', route: 'tenant', write: true,
    parse: (f) => { const t = tenant(f); return { routeKey: t, params: { tenant: t, key: name(f, 'key', MAX_NAME_BYTES) } }; },
  },
  stats: {
    kind: 'memory', route: 'tenant',
    parse: (f) => { const t = tenant(f); return { routeKey: t, params: { tenant: t } }; },
  },
};

export const OP_NAMES = Object.keys(OPS);

/** Checks a decoded frame's op and fields. @throws HoloError unknown_op | bad_request | … */
export function parseRequest(f: Frame, L: Limits): Parsed {
  const op = f.op;
  if (typeof op !== 'string') throw new HoloError('bad_request', "missing field 'op' (string)");
  const spec = Object.hasOwn(OPS, op) ? OPS[op] : undefined;
  if (!spec) throw new HoloError('unknown_op', `unknown op '${op.slice(0, 64)}'`);
  L.arena?.begin();
  let p: ReturnType<OpSpec['parse']>;
  try {
    p = spec.parse(f, L);
    L.arena?.commit();
  } catch (e) {
    L.arena?.rollback(); // a field after a vector was bad: the vector goes back to the pool
    throw e;
  }
  // heat by graph id goes where that graph lives; inline heat goes anywhere.
  const route: Route = spec.route === 'any' && p.routeKey !== undefined ? 'graph' : spec.route;
  return { op, kind: spec.kind, route, write: spec.write, ...p };
}
