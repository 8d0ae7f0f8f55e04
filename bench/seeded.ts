/**
 * Seeded pseudo-random inputs, shared by the benchmarks and the tests so that every run sees the
 * same data. No vitest here: the benchmarks are compiled by tsc and run without it.
 */

import { mulberry32 } from '../src/kernels/seeded.js';

// The generator lives with the kernels (the drills use it too); re-exported for tests and benches.
export { mulberry32, rng } from '../src/kernels/seeded.js';

/**
 * Deterministic Gaussian vector (mulberry32 + Box–Muller), norm ≈ scale. The uniforms are
 * (uint32 + 0.5) / 2³², in (0, 1), so the logarithm never sees 0.
 */
export function gaussian(D: number, seed: number, scale = 1): Float32Array {
  const next = mulberry32(seed);
  const u = () => (next() + 0.5) / 4294967296;
  const x = new Float32Array(D);
  for (let i = 0; i < D; i++) x[i] = (Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) * scale) / Math.sqrt(D);
  return x;
}
