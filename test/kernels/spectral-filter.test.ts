/**
 * unbind's spectral filter runs in kernels.wasm (f64x2) or in JS; both do the same float64
 * operations in the same order, so they must agree bit for bit, floored count included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPffftEngine } from '../../src/kernels/fft/pffft.js';
import { setKernelEngine } from '../../src/kernels/wasm/engine.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
}

afterAll(() => { setKernelEngine('auto'); });

describe('pffft inverseFilter: wasm equals js', () => {
  for (const D of [256, 2048, 16384]) {
    it(`D=${D}, floor and add, λ below, among and above the bin powers`, async () => {
      const e = await createPffftEngine(D);
      const r = rng(D);
      const x = Float32Array.from({ length: D }, r);
      x[0] = 0; // an exactly-zero bin somewhere is likely after forward; keep the test general
      const B = new Float32Array(D);
      e.forward(x, B);
      for (let i = 0; i < D; i += 97) B[i] *= 1e-4; // weak bins, so the floor bites
      for (const mode of ['floor', 'add'] as const) {
        for (const lambda of [1e-12, 1e-3, 0.5, 10]) {
          setKernelEngine('js');
          const Wj = new Float32Array(D);
          const nj = e.inverseFilter(B, Wj, mode, lambda);
          setKernelEngine('wasm');
          const Ww = new Float32Array(D);
          const nw = e.inverseFilter(B, Ww, mode, lambda);
          expect(nw).toBe(nj);
          expect(Buffer.from(Ww.buffer).equals(Buffer.from(Wj.buffer))).toBe(true);
          // aliasing (W = B) gives the same
          const Bw = B.slice();
          expect(e.inverseFilter(Bw, Bw, mode, lambda)).toBe(nj);
          expect(Buffer.from(Bw.buffer).equals(Buffer.from(Wj.buffer))).toBe(true);
        }
      }
    });
  }
});
