/**
 * Which loops the Sinkhorn and heat kernels run: 'wasm' (src/kernels/wasm/assembly/, f64x2
 * SIMD, the fast path) or 'js' (the reference, and the fallback). Chosen once per thread, on
 * first use: wasm unless kernels.wasm cannot be instantiated (wasmStatus says why). Both give
 * the same results (docs in each kernel); tests and benches switch with setKernelEngine.
 */
import { loadWasm, wasmStatus } from './load.js';

export type KernelEngine = 'js' | 'wasm';

let chosen: KernelEngine | undefined;

/** The engine in use on this thread (chooses on first call). */
export function kernelEngine(): KernelEngine {
  return (chosen ??= loadWasm() ? 'wasm' : 'js');
}

/**
 * Forces an engine ('auto': wasm if it loads, else js) and returns the one now in use.
 * @throws Error when 'wasm' is asked for and cannot load; the message says why (usually: run
 *   `npm run build`, which compiles dist/kernels.wasm).
 */
export function setKernelEngine(engine: KernelEngine | 'auto'): KernelEngine {
  if (engine === 'js') return (chosen = 'js');
  if (loadWasm()) return (chosen = 'wasm');
  if (engine === 'auto') return (chosen = 'js');
  throw new Error(`WASM kernels unavailable: ${wasmStatus().reason}`);
}
