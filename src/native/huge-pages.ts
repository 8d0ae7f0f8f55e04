/**
 * Transparent huge pages for the tenant slabs (issue #10, docs/MEMORY.md "Huge pages"). Linux
 * backs anonymous memory with 4 KiB pages unless the system's THP mode is `always`, or it is
 * `madvise` (Debian's and many distributions' default) and the range was advised with
 * madvise(MADV_HUGEPAGE). numpy advises its large arrays; V8 never advises a WebAssembly.Memory,
 * so a scan over a slab larger than the caches takes a TLB miss every 4 KiB. Measured here, the
 * exact scan with 2 MiB pages: 4,096 × 8192 (128 MiB) 6.37 → 5.79 ms, 1,024 × 8192 −12 %,
 * 16,384 × 8192 −5 %, an 8 MiB slab (in cache) unchanged.
 *
 * The advice is given once per memory, over its whole reservation (a shared memory is reserved
 * up to its maximum when created), before any slab is written: pages then come huge at their
 * first touch as the memory grows. It needs dist/native/huge-pages.node (huge-pages.c, built by
 * build.mjs where a C compiler is); without it, with the setting off, or with the kernel's mode
 * `never`, the slabs stay on 4 KiB pages and everything works the same, slower.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface HugePages {
  /** the memory's reservation is advised: its pages come huge at first touch */
  advised: boolean;
  /** the kernel's THP mode (always | madvise | never), or 'absent' */
  mode: string;
  /** why not, when not advised */
  reason?: string;
}

type Addon = { adviseHuge(view: ArrayBufferView, bytes: number): number };
let addon: Addon | null | undefined;
let addonWhy = '';
const done = new WeakMap<object, HugePages>();

/** dist/native/huge-pages.node, from dist/src/native/ (built) or src/native/ (vitest). */
function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  const candidates = ['../../native/huge-pages.node', '../../dist/native/huge-pages.node'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    addonWhy = 'the native addon dist/native/huge-pages.node was not built (npm run build needs a C compiler and Node\'s headers)';
    return (addon = null);
  }
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    addonWhy = `the native addon did not load: ${e instanceof Error ? e.message : String(e)}`;
    addon = null;
  }
  return addon;
}

/** The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled, or 'absent'. */
export function thpMode(): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'absent';
  } catch {
    return 'absent';
  }
}

/**
 * Advises `memory` (a shared WebAssembly.Memory: its buffer's first byte is the base of a
 * reservation of `reservedBytes`) for huge pages, once; `enabled` is the slabHugePages setting.
 */
export function adviseHugePages(memory: { buffer: ArrayBufferLike } | null, reservedBytes: number, enabled: boolean): HugePages {
  const mode = thpMode();
  if (!enabled) return { advised: false, mode, reason: 'off (setting slabHugePages)' };
  if (!memory) return { advised: false, mode, reason: 'no shared WebAssembly memory (slabs are plain buffers)' };
  const prior = done.get(memory);
  if (prior) return prior;
  let r: HugePages;
  if (mode === 'never' || mode === 'absent') {
    r = { advised: false, mode, reason: mode === 'never' ? 'the kernel\'s THP mode is never' : 'this kernel has no transparent huge pages' };
  } else {
    const a = loadAddon();
    const err = a ? a.adviseHuge(new Uint8Array(memory.buffer, 0, 0), reservedBytes) : -1;
    r = err === 0 ? { advised: true, mode } : { advised: false, mode, reason: a ? `madvise(MADV_HUGEPAGE) failed: errno ${err}` : addonWhy };
  }
  done.set(memory, r);
  return r;
}
