/**
 * A real redis-server (Debian's package, `apt-get install redis-server`) for tests and benches: started
 * on a free loopback port with its own temporary directory, AOF on with `appendfsync always`
 * and `noeviction` unless the caller overrides a directive, stopped (SIGKILL) by `kill`.
 * `restart` starts it again on the same port and directory, so it loads its AOF.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  proc: ChildProcess;
  /** SIGKILL (no shutdown save, no AOF rewrite), resolves when it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (loads the AOF), resolves when ready. */
  restart(): Promise<void>;
  /** kill, then remove the directory. */
  stop(): Promise<void>;
  output(): string;
}

/** A port that was free a moment ago (the kernel's ephemeral choice on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const DURABLE: Record<string, string> = { appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'noeviction' };

/** Starts redis-server with DURABLE ∪ `directives` (e.g. { appendonly: 'no' }). */
export async function startRedis(directives: Record<string, string> = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'holoserve-redis-'));
  const port = await freePort();
  const conf = { ...DURABLE, ...directives };
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'notice'];
  for (const [k, v] of Object.entries(conf)) args.push(`--${k}`, v);
  let out = '';
  const srv: RedisServer = {
    port, dir, url: `redis://127.0.0.1:${port}`, proc: undefined as unknown as ChildProcess,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      const p = srv.proc;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill(signal);
      await exited;
    },
    async restart() {
      await srv.kill();
      await launch();
    },
    async stop() {
      await srv.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const launch = () => new Promise<void>((resolve, reject) => {
    const from = out.length;
    const p = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    srv.proc = p;
    const t = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${out}`)), 10_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/Ready to accept connections/.test(out.slice(from))) { clearTimeout(t); p.stdout!.off('data', onData); p.stdout!.on('data', (x: Buffer) => { out += x.toString(); }); resolve(); }
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    p.once('error', (e) => { clearTimeout(t); reject(e); });
    p.once('exit', (code) => { clearTimeout(t); reject(new Error(`redis-server exited with ${code}:\n${out}`)); });
  });
  await launch();
  return srv;
}
