/**
 * The finite check PFFFT engines make over each convolution's output (finite.wasm's allFinite,
 * in PFFFT's memory; src/kernels/fft/pffft.ts): attached where the build made finite.wasm, and
 * equal to the JS pass (allFiniteJs, the fft.js engine's) for every length 0–40 and every
 * position of a NaN, ±Inf or the largest finite float32, including the tail past the last
 * eight-float block; the engine reports an overflowed result as not finite; and a copy of the
 * build without finite.wasm falls back to the JS pass, says why, and answers the same.
 */
import { describe, expect, it } from 'vitest';
import { allFiniteJs } from '../../src/kernels/check.js';
import { createPffftEngine, pffftFiniteCheck } from '../../src/kernels/fft/pffft.js';
import { instantiateFile, wasmApi } from '../../src/kernels/wasm/load.js';
import { gaussian } from './support.js';
import { distCopyWithout } from '../support/dist-copy.js';


describe('finite check', () => {
  it('PFFFT engines check in WASM (finite.wasm attached to PFFFT\'s memory)', async () => {
    await createPffftEngine(256);
    expect(pffftFiniteCheck()).toBe('wasm');
  });

  it('allFinite equals the JS pass at every length 0–40 and every position of a non-finite value', () => {
    const memory = new (wasmApi()!.Memory)({ initial: 1 });
    const allFinite = instantiateFile('finite.wasm', { env: { memory } }, ['allFinite']).exports.allFinite as (p: number, n: number) => number;
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

describe('finite check without finite.wasm (the build as it runs when the module is missing)', () => {
  it('falls back to the JS pass, says why, and answers the same bits and the same errors', () => {
    const copy = distCopyWithout(['dist/finite.wasm']);
    try {
      const out = JSON.parse(copy.run(`
        import { createPffftEngine, pffftFiniteCheck } from './dist/src/kernels/fft/pffft.js';
        import { Hrr } from './dist/src/kernels/hrr/hrr.js';
        import { bind } from './dist/src/kernels/hrr/bind.js';
        const e = await createPffftEngine(512), hrr = new Hrr(e);
        const a = new Float32Array(512).map((_, i) => Math.sin(i)), b = new Float32Array(512).map((_, i) => Math.cos(1.7 * i));
        const r = bind(hrr, a, b);
        const codes = [];
        for (const bad of [NaN, Infinity]) { const x = a.slice(); x[300] = bad; try { bind(hrr, x, b); codes.push('none'); } catch (err) { codes.push(err.code); } }
        try { bind(hrr, a.map((v) => v * 1e30), a.map((v) => v * 1e30)); codes.push('none'); } catch (err) { codes.push(err.code); }
        console.log(JSON.stringify({ check: pffftFiniteCheck(), bits: Array.from(new Uint32Array(r.buffer)), codes }));
      `).trim().split('\n').pop()!) as { check: string; bits: number[]; codes: string[] };
      expect(out.check).toMatch(/^js \(finite\.wasm not attached to PFFFT's memory: finite\.wasm not found/);
      expect(out.codes).toEqual(['bad_request', 'bad_request', 'bad_request']);
      // the same bind through this process's engine (with finite.wasm): bit for bit
      return createPffftEngine(512).then((e) => {
        const a = new Float32Array(512).map((_, i) => Math.sin(i)), b = new Float32Array(512).map((_, i) => Math.cos(1.7 * i));
        const r = new Float32Array(512);
        expect(e.convolve(a, b, r)).toBe(true);
        expect(Array.from(new Uint32Array(r.buffer))).toEqual(out.bits);
      });
    } finally {
      copy.remove();
    }
  });
});
