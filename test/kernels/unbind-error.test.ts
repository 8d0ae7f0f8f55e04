/**
 * unbindError (the truth budget's unbind error) read in each engine's own layout equals the
 * formula over a direct float64 DFT of b, and equals the error measured on a basis vector.
 */
import { describe, expect, it } from 'vitest';
import { bindWith, createHrr } from '../../src/kernels/index.js';
import { unbind, unbindError } from '../../src/kernels/hrr/unbind.js';

const D = 256;
function dftPower(b: Float32Array): number[] {
  return Array.from({ length: D / 2 + 1 }, (_, k) => {
    let re = 0, im = 0;
    for (let j = 0; j < D; j++) { const a = (-2 * Math.PI * ((k * j) % D)) / D; re += b[j] * Math.cos(a); im += b[j] * Math.sin(a); }
    return re * re + im * im;
  });
}

describe('unbindError', () => {
  for (const engine of ['pffft', 'fftjs'] as const) {
    it(`${engine}: equals √((1/D) Σ (1 − H_k)²) over a direct DFT, and the measured error on e_5`, async () => {
      const hrr = await createHrr(D, engine);
      let seed = 9;
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const b = Float32Array.from({ length: D }, () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand()));
      const p = dftPower(b);
      const a = new Float32Array(D); a[5] = 1;
      const c = bindWith(hrr, a, b);
      for (const [mode, beta] of [['exact', 0.05], ['wiener', 0.01], ['approx', 1e-3]] as const) {
        const r = unbind(hrr, c, b, { mode, beta, report: true });
        const lambda = r.epsUsed;
        let s = 0;
        p.forEach((x, k) => {
          const h = mode === 'approx' ? x : mode === 'exact' ? Math.min(1, x / lambda) : x / (x + lambda);
          s += (k === 0 || k === D / 2 ? 1 : 2) * (1 - h) ** 2;
        });
        const want = Math.sqrt(s / D);
        expect(want).toBeGreaterThan(1e-3); // not a vacuous comparison
        expect(Math.abs(r.relErr! - want)).toBeLessThanOrEqual(1e-5 * want);
        expect(unbindError(hrr, (hrr.engine.forward(b, hrr.S2), hrr.S2), mode, lambda)).toBe(r.relErr);
        const measured = Math.sqrt(r.vector.reduce((t, x, i) => t + (x - a[i]) ** 2, 0));
        expect(Math.abs(measured - want)).toBeLessThanOrEqual(1e-4 * want + 1e-5);
      }
    });
  }
});
