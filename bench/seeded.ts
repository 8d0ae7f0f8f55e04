/**
 * Seeded pseudo-random inputs, shared by the benchmarks and the tests so that every run sees the
 * same data. No vitest here: the benchmarks are compiled by tsc and run without it.
 */

/** mulberry32: a small seeded PRNG; each call returns the next uint32. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform in [0, 1): mulberry32's uint32 / 2³². */
export function rng(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

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
