/**
 * The finite check PFFFT engines make over each convolution's output (finite.wasm's allFinite,
 * in PFFFT's memory; src/kernels/fft/pffft.ts): attached where the build made finite.wasm, and
 * equal to the JS pass (allFiniteJs, the fft.js engine's) for every length 0–40 and every
 * position of a NaN, ±Inf or the largest finite float32, including the tail past the last
 * eight-float block; the engine reports an overflowed result as not finite.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allFiniteJs } from '../../src/kernels/check.js';
import { createPffftEngine, pffftFiniteCheck } from '../../src/kernels/fft/pffft.js';
import { gaussian } from './support.js';

type Api = { Memory: new (d: object) => { buffer: ArrayBuffer }; Instance: new (m: object, i: object) => { exports: Record<string, unknown> }; Module: new (b: Uint8Array) => object };
const api = (globalThis as unknown as { WebAssembly: Api }).WebAssembly;

describe('finite check', () => {
  it('PFFFT engines check in WASM (finite.wasm attached to PFFFT\'s memory)', async () => {
    await createPffftEngine(256);
    expect(pffftFiniteCheck()).toBe('wasm');
  });

  it('allFinite equals the JS pass at every length 0–40 and every position of a non-finite value', () => {
    const memory = new api.Memory({ initial: 1 });
    const allFinite = new api.Instance(new api.Module(readFileSync(join(import.meta.dirname, '../../dist/finite.wasm'))), { env: { memory } })
      .exports.allFinite as (p: number, n: number) => number;
    const base = 64; // any 4-aligned offset
    const f = new Float32Array(memory.buffer, base, 64);
    for (let n = 0; n <= 40; n++) {
      const x = f.subarray(0, n);
      for (let i = 0; i < n; i++) x[i] = (i % 7) - 3 + i * 1e-3;
      expect(allFinite(base, n)).toBe(1);
      expect(allFiniteJs(x)).toBe(true);
      for (let at = 0; at < n; at++) {
        for (const bad of [NaN, Infinity, -Infinity, 3.4028234663852886e38, -0, 1e-45]) {
          const keep = x[at];
          x[at] = bad;
          const js = allFiniteJs(x);
          expect(js).toBe(Number.isFinite(bad));
          expect(allFinite(base, n)).toBe(js ? 1 : 0);
          x[at] = keep;
        }
      }
      f[n] = NaN; // just past the range: not read
      expect(allFinite(base, n)).toBe(1);
      f[n] = 0;
    }
  });

  it('the engine reports an overflowed convolution as not finite, a normal one as finite', async () => {
    const e = await createPffftEngine(1024);
    const a = gaussian(1024, 3), out = new Float32Array(1024);
    expect(e.convolve(a, a, out)).toBe(true);
    const huge = a.map((v) => v * 1e30);
    expect(e.convolve(huge, huge, out)).toBe(false);
    expect(allFiniteJs(out)).toBe(false);
  });
});
