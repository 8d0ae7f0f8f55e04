/**
 * Seeded recall workloads shared by bench/memory.bench.ts and test/memory/scan.test.ts:
 *   random      i.i.d. uniform rows, unit norm (ranks 2–10 are noise: cosines ≈ 0 ± 1/√D)
 *   clustered   rows around C random centres, cosine ≈ 0.7 to their centre (≈ 0.49 to each
 *               other), so ranks 2–10 of a query drawn around a centre are that centre's items
 *   near-duplicate queries: a stored row plus Gaussian noise, cosine ≈ 0.9 to it
 * Rows are written into a caller's Float32Array (a slab), row j at j·D.
 */
import { mulberry32 } from './seeded.js';

function gauss(next: () => number): () => number {
  let spare = NaN;
  return () => {
    if (!Number.isNaN(spare)) { const s = spare; spare = NaN; return s; }
    const u = (next() + 0.5) / 4294967296, v = (next() + 0.5) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function unitRow(x: Float32Array, off: number, D: number): void {
  let s = 0;
  for (let i = 0; i < D; i++) s += x[off + i] * x[off + i];
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < D; i++) x[off + i] *= inv;
}

/** n uniform random unit rows. */
export function fillRandom(slab: Float32Array, n: number, D: number, seed: number): void {
  const next = mulberry32(seed);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < D; i++) slab[j * D + i] = next() / 4294967296 - 0.5;
    unitRow(slab, j * D, D);
  }
}

/** C unit centres (C·D floats). */
export function centres(C: number, D: number, seed: number): Float32Array {
  const g = gauss(mulberry32(seed));
  const c = new Float32Array(C * D);
  for (let i = 0; i < c.length; i++) c[i] = g();
  for (let j = 0; j < C; j++) unitRow(c, j * D, D);
  return c;
}

/** Unit vector c + noise with cosine ≈ cos to the unit vector c (noise ~ N(0, σ²), D·σ² = 1/cos² − 1). */
function around(out: Float32Array, off: number, c: Float32Array, cOff: number, D: number, cos: number, g: () => number): void {
  const sigma = Math.sqrt((1 / (cos * cos) - 1) / D);
  for (let i = 0; i < D; i++) out[off + i] = c[cOff + i] + sigma * g();
  unitRow(out, off, D);
}

/** n rows, row j around centre j mod C with cosine ≈ 0.7. */
export function fillClustered(slab: Float32Array, n: number, D: number, C: Float32Array, seed: number): void {
  const g = gauss(mulberry32(seed));
  const nc = C.length / D;
  for (let j = 0; j < n; j++) around(slab, j * D, C, (j % nc) * D, D, 0.7, g);
}

/** A query around centre `c` (cosine ≈ 0.7 to it), fresh noise. */
export function clusteredQuery(C: Float32Array, c: number, D: number, seed: number): Float32Array {
  const q = new Float32Array(D);
  around(q, 0, C, c * D, D, 0.7, gauss(mulberry32(seed)));
  return q;
}

/** A near-duplicate of slab row j: cosine ≈ 0.9 to it. */
export function nearDuplicate(slab: Float32Array, j: number, D: number, seed: number): Float32Array {
  const q = new Float32Array(D);
  around(q, 0, slab, j * D, D, 0.9, gauss(mulberry32(seed)));
  return q;
}
