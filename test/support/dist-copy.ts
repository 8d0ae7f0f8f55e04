/**
 * A copy of the compiled package (dist/src, the .wasm files, dist/native) in a temporary
 * directory, minus some of its files, with node_modules linked to this checkout's: for tests
 * that run the real build as it behaves when one of its optional parts is missing. run(script)
 * executes an ES module with that copy as its root (imports as `./dist/src/...`) and returns its
 * stdout; remove() deletes the copy.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../server/harness.js';

export interface DistCopy {
  dir: string;
  run(script: string): string;
  remove(): void;
}

export function distCopyWithout(missing: string[]): DistCopy {
  const dir = mkdtempSync(join(tmpdir(), 'holoserve-dist-'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), {
    recursive: true,
    filter: (src) => !missing.some((m) => src === join(ROOT, m)) && !src.startsWith(join(ROOT, 'dist/bench')),
  });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return {
    dir,
    run(script: string): string {
      writeFileSync(join(dir, 'probe.mjs'), script);
      return execFileSync(process.execPath, ['probe.mjs'], { cwd: dir, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
