/**
 * The TypeScript client: `import { connect } from 'holoserve/client'`.
 * Pipelines requests by id over one WebSocket (many in flight, replies in any order), times
 * each out, and reconnects on its own: requests in flight when a connection drops fail with
 * code `unavailable` (they may or may not have run: retry the idempotent ones), and the next
 * request opens a new connection, backing off from 50 ms up to 2 s between failed attempts.
 */
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import type { ErrorCode } from '../errors.js';
import type { SinkhornResult as KernelSinkhornResult } from '../kernels/ot/sinkhorn.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** recall's scan options (docs/PROTOCOL.md): 'exact' scans every item; 'binary' rescores max(k, 2)·oversampling candidates of the 1-bit index. */
export interface RecallOptions {
  mode?: 'exact' | 'binary';
  oversampling?: number;
}

export interface RecallResult {
  hits: { key: string; score: number; payload?: unknown }[];
  margin: number;
  reranked: boolean;
  /** items rescored exactly */
  candidates: number;
  /** present (true) when answered from the recall cache */
  cached?: boolean;
}

/** A server error reply (or a client-side timeout/connection failure) with its code. */
export class HoloClientError extends Error {
  constructor(readonly code: ErrorCode | 'timeout', message: string) {
    super(message);
    this.name = 'HoloClientError';
  }
}

export interface ConnectOptions {
  /** bearer token, sent as Authorization on the upgrade */
  token?: string;
  /** per-request timeout, milliseconds (default 30 000) */
  timeoutMs?: number;
  /** reconnect after a drop (default true) */
  reconnect?: boolean;
}

type Bin = Float32Array | Float64Array | Uint32Array;

/** A typed array's bytes, for a msgpack bin (packing a Float32Array directly corrupts it). */
export function bin(x: Bin): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** bin → aligned typed array (decoded bins may sit at odd offsets). */
export function f32(b: Uint8Array): Float32Array {
  return new Float32Array(copy(b).buffer);
}
export function f64(b: Uint8Array): Float64Array {
  return new Float64Array(copy(b).buffer);
}
/** A fresh, offset-0 copy (Buffer#slice would return a view). */
function copy(b: Uint8Array): Uint8Array {
  const c = new Uint8Array(b.byteLength);
  c.set(b);
  return c;
}

/** `hello`: the server, its dimension and engine, the ops it answers, and its limits. */
export interface Hello {
  server: string;
  version: string;
  dim: number;
  engine: string;
  /** the ops this server answers (admin ops only when adminOps is on) */
  ops: string[];
  limits: {
    maxFrameBytes: number; maxInflight: number; sinkhornMaxSize: number; graphMaxNodes: number; graphMaxEdges: number;
    maxPayloadBytes: number; maxTextChars: number;
    /** most distinct tokens one text may have (encode, and text in remember/recall/anchor.put) */
    maxTokens: number;
    maxBundle: number; maxK: number;
    graphMaxBytes: number; heatMaxWork: number; sinkhornMaxWork: number;
  };
}

export interface UnbindResult {
  vector: Float32Array;
  /** λ used (0 for approx) */
  epsUsed: number;
  /** spectral bins with |B|² < λ (floored) */
  flooredBins: number;
  /** the truth budget's bound on the relative error at this λ (docs/PROTOCOL.md) */
  relErr: number;
  /** relErr is above the budget */
  overBudget: boolean;
}

/**
 * The sinkhorn reply: the kernel's result (its absorption count stays on the server) and the
 * truth-budget fields (docs/PROTOCOL.md "sinkhorn"): the tol used, whether the marginal error
 * met it, and overBudget (not met, or a numerical error).
 */
export type SinkhornResult = Omit<KernelSinkhornResult, 'absorptions'> & { tol: number; tolMet: boolean; overBudget: boolean };

export interface TenantStats {
  items: number;
  capacity: number;
  utilization: number;
  evictions: number;
  anchors: number;
  anchorsMax: number;
  saturation: number;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class HoloClient {
  private ws?: WebSocket;
  private opening?: Promise<WebSocket>;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private backoffMs = 0;
  private closed = false;

  constructor(readonly url: string, private readonly opts: ConnectOptions = {}) {}

  /** Opens the connection now (requests also open it on demand). */
  async open(): Promise<void> {
    await this.socket();
  }

  private socket(): Promise<WebSocket> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    if (this.closed) return Promise.reject(new HoloClientError('unavailable', 'client is closed'));
    if (this.ws && this.opts.reconnect === false) return Promise.reject(new HoloClientError('unavailable', 'connection closed (reconnect is off)'));
    this.opening ??= (async () => {
      if (this.backoffMs > 0) await new Promise((r) => setTimeout(r, this.backoffMs));
      const headers = this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : undefined;
      const ws = new WebSocket(this.url, { headers, maxPayload: 256 * 1024 * 1024 });
      ws.binaryType = 'nodebuffer';
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new HoloClientError(res.statusCode === 401 ? 'unauthorized' : 'unavailable', `upgrade refused: HTTP ${res.statusCode}`)));
      }).catch((e: unknown) => {
        this.backoffMs = Math.min(2000, Math.max(50, this.backoffMs * 2));
        throw e instanceof HoloClientError ? e : new HoloClientError('unavailable', `cannot connect to ${this.url}: ${(e as Error).message}`);
      });
      this.backoffMs = 0;
      ws.on('message', (data: Buffer) => this.onMessage(data));
      ws.on('close', () => this.failAll('connection closed'));
      ws.on('error', () => { /* 'close' follows and fails what is pending */ });
      this.ws = ws;
      return ws;
    })().finally(() => { this.opening = undefined; });
    return this.opening;
  }

  private onMessage(data: Buffer): void {
    let msg: Record<string, unknown>;
    try {
      msg = unpackr.unpack(data) as Record<string, unknown>;
    } catch {
      return;
    }
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    if (msg.ok === true) p.resolve(msg);
    else {
      const err = msg.error as { code: ErrorCode; message: string } | undefined;
      // The server's D may have changed (a dimension switch): read hello again, so `dim` is
      // the served D by the time the caller retries.
      if (err?.code === 'bad_dimension') this.dimRefresh = this.hello().then((h) => h.dim, () => this.dim);
      p.reject(new HoloClientError(err?.code ?? 'internal', err?.message ?? 'malformed error reply'));
    }
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new HoloClientError('unavailable', why));
      this.pending.delete(id);
    }
  }

  /** Sends one request; resolves with the whole reply map ({id, ok, ...result}). */
  async request(op: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const ws = await this.socket();
    const id = this.nextId++;
    // Absent fields are left out: msgpackr would pack `undefined` as an extension type.
    // An id ≥ 2^32 goes as uint64: msgpackr packs such a number as float64, which is not an id.
    const body: Record<string, unknown> = { id: id > 0xffffffff ? BigInt(id) : id, op };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) body[k] = v;
    const frame = packr.pack(body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HoloClientError('timeout', `${op} #${id} timed out after ${this.opts.timeoutMs ?? 30_000} ms`));
      }, this.opts.timeoutMs ?? 30_000);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(frame, { binary: true }, (e) => {
        if (e && this.pending.delete(id)) { clearTimeout(timer); reject(new HoloClientError('unavailable', e.message)); }
      });
    });
  }

  /** Sends raw bytes as one frame (for protocol tests); resolves with the decoded reply. */
  async raw(bytes: Uint8Array): Promise<Record<string, unknown>> {
    const ws = await this.socket();
    return new Promise((resolve, reject) => {
      const onMsg = (data: Buffer) => { ws.off('message', onMsg); clearTimeout(t); resolve(unpackr.unpack(data) as Record<string, unknown>); };
      const t = setTimeout(() => { ws.off('message', onMsg); reject(new HoloClientError('timeout', 'no reply')); }, this.opts.timeoutMs ?? 30_000);
      ws.on('message', onMsg);
      ws.send(bytes, { binary: true });
    });
  }

  get inflight(): number {
    return this.pending.size;
  }

  // ---- typed methods (docs/PROTOCOL.md): each resolves with the result alone, without id and ok ----

  /** One request's result: the reply map without `id` and `ok`. */
  private async result<T>(op: string, params: Record<string, unknown> = {}): Promise<T> {
    const { id: _id, ok: _ok, ...rest } = await this.request(op, params);
    return rest as T;
  }

  /** The server's D as of the last hello (this client reads hello again after a bad_dimension). */
  dim: number | undefined;
  /** Settles once the hello a bad_dimension triggered has been read. */
  dimRefresh: Promise<number | undefined> = Promise.resolve(undefined);

  async hello(): Promise<Hello> {
    const h = await this.result<Hello>('hello');
    this.dim = h.dim;
    return h;
  }
  /** Admin: the rolling dimension increase (docs/OPERATIONS.md "Changing D"). */
  async dimension(action: 'shadow' | 'status' | 'switch' | 'rollback' | 'finalize', opts: { dim?: number; share?: number; chunkMs?: number; maxDelta?: number; force?: number; sample?: number } = {}): Promise<Record<string, unknown>> {
    return this.result('dimension', { action, ...opts });
  }
  async role(token: string): Promise<Float32Array> {
    return f32((await this.request('role', { token })).vector as Uint8Array);
  }
  async bind(a: Float32Array, b: Float32Array | { role: string }): Promise<Float32Array> {
    const p = b instanceof Float32Array ? { a: bin(a), b: bin(b) } : { a: bin(a), role: b.role };
    return f32((await this.request('bind', p)).vector as Uint8Array);
  }
  async unbind(c: Float32Array, b: Float32Array | { role: string }, opts: { mode?: 'exact' | 'wiener' | 'approx'; eps?: number; snr?: number; beta?: number } = {}): Promise<UnbindResult> {
    const p = b instanceof Float32Array ? { c: bin(c), b: bin(b) } : { c: bin(c), role: b.role };
    const { vector, ...rest } = await this.result<Omit<UnbindResult, 'vector'> & { vector: Uint8Array }>('unbind', { ...p, ...opts });
    return { ...rest, vector: f32(vector) };
  }
  async bundle(vectors: Float32Array[], weights?: number[]): Promise<Float32Array> {
    return f32((await this.request('bundle', { vectors: vectors.map(bin), weights })).vector as Uint8Array);
  }
  async cosine(a: Float32Array, b: Float32Array): Promise<number> {
    return (await this.request('cosine', { a: bin(a), b: bin(b) })).cosine as number;
  }
  async encode(text: string): Promise<Float32Array> {
    return f32((await this.request('encode', { text })).vector as Uint8Array);
  }
  async sinkhorn(p: { cost: Float64Array; n: number; m: number; epsilon: number; a?: Float64Array; b?: Float64Array; maxIter?: number; tol?: number }): Promise<SinkhornResult> {
    const { plan, ...rest } = await this.result<Omit<SinkhornResult, 'plan'> & { plan: Uint8Array }>('sinkhorn', { ...p, cost: bin(p.cost), a: p.a && bin(p.a), b: p.b && bin(p.b) });
    return { ...rest, plan: f64(plan) };
  }
  async heat(p: ({ n: number; src: Uint32Array; dst: Uint32Array; weight?: Float64Array } | { graph: string }) & { signal: Float64Array; t: number | number[]; K?: number }): Promise<Float64Array | Float64Array[]> {
    const q: Record<string, unknown> = { ...p, signal: bin(p.signal) };
    if ('src' in p) { q.src = bin(p.src); q.dst = bin(p.dst); q.weight = p.weight && bin(p.weight); }
    const r = (await this.request('heat', q)).result;
    return Array.isArray(r) ? r.map((x) => f64(x as Uint8Array)) : f64(r as Uint8Array);
  }
  async graphPut(graph: string, p: { n: number; src: Uint32Array; dst: Uint32Array; weight?: Float64Array }): Promise<{ graph: string; n: number; nnz: number; bytes: number }> {
    return this.result('graph.put', { graph, n: p.n, src: bin(p.src), dst: bin(p.dst), weight: p.weight && bin(p.weight) });
  }
  async graphDelete(graph: string): Promise<{ removed: boolean }> {
    return this.result('graph.delete', { graph });
  }
  /** `evicted`: how many items memory pressure evicted to make room. `record`: role–filler map; `shadowVector`: the vector at D′ during a dimension rollout. */
  async remember(tenant: string, key: string, what: Float32Array | string | { record: Record<string, string | { role: string }> }, opts: { payload?: unknown; reward?: number; shadowVector?: Float32Array } = {}): Promise<{ stored: boolean; evicted: number }> {
    const v = typeof what === 'string' ? { text: what } : what instanceof Float32Array ? { vector: bin(what) } : { record: what.record };
    return this.result('remember', { tenant, key, ...v, ...opts, shadowVector: opts.shadowVector && bin(opts.shadowVector) });
  }
  async recall(tenant: string, query: Float32Array | string, k = 10, opts: RecallOptions = {}): Promise<RecallResult> {
    const v = typeof query === 'string' ? { text: query } : { vector: bin(query) };
    return this.result('recall', { tenant, k, ...v, ...opts });
  }
  /** Many recalls in one request (any tenants); results in query order, a failed one as {error}. */
  async recallMany(queries: { tenant: string; query: Float32Array | string; k?: number; mode?: 'exact' | 'binary'; oversampling?: number }[], opts: RecallOptions & { k?: number } = {}): Promise<{ results: (RecallResult | { error: { code: string; message: string } })[] }> {
    const qs = queries.map(({ query, ...rest }) => ({ ...rest, ...(typeof query === 'string' ? { text: query } : { vector: bin(query) }) }));
    return this.result('recall.many', { queries: qs, ...opts });
  }
  async cleanup(tenant: string, vector: Float32Array): Promise<{ key: string; score: number; margin: number }> {
    return this.result('cleanup', { tenant, vector: bin(vector) });
  }
  /** `evicted`: the anchor that aged out at saturation, or null. */
  async anchorPut(tenant: string, name: string, what: Float32Array | string | { record: Record<string, string | { role: string }> }, opts: { shadowVector?: Float32Array } = {}): Promise<{ stored: boolean; evicted: string | null }> {
    const v = typeof what === 'string' ? { text: what } : what instanceof Float32Array ? { vector: bin(what) } : { record: what.record };
    const r = await this.result<{ stored: boolean; evicted?: string | null }>('anchor.put', { tenant, name, ...v, shadowVector: opts.shadowVector && bin(opts.shadowVector) });
    return { stored: r.stored, evicted: r.evicted ?? null };
  }
  async anchorDelete(tenant: string, name: string): Promise<{ removed: boolean }> {
    return this.result('anchor.delete', { tenant, name });
  }
  async forget(tenant: string, key: string): Promise<{ removed: boolean }> {
    return this.result('forget', { tenant, key });
  }
  async stats(tenant: string): Promise<TenantStats> {
    return this.result('stats', { tenant });
  }

  /** Closes the connection; requests in flight fail with `unavailable`. */
  close(): void {
    this.closed = true;
    this.ws?.close();
    this.failAll('client closed');
  }
}

/** Connects to ws://host:port/v1 and returns a client (the connection is open when it resolves). */
export async function connect(url: string, opts: ConnectOptions = {}): Promise<HoloClient> {
  const c = new HoloClient(url, opts);
  await c.open();
  return c;
}
