/**
 * HRR algebra (bind, unbind, bundle) on every engine, against numpy (test/fixtures/hrr.json,
 * written by gen-hrr.py) and against its laws (Plate 1995; NengoSPA's algebra tests).
 *
 * Tolerances, and why (measured values in brackets, fixtures at D = 256, 2048, 8192):
 *   bind vs numpy, max |error| / (‖a‖‖b‖):
 *     pffft 1e-6   float32 transforms: ε₃₂ ≈ 6e-8 times a few log₂D            [≤ 4.1e-8]
 *     fft.js       the float64 result rounded once: ≤ 1 float32 ulp per element  [≤ 0.5 ulp]
 *   unbind vs numpy, max |error| / ‖â‖:
 *     pffft 1e-6   as bind, times the filter's gain in weak bins (≤ 1/√λ)      [≤ 1.3e-7]
 *     fft.js 1e-7  the filter W is stored as a float32 spectrum (6e-8 per bin) [≤ 1.1e-8]
 *   λ (epsUsed) to 1e-14 relative (float64 ‖b‖² summed in another order); floored exactly
 *   (the generator keeps every |B_k|² at least 1e-3 relative away from λ).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FftjsEngine } from '../../src/kernels/fft/fftjs.js';
import { bind, bindSpectrum, involution } from '../../src/kernels/hrr/bind.js';
import { bundle } from '../../src/kernels/hrr/bundle.js';
import { cosine, dot, norm, normalize } from '../../src/kernels/hrr/cosine.js';
import { Hrr } from '../../src/kernels/hrr/hrr.js';
import * as facade from '../../src/kernels/hrr/reference.js';
import { role, roleSpectrum } from '../../src/kernels/hrr/role.js';
import { DEFAULT_BETA, unbind, unbindRole, type UnbindOptions } from '../../src/kernels/hrr/unbind.js';
import { ENGINES, expectCode, gaussian, loadFixture, maxAbsDiff, ulp32 } from './support.js';

interface BindCase { name: string; D: number; a: number[]; b: number[]; c: number[]; normA: number; normB: number }
interface UnbindRun { opts: UnbindOptions; vector: number[]; epsUsed: number; floored: number; cosine: number; norm: number }
interface UnbindCase { name: string; D: number; a: number[]; b: number[]; c: number[]; normB2: number; runs: UnbindRun[] }
const fixture = loadFixture<{ numpy: string; seed: number; defaultBeta: number; bind: BindCase[]; unbind: UnbindCase[] }>('hrr.json');

const f32 = (x: number[]) => Float32Array.from(x);

const FC = { seed: 1, numRuns: 25 };

describe('fixture provenance', () => {
  it('records numpy and the seed', () => {
    expect(fixture.numpy).toMatch(/^\d+\.\d+/);
    expect(Number.isInteger(fixture.seed)).toBe(true);
    expect(fixture.defaultBeta).toBe(DEFAULT_BETA);
  });
});

for (const [name, make] of ENGINES) {
  const f64 = name === 'fftjs';
  const hrrs = new Map<number, Promise<Hrr>>();
  const H = (D: number) => {
    let h = hrrs.get(D);
    if (!h) hrrs.set(D, (h = make(D).then((e) => new Hrr(e))));
    return h;
  };

  describe(`HRR on ${name}`, () => {
    describe('numpy fixtures', () => {
      it.each(fixture.bind.map((c) => [c.name, c] as const))('bind %s', async (_, c) => {
        const hrr = await H(c.D);
        const out = bind(hrr, f32(c.a), f32(c.b));
        const scale = c.normA * c.normB;
        if (f64) {
          for (let i = 0; i < c.D; i++) {
            expect(Math.abs(out[i] - c.c[i]), `c[${i}]`).toBeLessThanOrEqual(ulp32(c.c[i]) + 1e-13 * scale);
          }
        } else {
          expect(maxAbsDiff(out, c.c) / scale).toBeLessThan(1e-6);
        }
      });

      for (const u of fixture.unbind) {
        it.each(u.runs.map((r) => [JSON.stringify(r.opts), r] as const))(`unbind ${u.name} %s`, async (_, r) => {
          const hrr = await H(u.D);
          const res = unbind(hrr, f32(u.c), f32(u.b), r.opts);
          expect(maxAbsDiff(res.vector, r.vector) / r.norm).toBeLessThan(f64 ? 1e-7 : 1e-6);
          expect(res.floored).toBe(r.floored);
          if (r.opts.mode === 'approx') expect(res.epsUsed).toBe(0);
          else expect(Math.abs(res.epsUsed / r.epsUsed - 1)).toBeLessThan(1e-14);
          expect(Math.abs(cosine(res.vector, f32(u.a)) - r.cosine)).toBeLessThan(1e-6);
        });
      }
    });

    describe('laws', () => {
      it('bind is commutative', async () => {
        const hrr = await H(256);
        fc.assert(fc.property(fc.integer(), fc.integer(), (s, t) => {
          const a = gaussian(256, s), b = gaussian(256, t, 3);
          const err = maxAbsDiff(bind(hrr, a, b), bind(hrr, b, a)) / (norm(a) * norm(b));
          expect(err).toBeLessThan(f64 ? 1e-7 : 1e-6);
        }), FC);
      });

      it('bind is associative (within float32 rounding)', async () => {
        const hrr = await H(256);
        fc.assert(fc.property(fc.integer(), fc.integer(), fc.integer(), (s, t, v) => {
          const a = gaussian(256, s), b = gaussian(256, t, 2), c = gaussian(256, v, 0.5);
          const left = bind(hrr, bind(hrr, a, b), c), right = bind(hrr, a, bind(hrr, b, c));
          expect(maxAbsDiff(left, right) / (norm(a) * norm(b) * norm(c))).toBeLessThan(f64 ? 1e-7 : 2e-6);
        }), FC);
      });

      it('δ = (1, 0, …, 0) is the identity; δ₁ rotates by one (bind.ts example at D = 256)', async () => {
        const hrr = await H(256);
        const delta = new Float32Array(256); delta[0] = 1;
        fc.assert(fc.property(fc.integer(), (s) => {
          const a = gaussian(256, s, 4);
          expect(maxAbsDiff(bind(hrr, a, delta), a) / norm(a)).toBeLessThan(f64 ? 1e-7 : 1e-6);
        }), FC);
        const ramp = Float32Array.from({ length: 256 }, (_, i) => i + 1);
        const d1 = new Float32Array(256); d1[1] = 1;
        const rotated = Float32Array.from({ length: 256 }, (_, i) => (i === 0 ? 256 : i));
        expect(maxAbsDiff(bind(hrr, ramp, d1), rotated)).toBeLessThan(f64 ? 1e-10 : 1e-4); // ‖ramp‖ ≈ 2365
      });

      it("involution: NengoSPA's [1, 2, 3, 4, 5] → [1, 5, 4, 3, 2], and at D = 256", () => {
        expect(Array.from(involution(Float32Array.from([1, 2, 3, 4, 5])))).toEqual([1, 5, 4, 3, 2]);
        const x = Float32Array.from({ length: 256 }, (_, i) => i + 1);
        const inv = involution(x);
        expect(inv[0]).toBe(1);
        expect(inv[1]).toBe(256);
        expect(inv[255]).toBe(2);
        expect(Array.from(involution(inv))).toEqual(Array.from(x)); // an involution
      });

      it('roles are unitary (|F_k| = 1 within 1e-6) and have norm 1', async () => {
        const hrr = await H(256);
        const F = new Float32Array(256);
        fc.assert(fc.property(fc.string(), fc.integer({ min: 0, max: 0xffffffff }), (token, seed) => {
          const r = role(token, 256, seed);
          expect(Math.abs(norm(r) - 1)).toBeLessThan(1e-6);
          hrr.engine.forward(r, F);
          const Z = hrr.engine.toComplex(F);
          for (let k = 0; k <= 128; k++) expect(Math.abs(Math.hypot(Z[2 * k], Z[2 * k + 1]) - 1)).toBeLessThan(1e-6);
        }), FC);
      });

      it('bindSpectrum with sameSpectrum gives the bits of a fresh copy, across calls that overwrite the engine buffers', async () => {
        const D = 512, hrr = await H(D);
        const R1 = roleSpectrum(hrr, role('one', D, 3)), R2 = roleSpectrum(hrr, role('two', D, 3));
        const xs = Array.from({ length: 6 }, (_, i) => gaussian(D, 40 + i));
        const want = xs.map((x, i) => bindSpectrum(hrr, x, i % 3 === 2 ? R2 : R1));
        const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
        for (let i = 0; i < xs.length; i++) {
          const R = i % 3 === 2 ? R2 : R1;
          expect(bits(bindSpectrum(hrr, xs[i], R, undefined, true)), `item ${i}`).toEqual(bits(want[i]));
          if (i === 3) bind(hrr, xs[0], xs[1]); // overwrites the engine's spectrum buffers
          if (i === 4) hrr.engine.toComplex(R1);
        }
      });

      it('binding with a role three times keeps the norm (NengoSPA test_make_unitary)', async () => {
        for (const D of [256, 8192]) {
          const hrr = await H(D);
          const r = role('keeper', D, 7), R = roleSpectrum(hrr, r);
          fc.assert(fc.property(fc.integer(), (s) => {
            let x = gaussian(D, s, 2), y = x;
            const n0 = norm(x);
            for (let i = 0; i < 3; i++) {
              x = bindSpectrum(hrr, x, R);
              y = bind(hrr, y, r);
              expect(Math.abs(norm(x) / n0 - 1), `bindSpectrum, bind #${i + 1}`).toBeLessThan(2e-6);
              expect(Math.abs(norm(y) / n0 - 1), `bind, bind #${i + 1}`).toBeLessThan(2e-6);
            }
          }), { ...FC, numRuns: D > 256 ? 5 : 25 });
        }
      });

      it('makeUnitary is idempotent', async () => {
        const hrr = await H(256), e = hrr.engine;
        fc.assert(fc.property(fc.integer(), (s) => {
          const X = new Float32Array(256), U = new Float32Array(256), UU = new Float32Array(256);
          e.forward(gaussian(256, s), X);
          e.makeUnitary(X, U);
          e.makeUnitary(U, UU);
          expect(maxAbsDiff(U, UU)).toBeLessThanOrEqual(2 ** -23);
        }), FC);
      });

      it('unbind(bind(a, r), r) ≈ a for a unitary r: every mode and unbindRole (cosine ≥ 0.9999)', async () => {
        for (const D of [256, 2048]) {
          const hrr = await H(D);
          fc.assert(fc.property(fc.integer(), fc.string({ minLength: 1 }), (s, token) => {
            const a = gaussian(D, s), r = role(token, D), R = roleSpectrum(hrr, r);
            const c = bind(hrr, a, r);
            for (const mode of ['exact', 'wiener', 'approx'] as const) {
              const res = unbind(hrr, c, r, { mode });
              expect(res.floored).toBe(0);
              expect(cosine(res.vector, a), mode).toBeGreaterThanOrEqual(0.9999);
            }
            const viaSpectrum = unbindRole(hrr, bindSpectrum(hrr, a, R), R);
            expect(cosine(viaSpectrum.vector, a)).toBeGreaterThanOrEqual(0.9999);
            // A unitary inverse keeps the norm too.
            expect(Math.abs(norm(viaSpectrum.vector) / norm(a) - 1)).toBeLessThan(2e-6);
          }), { ...FC, numRuns: D > 256 ? 10 : 25 });
        }
      });

      it('random Gaussian b at D = 8192: exact recovers a at cosine ≥ 0.99, approx ≈ 1/√2', async () => {
        const D = 8192, hrr = await H(D);
        const exact: number[] = [], approx: number[] = [];
        for (let s = 0; s < 5; s++) {
          const a = gaussian(D, 1000 + s), b = gaussian(D, 2000 + s);
          const c = bind(hrr, a, b);
          exact.push(cosine(unbind(hrr, c, b).vector, a));
          approx.push(cosine(unbind(hrr, c, b, { mode: 'approx' }).vector, a));
        }
        // Measured (both engines): exact 0.9998–0.9999, approx 0.70–0.71 (1/√2: E|B|²/√E|B|⁴).
        for (const v of exact) expect(v).toBeGreaterThanOrEqual(0.99);
        for (const v of approx) expect(Math.abs(v - Math.SQRT1_2)).toBeLessThan(0.03);
        console.info(`${name} D=8192 Gaussian b: exact cosine ${exact.map((v) => v.toFixed(5)).join(' ')}; ` +
          `approx ${approx.map((v) => v.toFixed(4)).join(' ')}`);
      });

      it('Wiener beats exact when c carries noise', async () => {
        const D = 2048, hrr = await H(D);
        let wins = 0;
        const rows: string[] = [];
        for (let s = 0; s < 5; s++) {
          const a = gaussian(D, 3000 + s), b = gaussian(D, 4000 + s);
          const c = bind(hrr, a, b);
          // Noise at 10% of ‖c‖, so the per-bin noise-to-signal power of a is 0.01 ‖c‖²/‖a‖²:
          // snr = ‖a‖²/‖noise‖² is the Wiener filter's matched setting.
          const n = gaussian(D, 5000 + s, 0.1 * norm(c));
          const noisy = c.map((v, i) => v + n[i]);
          const snr = dot(a, a) / dot(n, n);
          const ex = cosine(unbind(hrr, noisy, b).vector, a);
          const wi = cosine(unbind(hrr, noisy, b, { mode: 'wiener', snr }).vector, a);
          rows.push(`${ex.toFixed(3)}→${wi.toFixed(3)}`);
          expect(wi).toBeGreaterThan(ex);
          if (wi > ex) wins++;
        }
        expect(wins).toBe(5);
        console.info(`${name} D=2048, 10% noise: cosine exact→wiener ${rows.join(' ')}`);
      });

      it('bundle is normalised; its example [e₀, e₁] → [1/√2, 1/√2, 0, …]', () => {
        const e0 = new Float32Array(256), e1 = new Float32Array(256);
        e0[0] = 1; e1[1] = 1;
        const v = bundle([e0, e1]);
        expect(v[0]).toBe(Math.fround(Math.SQRT1_2));
        expect(v[1]).toBe(Math.fround(Math.SQRT1_2));
        expect(v.slice(2).every((x) => x === 0)).toBe(true);
        const w = bundle([e0, e1], [3, -4]);
        expect([w[0], w[1]]).toEqual([Math.fround(0.6), Math.fround(-0.8)]);
        fc.assert(fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 6 }), (seeds) => {
          const u = bundle(seeds.map((s) => gaussian(256, s, 3)));
          expect(Math.abs(norm(u) - 1)).toBeLessThan(1e-6);
        }), FC);
      });

      it('works at the largest D = 16384', async () => {
        const hrr = await H(16384);
        const a = gaussian(16384, 1), r = role('big', 16384);
        expect(cosine(unbind(hrr, bind(hrr, a, r), r).vector, a)).toBeGreaterThanOrEqual(0.9999);
      });
    });

    describe('bad input', () => {
      it('wrong lengths → bad_dimension', async () => {
        const hrr = await H(256);
        const a = gaussian(256, 1), short = new Float32Array(255), long = new Float32Array(512);
        expectCode(() => bind(hrr, a, short), 'bad_dimension');
        expectCode(() => bind(hrr, long, a), 'bad_dimension');
        expectCode(() => bindSpectrum(hrr, a, long), 'bad_dimension');
        expectCode(() => bindSpectrum(hrr, short, a), 'bad_dimension');
        expectCode(() => unbind(hrr, a, short), 'bad_dimension');
        expectCode(() => unbind(hrr, short, a, { mode: 'approx' }), 'bad_dimension');
        expectCode(() => unbindRole(hrr, a, short), 'bad_dimension');
        expectCode(() => unbindRole(hrr, long, a), 'bad_dimension');
        expectCode(() => roleSpectrum(hrr, short), 'bad_dimension');
        expectCode(() => bundle([a, short]), 'bad_dimension');
        expectCode(() => cosine(a, short), 'bad_dimension');
      });

      it('NaN / Inf → bad_request (and float32 overflow of the result)', async () => {
        const hrr = await H(256);
        const a = gaussian(256, 1);
        for (const bad of [NaN, Infinity, -Infinity]) {
          const x = a.slice(); x[17] = bad;
          expectCode(() => bind(hrr, a, x), 'bad_request');
          expectCode(() => bind(hrr, x, a), 'bad_request');
          expectCode(() => bindSpectrum(hrr, x, a), 'bad_request');
          for (const mode of ['exact', 'wiener', 'approx'] as const) {
            expectCode(() => unbind(hrr, x, a, { mode }), 'bad_request');
            expectCode(() => unbind(hrr, a, x, { mode }), 'bad_request');
          }
          expectCode(() => unbindRole(hrr, x, a), 'bad_request');
          expectCode(() => bundle([a, x]), 'bad_request');
          expectCode(() => bundle([a, a], [1, bad]), 'bad_request');
          expectCode(() => cosine(a, x), 'bad_request');
        }
        const huge = new Float32Array(256).fill(3e38);
        expectCode(() => bind(hrr, huge, huge), 'bad_request');
      });

      it('zero b in unbind → bad_request (every mode)', async () => {
        const hrr = await H(256);
        for (const mode of ['exact', 'wiener', 'approx'] as const) {
          expectCode(() => unbind(hrr, gaussian(256, 1), new Float32Array(256), { mode }), 'bad_request');
        }
      });

      it('bad eps / snr / beta / mode → bad_request', async () => {
        const hrr = await H(256);
        const a = gaussian(256, 1), b = gaussian(256, 2);
        for (const v of [0, -1, NaN, Infinity, -Infinity, '1' as unknown as number]) {
          expectCode(() => unbind(hrr, a, b, { mode: 'exact', eps: v }), 'bad_request');
          expectCode(() => unbind(hrr, a, b, { mode: 'wiener', snr: v }), 'bad_request');
          expectCode(() => unbind(hrr, a, b, { mode: 'exact', beta: v }), 'bad_request');
          expectCode(() => unbind(hrr, a, b, { mode: 'wiener', beta: v }), 'bad_request');
        }
        for (const mode of ['', 'Exact', 'inverse', 42] as unknown as 'exact'[]) {
          expectCode(() => unbind(hrr, a, b, { mode }), 'bad_request');
        }
      });

      it('bundle: no vectors, weights of another length, a zero sum → bad_request', () => {
        const a = gaussian(256, 1);
        expectCode(() => bundle([]), 'bad_request');
        expectCode(() => bundle([a, a], [1]), 'bad_request');
        expectCode(() => bundle([a, a], [1, -1]), 'bad_request');
        expectCode(() => normalize(new Float32Array(256)), 'bad_request');
      });
    });
  });
}

describe('reference facade (fft.js, one Hrr per D)', () => {
  it('bind / unbind agree with an explicit fft.js Hrr and reject a bad D', () => {
    const a = gaussian(512, 1), b = gaussian(512, 2);
    const hrr = new Hrr(new FftjsEngine(512));
    expect(Array.from(facade.bind(a, b))).toEqual(Array.from(bind(hrr, a, b)));
    const c = facade.bind(a, b);
    expect(Array.from(facade.unbind(c, b).vector)).toEqual(Array.from(unbind(hrr, c, b).vector));
    expectCode(() => facade.bind(new Float32Array(100), new Float32Array(100)), 'bad_dimension');
    expectCode(() => facade.bind(new Float32Array(300), new Float32Array(300)), 'bad_dimension');
  });
});
