/** Runs the compiled CLI (dist/src/cli/main.js) as an operator would; resolves with its exit code and output. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './harness.js';

export function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; json?: Record<string, unknown> }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      let json: Record<string, unknown> | undefined;
      try { json = JSON.parse(stdout) as Record<string, unknown>; } catch { json = undefined; }
      resolve({ code, stdout, stderr, json });
    });
  });
}
