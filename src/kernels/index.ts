/**
 * holoserve's math core: pure functions over typed arrays, no I/O.
 * Import from the package root: `import { createHrr, bind, sinkhorn, heat } from 'holoserve'`.
 */
import { createEngine } from './fft/create.js';
import type { EngineName } from './fft/engine.js';
import { Hrr } from './hrr/hrr.js';

// Errors and preconditions
export { HoloError, type ErrorCode, ERROR_CODES } from '../errors.js';
export { MIN_DIM, MAX_DIM, isSupportedDim } from './check.js';

// FFT engines
export type { FftEngine, EngineName, InverseMode } from './fft/engine.js';
export { FftjsEngine } from './fft/fftjs.js';
export { PffftEngine, createPffftEngine } from './fft/pffft.js';
export { createEngine, type EngineChoice } from './fft/create.js';

// HRR algebra
export { Hrr } from './hrr/hrr.js';
export { bind as bindWith, bindSpectrum, involution } from './hrr/bind.js';
export { unbind as unbindWith, unbindRole, unbindSpectrum, DEFAULT_BETA, type UnbindMode, type UnbindOptions, type UnbindResult } from './hrr/unbind.js';
export { role, roleSpectrum } from './hrr/role.js';
export { bundle } from './hrr/bundle.js';
export { cosine, dot, norm, normalize } from './hrr/cosine.js';
export { encodeWith, tokenize, permute, type RoleSource } from './hrr/encode.js';
export { bind, unbind, encode, referenceHrr, mapRoleSource } from './hrr/reference.js';

/** An Hrr on the preferred engine (pffft unless it cannot load; then fft.js). */
export async function createHrr(D: number, prefer: EngineName = 'pffft'): Promise<Hrr> {
  return new Hrr((await createEngine(D, prefer)).engine);
}

// Optimal transport
export { sinkhorn, sinkhornBatch, type SinkhornOptions, type SinkhornResult, type SinkhornProblem } from './ot/sinkhorn.js';

// Graph heat
export { buildGraph, type Graph, type GraphLimits } from './graph/csr.js';
export { heat, heatMulti, heatBound, heatTerms, heatCoefficients, DEFAULT_K, type HeatOptions } from './graph/heat.js';

// Which implementation of the Sinkhorn and heat loops runs (WASM SIMD unless it cannot load)
export { kernelEngine, setKernelEngine, type KernelEngine } from './wasm/engine.js';
export { wasmStatus, type WasmStatus } from './wasm/load.js';
