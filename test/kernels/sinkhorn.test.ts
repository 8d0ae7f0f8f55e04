import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sinkhorn, sinkhornBatch, type SinkhornProblem, type SinkhornResult } from '../../src/kernels/ot/sinkhorn.js';
import { setKernelEngine } from '../../src/kernels/wasm/engine.js';
import { allocOrZero, loadWasm, wasmStatus } from '../../src/kernels/wasm/load.js';
import { expectCode, loadFixture } from './support.js';

interface FixtureCase {
  name: string; n: number; m: number; a: number[] | null; b: number[] | null; C: number[];
  epsilon: number; epsilonRel: number; plan: number[]; cost: number; potIterations: number;
}
const fixture = loadFixture<{ seed: number; numpy: string; pot: string; cases: FixtureCase[] }>('sinkhorn.json');

const f64 = (x: number[] | null) => (x === null ? null : Float64Array.from(x));
const sum = (x: ArrayLike<number>) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i]; return s; };

/** Row and column sums of an (n, m) row-major plan. */
function marginals(P: Float64Array, n: number, m: number): { rows: number[]; cols: number[] } {
  const rows = new Array<number>(n).fill(0), cols = new Array<number>(m).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) { rows[i] += P[i * m + j]; cols[j] += P[i * m + j]; }
  return { rows, cols };
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  for (let k = 0; k < x.length; k++) d = Math.max(d, Math.abs(x[k] - y[k]));
  return d;
}

/** A random problem: costs in [-1, 1] · scale, histograms with some zeros, mass 1. */
const problemArb = (maxN: number) => fc.record({
  n: fc.integer({ min: 1, max: maxN }),
  m: fc.integer({ min: 1, max: maxN }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 2 }),
  zeros: fc.boolean(),
}).map(({ n, m, seed, zeros }) => {
  let s = seed;
  const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
  const hist = (k: number) => {
    const h = Float64Array.from({ length: k }, () => (zeros && rnd() < 0.3 ? 0 : 0.05 + rnd()));
    if (sum(h) === 0) h[0] = 1;
    const t = sum(h);
    for (let i = 0; i < k; i++) h[i] /= t;
    return h;
  };
  const C = Float64Array.from({ length: n * m }, () => 2 * rnd() - 1);
  let maxC = 0;
  for (const x of C) maxC = Math.max(maxC, Math.abs(x));
  return { n, m, a: hist(n), b: hist(m), C, maxC };
});

function expectSane(r: SinkhornResult): void {
  for (const x of r.plan) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThanOrEqual(0);
  }
  expect(Number.isFinite(r.cost)).toBe(true);
  expect(Number.isFinite(r.marginalError)).toBe(true);
}

// Every suite in this loop runs on both engines (src/kernels/wasm/engine.ts); the wasm one
// fails, not skips, when dist/kernels.wasm is missing (npm run build makes it).
for (const impl of ['js', 'wasm'] as const) {
  describe(`engine ${impl}`, () => {
    beforeAll(() => { setKernelEngine(impl); });
    afterAll(() => { setKernelEngine('auto'); });

    describe('sinkhorn: POT fixtures', () => {
      it('records its seed and library versions', () => {
        expect(fixture.seed).toBeTypeOf('number');
        expect(fixture.numpy).toMatch(/^\d+\.\d+/);
        expect(fixture.pot).toMatch(/^\d+\.\d+/);
        expect(fixture.cases.length).toBeGreaterThanOrEqual(10);
      });

      for (const c of fixture.cases) {
        it(`${c.name}: plan and cost match ot.bregman.sinkhorn_log`, () => {
          const a = f64(c.a), b = f64(c.b);
          const mass = a === null ? 1 : sum(a);
          // Run to tol 1e-12 (mass units) where POT stopped at 1e-13 (L2 of the column violation).
          const tol = 1e-12 * mass;
          const r = sinkhorn(a, b, Float64Array.from(c.C), c.n, c.m, { epsilon: c.epsilon, tol, maxIter: 200_000 });
          expect(r.converged).toBe(true);
          expect(r.numericalError).toBe(false);
          // Rounding only: the recomputed violation may pass tol by ~1e-16·(n+m)·mass.
          expect(r.marginalError).toBeLessThanOrEqual(tol + 1e-14 * mass);
          // Both plans sit within ~1e-12 of the same fixed point (observed max gap 1.5e-13 over all
          // cases, float64); 1e-9 of the mass leaves margin for slow cases yet fails on any real slip
          // (a wrong ε, a transposed C or a marginal off by one entry moves entries by ≥ 1e-4).
          expect(maxAbsDiff(r.plan, c.plan)).toBeLessThanOrEqual(1e-9 * mass);
          // cost = ⟨P, C⟩ with the same plan to 1e-9: 1e-9 relative (costs here are ≥ 0.01 in size).
          expect(Math.abs(r.cost - c.cost)).toBeLessThanOrEqual(1e-9 * Math.abs(c.cost));
          for (const x of r.plan) expect(x).toBeGreaterThanOrEqual(0);
        });
      }
    });

    describe('sinkhorn: worked example (TSDoc)', () => {
      it("reproduces POT's sinkhorn_knopp docstring plan", () => {
        const a = new Float64Array([0.5, 0.5]);
        const r = sinkhorn(a, a, new Float64Array([0, 1, 1, 0]), 2, 2, { epsilon: 1 });
        // Closed form: P11 P22 / (P12 P21) = e^2 with symmetric marginals 0.5, so P11 = 0.5e/(1+e).
        const d = (0.5 * Math.E) / (1 + Math.E);
        expect(d).toBeCloseTo(0.36552929, 8);
        // 1e-12: the first iteration is exact up to rounding here (the 2×2 symmetric case).
        expect(maxAbsDiff(r.plan, [d, 0.5 - d, 0.5 - d, d])).toBeLessThanOrEqual(1e-12);
        expect(Array.from(r.plan, (x) => Number(x.toFixed(8)))).toEqual([0.36552929, 0.13447071, 0.13447071, 0.36552929]);
        expect(r.cost).toBeCloseTo(0.26894142, 8);
        expect(r.converged).toBe(true);
      });
    });

    describe('sinkhorn: properties (fast-check, seeded)', () => {
      it('at ε = 0.05·max|C|: converges, marginals within tol, plan ≥ 0', () => {
        fc.assert(fc.property(problemArb(20), ({ n, m, a, b, C, maxC }) => {
          const tol = 1e-10;
          const r = sinkhorn(a, b, C, n, m, { epsilon: 0.05 * maxC, tol, maxIter: 20_000 });
          expectSane(r);
          expect(r.converged).toBe(true);
          const { rows, cols } = marginals(r.plan, n, m);
          // Each marginal within tol (plus rounding of the recomputed sums, ~1e-16·(n+m)).
          expect(maxAbsDiff(rows, a)).toBeLessThanOrEqual(tol + 1e-14);
          expect(maxAbsDiff(cols, b)).toBeLessThanOrEqual(tol + 1e-14);
          expect(r.marginalError).toBeLessThanOrEqual(tol + 1e-14);
        }), { seed: 42, numRuns: 50 });
      });

      it('at ε = 1e-3·max|C|: no NaN or Inf, plan ≥ 0, columns exact after the last v step', () => {
        fc.assert(fc.property(problemArb(64), ({ n, m, a, b, C, maxC }) => {
          const r = sinkhorn(a, b, C, n, m, { epsilon: 1e-3 * maxC, maxIter: 300 });
          expectSane(r);
          expect(r.numericalError).toBe(false);
          // The loop ends on a v step (or stops on the row test), so columns match b to rounding.
          expect(maxAbsDiff(marginals(r.plan, n, m).cols, b)).toBeLessThanOrEqual(1e-13);
        }), { seed: 42, numRuns: 50 });
      });

      it('stays finite far below 1e-3·max|C| and for costs of 1e6 (ε down to 1e-9·max|C|)', () => {
        fc.assert(fc.property(problemArb(32), fc.constantFrom(1e-4, 1e-6, 1e-9), ({ n, m, a, b, C, maxC }, rel) => {
          const big = C.map((x) => x * 1e6);
          const r = sinkhorn(a, b, big, n, m, { epsilon: rel * maxC * 1e6, maxIter: 200 });
          expectSane(r);
          expect(r.numericalError).toBe(false);
        }), { seed: 42, numRuns: 50 });
      });

      it('plan is unchanged by adding a constant to C; cost shifts by constant·mass', () => {
        fc.assert(fc.property(problemArb(12), fc.double({ min: -5, max: 5, noNaN: true }), ({ n, m, a, b, C, maxC }, k) => {
          const opts = { epsilon: 0.05 * maxC, tol: 1e-12, maxIter: 50_000 };
          const r1 = sinkhorn(a, b, C, n, m, opts);
          const r2 = sinkhorn(a, b, C.map((x) => x + k), n, m, opts);
          // Two converged runs of the same problem (tol 1e-12): entries agree to ~1e-12; 1e-9 as for the fixtures.
          expect(maxAbsDiff(r1.plan, r2.plan)).toBeLessThanOrEqual(1e-9);
          expect(Math.abs(r2.cost - (r1.cost + k))).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(k)));
        }), { seed: 42, numRuns: 30 });
      });

      it('swapping a and b transposes the plan', () => {
        fc.assert(fc.property(problemArb(12), ({ n, m, a, b, C, maxC }) => {
          const opts = { epsilon: 0.05 * maxC, tol: 1e-12, maxIter: 50_000 };
          const CT = new Float64Array(n * m);
          for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) CT[j * n + i] = C[i * m + j];
          const r = sinkhorn(a, b, C, n, m, opts), rT = sinkhorn(b, a, CT, m, n, opts);
          const PT = new Float64Array(n * m);
          for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) PT[i * m + j] = rT.plan[j * n + i];
          expect(maxAbsDiff(r.plan, PT)).toBeLessThanOrEqual(1e-9); // converged to the same fixed point
        }), { seed: 42, numRuns: 30 });
      });

      it('batch equals one-by-one, bit for bit', () => {
        fc.assert(fc.property(fc.array(problemArb(16), { minLength: 1, maxLength: 6 }), (ps) => {
          const opts = { epsilon: 0.01, maxIter: 400 };
          const problems: SinkhornProblem[] = ps.map(({ n, m, a, b, C }) => ({ a, b, C, n, m }));
          const batch = sinkhornBatch(problems, opts);
          expect(batch).toHaveLength(ps.length);
          problems.forEach((p, k) => expect(batch[k]).toEqual(sinkhorn(p.a, p.b, p.C, p.n, p.m, opts)));
        }), { seed: 42, numRuns: 30 });
      });
    });

    describe('sinkhorn: edge cases', () => {
      const C23 = new Float64Array([0.1, 0.5, 0.9, 0.7, 0.2, 0.4]);

      it('null histograms mean uniform, the same as explicit 1/n, 1/m', () => {
        const r1 = sinkhorn(null, null, C23, 2, 3, { epsilon: 0.05 });
        const r2 = sinkhorn(new Float64Array([0.5, 0.5]), new Float64Array([1 / 3, 1 / 3, 1 / 3]), C23, 2, 3, { epsilon: 0.05 });
        expect(maxAbsDiff(r1.plan, r2.plan)).toBeLessThanOrEqual(1e-15);
        expect(r1.converged).toBe(true);
      });

      it('zero masses give zero rows and columns, the rest matches the reduced problem', () => {
        const a = new Float64Array([0.4, 0, 0.6]), b = new Float64Array([0, 0.3, 0.7]);
        const C = new Float64Array([0.1, 0.5, 0.9, 0.7, 0.2, 0.4, 0.3, 0.8, 0.6]);
        const r = sinkhorn(a, b, C, 3, 3, { epsilon: 0.01, tol: 1e-12, maxIter: 10_000 });
        for (let j = 0; j < 3; j++) expect(r.plan[3 + j]).toBe(0);
        for (let i = 0; i < 3; i++) expect(r.plan[i * 3]).toBe(0);
        const red = sinkhorn(new Float64Array([0.4, 0.6]), new Float64Array([0.3, 0.7]),
          new Float64Array([0.5, 0.9, 0.8, 0.6]), 2, 2, { epsilon: 0.01, tol: 1e-12, maxIter: 10_000 });
        expect([r.plan[1], r.plan[2], r.plan[7], r.plan[8]]).toEqual(Array.from(red.plan));
      });

      it('masses need not sum to 1: the plan scales with them', () => {
        const a = new Float64Array([1.2, 1.8]), b = new Float64Array([0.9, 0.6, 1.5]);
        const r = sinkhorn(a, b, C23, 2, 3, { epsilon: 0.05, tol: 1e-12 });
        const r1 = sinkhorn(a.map((x) => x / 3), b.map((x) => x / 3), C23, 2, 3, { epsilon: 0.05, tol: 1e-12 / 3 });
        expect(maxAbsDiff(r.plan, r1.plan.map((x) => 3 * x))).toBeLessThanOrEqual(1e-12);
      });

      it('accepts masses equal within 1e-9 relative, without renormalising', () => {
        const a = new Float64Array([0.5, 0.5]), b = new Float64Array([0.5, 0.5 + 5e-10]);
        const r = sinkhorn(a, b, new Float64Array([0, 1, 1, 0]), 2, 2, { epsilon: 1, maxIter: 50 });
        expectSane(r);
        // The gap 5e-10 is a floor on the violation: it cannot converge to 1e-12.
        expect(r.marginalError).toBeGreaterThanOrEqual(5e-10 * 0.99);
      });

      it('reports numerical trouble (C/ε overflows) with a finite, all-zero plan', () => {
        const r = sinkhorn(null, null, new Float64Array([1, 2, 2, 1]), 2, 2, { epsilon: 5e-324 });
        expect(r.numericalError).toBe(true);
        expect(r.converged).toBe(false);
        expect(r.iterations).toBe(0);
        expect(Array.from(r.plan)).toEqual([0, 0, 0, 0]);
        expect(r.marginalError).toBe(2);
      });

      it('maxIter bounds the work; tol 0 runs all of it', () => {
        const r = sinkhorn(null, null, C23, 2, 3, { epsilon: 0.01, maxIter: 7, tol: 0 });
        expect(r.iterations).toBe(7);
      });
    });
  });
}

describe('sinkhorn: the engines agree bit for bit', () => {
  afterAll(() => { setKernelEngine('auto'); });

  it('wasm is loaded: npm run build writes dist/kernels.wasm, the test script builds first', () => {
    const s = wasmStatus();
    expect(s.reason ?? '').toBe('');
    expect(s.loaded).toBe(true);
  });

  // Both engines do the same float64 operations in the same order (no FMA in WASM, V8's fdlibm
  // exp and log compiled in), so the tolerance is 0, not ~1e-13: any difference is a slip.
  it("its exp and log are V8's Math.exp and Math.log, bit for bit", () => {
    const w = loadWasm()!;
    let s = 12345;
    const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
    const xs = [0, -0, 1, -1, 0.5, 1e-300, 5e-324, Infinity, -Infinity, Number.NaN, 709.78, 709.8, -745.1, -745.2, 1.0397207708399179];
    for (let k = 0; k < 20_000; k++) xs.push((rnd() - 0.5) * 1500, -rnd() * 50, (rnd() - 0.5) * 3, rnd() * Math.exp((rnd() - 0.5) * 1400));
    for (const x of xs) {
      if (!Object.is(w.exp(x), Math.exp(x))) expect([x, w.exp(x)]).toEqual([x, Math.exp(x)]);
      if (!Object.is(w.log(x), Math.log(x))) expect([x, w.log(x)]).toEqual([x, Math.log(x)]);
    }
  });

  it('same plan, cost, iterations and absorptions on random problems (n, m ≤ 64, zeros, ε from 1e-6 to 0.5)', () => {
    fc.assert(fc.property(problemArb(64), fc.constantFrom(0.5, 0.05, 1e-3, 1e-6), ({ n, m, a, b, C, maxC }, rel) => {
      const opts = { epsilon: rel * maxC, tol: 1e-12, maxIter: 300 };
      setKernelEngine('js');
      const r1 = sinkhorn(a, b, C, n, m, opts);
      setKernelEngine('wasm');
      const r2 = sinkhorn(a, b, C, n, m, opts);
      expect(r2).toEqual(r1);
      expect(r2.plan.every((x, k) => Object.is(x, r1.plan[k]))).toBe(true);
    }), { seed: 42, numRuns: 100 });
  });

  it('a block that does not fit WASM memory (256 MiB, never grown) is refused, not trapped', () => {
    const w = loadWasm()!;
    expect(allocOrZero(w, 300 * 2 ** 20)).toBe(0);
    const p = allocOrZero(w, 1024);
    expect(p).toBeGreaterThan(0);
    w.free(p);
  });
});

describe('sinkhorn: bad input', () => {
  const a = new Float64Array([0.5, 0.5]), b = new Float64Array([0.25, 0.75]);
  const C = new Float64Array([0, 1, 1, 0]);
  const ok = { epsilon: 0.1 };

  it('too_large: n or m over maxSize (default 64), checked before allocating', () => {
    const big = new Float64Array(65 * 2);
    expectCode(() => sinkhorn(null, b, big, 65, 2, ok), 'too_large', /64.*maxSize.*configurable/);
    expectCode(() => sinkhorn(a, null, big, 2, 65, ok), 'too_large');
    // Would need 8e12 bytes if it allocated first.
    expectCode(() => sinkhorn(null, null, C, 1e6, 1e6, ok), 'too_large');
    expectCode(() => sinkhorn(null, null, C, 2, 2, { epsilon: 0.1, maxSize: 1 }), 'too_large');
    const r = sinkhorn(null, b, big, 65, 2, { epsilon: 0.1, maxSize: 65 });
    expect(r.plan).toHaveLength(130);
  });

  it('bad_dimension: n, m not positive integers, or lengths that do not match', () => {
    expectCode(() => sinkhorn(a, b, C, 0, 2, ok), 'bad_dimension');
    expectCode(() => sinkhorn(a, b, C, 2, 1.5, ok), 'bad_dimension');
    expectCode(() => sinkhorn(a, b, C, Number.NaN, 2, ok), 'bad_dimension');
    expectCode(() => sinkhorn(new Float64Array(3), b, C, 2, 2, ok), 'bad_dimension', /a has length 3/);
    expectCode(() => sinkhorn(a, new Float64Array(1), C, 2, 2, ok), 'bad_dimension', /b has length 1/);
    expectCode(() => sinkhorn(a, b, new Float64Array(3), 2, 2, ok), 'bad_dimension', /C has length 3/);
  });

  it('bad_request: NaN or Inf in C, a, b', () => {
    expectCode(() => sinkhorn(a, b, new Float64Array([0, Number.NaN, 1, 0]), 2, 2, ok), 'bad_request', /C\[1\]/);
    expectCode(() => sinkhorn(a, b, new Float64Array([0, 1, Infinity, 0]), 2, 2, ok), 'bad_request');
    expectCode(() => sinkhorn(new Float64Array([Number.NaN, 1]), b, C, 2, 2, ok), 'bad_request', /a\[0\]/);
    expectCode(() => sinkhorn(a, new Float64Array([-Infinity, 1]), C, 2, 2, ok), 'bad_request', /b\[0\]/);
  });

  it('bad_request: epsilon missing, NaN, Inf, 0 or negative', () => {
    for (const epsilon of [Number.NaN, Infinity, -Infinity, 0, -1]) {
      expectCode(() => sinkhorn(a, b, C, 2, 2, { epsilon }), 'bad_request', /epsilon/);
    }
    expectCode(() => sinkhorn(a, b, C, 2, 2, {} as { epsilon: number }), 'bad_request', /epsilon/);
  });

  it('bad_request: negative mass, zero total mass, unequal totals', () => {
    expectCode(() => sinkhorn(new Float64Array([1.5, -0.5]), b, C, 2, 2, ok), 'bad_request', /≥ 0/);
    expectCode(() => sinkhorn(new Float64Array([0, 0]), new Float64Array([0, 0]), C, 2, 2, ok), 'bad_request', /mass 0/);
    expectCode(() => sinkhorn(a, new Float64Array([0.5, 0.6]), C, 2, 2, ok), 'bad_request', /equal mass/);
    expectCode(() => sinkhorn(null, new Float64Array([0.5, 0.5 + 1e-8]), C, 2, 2, ok), 'bad_request', /equal mass/);
  });

  it('bad_request: maxIter, tol, maxSize out of range; non-Float64Array inputs', () => {
    expectCode(() => sinkhorn(a, b, C, 2, 2, { epsilon: 0.1, maxIter: 0 }), 'bad_request', /maxIter/);
    expectCode(() => sinkhorn(a, b, C, 2, 2, { epsilon: 0.1, maxIter: 2.5 }), 'bad_request', /maxIter/);
    expectCode(() => sinkhorn(a, b, C, 2, 2, { epsilon: 0.1, tol: -1 }), 'bad_request', /tol/);
    expectCode(() => sinkhorn(a, b, C, 2, 2, { epsilon: 0.1, tol: Number.NaN }), 'bad_request', /tol/);
    expectCode(() => sinkhorn(a, b, C, 2, 2, { epsilon: 0.1, maxSize: 0 }), 'bad_request', /maxSize/);
    expectCode(() => sinkhorn(a, b, [0, 1, 1, 0] as unknown as Float64Array, 2, 2, ok), 'bad_request', /C must/);
    expectCode(() => sinkhorn(new Float32Array(2) as unknown as Float64Array, b, C, 2, 2, ok), 'bad_request', /a must/);
  });

  it('batch: validates every problem first and names the bad one', () => {
    const good = { a, b, C, n: 2, m: 2 };
    expectCode(() => sinkhornBatch([good, { ...good, n: 99 }], ok), 'too_large', /^problems\[1\]: /);
    expectCode(() => sinkhornBatch([good, { ...good, a: new Float64Array([1, Number.NaN]) }], ok), 'bad_request', /^problems\[1\]/);
    expect(sinkhornBatch([], ok)).toEqual([]);
  });
});
