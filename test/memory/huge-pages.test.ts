/**
 * Transparent huge pages for the slab memory (src/native/huge-pages.ts, docs/MEMORY.md "Huge
 * pages"): the native addon is built wherever `npm run build` finds a C compiler and Node's
 * headers, and a shared WebAssembly.Memory it advises gets 2 MiB pages as it grows and is
 * touched, while a twin left alone stays on 4 KiB pages (read from /proc/self/smaps_rollup);
 * a copy of the build without the addon runs on 4 KiB pages and says why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wasmApi } from '../../src/kernels/wasm/load.js';
import { SLAB_MEMORY_MAX_BYTES, scanKernelsOn } from '../../src/kernels/wasm/scan.js';
import { adviseHugePages, thpMode } from '../../src/native/huge-pages.js';
import { distCopyWithout } from '../support/dist-copy.js';

const ROOT = join(import.meta.dirname, '../..');
const ADDON = join(ROOT, 'dist/native/huge-pages.node');
const compiler = spawnSync(process.env.CC || 'cc', ['--version']).status === 0
  && existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h'));

type Mem = { buffer: ArrayBufferLike; grow(pages: number): number };
const newMemory = (): Mem => new (wasmApi()!.Memory)({ initial: 64, maximum: 65536, shared: true });

/** AnonHugePages of this process, KiB. */
function anonHugeKiB(): number {
  return Number(/AnonHugePages:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))![1]);
}

/** Grows m by 64 MiB and writes every page of the new part; the AnonHugePages it added, MiB. */
function growAndTouch(m: Mem): number {
  const before = anonHugeKiB();
  const from = m.buffer.byteLength;
  m.grow(1024);
  const u8 = new Uint8Array(m.buffer);
  for (let p = from; p < u8.length; p += 4096) u8[p] = 1;
  return (anonHugeKiB() - before) / 1024;
}

describe('huge pages for the slab memory', () => {
  it('npm run build built the addon here, since a C compiler and Node\'s headers are present', () => {
    expect(existsSync(ADDON)).toBe(compiler);
  });

  it('an advised memory grows on 2 MiB pages; an unadvised twin stays on 4 KiB pages (THP mode madvise)', () => {
    const mode = thpMode();
    const advised = newMemory(), plain = newMemory();
    const r = adviseHugePages(advised, SLAB_MEMORY_MAX_BYTES, true);
    expect(r.mode).toBe(mode);
    if (!existsSync(ADDON) || mode === 'never' || mode === 'absent') {
      expect(r.advised).toBe(false);
      expect(r.reason).toMatch(/addon|never|no transparent/);
      return;
    }
    expect(r).toEqual({ advised: true, mode });
    expect(adviseHugePages(advised, SLAB_MEMORY_MAX_BYTES, true)).toBe(r); // once per memory
    // 64 MiB grown after the advice: at least 60 MiB of it in huge pages (the ends of the
    // range may fall on 4 KiB pages where the memory is not 2 MiB-aligned).
    expect(growAndTouch(advised)).toBeGreaterThanOrEqual(60);
    if (mode === 'madvise') expect(growAndTouch(plain)).toBeLessThan(4);
    // The scan kernel runs on the advised memory like on any other.
    const k = scanKernelsOn(advised);
    const f32 = new Float32Array(advised.buffer);
    const base = 1 << 20, D = 64, n = 3, q = base + n * D * 4, ts = q + D * 4;
    for (let j = 0; j < n; j++) for (let i = 0; i < D; i++) f32[base / 4 + j * D + i] = i === j ? 1 : 0;
    for (let i = 0; i < D; i++) f32[q / 4 + i] = i === 2 ? 1 : 0;
    expect(k.scanTopK(base, n, D, q, 1, ts, ts + 8)).toBe(1);
    expect(new Int32Array(advised.buffer)[(ts + 8) / 4]).toBe(2);
  });

  it('says why not: the setting off, or no shared memory', () => {
    expect(adviseHugePages(newMemory(), SLAB_MEMORY_MAX_BYTES, false)).toMatchObject({ advised: false, reason: 'off (setting slabHugePages)' });
    expect(adviseHugePages(null, SLAB_MEMORY_MAX_BYTES, true)).toMatchObject({ advised: false, reason: /no shared WebAssembly memory/ });
  });
});

describe('huge pages without the addon (the build as it runs where no C compiler was)', () => {
  it('leaves the slabs on 4 KiB pages and says why', () => {
    const copy = distCopyWithout(['dist/native/huge-pages.node']);
    try {
      const out = JSON.parse(copy.run(`
        import { SLAB_MEMORY_MAX_BYTES, slabMemory } from './dist/src/kernels/wasm/scan.js';
        import { adviseHugePages } from './dist/src/native/huge-pages.js';
        console.log(JSON.stringify(adviseHugePages(slabMemory(), SLAB_MEMORY_MAX_BYTES, true)));
      `).trim().split('\n').pop()!) as { advised: boolean; mode: string; reason?: string };
      expect(out.advised).toBe(false);
      expect(out.mode).toBe(thpMode());
      if (out.mode === 'madvise' || out.mode === 'always') expect(out.reason).toMatch(/dist\/native\/huge-pages\.node was not built/);
      else expect(out.reason).toMatch(/never|no transparent/);
    } finally {
      copy.remove();
    }
  });
});
