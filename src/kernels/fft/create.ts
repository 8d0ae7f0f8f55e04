/**
 * Chooses the FFT engine once: pffft (WASM SIMD) unless told otherwise or unavailable, in
 * which case fft.js serves (correct, several times slower) and the reason is returned.
 */
import type { EngineName, FftEngine } from './engine.js';
import { FftjsEngine } from './fftjs.js';
import { createPffftEngine } from './pffft.js';

export interface EngineChoice {
  engine: FftEngine;
  /** Why the fallback was taken, when it was. */
  fallbackReason?: string;
}

export async function createEngine(D: number, prefer: EngineName = 'pffft'): Promise<EngineChoice> {
  if (prefer === 'fftjs') return { engine: new FftjsEngine(D) };
  try {
    return { engine: await createPffftEngine(D) };
  } catch (e) {
    if (e instanceof Error && e.name === 'HoloError') throw e; // bad D: not an engine problem
    return { engine: new FftjsEngine(D), fallbackReason: `pffft unavailable: ${String(e)}` };
  }
}
