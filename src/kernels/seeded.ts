/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): a small seeded PRNG, so drills, tests and
 * benchmarks see the same numbers every run. Not for anything secret.
 */

/** Each call returns the next uint32. */
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
