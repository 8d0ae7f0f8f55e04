/**
 * The native C baselines (bench/native/*.c) the kernel benchmarks compare against: found next
 * to this file, from dist/bench/ back to the source tree, or under the current directory;
 * compiled with cc -O3 -march=native into a fresh temporary directory; run with spawnSync.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './timing.js';

export interface Native {
  /** the compiled executable */
  exe: string;
  /** a temporary directory, the executable's, for its input and output files */
  dir: string;
  /** runs the executable with args; throws with its stderr if it fails */
  run(args: string[]): NativeRun;
  /** deletes dir */
  remove(): void;
}

export interface NativeRun {
  stdout: string;
  /** the number on the line `<key> <value>` of stdout (throws if there is none) */
  field(key: string): number;
}

export interface NativeOptions {
  /** libraries to link before -lm, e.g. ['fftw3f'] */
  libs?: string[];
  /** a header that must be on cc's include path, and what to say if it is not */
  header?: { name: string; missing: string };
}

/** bench/native/<file>, or null. */
function nativeSource(file: string): string | null {
  const candidates = [`./native/${file}`, `../../bench/native/${file}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  candidates.push(join(process.cwd(), 'bench', 'native', file));
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Compiles bench/native/<name>.c; null (and says why on stdout) if the baseline must be skipped. */
export function buildNative(name: string, opts: NativeOptions = {}): Native | null {
  const built = compile(name, opts);
  if ('skipped' in built) {
    console.log(`native baseline skipped: ${built.skipped}`);
    return null;
  }
  return built;
}

function compile(name: string, opts: NativeOptions): Native | { skipped: string } {
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0) return { skipped: 'no cc on PATH' };
  const src = nativeSource(`${name}.c`);
  if (!src) return { skipped: `bench/native/${name}.c not found` };
  if (opts.header) {
    // Ask the compiler whether the header is on its include path rather than guessing where it lives.
    const probe = spawnSync('cc', ['-E', '-x', 'c', '-'], { input: `#include <${opts.header.name}>\n`, encoding: 'utf8' });
    if (probe.status !== 0) return { skipped: opts.header.missing };
  }
  const dir = mkdtempSync(join(tmpdir(), `holoserve-${name}-`));
  const exe = join(dir, name);
  const libs = [...(opts.libs ?? []), 'm'].map((l) => `-l${l}`);
  const cc = spawnSync('cc', ['-O3', '-march=native', '-o', exe, src, ...libs], { encoding: 'utf8' });
  if (cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skipped: `cc failed: ${cc.stderr.trim()}` };
  }
  return {
    exe, dir,
    run(args) {
      const r = spawnSync(exe, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`native ${name} failed: ${r.stderr}`);
      const stdout = r.stdout;
      return {
        stdout,
        field(key) {
          const match = new RegExp(`^${key}\\s+(\\S+)$`, 'm').exec(stdout);
          if (!match) throw new Error(`native ${name} printed no ${key}: ${stdout}`);
          return Number(match[1]);
        },
      };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** ours / native, to three decimals. */
export const ratio = (ours: number, native: number) => Number((ours / native).toFixed(3));

/**
 * Adds native_us (the median of the baseline's timings, one per round) and ratio = ours/native
 * to row.extra, after what is there; nothing if the baseline did not run.
 */
export function addNativeRatio(row: Row, nativeUs: number[]): void {
  if (nativeUs.length === 0) return;
  const us = [...nativeUs].sort((p, q) => p - q)[nativeUs.length >> 1];
  row.extra = { ...row.extra, native_us: us, ratio: ratio(row.medianUs, us) };
}

/** A file a baseline wrote, as float32 or float64 values. */
export function readArray<T extends Float32Array | Float64Array>(path: string, type: { new (b: ArrayBuffer): T }): T {
  const buf = readFileSync(path);
  return new type(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
