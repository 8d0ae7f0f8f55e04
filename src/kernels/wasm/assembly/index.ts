/**
 * holoserve's WASM kernels (AssemblyScript, compiled by `npm run build` to dist/kernels.wasm):
 * the hot loops of Sinkhorn (src/kernels/ot/sinkhorn.ts) and Chebyshev heat
 * (src/kernels/graph/heat.ts), and unbind's spectral filter (src/kernels/hrr/unbind.ts). Everything is addressed by byte pointers into this module's
 * exported memory; the TypeScript side (src/kernels/wasm/) allocates with alloc/free and writes
 * inputs through Float64Array / Int32Array views. No managed objects: the runtime is TLSF only.
 */
export { iterate } from './sinkhorn';
export { exp, log } from './fdlibm';
export { chebyshev1, chebyshevMany } from './heat';
export { pffftInverseFilter } from './spectral';

/**
 * Allocates `bytes` bytes (16-byte aligned) in linear memory. The memory is fixed (asconfig.json:
 * initialMemory = maximumMemory), so a block that does not fit traps, before TLSF changes any state.
 */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** Frees a block from alloc. */
export function free(ptr: usize): void {
  heap.free(ptr);
}
