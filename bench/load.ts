/**
 * The load harness (docs/LOAD.md):
 *   npm run load -- --op bind --connections 64 --duration 10s [--rate N] [--dim 8192]
 *                   [--url ws://127.0.0.1:PORT/v1] [--out bench/results/load-bind]
 *   npm run load -- --targets
 *
 * Loopback only, bounded (duration ≤ 120 s per phase, --max-requests per phase), and it stops by
 * itself. Without --url it starts the compiled server (dist/src/main.js, PORT=0, a temporary
 * data directory) and SIGTERMs it at the end.
 *
 * Cheap on its own main thread, because it shares this machine's cores with the server: request
 * frames are msgpack-encoded once (vectors as bin) and only their id (and one word of the vector,
 * so that no two requests in flight are identical and coalesce) is patched before each send;
 * connections are raw `ws` sockets with a zero masking key (the server's unmasking is the same
 * work either way; our XOR-copy of every frame is skipped); replies are matched by reading the
 * id and ok flag at the head of the frame, decoding in full only error replies.
 * Closed loop by default (each connection keeps --pipeline requests in flight); open loop with
 * --rate (requests scheduled at fixed intervals, latency from the scheduled send time, so a
 * stalled server cannot hide its stall: no coordinated omission). Latencies go into an
 * HdrHistogram in microseconds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { bin, connect, type HoloClient } from '../src/client/client.js';
import { bindSpectrum, bindWith, createHrr, role, roleSpectrum } from '../src/kernels/index.js';
import { PALETTE, percentileCurve, percentileTick, svgPlot, type Panel, type Series } from './svg-plot.js';
import { mulberry32 } from './seeded.js';
import { measure } from './timing.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Flags

const OPS = ['bind', 'bind-role', 'unbind', 'hello', 'recall', 'sinkhorn', 'heat'] as const;
type Op = (typeof OPS)[number];

interface Args {
  op: Op;
  connections: number;
  pipeline: number;
  durationMs: number;
  warmupMs: number;
  rate?: number;
  dim: number;
  dimGiven: boolean;
  pipelineGiven: boolean;
  url?: string;
  out?: string;
  maxRequests: number;
  items: number;
  nodes: number;
  compareMs: number;
  driver: 'ws' | 'client';
  targets: boolean;
  help: boolean;
}

const MAX_DURATION_MS = 120_000;
const MAX_WARMUP_MS = 30_000;

const HELP = `holoserve load harness (docs/LOAD.md)

  npm run load -- [--op OP] [--connections N] [--pipeline N] [--duration T] [--rate N] ...
  npm run load -- --targets [--connections N] [--pipeline N] [--duration T]

  --op OP            bind | bind-role | unbind | hello | recall | sinkhorn | heat   (bind)
  --connections N    WebSocket connections                                        (64)
  --pipeline N       closed loop: requests in flight per connection (1..256)      (1)
  --rate N           open loop: requests/s over all connections, scheduled; latency
                     from the scheduled send time (no coordinated omission)
  --duration T       measured time per phase: 500ms, 10s, 2m; capped at 120s      (10s)
  --warmup T         unmeasured time before each load phase; capped at 30s        (1s)
  --max-requests N   requests sent per phase, at most                             (2000000)
  --dim D            HRR dimension of the spawned server                          (8192)
  --url URL          use a running server: ws://127.0.0.1|localhost|[::1]:PORT/v1 only
                     (default: spawn dist/src/main.js on an ephemeral port)
  --items N          recall: vectors remembered in the tenant first, ≤ 20000     (1000)
  --nodes N          heat: nodes of the random graph put once, ≤ 100000          (10000)
  --compare T        length of the side measurements (hello echo rate, served
                     bind-role, in-process kernel); 0 skips them                  (3s)
  --driver ws|client ws: raw ws, pre-encoded frames; client: the TS client        (ws)
  --out PATH         writes PATH.json and PATH.svg        (bench/results/load-<op|targets>)
  --targets          runs the issue's checks in sequence and prints PASS/FAIL (peak at
                     pipeline 1 and 4, the better one, unless --pipeline is given)
  --help
`;

class UsageError extends Error {}

function parseDuration(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new UsageError(`${flag}: expected a duration like 500ms, 10s or 2m, got '${s}'`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : v * 1000;
}

function parseIntFlag(s: string, flag: string, lo: number, hi: number): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new UsageError(`${flag}: expected an integer in [${lo}, ${hi}], got '${s}'`);
  return v;
}

export function parseArgs(argv: string[]): Args {
  const a: Args = {
    op: 'bind', connections: 64, pipeline: 1, durationMs: 10_000, warmupMs: 1000, dim: 8192, dimGiven: false, pipelineGiven: false,
    maxRequests: 2_000_000, items: 1000, nodes: 10_000, compareMs: 3000, driver: 'ws', targets: false, help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let val: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) { val = flag.slice(eq + 1); flag = flag.slice(0, eq); }
    const next = () => {
      if (val !== undefined) return val;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--op': {
        const v = next();
        if (!(OPS as readonly string[]).includes(v)) throw new UsageError(`--op must be one of ${OPS.join(', ')}; got '${v}'`);
        a.op = v as Op;
        break;
      }
      case '--connections': a.connections = parseIntFlag(next(), flag, 1, 1024); break;
      case '--pipeline': a.pipeline = parseIntFlag(next(), flag, 1, 256); a.pipelineGiven = true; break;
      case '--rate': {
        const v = Number(next());
        if (!(v > 0 && v <= 10_000_000)) throw new UsageError('--rate must be a number of requests/s in (0, 1e7]');
        a.rate = v;
        break;
      }
      case '--duration': a.durationMs = parseDuration(next(), flag); break;
      case '--warmup': a.warmupMs = parseDuration(next(), flag); break;
      case '--compare': a.compareMs = parseDuration(next(), flag); break;
      case '--max-requests': a.maxRequests = parseIntFlag(next(), flag, 1, 2_000_000_000); break;
      case '--dim': a.dim = parseIntFlag(next(), flag, 256, 16384); a.dimGiven = true; break;
      case '--url': a.url = next(); break;
      case '--out': a.out = next(); break;
      case '--items': a.items = parseIntFlag(next(), flag, 1, 20_000); break;
      case '--nodes': a.nodes = parseIntFlag(next(), flag, 2, 100_000); break;
      case '--driver': {
        const v = next();
        if (v !== 'ws' && v !== 'client') throw new UsageError("--driver must be 'ws' or 'client'");
        a.driver = v;
        break;
      }
      case '--targets': a.targets = true; break;
      case '--help': case '-h': a.help = true; break;
      default: throw new UsageError(`unknown flag '${flag}' (see --help)`);
    }
  }
  if ((a.dim & (a.dim - 1)) !== 0) throw new UsageError(`--dim must be a power of two in [256, 16384], got ${a.dim}`);
  if (a.durationMs <= 0) throw new UsageError('--duration must be positive');
  if (a.durationMs > MAX_DURATION_MS) {
    console.log(`note: --duration capped at ${MAX_DURATION_MS / 1000} s`);
    a.durationMs = MAX_DURATION_MS;
  }
  if (a.warmupMs > MAX_WARMUP_MS) { console.log(`note: --warmup capped at ${MAX_WARMUP_MS / 1000} s`); a.warmupMs = MAX_WARMUP_MS; }
  if (a.compareMs > MAX_DURATION_MS) a.compareMs = MAX_DURATION_MS;
  if (a.driver === 'client' && a.rate !== undefined) throw new UsageError('--driver client runs closed loop only (no --rate)');
  if (a.url !== undefined) checkLoopbackUrl(a.url);
  return a;
}

/** Refuses anything but ws:// on 127.0.0.1, localhost or ::1. */
export function checkLoopbackUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--url: not a URL: '${url}'`);
  }
  if (u.protocol !== 'ws:') throw new UsageError(`--url must be ws:// (loopback, no TLS), got ${u.protocol}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!(host === '127.0.0.1' || host === 'localhost' || host === '::1')) {
    throw new UsageError(`--url host is ${u.hostname}: this harness only targets loopback (127.0.0.1, localhost, ::1)`);
  }
  return u;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (us: number) => (us / 1000).toFixed(us < 10_000 ? 2 : 1);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

function newHist(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Uniform in (0, 1), never 0: mulberry32's uint32 (bench/seeded.ts) + ½, over 2³². */
function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => (next() + 0.5) / 4294967296;
}

/** Gaussian vector of norm ≈ 1. */
function gaussian(D: number, u: () => number): Float32Array {
  const x = new Float32Array(D);
  const s = 1 / Math.sqrt(D);
  for (let i = 0; i < D; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), t = 2 * Math.PI * u();
    x[i] = r * Math.cos(t) * s;
    if (i + 1 < D) x[i + 1] = r * Math.sin(t) * s;
  }
  return x;
}

let CLK_TCK = 100;
try {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  if (r.status === 0 && Number(r.stdout) > 0) CLK_TCK = Number(r.stdout);
} catch { /* Linux default */ }

interface ThreadCpu { tid: number; name: string; seconds: number }

/** CPU seconds per thread of a process (Linux /proc), or undefined elsewhere. */
function threadCpu(pid: number): ThreadCpu[] | undefined {
  try {
    return readdirSync(`/proc/${pid}/task`).map((t) => {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const name = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      return { tid: Number(t), name, seconds: (Number(f[11]) + Number(f[12])) / CLK_TCK };
    });
  } catch {
    return undefined;
  }
}

/** Busy fraction of a core per thread over an interval: main thread first, then the busiest. */
function threadBusy(pid: number, before: ThreadCpu[] | undefined, after: ThreadCpu[] | undefined, wallS: number) {
  if (!before || !after || wallS <= 0) return undefined;
  const b = new Map(before.map((t) => [t.tid, t.seconds]));
  const rows = after.map((t) => ({ tid: t.tid, name: t.name, busy: (t.seconds - (b.get(t.tid) ?? 0)) / wallS }));
  const main = rows.find((r) => r.tid === pid)?.busy ?? 0;
  const others = rows.filter((r) => r.tid !== pid && r.busy >= 0.02).sort((x, y) => y.busy - x.busy).slice(0, 6);
  const total = rows.reduce((s, r) => s + r.busy, 0);
  return { main, total, others: others.map((o) => ({ name: o.name, busy: o.busy })) };
}

// ---------------------------------------------------------------------------------------------
// Frames

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const ID_PLACEHOLDER = 0xffffffff;
const ID_MARK = Buffer.from([0xa2, 0x69, 0x64, 0xce, 0xff, 0xff, 0xff, 0xff]); // "id": uint32 0xffffffff
const SEND_OPTS = { binary: true } as const;

type Body = Record<string, unknown>;

/** Request bodies of one op, each with a typed array to vary per send (or none). */
interface OpBodies {
  /** the op sent on the wire */
  wireOp: string;
  bodies: Body[];
  /** the field varied per send so that no two requests in flight are identical */
  vary?: string;
  varyKind?: 'f32' | 'f64';
}

/**
 * A ring of pre-encoded frames. take(id) patches a free frame's id (and one word of its varied
 * vector: the low mantissa bits of element 0, a per-frame use counter) and marks it busy until
 * ws has handed it to the kernel (its send callback, frees[k]); a frame is never rewritten while
 * queued. If every frame is busy, spare(id) sends a patched copy.
 */
export class FramePool {
  readonly frames: Buffer[];
  readonly frees: (() => void)[];
  private readonly busy: Uint8Array;
  private readonly uses: Uint32Array;
  private readonly idOff: number;
  private readonly varyOff: number;
  private cursor = 0;
  copies = 0;

  constructor(readonly ob: OpBodies) {
    this.frames = ob.bodies.map((b) => {
      if (Object.keys(b)[0] !== 'id' || b.id !== ID_PLACEHOLDER) throw new Error('frame bodies must start with the id placeholder');
      return Buffer.from(packr.pack(b)); // own copy: pack() may return a view of a reused buffer
    });
    const f0 = this.frames[0];
    const at = f0.indexOf(ID_MARK);
    if (at < 0) throw new Error('could not find the id in an encoded frame');
    this.idOff = at + 4;
    this.varyOff = -1;
    if (ob.vary) {
      const v = ob.bodies[0][ob.vary] as Uint8Array;
      this.varyOff = f0.indexOf(Buffer.from(v.buffer, v.byteOffset, 16));
      if (this.varyOff < 0) throw new Error(`could not find field '${ob.vary}' in an encoded frame`);
      for (let k = 1; k < this.frames.length; k++) {
        const w = ob.bodies[k][ob.vary] as Uint8Array;
        if (this.frames[k].indexOf(Buffer.from(w.buffer, w.byteOffset, 16)) !== this.varyOff) throw new Error('frames differ in layout');
      }
    }
    this.busy = new Uint8Array(this.frames.length);
    this.uses = new Uint32Array(this.frames.length);
    this.frees = this.frames.map((_, k) => () => { this.busy[k] = 0; });
  }

  get size(): number {
    return this.frames.length;
  }

  private patch(buf: Buffer, k: number, id: number): void {
    buf.writeUInt32BE(id >>> 0, this.idOff);
    if (this.varyOff < 0) return;
    const u = this.uses[k]++;
    if (this.ob.varyKind === 'f32') {
      // sign, exponent and the top mantissa bit kept: finite, same magnitude class
      const w = buf.readUInt32LE(this.varyOff);
      buf.writeUInt32LE(((w & 0xffc00000) | (u & 0x3fffff)) >>> 0, this.varyOff);
    } else {
      buf.writeUInt32LE(u >>> 0, this.varyOff); // low mantissa word of a float64
    }
  }

  /** A free frame's index, patched with id, or −1 when every frame is still being written. */
  take(id: number): number {
    const n = this.frames.length;
    for (let t = 0; t < n; t++) {
      const k = this.cursor;
      this.cursor = k + 1 === n ? 0 : k + 1;
      if (this.busy[k] === 0) {
        this.busy[k] = 1;
        this.patch(this.frames[k], k, id);
        return k;
      }
    }
    return -1;
  }

  spare(id: number): Buffer {
    const k = this.cursor;
    const b = Buffer.from(this.frames[k]);
    this.patch(b, k, id);
    this.copies++;
    return b;
  }

  /** The params of body k for the TS client (no id/op), with the varied word changed. */
  params(k: number): Body {
    const b = this.ob.bodies[k];
    const p: Body = {};
    for (const [key, v] of Object.entries(b)) if (key !== 'id' && key !== 'op') p[key] = v;
    if (this.ob.vary) {
      const v = b[this.ob.vary] as Uint8Array;
      const dv = new DataView(v.buffer, v.byteOffset, 8);
      const u = this.uses[k]++;
      if (this.ob.varyKind === 'f32') dv.setUint32(0, ((dv.getUint32(0, true) & 0xffc00000) | (u & 0x3fffff)) >>> 0, true);
      else dv.setUint32(0, u >>> 0, true);
    }
    return p;
  }
}

const RECALL_TENANT = 'holoserve-load-recall';
const HEAT_GRAPH = 'holoserve-load-heat';

/** `count` distinct request bodies of an op (vectors random, seeded). */
function makeBodies(op: Op, D: number, count: number, seed: number, nodes: number): OpBodies {
  const u = rng(seed);
  const shared = gaussian(D, rng(seed ^ 0x5eed));
  const bodies: Body[] = [];
  const head = (wireOp: string) => ({ id: ID_PLACEHOLDER, op: wireOp });
  for (let k = 0; k < count; k++) {
    switch (op) {
      case 'hello': bodies.push(head('hello')); break;
      case 'bind': bodies.push({ ...head('bind'), a: bin(gaussian(D, u)), b: bin(shared) }); break;
      case 'bind-role': bodies.push({ ...head('bind'), a: bin(gaussian(D, u)), role: 'agent' }); break;
      case 'unbind': bodies.push({ ...head('unbind'), c: bin(gaussian(D, u)), b: bin(shared) }); break;
      case 'recall': bodies.push({ ...head('recall'), tenant: RECALL_TENANT, vector: bin(gaussian(D, u)), k: 10 }); break;
      case 'sinkhorn': {
        const cost = new Float64Array(64 * 64);
        for (let i = 0; i < cost.length; i++) cost[i] = u();
        bodies.push({ ...head('sinkhorn'), cost: bin(cost), n: 64, m: 64, epsilon: 0.05 });
        break;
      }
      case 'heat': {
        const signal = new Float64Array(nodes);
        for (let i = 0; i < nodes; i++) signal[i] = u() - 0.5;
        bodies.push({ ...head('heat'), graph: HEAT_GRAPH, signal: bin(signal), t: 1 });
        break;
      }
    }
  }
  const vary = ({ bind: 'a', 'bind-role': 'a', unbind: 'c', recall: 'vector', sinkhorn: 'cost', heat: 'signal', hello: undefined } as const)[op];
  const varyKind = op === 'sinkhorn' || op === 'heat' ? 'f64' : 'f32';
  return { wireOp: op === 'bind-role' ? 'bind' : op, bodies, vary, varyKind: vary ? varyKind : undefined };
}

/** Batch kind and metrics op label of an op (for /metrics). */
function opLabels(op: Op): { kind?: string; label: string } {
  const kind = ({ bind: 'hrr', 'bind-role': 'hrr', unbind: 'hrr', recall: 'memory', sinkhorn: 'ot', heat: 'graph', hello: undefined } as const)[op];
  return { kind, label: op === 'bind-role' ? 'bind' : op };
}

// ---------------------------------------------------------------------------------------------
// Replies: the id and ok flag from the head of the frame ({id, ok, ...} as holoserve packs it)

let headOk = false;

/** The reply's id (sets headOk), or −1 when the head is not laid out as expected. */
function replyHead(b: Buffer): number {
  let i: number;
  const m = b[0];
  if ((m & 0xf0) === 0x80) i = 1;
  else if (m === 0xde) i = 3;
  else if (m === 0xdf) i = 5;
  else return -1;
  if (b[i] !== 0xa2 || b[i + 1] !== 0x69 || b[i + 2] !== 0x64) return -1;
  i += 3;
  const t = b[i];
  let id: number;
  if (t < 0x80) { id = t; i += 1; }
  else if (t === 0xcc) { id = b[i + 1]; i += 2; }
  else if (t === 0xcd) { id = (b[i + 1] << 8) | b[i + 2]; i += 3; }
  else if (t === 0xce) { id = b.readUInt32BE(i + 1); i += 5; }
  else return -1;
  if (b[i] !== 0xa2 || b[i + 1] !== 0x6f || b[i + 2] !== 0x6b) return -1;
  const v = b[i + 3];
  if (v === 0xc3) headOk = true;
  else if (v === 0xc2) headOk = false;
  else return -1;
  return id;
}

function decodeReply(b: Buffer): { id: number; ok: boolean; code: string; message: string; msg: Record<string, unknown> } {
  try {
    const msg = unpackr.unpack(b) as Record<string, unknown>;
    const err = msg.error as { code?: string; message?: string } | undefined;
    return { id: typeof msg.id === 'number' ? msg.id : -1, ok: msg.ok === true, code: err?.code ?? (msg.ok === true ? '' : 'malformed_reply'), message: err?.message ?? '', msg };
  } catch (e) {
    return { id: -1, ok: false, code: 'undecodable_reply', message: (e as Error).message, msg: {} };
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

const RING = 1 << 14;
const RMASK = RING - 1;

class Conn {
  readonly sendAt = new Float64Array(RING);
  readonly schedAt = new Float64Array(RING);
  readonly ringId = new Float64Array(RING).fill(-1);
  nextId = 1;
  outstanding = 0;
  alive = true;
  onReply: (data: Buffer, t: number) => void = () => {};
  onClose: () => void = () => {};

  constructor(readonly ws: WebSocket, readonly index: number) {
    ws.on('message', (data: Buffer) => this.onReply(data, now()));
    ws.on('close', () => { this.alive = false; this.onClose(); });
    ws.on('error', () => { /* close follows */ });
  }

  newId(): number {
    const id = this.nextId;
    this.nextId = id >= 0xfffffff0 ? 1 : id + 1;
    return id;
  }
}

async function openConns(url: string, n: number): Promise<Conn[]> {
  const open = (i: number) => new Promise<Conn>((res, rej) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: 256 * 1024 * 1024,
      skipUTF8Validation: true,
      generateMask: (mask: Buffer) => { mask.fill(0); },
    });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => res(new Conn(ws, i)));
    ws.once('error', (e) => rej(new Error(`cannot connect to ${url}: ${e.message}`)));
    ws.once('unexpected-response', (_q, r) => rej(new Error(`upgrade refused by ${url}: HTTP ${r.statusCode}`)));
  });
  const out: Conn[] = [];
  for (let i = 0; i < n; i += 32) out.push(...(await Promise.all(Array.from({ length: Math.min(32, n - i) }, (_, j) => open(i + j)))));
  return out;
}

/** One request on one connection, waited for; the full decoded reply. */
function oneShot(c: Conn, frame: Buffer, id: number): Promise<{ us: number; reply: ReturnType<typeof decodeReply> }> {
  return new Promise((res, rej) => {
    const t0 = now();
    const timer = setTimeout(() => rej(new Error('no reply in 30 s')), 30_000);
    c.onReply = (data, t) => {
      const r = decodeReply(data);
      if (r.id !== id && r.id !== 0) return;
      clearTimeout(timer);
      c.onReply = () => {};
      res({ us: (t - t0) * 1000, reply: r });
    };
    c.ws.send(frame, SEND_OPTS);
  });
}

// ---------------------------------------------------------------------------------------------
// The server: spawned, or given by --url

interface Target {
  url: string;
  http: string;
  pid?: number;
  spawned: boolean;
  readyLine?: string;
  stop(): Promise<void>;
}

async function spawnServer(dim: number): Promise<Target> {
  const entry = join(ROOT, 'dist/src/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} not found: run npm run build (npm run load does)`);
  const dir = mkdtempSync(join(tmpdir(), 'holoserve-load-'));
  const proc: ChildProcess = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', HOLOSERVE_DATA_DIR: dir,
      HOLOSERVE_ROLE_FILE: join(dir, 'roles.bin'), HOLOSERVE_DIM: String(dim),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const killOnExit = () => { if (proc.exitCode === null) proc.kill('SIGTERM'); };
  process.once('exit', killOnExit);
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /ready on ws:\/\/[^:]+:(\d+)\/v1/.exec(out);
      if (m) { clearTimeout(t); proc.stdout!.off('data', check); res(Number(m[1])); }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => { clearTimeout(t); rej(new Error(`server exited with ${code} before ready:\n${out}`)); });
  });
  const readyLine = /"msg":"(ready on [^"]*)"/.exec(out)?.[1];
  let stopping: Promise<void> | undefined;
  return {
    url: `ws://127.0.0.1:${port}/v1`, http: `http://127.0.0.1:${port}`, pid: proc.pid, spawned: true, readyLine,
    stop: () => (stopping ??= (async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); }, 15_000);
      await exited;
      clearTimeout(t);
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    })()),
  };
}

type Scrape = Map<string, number>;

async function scrape(http: string): Promise<Scrape | undefined> {
  try {
    const res = await fetch(`${http}/metrics`);
    if (!res.ok) return undefined;
    const m: Scrape = new Map();
    for (const line of (await res.text()).split('\n')) {
      if (line === '' || line[0] === '#') continue;
      const sp = line.lastIndexOf(' ');
      m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
    return m;
  } catch {
    return undefined;
  }
}

const delta = (a: Scrape, b: Scrape, k: string) => (a.get(k) ?? 0) - (b.get(k) ?? 0);

/**
 * Upper bounds of percentiles of a Prometheus histogram over an interval, from its bucket
 * deltas: {p50: '≤ 2.5 ms', ...}. `label` picks the series, e.g. 'op="bind"'.
 */
function bucketBounds(after: Scrape, before: Scrape, metric: string, label: string, ps = [50, 90, 99]): Record<string, number> | undefined {
  const rows: [number, number][] = [];
  for (const k of after.keys()) {
    if (!k.startsWith(`${metric}_bucket{`) || !k.includes(label)) continue;
    const le = /le="([^"]+)"/.exec(k)?.[1];
    if (le === undefined) continue;
    rows.push([le === '+Inf' ? Infinity : Number(le), delta(after, before, k)]);
  }
  rows.sort((x, y) => x[0] - y[0]);
  const total = rows.length ? rows[rows.length - 1][1] : 0;
  if (total <= 0) return undefined;
  const out: Record<string, number> = {};
  for (const p of ps) out[`p${p}`] = 1000 * (rows.find(([, c]) => c >= (p / 100) * total)?.[0] ?? Infinity);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Phases

interface PhaseSpec {
  name: string;
  op: Op;
  pool: FramePool;
  conns: Conn[];
  mode: 'closed' | 'open';
  pipeline: number;
  rate: number;
  durationMs: number;
  warmupMs: number;
  maxRequests: number;
  driver: 'ws' | 'client';
  clients?: HoloClient[];
}

interface Percentiles { p50: number; p90: number; p99: number; p999: number; max: number; mean: number; count: number }

export interface PhaseResult {
  name: string;
  op: Op;
  mode: 'closed' | 'open' | 'paced';
  connections: number;
  pipeline?: number;
  rate?: number;
  driver: string;
  measuredS: number;
  sent: number;
  replies: number;
  ok: number;
  /** ok replies per second inside the measured window */
  throughput: number;
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
  /** microseconds; open loop: from the scheduled send time */
  latencyUs: Percentiles;
  /** open loop only: from the actual send time */
  serviceUs?: Percentiles;
  curve: [number, number][];
  serviceCurve?: [number, number][];
  timeline: { t: number; rps: number; p50Ms: number; p99Ms: number; errors: number; warmup: boolean }[];
  harness: { cpuCores: number; mainThread?: number };
  /** the whole machine during the phase: busy cores, and the part used by neither server nor harness */
  machine?: { busyCores: number; otherCores?: number };
  server?: ServerStats;
  frameCopies: number;
}

interface ServerStats {
  cpuCores?: number;
  threads?: { main: number; total: number; others: { name: string; busy: number }[] };
  batchMean?: number;
  queueWaitMeanMs?: number;
  serverLatencyMeanMs?: number;
  computations?: number;
  coalesced?: number;
  /** upper bounds (ms) of the server's own latency percentiles, from its histogram buckets */
  serverLatencyBoundsMs?: Record<string, number>;
  queueWaitBoundsMs?: Record<string, number>;
}

function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };
  return {
    p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9), max: h.maxValue, mean: Math.round(h.mean), count: h.totalCount,
  };
}

function curveOf(h: Histogram): [number, number][] {
  return percentileCurve((p) => h.getValueAtPercentile(p), h.totalCount, h.maxValue).map(([x, us]) => [x, us / 1000]);
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat), or undefined. */
function machineBusy(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK;
  } catch {
    return undefined;
  }
}

interface Sample { wallS: number; harnessCpu: number; harnessMain?: number; server?: ReturnType<typeof threadBusy>; machineCores?: number }
interface Sampler { take(): Sample }

function sampler(target: Target): Sampler {
  const t0 = now(), c0 = process.cpuUsage(), h0 = threadCpu(process.pid), s0 = target.pid ? threadCpu(target.pid) : undefined;
  const m0 = machineBusy();
  return {
    take() {
      const wallS = (now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const h = threadBusy(process.pid, h0, threadCpu(process.pid), wallS);
      const server = target.pid ? threadBusy(target.pid, s0, threadCpu(target.pid), wallS) : undefined;
      const m1 = machineBusy();
      const machineCores = m0 !== undefined && m1 !== undefined ? (m1 - m0) / wallS : undefined;
      return { wallS, harnessCpu: (c.user + c.system) / 1e6 / wallS, harnessMain: h?.main, server, machineCores };
    },
  };
}

function serverStats(op: Op, before: Scrape | undefined, after: Scrape | undefined, wallS: number, threads?: ServerStats['threads']): ServerStats {
  const s: ServerStats = { threads };
  if (!before || !after) return s;
  const { kind, label } = opLabels(op);
  // prom-client's default process metrics, under the server's prefix (either spelling)
  const cpuKey = ['holoserve_process_cpu_seconds_total', 'holoserve_process_process_cpu_seconds_total'].find((k) => after.has(k));
  const cpu = cpuKey ? delta(after, before, cpuKey) : 0;
  if (cpu > 0) s.cpuCores = cpu / wallS;
  if (kind) {
    const n = delta(after, before, `holoserve_batch_size_count{kind="${kind}"}`);
    if (n > 0) s.batchMean = delta(after, before, `holoserve_batch_size_sum{kind="${kind}"}`) / n;
    const q = delta(after, before, `holoserve_queue_wait_seconds_count{kind="${kind}"}`);
    if (q > 0) s.queueWaitMeanMs = (1000 * delta(after, before, `holoserve_queue_wait_seconds_sum{kind="${kind}"}`)) / q;
  }
  const l = delta(after, before, `holoserve_request_seconds_count{op="${label}"}`);
  if (l > 0) s.serverLatencyMeanMs = (1000 * delta(after, before, `holoserve_request_seconds_sum{op="${label}"}`)) / l;
  s.serverLatencyBoundsMs = bucketBounds(after, before, 'holoserve_request_seconds', `op="${label}"`);
  if (kind) s.queueWaitBoundsMs = bucketBounds(after, before, 'holoserve_queue_wait_seconds', `kind="${kind}"`);
  s.computations = delta(after, before, `holoserve_computations_total{op="${label}"}`);
  s.coalesced = delta(after, before, `holoserve_coalesced_total{op="${label}"}`);
  return s;
}

/** Runs one load phase (closed or open loop) and prints its progress and summary. */
async function runPhase(spec: PhaseSpec, target: Target): Promise<PhaseResult> {
  const { pool, conns } = spec;
  const hist = newHist(), service = newHist(), tick = newHist();
  const errors: Record<string, number> = {}, errorSamples: Record<string, string> = {};
  const timeline: PhaseResult['timeline'] = [];
  const err = (code: string, message = '') => {
    errors[code] = (errors[code] ?? 0) + 1;
    if (!(code in errorSamples)) errorSamples[code] = message.slice(0, 200);
  };
  let sent = 0, replies = 0, ok = 0, windowOk = 0, tickReplies = 0, tickErrors = 0;
  let sending = true;
  const t0 = now();
  const measureStart = t0 + spec.warmupMs;
  let windowEnd = measureStart + spec.durationMs;
  const before = await scrape(target.http);
  let samp: Sampler | undefined;
  let onDrained: (() => void) | undefined;
  let outstanding = 0;

  let onStopped: (() => void) | undefined;
  const stopped = new Promise<void>((r) => { onStopped = r; });
  const stop = () => {
    if (!sending) return;
    sending = false;
    onStopped?.();
    windowEnd = Math.min(windowEnd, now());
    if (outstanding === 0) onDrained?.();
  };

  const sendOne = (c: Conn, sched: number): void => {
    if (c.outstanding >= RING - 1) { err('harness_backlog', 'more than 16383 requests outstanding on one connection'); return; }
    const id = c.newId();
    const slot = id & RMASK;
    const k = pool.take(id);
    const buf = k >= 0 ? pool.frames[k] : pool.spare(id);
    const t = now();
    c.sendAt[slot] = t;
    c.schedAt[slot] = sched < 0 ? t : sched;
    c.ringId[slot] = id;
    c.outstanding++;
    outstanding++;
    if (++sent >= spec.maxRequests) stop();
    c.ws.send(buf, SEND_OPTS, k >= 0 ? pool.frees[k] : undefined);
  };

  const record = (okReply: boolean, sched: number, sentAt: number, t: number, code: string, message: string) => {
    replies++;
    tickReplies++;
    if (okReply) {
      ok++;
      if (t >= measureStart && t <= windowEnd) windowOk++;
      const us = Math.max(1, Math.round((t - sched) * 1000));
      tick.recordValue(us);
      if (sched >= measureStart && sched < windowEnd) {
        hist.recordValue(us);
        if (spec.mode === 'open') service.recordValue(Math.max(1, Math.round((t - sentAt) * 1000)));
      }
    } else {
      tickErrors++;
      err(code, message); // warm-up errors count too
    }
  };

  const onReply = (c: Conn) => (data: Buffer, t: number) => {
    let id = replyHead(data);
    let okReply = headOk, code = '', message = '';
    if (id < 0 || !okReply) {
      const r = decodeReply(data);
      id = r.id; okReply = r.ok; code = r.code; message = r.message;
    }
    const slot = id & RMASK;
    if (id <= 0 || c.ringId[slot] !== id) {
      replies++;
      err(id === 0 ? code || 'unmatched_reply' : 'unmatched_reply', message || `reply id ${id} not in flight`);
      return;
    }
    c.ringId[slot] = -1;
    c.outstanding--;
    outstanding--;
    record(okReply, c.schedAt[slot], c.sendAt[slot], t, code, message);
    if (sending) {
      if (spec.mode === 'closed') sendOne(c, -1);
    } else if (outstanding === 0) onDrained?.();
  };

  for (const c of conns) {
    c.onReply = onReply(c);
    c.onClose = () => {
      if (c.outstanding > 0) {
        for (let i = 0; i < c.outstanding; i++) err('connection_closed', 'the server closed the connection with requests in flight');
        outstanding -= c.outstanding;
        c.outstanding = 0;
        c.ringId.fill(-1);
      }
      if (conns.every((x) => !x.alive)) stop();
      else if (!sending && outstanding === 0) onDrained?.();
    };
  }

  // Progress, once a second.
  let lastTick = t0, lastCpu = process.cpuUsage();
  const progress = setInterval(() => {
    const t = now();
    const dt = (t - lastTick) / 1000;
    const cpu = process.cpuUsage(lastCpu);
    lastCpu = process.cpuUsage();
    const warm = t - dt * 1000 < measureStart;
    const p = hist.totalCount > 0 ? hist : tick;
    const rps = tickReplies / dt;
    timeline.push({
      t: +((t - t0) / 1000).toFixed(2), rps, warmup: warm, errors: tickErrors,
      p50Ms: tick.totalCount ? tick.getValueAtPercentile(50) / 1000 : 0, p99Ms: tick.totalCount ? tick.getValueAtPercentile(99) / 1000 : 0,
    });
    const errN = Object.values(errors).reduce((s, x) => s + x, 0);
    console.log(`  [${spec.name} ${((t - t0) / 1000).toFixed(0).padStart(3)} s${warm ? ' warm-up' : ''}] ${int(rps).padStart(8)} req/s  ` +
      `p50 ${ms(p.totalCount ? p.getValueAtPercentile(50) : 0)} ms  p99 ${ms(p.totalCount ? p.getValueAtPercentile(99) : 0)} ms${hist.totalCount ? ' (so far)' : ''}  ` +
      `errors ${errN}  harness CPU ${pct((cpu.user + cpu.system) / 1e6 / dt)}`);
    tick.reset();
    tickReplies = 0;
    tickErrors = 0;
    lastTick = t;
  }, 1000);

  const drained = new Promise<void>((r) => { onDrained = r; });
  const startSampler = setTimeout(() => { samp = sampler(target); }, Math.max(0, measureStart - now()));
  let before2: Scrape | undefined = before;
  const snapAtWindow = setTimeout(() => { void scrape(target.http).then((s) => { before2 = s ?? before; }); }, Math.max(0, measureStart - now()));
  const endTimer = setTimeout(stop, Math.max(0, measureStart + spec.durationMs - now()));

  if (spec.driver === 'client') {
    // The TS client: params packed per request, replies decoded in full, a timer per request.
    const clients = spec.clients!;
    let k = 0;
    const loops: Promise<void>[] = [];
    for (const cl of clients) for (let j = 0; j < spec.pipeline; j++) {
      loops.push((async () => {
        while (sending) {
          const params = pool.params(k = (k + 1) % pool.size);
          const s = now();
          sent++;
          if (sent >= spec.maxRequests) stop();
          outstanding++;
          try {
            await cl.request(pool.ob.wireOp, params);
            outstanding--;
            record(true, s, s, now(), '', '');
          } catch (e) {
            outstanding--;
            const code = (e as { code?: string }).code ?? 'client_error';
            record(false, s, s, now(), code, (e as Error).message);
          }
        }
      })());
    }
    await Promise.all(loops);
    onDrained?.();
  } else if (spec.mode === 'closed') {
    for (let j = 0; j < spec.pipeline; j++) for (const c of conns) if (sending && c.alive) sendOne(c, -1);
  } else {
    const interval = 1000 / spec.rate;
    let idx = 0, rr = 0;
    const pump = () => {
      if (!sending) return;
      const t = now();
      const due = Math.floor((t - t0) / interval) + 1;
      while (idx < due && sending) {
        let c = conns[rr];
        for (let tries = 0; !c.alive && tries < conns.length; tries++) c = conns[(rr = (rr + 1) % conns.length)];
        rr = (rr + 1) % conns.length;
        sendOne(c, t0 + idx * interval);
        idx++;
      }
      if (sending) setTimeout(pump, 1);
    };
    pump();
  }

  await stopped;
  // Stop waiting for stragglers 10 s after the end: they count as no_reply.
  let straggle: NodeJS.Timeout | undefined;
  await Promise.race([drained, new Promise<void>((r) => { straggle = setTimeout(r, 10_000); })]);
  clearTimeout(straggle);
  clearTimeout(endTimer);
  clearTimeout(startSampler);
  clearTimeout(snapAtWindow);
  clearInterval(progress);
  if (outstanding > 0) {
    for (let i = 0; i < outstanding; i++) err('no_reply', 'no reply within 10 s of the end of the phase');
    for (const c of conns) { c.outstanding = 0; c.ringId.fill(-1); }
  }
  for (const c of conns) { c.onReply = () => {}; c.onClose = () => {}; }
  const s = samp?.take();
  const after = await scrape(target.http);
  const measuredS = Math.max(1e-9, (windowEnd - measureStart) / 1000);
  const res: PhaseResult = {
    name: spec.name, op: spec.op, mode: spec.mode, connections: spec.driver === 'client' ? spec.clients!.length : conns.length,
    pipeline: spec.mode === 'closed' ? spec.pipeline : undefined, rate: spec.mode === 'open' ? spec.rate : undefined,
    driver: spec.driver, measuredS, sent, replies, ok, throughput: windowOk / measuredS, errors, errorSamples,
    latencyUs: percentiles(hist), curve: curveOf(hist), timeline,
    serviceUs: spec.mode === 'open' ? percentiles(service) : undefined, serviceCurve: spec.mode === 'open' ? curveOf(service) : undefined,
    harness: { cpuCores: s?.harnessCpu ?? 0, mainThread: s?.harnessMain },
    machine: s?.machineCores !== undefined ? {
      busyCores: s.machineCores,
      otherCores: s.server ? Math.max(0, s.machineCores - s.server.total - s.harnessCpu) : undefined,
    } : undefined,
    server: serverStats(spec.op, before2, after, s?.wallS ?? measuredS, s?.server),
    frameCopies: pool.copies,
  };
  printPhase(res);
  return res;
}

/** Lone requests on an idle server: one connection, one at a time, pauses between. */
async function runPaced(name: string, op: Op, pool: FramePool, c: Conn, samples: number, pauseMs: number, warm: number, target: Target): Promise<PhaseResult> {
  const hist = newHist();
  const errors: Record<string, number> = {}, errorSamples: Record<string, string> = {};
  let ok = 0;
  const t0 = now();
  let before: Scrape | undefined;
  for (let i = 0; i < warm + samples; i++) {
    if (i === warm) before = await scrape(target.http);
    const id = c.newId();
    const k = pool.take(id);
    const buf = Buffer.from(k >= 0 ? pool.frames[k] : pool.spare(id));
    if (k >= 0) pool.frees[k]();
    const r = await oneShot(c, buf, id);
    if (i >= warm) {
      if (r.reply.ok) { ok++; hist.recordValue(Math.max(1, Math.round(r.us))); }
      else { errors[r.reply.code] = (errors[r.reply.code] ?? 0) + 1; errorSamples[r.reply.code] ??= r.reply.message; }
    }
    await sleep(pauseMs);
  }
  const measuredS = (now() - t0) / 1000;
  const after = await scrape(target.http);
  const res: PhaseResult = {
    server: serverStats(op, before, after, measuredS),
    name, op, mode: 'paced', connections: 1, pipeline: 1, driver: 'ws', measuredS, sent: warm + samples, replies: warm + samples, ok,
    throughput: ok / measuredS, errors, errorSamples, latencyUs: percentiles(hist), curve: curveOf(hist), timeline: [],
    harness: { cpuCores: 0 }, frameCopies: 0,
  };
  printPhase(res);
  return res;
}

function fmtPct(p: Percentiles): string {
  return `p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  p99.9 ${ms(p.p999)}  max ${ms(p.max)} ms  (n=${int(p.count)})`;
}

function printPhase(r: PhaseResult): void {
  const how = r.mode === 'closed' ? `closed loop, ${r.connections} connections × pipeline ${r.pipeline}`
    : r.mode === 'open' ? `open loop at ${int(r.rate!)} req/s over ${r.connections} connections`
      : '1 connection, one request at a time';
  console.log(`\n== ${r.name}: ${r.op}, ${how}${r.driver === 'client' ? ' (TS client)' : ''}, ${r.measuredS.toFixed(1)} s measured ==`);
  const errs = Object.entries(r.errors);
  console.log(`  throughput  ${int(r.throughput)} ok/s  (${int(r.ok)} ok of ${int(r.replies)} replies; errors: ${errs.length ? errs.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'})`);
  for (const [k, v] of Object.entries(r.errorSamples)) console.log(`    ${k}: ${v}`);
  console.log(`  latency     ${fmtPct(r.latencyUs)}${r.mode === 'open' ? '  [from the scheduled send time]' : ''}`);
  if (r.serviceUs) console.log(`  service     ${fmtPct(r.serviceUs)}  [from the actual send time]`);
  const sv = r.server;
  if (sv) {
    const parts: string[] = [];
    if (sv.cpuCores !== undefined) parts.push(`CPU ${sv.cpuCores.toFixed(2)} cores`);
    if (sv.threads) parts.push(`main thread ${pct(sv.threads.main)}${sv.threads.others.length ? `, busiest other threads (workers) ${sv.threads.others.map((o) => pct(o.busy)).join(' ')}` : ''}`);
    if (sv.batchMean !== undefined) parts.push(`mean batch ${sv.batchMean.toFixed(1)} requests`);
    if (sv.queueWaitMeanMs !== undefined) parts.push(`mean queue wait ${sv.queueWaitMeanMs.toFixed(2)} ms`);
    if (sv.serverLatencyMeanMs !== undefined) {
      const b = sv.serverLatencyBoundsMs;
      parts.push(`server time (frame in → reply sent) mean ${sv.serverLatencyMeanMs.toFixed(2)} ms` +
        (b ? `, p50 ≤ ${b.p50} ms, p99 ≤ ${b.p99} ms (buckets)` : ''));
    }
    if (sv.coalesced) parts.push(`coalesced ${int(sv.coalesced)}`);
    if (parts.length) console.log(`  server      ${parts.join('; ')}`);
  }
  if (r.mode !== 'paced') {
    console.log(`  harness     CPU ${r.harness.cpuCores.toFixed(2)} cores${r.harness.mainThread !== undefined ? ` (main thread ${pct(r.harness.mainThread)})` : ''}` +
      ` on the same ${availableParallelism()} cores as the server${r.frameCopies ? `; ${r.frameCopies} frames sent as copies` : ''}`);
    if (r.machine) {
      console.log(`  machine     ${r.machine.busyCores.toFixed(2)} of ${availableParallelism()} cores busy` +
        (r.machine.otherCores !== undefined ? `, ${r.machine.otherCores.toFixed(2)} of them by other processes${r.machine.otherCores > 0.2 ? ' (numbers are contended)' : ''}` : ''));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// In-process kernel rate

interface InProcess { D: number; engine: string; tBindRoleUs: number; tBindUs: number; cores: number; perThread: number; limit: number }

async function inProcess(D: number): Promise<InProcess> {
  const hrr = await createHrr(D, 'pffft');
  const R = roleSpectrum(hrr, role('agent', D, 0));
  const u = rng(7);
  const a = gaussian(D, u), b = gaussian(D, u), out = new Float32Array(D);
  const inner = Math.max(1, Math.round(20 * 8192 / D));
  const r1 = measure('bind-role', `D=${D}`, () => bindSpectrum(hrr, a, R, out), { warmup: 300, inner, reps: 400, budgetMs: 1500 });
  const r2 = measure('bind', `D=${D}`, () => bindWith(hrr, a, b, out), { warmup: 100, inner, reps: 200, budgetMs: 700 });
  const cores = availableParallelism();
  const perThread = 1e6 / r1.medianUs;
  const res = { D, engine: hrr.engine.name, tBindRoleUs: r1.medianUs, tBindUs: r2.medianUs, cores, perThread, limit: cores * perThread };
  console.log(`\n== in-process kernel (this process, single thread, ${res.engine}, D=${D}) ==`);
  console.log(`  bind-by-role (bindSpectrum, cached role spectrum): t_bind = ${res.tBindRoleUs.toFixed(1)} µs median (p10 ${r1.p10Us.toFixed(1)}, p90 ${r1.p90Us.toFixed(1)})`);
  console.log(`  bind(a, b) for reference: ${res.tBindUs.toFixed(1)} µs median`);
  console.log(`  in-process limit = ${cores} cores × 1/t_bind = ${cores} × ${int(perThread)}/s = ${int(res.limit)} binds/s`);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Setup for recall and heat

async function setupOp(op: Op, url: string, D: number, items: number, nodes: number): Promise<void> {
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
async function probe(op: Op, pool: FramePool, c: Conn, D: number): Promise<void> {
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

interface CoalesceTrial { sent: number; computed: number; coalesced: number; errors: number; sendMs: number; lastReplyMs: number }

async function coalesceTrial(conns: Conn[], target: Target, D: number, seed: number, n = 64): Promise<CoalesceTrial> {
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

// ---------------------------------------------------------------------------------------------
// Main

interface TargetCheck { name: string; pass: boolean; measured: string; target: string }

function poolSize(a: Args, open: boolean): number {
  return open ? 1024 : Math.min(1024, Math.max(64, 2 * a.connections * a.pipeline + 16));
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) { console.error(`load: ${e.message}`); return 2; }
    throw e;
  }
  if (args.help) { console.log(HELP); return 0; }

  const cores = availableParallelism();
  const la0 = loadavg();
  const notes = [
    `The harness runs on the same machine as the server: ${cores} cores shared by the server's main thread, its workers and this harness's main thread; its own CPU use is printed per phase.`,
  ];
  console.log(`holoserve load harness: ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}, load average ${la0.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`note: ${notes[0]}`);

  let target: Target;
  if (args.url) {
    const u = checkLoopbackUrl(args.url);
    target = { url: args.url, http: `http://${u.host}`, spawned: false, stop: async () => {} };
    console.log(`target: ${args.url} (given; not spawned)`);
  } else {
    target = await spawnServer(args.dim);
    console.log(`target: spawned ${target.readyLine ?? target.url} (pid ${target.pid})`);
  }
  const onSignal = () => { void target.stop().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let conns: Conn[] = [];
  let clients: HoloClient[] = [];
  const phases: PhaseResult[] = [];
  let inproc: InProcess | undefined;
  const checks: TargetCheck[] = [];
  const coalesceTrials: CoalesceTrial[] = [];
  let exitCode = 0;
  let hello: Record<string, unknown> = {};
  try {
    const hc = await connect(target.url);
    hello = { ...(await hc.hello()) };
    hc.close();
    const D = hello.dim as number;
    if (args.dimGiven && D !== args.dim) throw new Error(`the server at ${target.url} serves D=${D}, not --dim ${args.dim}`);
    console.log(`server: ${hello.server} ${hello.version}, D=${D}, engine=${hello.engine}`);
    conns = await openConns(target.url, args.connections);
    if (args.driver === 'client') clients = await Promise.all(Array.from({ length: args.connections }, () => connect(target.url, { timeoutMs: 60_000 })));

    const pools = new Map<string, FramePool>();
    const poolFor = (op: Op, open = false) => {
      const key = `${op}:${open}`;
      let p = pools.get(key);
      if (!p) pools.set(key, (p = new FramePool(makeBodies(op, D, poolSize(args, open), 1 + pools.size, args.nodes))));
      return p;
    };
    const load = async (name: string, op: Op, mode: 'closed' | 'open', rate: number, durationMs: number, warmupMs = args.warmupMs, pipeline = args.pipeline) => {
      const pool = poolFor(op, mode === 'open');
      await probe(op, pool, conns[0], D);
      const driver = args.driver;
      const r = await runPhase({
        name, op, pool, conns, mode, pipeline, rate, durationMs, warmupMs,
        maxRequests: args.maxRequests, driver, clients,
      }, target);
      phases.push(r);
      return r;
    };

    if (args.targets) {
      inproc = await inProcess(D);
      // 1. a lone request on an idle server
      const lonePool = poolFor('bind-role');
      await probe('bind-role', lonePool, conns[0], D);
      const lone = await runPaced('lone', 'bind-role', lonePool, conns[0], 200, 20, 20, target);
      phases.push(lone);
      // the same with hello: the front end alone, no worker hop (where a lone request's time goes)
      const loneHello = await runPaced('lone-hello', 'hello', poolFor('hello'), conns[0], 200, 20, 20, target);
      phases.push(loneHello);
      // 2. 64 identical concurrent requests
      for (let t = 0; t < 3; t++) coalesceTrials.push(await coalesceTrial(conns, target, D, 1000 + t));
      console.log(`\n== coalescing: 64 identical bind-by-role requests sent at once over ${Math.min(64, conns.length)} connections, 3 trials ==`);
      for (const [i, t] of coalesceTrials.entries()) console.log(`  trial ${i + 1}: computations +${t.computed}, coalesced +${t.coalesced}, errors ${t.errors}; the 64 sends took ${t.sendMs.toFixed(2)} ms, the last reply came ${t.lastReplyMs.toFixed(2)} ms after the first send`);
      // 3. peak served bind-by-role (closed loop at pipeline 1 and 4 unless --pipeline is given:
      //    the better one), then the hello echo rate
      const peaks: PhaseResult[] = [];
      for (const p of args.pipelineGiven ? [args.pipeline] : [1, 4]) peaks.push(await load(`peak-p${p}`, 'bind-role', 'closed', 0, args.durationMs, args.warmupMs, p));
      const peak = peaks.reduce((x, y) => (y.throughput > x.throughput ? y : x));
      const helloR = args.compareMs > 0 ? await load('hello', 'hello', 'closed', 0, args.compareMs, Math.min(args.warmupMs, 500)) : undefined;
      // 4. half of peak, open loop
      const half = await load('half-peak', 'bind-role', 'open', Math.max(1, 0.5 * peak.throughput), args.durationMs);

      const frac = peak.throughput / inproc.limit;
      checks.push({
        name: 'served bind-by-role throughput ≥ 70% of the in-process limit', pass: frac >= 0.7, target: '≥ 70%',
        measured: `${int(peak.throughput)}/s (${peak.connections} connections × pipeline ${peak.pipeline}) of ${int(inproc.limit)}/s = ${(100 * frac).toFixed(1)}%` + (helloR ? ` (hello echo ${int(helloR.throughput)}/s)` : ''),
      });
      const halfErr = Object.values(half.errors).reduce((s, x) => s + x, 0);
      checks.push({
        name: `p99 ≤ 10 ms at half of peak (open loop, ${int(half.rate!)}/s)`, pass: half.latencyUs.p99 <= 10_000 && halfErr === 0 && half.latencyUs.count > 0, target: '≤ 10 ms',
        measured: `p99 ${ms(half.latencyUs.p99)} ms (p50 ${ms(half.latencyUs.p50)}, p99.9 ${ms(half.latencyUs.p999)}, served ${int(half.throughput)}/s, errors ${halfErr})`,
      });
      checks.push({
        name: 'lone request on an idle server p50 ≤ 1 ms', pass: lone.latencyUs.p50 <= 1000 && lone.latencyUs.count > 0, target: '≤ 1 ms',
        measured: `p50 ${ms(lone.latencyUs.p50)} ms (p99 ${ms(lone.latencyUs.p99)}, max ${ms(lone.latencyUs.max)}, n=${lone.latencyUs.count}; lone hello p50 ${ms(loneHello.latencyUs.p50)} ms)`,
      });
      const allOne = coalesceTrials.every((t) => t.computed === 1 && t.coalesced === t.sent - 1 && t.errors === 0);
      checks.push({
        name: '64 identical concurrent requests → 1 computation', pass: allOne, target: 'computed +1, coalesced +63',
        measured: coalesceTrials.map((t) => `+${t.computed}/+${t.coalesced}`).join(', ') + ' (computed/coalesced per trial)',
      });
    } else {
      if (args.compareMs > 0) inproc = await inProcess(D);
      await setupOp(args.op, target.url, D, args.items, args.nodes);
      const mainPhase = await load(args.op, args.op, args.rate ? 'open' : 'closed', args.rate ?? 0, args.durationMs);
      let served = args.op === 'bind-role' && !args.rate ? mainPhase : undefined;
      if (args.compareMs > 0) {
        await load('hello', 'hello', 'closed', 0, args.compareMs, Math.min(args.warmupMs, 500));
        if (!served) served = await load('bind-role', 'bind-role', 'closed', 0, args.compareMs, Math.min(args.warmupMs, 500));
      }
      if (inproc && served) {
        const frac = served.throughput / inproc.limit;
        console.log(`\nserved bind-by-role ${int(served.throughput)}/s = ${(100 * frac).toFixed(1)}% of the in-process limit ${int(inproc.limit)}/s (target ≥ 70%)`);
      }
    }

    const h = phases.find((p) => p.op === 'hello' && p.mode === 'closed');
    const br = phases.filter((p) => p.op === 'bind-role' && p.mode === 'closed').sort((x, y) => y.throughput - x.throughput)[0];
    if (h) console.log(`hello echo rate ${int(h.throughput)}/s: the front end's ceiling with this harness on these ${cores} cores`);
    if (inproc && br) console.log(`bind-by-role served ${int(br.throughput)}/s, in-process limit ${int(inproc.limit)}/s (t_bind ${inproc.tBindRoleUs.toFixed(1)} µs × ${inproc.cores} cores)`);
    if (checks.length) {
      console.log(`\nTARGETS (D=${D}, ${cores} cores, load average at start ${la0.map((x) => x.toFixed(2)).join(' ')}; the harness shares these cores)`);
      for (const c of checks) console.log(`  [${c.pass ? 'PASS' : 'FAIL'}] ${c.name}: ${c.measured}`);
      if (checks.some((c) => !c.pass)) exitCode = 1;
    }

    // Files
    const out = resolve(args.out ?? join('bench', 'results', args.targets ? 'load-targets' : `load-${args.op}`));
    mkdirSync(dirname(out), { recursive: true });
    const la1 = loadavg();
    const json = {
      tool: 'holoserve bench/load.ts', date: new Date().toISOString(),
      args: process.argv.slice(2),
      machine: { cores, cpu: cpus()[0]?.model, node: process.version, loadavgStart: la0, loadavgEnd: la1 },
      server: { url: target.url, spawned: target.spawned, readyLine: target.readyLine, dim: D, engine: hello.engine, version: hello.version },
      notes, inProcess: inproc, phases, coalesceTrials: coalesceTrials.length ? coalesceTrials : undefined,
      targets: checks.length ? checks : undefined,
    };
    writeFileSync(`${out}.json`, JSON.stringify(json, null, 1) + '\n');
    writeFileSync(`${out}.svg`, plot(phases, D, cores, la0, args.targets ? 'targets' : args.op));
    console.log(`\nwrote ${out}.json and ${out}.svg (load average at end ${la1.map((x) => x.toFixed(2)).join(' ')})`);
  } catch (e) {
    console.error(`load: ${(e as Error).message}`);
    exitCode = exitCode || 1;
  } finally {
    for (const c of conns) c.ws.terminate();
    for (const c of clients) c.close();
    await target.stop();
  }
  return exitCode;
}

function plot(phases: PhaseResult[], D: number, cores: number, la: number[], what: string): string {
  const curves: Series[] = [];
  const color = new Map(phases.map((p, i) => [p, PALETTE[i % PALETTE.length]]));
  for (const p of phases) {
    if (p.latencyUs.count === 0) continue;
    const name = p.name === p.op ? p.op : `${p.name} (${p.op})`;
    const label = p.mode === 'open' ? `${name} open loop @ ${int(p.rate!)}/s, from scheduled send` : `${name}${p.mode === 'closed' ? ` closed loop, ${int(p.throughput)}/s` : ', lone requests, idle server'}`;
    curves.push({ name: label, points: p.curve, color: color.get(p) });
    if (p.serviceCurve) curves.push({ name: `${p.name} service time (from actual send)`, points: p.serviceCurve, dashed: true, color: color.get(p) });
  }
  const panels: Panel[] = [{
    title: 'Latency by percentile', xLabel: 'percentile (log scale of 1/(1−p))', yLabel: 'latency, ms', xLog: true, yLog: true,
    series: curves, xTick: percentileTick,
  }];
  const timed = phases.filter((p) => p.timeline.length > 0 && p.op !== 'hello');
  if (timed.length) {
    panels.push({
      title: 'Latency over time (per second)', xLabel: 'seconds since the phase started', yLabel: 'latency, ms', yLog: true,
      series: timed.flatMap((p) => [
        { name: `${p.name} p50`, points: p.timeline.map((t) => [t.t, t.p50Ms] as [number, number]), color: color.get(p) },
        { name: `${p.name} p99`, points: p.timeline.map((t) => [t.t, t.p99Ms] as [number, number]), dashed: true, color: color.get(p) },
      ]),
    });
    panels.push({
      title: 'Replies per second', xLabel: 'seconds since the phase started', yLabel: 'replies/s',
      series: timed.map((p) => ({ name: p.name, points: p.timeline.map((t) => [t.t, t.rps] as [number, number]), color: color.get(p) })),
    });
  }
  return svgPlot(`holoserve load: ${what}, D=${D}`, panels, {
    notes: [`${new Date().toISOString()}; ${cores} cores shared by server and harness; load average at start ${la.map((x) => x.toFixed(2)).join(' ')}`],
  });
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
