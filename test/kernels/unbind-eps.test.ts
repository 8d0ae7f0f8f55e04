/**
 * The eps signal's unit (docs/OPERATIONS.md): epsRel = λ/P̄ with P̄ = ‖b‖² does not follow the
 * scale of b, and the floored-bin count it is paired with is the same in the WASM and JS
 * filters. Reference: the count recomputed here from rfft(b) in float64 (toComplex).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Hrr } from '../../src/kernels/hrr/hrr.js';
import { bind } from '../../src/kernels/index.js';
import { unbind as unbindWith } from '../../src/kernels/hrr/unbind.js';
import { setKernelEngine } from '../../src/kernels/wasm/engine.js';
import { ENGINES, gaussian } from './support.js';

afterAll(() => { setKernelEngine('auto'); });

describe('unbind: epsRel and floored bins', () => {
  for (const [name, make] of ENGINES) {
    it(`${name}: epsRel = beta for b and 10·b; floored = #{k: |B_k|² < λ} (float64 reference), equal in wasm and js`, async () => {
      const D = 2048;
      const hrr = new Hrr(await make(D));
      const a = gaussian(D, 11), b = gaussian(D, 12);
      const c = bind(a, b);
      for (const beta of [1e-3, 0.05]) {
        const runs = [];
        for (const scale of [1, 10]) {
          const bs = b.map((x) => x * scale);
          const cs = c.map((x) => x * scale);
          for (const k of ['js', 'wasm'] as const) {
            setKernelEngine(k);
            runs.push(unbindWith(hrr, cs, bs, { beta }));
          }
          // reference count: bins of rfft(b·scale) in float64 below λ
          let p2 = 0;
          for (const x of bs) p2 += x * x;
          const lambda = beta * p2;
          hrr.engine.forward(bs, hrr.S2);
          const Z = hrr.engine.toComplex(hrr.S2);
          let want = 0;
          for (let i = 0; i < Z.length; i += 2) if (Z[i] * Z[i] + Z[i + 1] * Z[i + 1] < lambda) want++;
          expect(Math.abs(runs[runs.length - 1].floored - want)).toBeLessThanOrEqual(1); // float32 spectrum vs float64 rounding at the edge
        }
        for (const r of runs) {
          expect(r.epsRel).toBeCloseTo(beta, 12);
          expect(r.floored).toBe(runs[0].floored);
          expect(r.floored).toBeGreaterThan(0); // a Gaussian b: ≈ (1 − e^(−beta))·(D/2+1) bins
        }
        expect(runs[0].epsUsed * 100).toBeCloseTo(runs[2].epsUsed, 6); // λ itself follows ‖b‖²; epsRel does not
      }
      // approx: no regulariser, epsRel 0
      expect(unbindWith(hrr, c, b, { mode: 'approx' }).epsRel).toBe(0);
    });
  }
});
