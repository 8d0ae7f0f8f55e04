/**
 * One suite, every FFT engine (Hono's common.case.test.ts: one suite per router via newRouter).
 * References: numpy's rfft (test/fixtures/hrr.json, written by gen-hrr.py) and float64
 * computations done here bin by bin from toComplex, never from the engine under test's own ops.
 *
 * Tolerances, and why:
 *   pffft (float32 transforms): spectra within 1e-6·‖x‖·√D absolute per bin (float32 rounding,
 *     error ~ ε₃₂·log₂D·‖X‖); round trips within 1e-6·max|x|.
 *   fft.js (float64 inside, float32 at the edges): one float32 rounding of a float64 result,
 *     so 2^-23 relative to the value plus float64 noise.
 */
import { describe, expect, it } from 'vitest';
import { FftjsEngine } from '../../src/kernels/fft/fftjs.js';
import { createEngine } from '../../src/kernels/fft/create.js';
import { ENGINES, expectCode, gaussian, loadFixture, maxAbsDiff } from './support.js';

interface SpectrumCase { name: string; D: number; x: number[]; Z: number[] }
const fixture = loadFixture<{ spectrum: SpectrumCase[] }>('hrr.json');

const maxAbs = (x: ArrayLike<number>) => { let m = 0; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i])); return m; };
const norm = (x: ArrayLike<number>) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * x[i]; return Math.sqrt(s); };

/** Naive O(D²) circular convolution in float64: (a ⊛ b)[j] = Σ_i a[i] b[(j − i) mod D]. */
function naiveConvolve(a: Float32Array, b: Float32Array): Float64Array {
  const D = a.length, out = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    let s = 0;
    for (let i = 0; i < D; i++) s += a[i] * b[(j - i + D) % D];
    out[j] = s;
  }
  return out;
}

for (const [name, make] of ENGINES) {
  const f64 = name === 'fftjs';
  describe(`FFT engine: ${name}`, () => {
    it('names itself and its layout', async () => {
      const e = await make(256);
      expect(e.name).toBe(name);
      expect(e.D).toBe(256);
      expect(e.layout).toMatch(name === 'pffft' ? /^pffft/ : /^fftjs/);
    });

    it('toComplex(forward(x)) matches numpy rfft', async () => {
      for (const c of fixture.spectrum) {
        const e = await make(c.D);
        const X = new Float32Array(c.D);
        e.forward(Float32Array.from(c.x), X);
        const Z = e.toComplex(X);
        expect(Z.length).toBe(c.D + 2);
        // Per-bin absolute error relative to the spectrum's scale ‖X‖/√(D/2+1) = ‖x‖·√(D/(D/2+1)).
        const scale = norm(c.x) * Math.sqrt(c.D);
        const err = maxAbsDiff(Z, c.Z) / scale;
        expect(err, `${c.name}: max bin error / (‖x‖√D)`).toBeLessThan(f64 ? 1e-7 : 1e-6);
        // DC and Nyquist are real.
        expect(Z[1]).toBe(0);
        expect(Z[c.D + 1]).toBe(0);
      }
    });

    it('inverse(forward(x)) = x (round trip, scaled 1/D)', async () => {
      for (const D of [256, 2048, 16384]) {
        const e = await make(D);
        for (const seed of [1, 2]) {
          const x = gaussian(D, seed, 5);
          const X = new Float32Array(D), y = new Float32Array(D);
          e.forward(x, X);
          e.inverse(X, y);
          expect(maxAbsDiff(x, y) / maxAbs(x), `D=${D}`).toBeLessThan(f64 ? 1e-7 : 1e-6);
        }
      }
    });

    it('fromComplex ∘ toComplex is the identity, both ways', async () => {
      const D = 256, e = await make(D);
      const X = new Float32Array(D);
      e.forward(gaussian(D, 3), X);
      const back = new Float32Array(D);
      e.fromComplex(e.toComplex(X), back);
      expect(Array.from(back)).toEqual(Array.from(X)); // a permutation: bit-identical
      const Z = new Float64Array(D + 2);
      for (let i = 0; i < D + 2; i++) Z[i] = Math.fround(Math.sin(i * 0.37) * 3);
      Z[1] = 0; Z[D + 1] = 0;
      const P = new Float32Array(D);
      e.fromComplex(Z, P);
      expect(Array.from(e.toComplex(P))).toEqual(Array.from(Z));
    });

    it('convolve matches a naive O(D²) circular convolution at D = 256', async () => {
      const D = 256, e = await make(D);
      for (const seed of [4, 5, 6]) {
        const a = gaussian(D, seed, 3), b = gaussian(D, seed + 100, 0.5);
        const ref = naiveConvolve(a, b);
        const out = new Float32Array(D);
        e.convolve(a, b, out);
        const err = maxAbsDiff(out, ref) / (norm(a) * norm(b));
        expect(err).toBeLessThan(f64 ? 1e-7 : 1e-6);
        // out may alias a or b
        const a2 = a.slice(), b2 = b.slice();
        e.convolve(a2, b, a2);
        e.convolve(a, b2, b2);
        expect(Array.from(a2)).toEqual(Array.from(out));
        expect(Array.from(b2)).toEqual(Array.from(out));
        // convolveSpectrum with forward(b) is the same product
        const B = new Float32Array(D), out2 = new Float32Array(D);
        e.forward(b, B);
        e.convolveSpectrum(a, B, out2);
        expect(maxAbsDiff(out2, ref) / (norm(a) * norm(b))).toBeLessThan(f64 ? 1e-7 : 1e-6);
      }
    });

    it('inverseFilter matches the float64 formula per bin, and counts the floored bins', async () => {
      const D = 256, e = await make(D);
      const b = gaussian(D, 7);
      // Weak DC and Nyquist so both real bins sit below λ (the packing's special case).
      let even = 0, odd = 0;
      for (let i = 0; i < D; i += 2) { even += b[i]; odd += b[i + 1]; }
      for (let i = 0; i < D; i += 2) { b[i] -= even / (D / 2); b[i + 1] -= odd / (D / 2); }
      const B = new Float32Array(D);
      e.forward(b, B);
      const Z = e.toComplex(B);
      const power = (k: number) => Z[2 * k] ** 2 + Z[2 * k + 1] ** 2;
      for (const mode of ['floor', 'add'] as const) {
        for (const lambda of [1e-3, 0.1, 0.5, 1.5]) {
          let expected = 0;
          for (let k = 0; k <= D / 2; k++) if (power(k) < lambda) expected++;
          const W = new Float32Array(D);
          const floored = e.inverseFilter(B, W, mode, lambda);
          expect(floored, `${mode} λ=${lambda}`).toBe(expected);
          const ZW = e.toComplex(W);
          for (let k = 0; k <= D / 2; k++) {
            const p = power(k), d = mode === 'floor' ? Math.max(p, lambda) : p + lambda;
            const wr = Z[2 * k] / d, wi = -Z[2 * k + 1] / d;
            const tol = 2e-7 * Math.hypot(wr, wi) + 1e-30;
            expect(Math.abs(ZW[2 * k] - wr), `bin ${k}`).toBeLessThanOrEqual(tol);
            expect(Math.abs(ZW[2 * k + 1] - wi), `bin ${k}`).toBeLessThanOrEqual(tol);
          }
          // W may alias B
          const B2 = B.slice();
          expect(e.inverseFilter(B2, B2, mode, lambda)).toBe(expected);
          expect(Array.from(B2)).toEqual(Array.from(W));
        }
      }
      // The two real bins: DC and Nyquist were made ~0, so λ = 1e-3 floors both.
      expect(power(0)).toBeLessThan(1e-9);
      expect(power(D / 2)).toBeLessThan(1e-9);
    });

    it('conjugate negates every imaginary part and keeps DC and Nyquist', async () => {
      const D = 256, e = await make(D);
      const B = new Float32Array(D);
      e.forward(gaussian(D, 8, 4), B);
      const Z = e.toComplex(B);
      Z[0] = -Math.abs(Z[0]) - 1; Z[D] = -Math.abs(Z[D]) - 1; // negative real bins must stay negative
      e.fromComplex(Z, B);
      const W = new Float32Array(D);
      e.conjugate(B, W);
      const ZW = e.toComplex(W);
      for (let k = 0; k <= D / 2; k++) {
        expect(ZW[2 * k]).toBe(Math.fround(Z[2 * k]));
        expect(ZW[2 * k + 1]).toBe(-Math.fround(Z[2 * k + 1]) + 0);
      }
      const B2 = B.slice();
      e.conjugate(B2, B2);
      expect(Array.from(B2)).toEqual(Array.from(W));
    });

    it('makeUnitary sets every bin to modulus 1 (zero bin → 1, real bins keep their sign)', async () => {
      const D = 256, e = await make(D);
      const B = new Float32Array(D);
      e.forward(gaussian(D, 9, 2), B);
      const Z = e.toComplex(B);
      Z[0] = -0.25; Z[D] = 3; // negative DC, positive Nyquist
      Z[10] = 0; Z[11] = 0; // a zero bin
      e.fromComplex(Z, B);
      const Zf = e.toComplex(B);
      const W = new Float32Array(D);
      e.makeUnitary(B, W);
      const ZW = e.toComplex(W);
      expect(ZW[0]).toBe(-1);
      expect(ZW[D]).toBe(1);
      expect([ZW[10], ZW[11]]).toEqual([1, 0]);
      for (let k = 1; k < D / 2; k++) {
        if (k === 5) continue;
        const m = Math.hypot(Zf[2 * k], Zf[2 * k + 1]);
        expect(Math.abs(ZW[2 * k] - Zf[2 * k] / m)).toBeLessThanOrEqual(1.2e-7);
        expect(Math.abs(ZW[2 * k + 1] - Zf[2 * k + 1] / m)).toBeLessThanOrEqual(1.2e-7);
      }
      // W may alias B; a zero DC becomes +1
      Z[0] = 0;
      e.fromComplex(Z, B);
      e.makeUnitary(B, B);
      expect(e.toComplex(B)[0]).toBe(1);
    });

    it('rejects a D that is not a power of two in [256, 16384] with bad_dimension', async () => {
      for (const D of [0, 128, 255, 300, 1000, 2.5, 32768, -256, NaN]) {
        await expect(make(D), `D=${D}`).rejects.toMatchObject({ name: 'HoloError', code: 'bad_dimension' });
      }
      expect((await make(16384)).D).toBe(16384);
    });
  });
}

describe('createEngine', () => {
  it('picks pffft by default, fft.js on request', async () => {
    expect((await createEngine(256)).engine.name).toBe('pffft');
    expect((await createEngine(256)).fallbackReason).toBeUndefined();
    expect((await createEngine(256, 'fftjs')).engine.name).toBe('fftjs');
  });
  it('passes a bad D on as bad_dimension (not a fallback)', async () => {
    await expect(createEngine(100)).rejects.toMatchObject({ code: 'bad_dimension' });
    expectCode(() => new FftjsEngine(100), 'bad_dimension');
  });
});
