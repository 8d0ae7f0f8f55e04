/**
 * One-off facades: bind(a, b), unbind(c, b), encode(text, D) without building an engine.
 * They run on the fft.js engine (float64 inside), one per D, built on first use; servers and
 * benchmarks build a pffft Hrr with createHrr instead.
 */
import { FftjsEngine } from '../fft/fftjs.js';
import { bind as bindWith } from './bind.js';
import { encodeWith, type RoleSource } from './encode.js';
import { Hrr } from './hrr.js';
import { role, roleSpectrum } from './role.js';
import { unbind as unbindWith, type UnbindOptions, type UnbindResult } from './unbind.js';

const byDim = new Map<number, Hrr>();

/** The reference Hrr (fft.js engine) for dimension D. */
export function referenceHrr(D: number): Hrr {
  let h = byDim.get(D);
  if (!h) byDim.set(D, (h = new Hrr(new FftjsEngine(D))));
  return h;
}

/** bind(a, b): see bind.ts. Uses the reference engine. */
export function bind(a: Float32Array, b: Float32Array): Float32Array {
  return bindWith(referenceHrr(a.length), a, b);
}

/** unbind(c, b, opts): see unbind.ts. Uses the reference engine. */
export function unbind(c: Float32Array, b: Float32Array, opts?: UnbindOptions): UnbindResult {
  return unbindWith(referenceHrr(c.length), c, b, opts);
}

/** A RoleSource that computes roles on demand and keeps them in a Map (no eviction). */
export function mapRoleSource(hrr: Hrr, seed = 0): RoleSource {
  const vectors = new Map<string, Float32Array>();
  const spectra = new Map<string, Float32Array>();
  const vector = (t: string) => {
    let v = vectors.get(t);
    if (!v) vectors.set(t, (v = role(t, hrr.D, seed)));
    return v;
  };
  return {
    vector,
    spectrum(t) {
      let s = spectra.get(t);
      if (!s) spectra.set(t, (s = roleSpectrum(hrr, vector(t))));
      return s;
    },
  };
}

/** encode(text, D, seed): see encode.ts. Uses the reference engine. */
export function encode(text: string, D = 8192, seed = 0): Float32Array {
  const hrr = referenceHrr(D);
  return encodeWith(hrr, mapRoleSource(hrr, seed), text);
}
