/**
 * Starts the real, compiled server (dist/src/main.js, built by `npm test`) as a child process
 * on an ephemeral loopback port with its own temporary data directory, and stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Server {
  proc: ChildProcess;
  port: number;
  url: string;
  http: string;
  dataDir: string;
  output: () => string;
  /** SIGTERM and wait; resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Spawns dist/src/main.js on an ephemeral loopback port with its data (and role file) in
 * dataDir; `output` is everything it has written to stdout and stderr so far.
 */
export function spawnServer(env: Record<string, string>, dataDir: string): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: {
      ...process.env, LOG_FORMAT: 'json', PORT: '0', HOST: '127.0.0.1', HOLOSERVE_DATA_DIR: dataDir, HOLOSERVE_ROLE_FILE: join(dataDir, 'roles.bin'), ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return { proc, output: () => out };
}

/** The server's log: one JSON object per line (src/log.ts); lines that are not JSON are skipped. */
export function logLines(output: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try { out.push(JSON.parse(line) as Record<string, unknown>); } catch { /* a partial last line */ }
  }
  return out;
}

/** The ready line's fields ({url, host, port, dim, engine, workers, auth, version}), once logged. */
export function readyLine(output: string): Record<string, unknown> | undefined {
  return logLines(output).find((l) => typeof l.msg === 'string' && l.msg.startsWith('ready on ') && typeof l.port === 'number');
}

export async function startServer(env: Record<string, string> = {}, opts: { dataDir?: string; keepData?: boolean } = {}): Promise<Server> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'holoserve-test-'));
  const { proc, output } = spawnServer(env, dataDir);
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start in 30 s:\n${output()}`)), 30_000);
    const check = () => {
      const ready = readyLine(output());
      if (ready) { clearTimeout(t); resolve(ready.port as number); }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`server exited with ${code} before ready:\n${output()}`)); });
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc, port, dataDir,
    url: `ws://127.0.0.1:${port}/v1`,
    http: `http://127.0.0.1:${port}`,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null) proc.kill(signal);
      const code = await exited;
      if (!opts.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
