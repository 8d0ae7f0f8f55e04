/** Flags: the command line, checked (loopback URLs only, bounded durations). (bench/load/, docs/LOAD.md) */
// ---------------------------------------------------------------------------------------------
// Flags

export const OPS = ['bind', 'bind-role', 'unbind', 'hello', 'recall', 'sinkhorn', 'heat'] as const;
export type Op = (typeof OPS)[number];

export interface Args {
  op: Op;
  connections: number;
  pipeline: number;
  durationMs: number;
  warmupMs: number;
  rate?: number;
  dim: number;
  dimGiven: boolean;
  opGiven: boolean;
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

export const MAX_DURATION_MS = 120_000;
export const MAX_WARMUP_MS = 30_000;

export const HELP = `holoserve load harness (docs/LOAD.md)

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

export class UsageError extends Error {}

export function parseDuration(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new UsageError(`${flag}: expected a duration like 500ms, 10s or 2m, got '${s}'`);
  const v = Number(m[1]);
  return m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : v * 1000;
}

export function parseIntFlag(s: string, flag: string, lo: number, hi: number): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new UsageError(`${flag}: expected an integer in [${lo}, ${hi}], got '${s}'`);
  return v;
}

export function parseArgs(argv: string[]): Args {
  const a: Args = {
    op: 'bind', connections: 64, pipeline: 1, durationMs: 10_000, warmupMs: 1000, dim: 8192, dimGiven: false, opGiven: false, pipelineGiven: false,
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
        a.opGiven = true;
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
