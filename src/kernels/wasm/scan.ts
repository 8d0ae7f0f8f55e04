/**
 * Loads dist/scan.wasm (scan/index.ts, built by `npm run build`) once per thread with its
 * imported shared memory, and the slab heap (slab-heap.ts) over that memory. If WebAssembly,
 * shared memory or the file is missing, scanKernels() returns null, the heap hands out plain
 * buffers and recall runs its JS loops (memory/scan.ts); scanStatus() says why.
 */
import { instantiateFile, wasmApi } from './load.js';
import { SlabHeap } from './slab-heap.js';

/** The exports of scan.wasm; pointers are byte offsets into the heap's memory. */
export interface ScanKernels {
  scanTopK(slab: number, n: number, D: number, q: number, m: number, ts: number, ti: number): number;
  rescore(slab: number, D: number, q: number, qInv: number, idx: number, count: number, out: number): void;
  signCode(x: number, D: number, out: number): void;
  hammingTopK(codes: number, n: number, W: number, qc: number, m: number, td: number, ti: number): number;
}

const FUNCTIONS = ['scanTopK', 'rescore', 'signCode', 'hammingTopK'] as const;
/** Initial pages of the shared memory (4 MiB); it grows on demand up to 4 GiB. */
const INITIAL_PAGES = 64;
const MAX_PAGES = 65536;
/** The most the slab memory can grow to (wasm32): V8 reserves it all when a shared memory is made. */
export const SLAB_MEMORY_MAX_BYTES = MAX_PAGES * 65536;

let kernels: ScanKernels | null | undefined;
let heap: SlabHeap | undefined;
let memoryOfHeap: object | null = null;
let reason = 'not loaded yet';

/** Instantiates scan.wasm on `memory` (a shared WebAssembly.Memory). @throws Error why not */
function instantiate(memory: object): ScanKernels {
  return instantiateFile('scan.wasm', { env: { memory } }, FUNCTIONS).exports as unknown as ScanKernels;
}

function load(): void {
  if (kernels !== undefined) return;
  try {
    const api = wasmApi();
    if (!api) throw new Error('this runtime has no WebAssembly');
    const memory = new api.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    kernels = instantiate(memory);
    heap = new SlabHeap(memory);
    memoryOfHeap = memory;
    reason = '';
  } catch (e) {
    kernels = null;
    heap = new SlabHeap(null);
    reason = e instanceof Error ? e.message : String(e);
  }
}

/** This thread's scan kernels, or null (then scanStatus().reason says why). */
export function scanKernels(): ScanKernels | null {
  load();
  return kernels!;
}

/** This thread's slab heap (over the scan module's memory, or plain buffers without it). */
export function slabHeap(): SlabHeap {
  load();
  return heap!;
}

/** The shared memory this thread's slabs live in (to hand to helper threads), or null. */
export function slabMemory(): object | null {
  load();
  return memoryOfHeap;
}

/** Scan kernels over another thread's slab memory (a helper thread's view of it). @throws Error why not */
export function scanKernelsOn(memory: object): ScanKernels {
  return instantiate(memory);
}

export function scanStatus(): { loaded: boolean; reason?: string } {
  load();
  return kernels ? { loaded: true } : { loaded: false, reason };
}
