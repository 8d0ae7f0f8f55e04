/**
 * Helpers shared by the kernel tests (test/kernels/*.test.ts): the numpy/POT/scipy fixtures,
 * the FFT engines every HRR suite runs on, seeded Gaussian vectors, float comparisons and the
 * HoloError check.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { HoloError } from '../../src/errors.js';
import type { FftEngine } from '../../src/kernels/fft/engine.js';
import { FftjsEngine } from '../../src/kernels/fft/fftjs.js';
import { createPffftEngine } from '../../src/kernels/fft/pffft.js';
import { buildGraph, type Graph } from '../../src/kernels/graph/csr.js';

export { gaussian } from '../../bench/seeded.js';

/** A fixture written by test/fixtures/gen-*.py, e.g. loadFixture<{ …}>('hrr.json'). */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** Both FFT engines, by name: every HRR suite runs on each. */
export const ENGINES: [string, (D: number) => Promise<FftEngine>][] = [
  ['pffft', (D) => createPffftEngine(D)],
  ['fftjs', async (D) => new FftjsEngine(D)],
];

/** Largest |x[i] − y[i]|; the lengths must match. */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** One float32 ulp at |v| (the spacing just above |v|). */
export function ulp32(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** fn throws a HoloError with this code (and, if given, a message matching msg). */
export function expectCode(fn: () => unknown, code: string, msg?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HoloError);
    expect((e as HoloError).code, (e as Error).message).toBe(code);
    if (msg) expect((e as HoloError).message).toMatch(msg);
    return;
  }
  throw new Error(`expected HoloError ${code}, nothing was thrown`);
}

/** The graph of a heat.json case (edge lists as plain arrays). */
export function graphFromCase(c: { n: number; src: number[]; dst: number[]; weight: number[] }): Graph {
  return buildGraph(c.n, Uint32Array.from(c.src), Uint32Array.from(c.dst), Float64Array.from(c.weight));
}
