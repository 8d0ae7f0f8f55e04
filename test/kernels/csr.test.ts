import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildGraph, type Graph } from '../../src/kernels/graph/csr.js';
import { expectCode, graphFromCase, loadFixture, maxAbsDiff } from './support.js';

interface Case { name: string; n: number; src: number[]; dst: number[]; weight: number[]; degree: number[]; L?: number[] }
const fixture = loadFixture<{ cases: Case[] }>('heat.json');

const FC = { seed: 42, numRuns: 30 };

/** Dense L = I + L~ from the CSR, with L_ii = 0 for isolated nodes. */
function denseL(g: Graph): Float64Array {
  const L = new Float64Array(g.n * g.n);
  for (let i = 0; i < g.n; i++) {
    if (g.degree[i] > 0) L[i * g.n + i] = 1;
    for (let p = g.rowPtr[i]; p < g.rowPtr[i + 1]; p++) L[i * g.n + g.col[p]] = g.val[p];
  }
  return L;
}

/** Naive dense L by the documented conventions, summing in edge order. */
function naiveL(n: number, src: number[], dst: number[], w: number[]): Float64Array {
  const A = new Float64Array(n * n);
  for (let e = 0; e < src.length; e++) {
    if (src[e] === dst[e]) continue;
    A[src[e] * n + dst[e]] += w[e];
    A[dst[e] * n + src[e]] += w[e];
  }
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i] += A[i * n + j];
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) L[i * n + j] = d[i] > 0 ? 1 : 0;
      else if (A[i * n + j] !== 0) L[i * n + j] = -A[i * n + j] / Math.sqrt(d[i] * d[j]);
    }
  }
  return L;
}

/** CSR invariants: monotone rowPtr, strictly ascending columns, no diagonal, exact symmetry. */
function checkStructure(g: Graph): void {
  expect(g.rowPtr[0]).toBe(0);
  expect(g.rowPtr[g.n]).toBe(g.nnz);
  expect(g.col.length).toBe(g.nnz);
  expect(g.val.length).toBe(g.nnz);
  const at = new Map<number, number>();
  for (let i = 0; i < g.n; i++) {
    expect(g.rowPtr[i + 1]).toBeGreaterThanOrEqual(g.rowPtr[i]);
    for (let p = g.rowPtr[i]; p < g.rowPtr[i + 1]; p++) {
      expect(g.col[p]).not.toBe(i);
      if (p > g.rowPtr[i]) expect(g.col[p]).toBeGreaterThan(g.col[p - 1]);
      expect(g.val[p]).toBeLessThan(0);
      expect(g.val[p]).toBeGreaterThanOrEqual(-1);
      at.set(i * g.n + g.col[p], g.val[p]);
    }
  }
  // Symmetric bit for bit: both directions sum the same duplicates in the same order.
  for (const [key, v] of at) {
    const i = Math.floor(key / g.n), j = key % g.n;
    expect(at.get(j * g.n + i)).toBe(v);
  }
}

describe('buildGraph', () => {
  it('TSDoc example: the path 0–1–2', () => {
    const g = buildGraph(3, Uint32Array.from([0, 1]), Uint32Array.from([1, 2]));
    expect(Array.from(g.degree)).toEqual([1, 2, 1]);
    expect(Array.from(g.rowPtr)).toEqual([0, 1, 3, 4]);
    expect(Array.from(g.col)).toEqual([1, 0, 2, 1]);
    for (const v of g.val) expect(v).toBe(-0.7071067811865475);
    expect(g.nnz).toBe(4);
    expect(g.isolated.length).toBe(0);
  });

  // Degrees and L against scipy.sparse.csgraph.laplacian(normed=True). Tolerance 1e-15: the
  // entries are O(1) and differ from scipy's only by summation order (a few ulps).
  for (const c of fixture.cases) {
    it(`matches scipy's degree and normalised Laplacian: ${c.name}`, () => {
      const g = graphFromCase(c);
      checkStructure(g);
      for (let i = 0; i < c.n; i++) expect(Math.abs(g.degree[i] - c.degree[i])).toBeLessThanOrEqual(1e-15 * c.degree[i]);
      if (c.L) expect(maxAbsDiff(denseL(g), c.L)).toBeLessThanOrEqual(1e-15);
    });
  }

  it('awkward12: self loops ignored, duplicates summed, zero weights dropped, isolated listed', () => {
    const g = graphFromCase(fixture.cases.find((c) => c.name === 'awkward12')!);
    expect(Array.from(g.isolated)).toEqual([8, 9, 10, 11]);
    expect(g.degree[0]).toBe(4 + 0.25); // 0.5 + 1.5 + 2 to node 1, 0.25 to node 2, self loop 7 ignored
    expect(g.degree[6]).toBe(3); // 1 + 2, self loop 5 ignored
    // distinct non-loop positive edges: 0-1, 1-2, 2-0, 3-4, 5-6, 6-7, 2-3
    expect(g.nnz).toBe(14);
  });

  it('weight omitted means all ones', () => {
    const a = buildGraph(4, Uint32Array.from([0, 1, 2]), Uint32Array.from([1, 2, 3]));
    const b = buildGraph(4, Uint32Array.from([0, 1, 2]), Uint32Array.from([1, 2, 3]), new Float64Array([1, 1, 1]));
    expect(a).toEqual(b);
    expect(buildGraph(4, Uint32Array.from([0, 1, 2]), Uint32Array.from([1, 2, 3]), null)).toEqual(a);
  });

  it('a graph with no edges: every node isolated, nnz 0', () => {
    const g = buildGraph(3, new Uint32Array(0), new Uint32Array(0));
    expect(g.nnz).toBe(0);
    expect(Array.from(g.isolated)).toEqual([0, 1, 2]);
    expect(Array.from(g.rowPtr)).toEqual([0, 0, 0, 0]);
  });

  it('property: CSR equals the naive dense L for random edge lists (loops, duplicates, zeros)', () => {
    const arb = fc.integer({ min: 1, max: 12 }).chain((n) =>
      fc.tuple(
        fc.constant(n),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: n - 1 }),
            fc.integer({ min: 0, max: n - 1 }),
            fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
          ),
          { maxLength: 40 },
        ),
      ),
    );
    fc.assert(
      fc.property(arb, ([n, edges]) => {
        const src = edges.map((e) => e[0]), dst = edges.map((e) => e[1]), w = edges.map((e) => e[2]);
        const g = buildGraph(n, Uint32Array.from(src), Uint32Array.from(dst), Float64Array.from(w));
        checkStructure(g);
        // 1e-14: entries ≤ 1 in magnitude, degree sums over ≤ 40 weights in a different order.
        expect(maxAbsDiff(denseL(g), naiveL(n, src, dst, w))).toBeLessThanOrEqual(1e-14);
      }),
      FC,
    );
  });

  describe('bad input', () => {
    const u = (a: number[]) => Uint32Array.from(a);
    it('n not a positive integer → bad_request', () => {
      for (const n of [0, -1, 1.5, NaN, Infinity]) expectCode(() => buildGraph(n, u([]), u([])), 'bad_request', /positive integer/);
    });
    it('n > maxNodes → too_large, before allocating', () => {
      expectCode(() => buildGraph(1e9, u([]), u([])), 'too_large', /maxNodes/);
      expectCode(() => buildGraph(11, u([]), u([]), null, { maxNodes: 10 }), 'too_large');
    });
    it('more edges than maxEdges → too_large', () => {
      expectCode(() => buildGraph(3, u([0, 1]), u([1, 2]), null, { maxEdges: 1 }), 'too_large', /maxEdges/);
    });
    it('src, dst, weight lengths differ → bad_dimension', () => {
      expectCode(() => buildGraph(3, u([0, 1]), u([1])), 'bad_dimension');
      expectCode(() => buildGraph(3, u([0, 1]), u([1, 2]), new Float64Array(3)), 'bad_dimension');
    });
    it('node index ≥ n → bad_request', () => {
      expectCode(() => buildGraph(3, u([0, 3]), u([1, 2])), 'bad_request', /index/);
      expectCode(() => buildGraph(3, u([0, 1]), u([1, 7])), 'bad_request', /index/);
    });
    it('negative, NaN or infinite weight → bad_request saying which', () => {
      const s = u([0, 1]), d = u([1, 2]);
      expectCode(() => buildGraph(3, s, d, Float64Array.from([1, -0.5])), 'bad_request', /weight\[1\].*negative/);
      expectCode(() => buildGraph(3, s, d, Float64Array.from([NaN, 1])), 'bad_request', /weight\[0\].*NaN/);
      expectCode(() => buildGraph(3, s, d, Float64Array.from([1, Infinity])), 'bad_request', /not finite/);
    });
    it('a degree that overflows → bad_request', () => {
      expectCode(() => buildGraph(3, u([0, 0]), u([1, 2]), Float64Array.from([1.7e308, 1.7e308])), 'bad_request', /overflow/);
    });
  });
});
