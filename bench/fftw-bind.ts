/**
 * The native FFTW baseline of the HRR kernels (bench/native/fftw-bind.c): its input file, its
 * run and the check that it computes the same bind / unbind as ours. Used by the kernel table
 * (hrr.bench.ts) and the load harness (load.ts, the served-path CPU ratio).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bind, bindSpectrum } from '../src/kernels/hrr/bind.js';
import type { Hrr } from '../src/kernels/hrr/hrr.js';
import { unbind } from '../src/kernels/hrr/unbind.js';
import { buildNative, readArray, type Native } from './native.js';

/** fftw-bind, compiled (null, and why printed, when cc or fftw3.h is missing). */
export function buildFftwBind(): Native | null {
  return buildNative('fftw-bind', { libs: ['fftw3f'], header: { name: 'fftw3.h', missing: 'fftw3.h not found (apt-get install libfftw3-dev)' } });
}

export interface NativeTimes { bind_us: number; bind_spectrum_us: number; unbind_us: number; fft_pair_us: number }

export interface Inputs { a: Float32Array; b: Float32Array; c: Float32Array; r: Float32Array; R: Float32Array }

/** Writes fftw-bind.c's input (a, b, c, R as ordered (re, im) pairs) for one D. */
export function writeNativeInput(dir: string, hrr: Hrr, x: Inputs): void {
  const D = hrr.D;
  const Rz = Float32Array.from(hrr.engine.toComplex(x.R)); // D/2+1 ordered bins
  const all = new Float32Array(3 * D + D + 2);
  all.set(x.a, 0); all.set(x.b, D); all.set(x.c, 2 * D); all.set(Rz, 3 * D);
  writeFileSync(join(dir, `in-${D}.bin`), Buffer.from(all.buffer));
}

/** Runs fftw-bind for one D (just before the JS rows of that D, so both see the same load). */
export function runNative(native: Native, D: number): NativeTimes {
  const r = native.run([native.dir, String(D)]);
  const f = Object.fromEntries(r.stdout.trim().split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
  if (f.D !== D) throw new Error(`native fftw-bind printed no timings: ${r.stdout}`);
  return { bind_us: f.bind_us, bind_spectrum_us: f.bind_spectrum_us, unbind_us: f.unbind_us, fft_pair_us: f.fft_pair_us };
}

/** The native results must be the same bind / unbind, or the comparison means nothing. */
export function checkNativeAgrees(dir: string, hrr: Hrr, x: Inputs): void {
  const D = hrr.D;
  const nat = readArray(join(dir, `out-${D}.bin`), Float32Array);
  const ours = [bind(hrr, x.a, x.b), bindSpectrum(hrr, x.a, x.R), unbind(hrr, x.c, x.b).vector];
  ours.forEach((v, k) => {
    let diff = 0, n2 = 0;
    for (let i = 0; i < D; i++) { diff = Math.max(diff, Math.abs(v[i] - nat[k * D + i])); n2 += v[i] * v[i]; }
    // Two float32 FFTs: both within ~1e-7·‖·‖ of the exact result (see hrr.test.ts).
    if (!(diff <= 1e-5 * Math.sqrt(n2))) throw new Error(`native and JS disagree (output ${k}, D=${D}): ${diff}`);
  });
}
