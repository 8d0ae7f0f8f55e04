/**
 * Roles against gen-hrr.py's independent Python construction (FNV-1a 64, fmix32 seeding,
 * xoshiro128**, unit phases, numpy irfft in float64, one float32 rounding).
 *
 * Comparison: bit-identical. The two sides share the float64 phases exactly (same integer draws,
 * same constant), but take cos/sin from different libms (V8's fdlibm port vs glibc) and run
 * different float64 inverse FFTs (fft.js vs pocketfft), so a 1-ulp float32 difference was
 * possible; none occurs in the 62,720 fixture elements. The test first checks ≤ 1 ulp (so a
 * regenerated fixture with a rare last-bit flip reports as such), then counts exact matches.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cosine, norm } from '../../src/kernels/hrr/cosine.js';
import { Hrr } from '../../src/kernels/hrr/hrr.js';
import { fmix32, fnv1a64, role, roleSpectrum, roleStream, Xoshiro128 } from '../../src/kernels/hrr/role.js';
import { ENGINES, expectCode, loadFixture, ulp32 } from './support.js';

interface RoleCase {
  token: string; D: number; seed: number; fnv64: string; state: number[]; draws: number[]; vector: number[];
}
const fixture = loadFixture<{ role: RoleCase[]; xoshiroZeroState: number[] }>('hrr.json');

const label = (c: RoleCase) => `${JSON.stringify(c.token)} D=${c.D} seed=${c.seed}`;

describe('role construction vs gen-hrr.py', () => {
  it('covers non-ASCII tokens, the empty token and seeds 0, 12345, 2³²−1', () => {
    const tokens = new Set(fixture.role.map((c) => c.token));
    expect(tokens).toContain('');
    expect(tokens).toContain('日本語');
    expect(tokens).toContain('🙂');
    expect(new Set(fixture.role.map((c) => c.seed))).toEqual(new Set([0, 12345, 0xffffffff]));
    expect(new Set(fixture.role.map((c) => c.D))).toEqual(new Set([256, 2048, 8192]));
  });

  it.each(fixture.role.map((c) => [label(c), c] as const))('hash, state and draws: %s', (_, c) => {
    expect(fnv1a64(new TextEncoder().encode(c.token)).toString(16).padStart(16, '0')).toBe(c.fnv64);
    const h = BigInt('0x' + c.fnv64);
    const lo = Number(h & 0xffffffffn), hi = Number(h >> 32n);
    const s0 = fmix32(lo ^ 0x9e3779b9), s1 = fmix32(hi ^ s0);
    const s2 = fmix32(c.seed ^ s1), s3 = fmix32(c.D ^ s2);
    expect([s0, s1, s2, s3]).toEqual(c.state);
    const rng = roleStream(c.token, c.D, c.seed);
    expect(c.draws.map(() => rng.next())).toEqual(c.draws);
  });

  it.each(fixture.role.map((c) => [label(c), c] as const))('vector: %s', (_, c) => {
    const v = role(c.token, c.D, c.seed);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(c.D);
    let identical = 0;
    for (let i = 0; i < c.D; i++) {
      const ref = Math.fround(c.vector[i]);
      expect(Math.abs(v[i] - ref), `[${i}]`).toBeLessThanOrEqual(ulp32(ref));
      if (Object.is(v[i], ref)) identical++;
    }
    expect(identical, 'bit-identical elements').toBe(c.D);
  });

  it('xoshiro128** replaces the all-zero state by (1, 0, 0, 0)', () => {
    const g = new Xoshiro128(0, 0, 0, 0);
    expect(fixture.xoshiroZeroState.map(() => g.next())).toEqual(fixture.xoshiroZeroState);
  });

  it('is bit-identical run to run (also after other D and seeds warm the FFT cache)', () => {
    const first = role('stable', 2048, 99);
    role('stable', 256, 99);
    role('other', 2048, 0);
    expect(Array.from(role('stable', 2048, 99))).toEqual(Array.from(first));
  });
});

describe('role properties', () => {
  it('unit norm; distinct tokens and seeds give near-orthogonal roles', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 0xffffffff }), (t, u, seed) => {
      const D = 2048;
      const r = role(t, D, seed);
      expect(Math.abs(norm(r) - 1)).toBeLessThan(1e-6);
      // cosine of independent unit-phase roles ~ N(0, 1/D): 6σ = 0.13 at D = 2048
      if (t !== u) expect(Math.abs(cosine(r, role(u, D, seed)))).toBeLessThan(6 / Math.sqrt(D));
      expect(Math.abs(cosine(r, role(t, D, (seed + 1) >>> 0)))).toBeLessThan(6 / Math.sqrt(D));
    }), { seed: 1, numRuns: 25 });
  });

  it('depends on D (not a truncation of a longer role)', () => {
    const a = role('dog', 256), b = role('dog', 512);
    expect(Math.abs(cosine(a, b.subarray(0, 256)))).toBeLessThan(0.4);
  });

  for (const [name, make] of ENGINES) {
    it(`roleSpectrum on ${name}: |R_k| = 1 in every bin (within float32 rounding), ≈ rfft(role)`, async () => {
      for (const D of [256, 8192]) {
        const hrr = new Hrr(await make(D));
        const r = role('spectrum', D, 3);
        const R = roleSpectrum(hrr, r);
        const Z = hrr.engine.toComplex(R);
        const F = new Float32Array(D);
        hrr.engine.forward(r, F);
        const ZF = hrr.engine.toComplex(F);
        for (let k = 0; k <= D / 2; k++) {
          expect(Math.abs(Math.hypot(Z[2 * k], Z[2 * k + 1]) - 1)).toBeLessThan(2e-7);
          expect(Math.abs(Z[2 * k] - ZF[2 * k]) + Math.abs(Z[2 * k + 1] - ZF[2 * k + 1])).toBeLessThan(2e-6);
        }
        // out may be given, and the result is returned in it
        const out = new Float32Array(D);
        expect(roleSpectrum(hrr, r, out)).toBe(out);
      }
    });
  }
});

describe('role bad input', () => {
  it('D not a power of two in [256, 16384] → bad_dimension', () => {
    for (const D of [0, 100, 128, 255, 257, 1000, 32768, 2.5, NaN]) expectCode(() => role('x', D), 'bad_dimension');
  });
  it('seed not a uint32 → bad_request', () => {
    for (const seed of [-1, 1.5, 2 ** 32, NaN, Infinity, '1' as unknown as number]) {
      expectCode(() => role('x', 256, seed), 'bad_request');
    }
    expect(role('x', 256, 0xffffffff).length).toBe(256);
  });
});
