/**
 * HRR kernels at D = 2048, 8192, 16384 on the pffft engine (WASM SIMD, float32), with the fft.js
 * engine's bind in the same run, against a native FFTW baseline (bench/native/fftw-bind.c:
 * fftwf r2c/c2r, FFTW_MEASURE, cc -O3 -march=native) doing the same work.
 *
 * Targets: bind and cached-role bind ≤ 1.5× native, exact unbind ≤ 1.6× native (Row.extra:
 * native_us, ratio = ours/native, target). Rows named "… alone" split a kernel into its parts
 * (the transforms; the JS pointwise filter; the checks) so a ratio can be explained, not guessed.
 *
 * Run alone: npm run build && node dist/bench/hrr.bench.js
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FftjsEngine } from '../src/kernels/fft/fftjs.js';
import { createPffftEngine } from '../src/kernels/fft/pffft.js';
import { bind, bindSpectrum } from '../src/kernels/hrr/bind.js';
import { allFiniteJs } from '../src/kernels/check.js';
import { dotF32 } from '../src/kernels/hrr/cosine.js';
import { setKernelEngine } from '../src/kernels/wasm/engine.js';
import { encodeWith } from '../src/kernels/hrr/encode.js';
import { Hrr } from '../src/kernels/hrr/hrr.js';
import { mapRoleSource } from '../src/kernels/hrr/reference.js';
import { role, roleSpectrum } from '../src/kernels/hrr/role.js';
import { unbind, unbindRole } from '../src/kernels/hrr/unbind.js';
import { addNativeRatio, ratio } from './native.js';
import { buildFftwBind, checkNativeAgrees, runNative, writeNativeInput, type Inputs, type NativeTimes } from './fftw-bind.js';
import { gaussian } from './seeded.js';
import { measure, type Row } from './timing.js';

const DIMS = [2048, 8192, 16384];
const TEXT = 'the quick brown fox jumps over the lazy dog'; // 8 distinct words, 9 tokens ('the' twice)

export async function runHrrBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const native = buildFftwBind();
  try {
    for (const D of DIMS) {
      const hrr = new Hrr(await createPffftEngine(D));
      const a = gaussian(D, 1), b = gaussian(D, 2), r = role('bench', D);
      const x: Inputs = { a, b, c: bind(hrr, a, b), r, R: roleSpectrum(hrr, r) };
      let nat: NativeTimes | undefined;
      if (native) {
        writeNativeInput(native.dir, hrr, x);
        nat = runNative(native, D);
        checkNativeAgrees(native.dir, hrr, x);
      }
      const e = hrr.engine, size = `D=${D}`;
      const out = new Float32Array(D), S = new Float32Array(D), W = new Float32Array(D), y = new Float32Array(D);
      const inner = Math.max(4, Math.round(131072 / D));
      const opts = { inner, budgetMs: 800 };
      const withNative = (row: Row, us: number | undefined, target?: number): Row => {
        if (us !== undefined) {
          addNativeRatio(row, [us]);
          if (target) row.extra!.target = target;
        }
        rows.push(row);
        return row;
      };

      const bindRow = withNative(measure('bind', size, () => bind(hrr, x.a, x.b, out), opts), nat?.bind_us, 1.5);
      withNative(measure('bind: engine.convolve alone (no checks)', size, () => e.convolve(x.a, x.b, out), opts), nat?.bind_us);
      withNative(measure('bindSpectrum (cached role spectrum)', size, () => bindSpectrum(hrr, x.a, x.R, out), opts),
        nat?.bind_spectrum_us, 1.5);
      withNative(measure('unbind exact', size, () => unbind(hrr, x.c, x.b, {}, out), opts), nat?.unbind_us, 1.6);
      withNative(measure('unbind wiener', size, () => unbind(hrr, x.c, x.b, { mode: 'wiener' }, out), opts), nat?.unbind_us, 1.6);
      // The parts of an exact unbind: its three transforms with the product, and the JS filter.
      e.forward(x.b, S);
      withNative(measure('unbind: transforms alone (forward b, convolveSpectrum c)', size, () => {
        e.forward(x.b, S);
        e.convolveSpectrum(x.c, W, out);
      }, opts), nat?.unbind_us);
      for (const k of ['wasm', 'js'] as const) {
        setKernelEngine(k);
        rows.push(measure(`unbind: inverseFilter alone (${k})`, size, () => e.inverseFilter(S, W, 'floor', 1e-3), opts));
      }
      setKernelEngine('auto');
      rows.push(measure('unbind: checks alone (‖b‖², the JS finite pass over the result; PFFFT makes it in finite.wasm)', size, () => {
        dotF32(x.b, x.b); allFiniteJs(out);
      }, opts));
      rows.push(measure('unbindRole (conjugate spectrum)', size, () => unbindRole(hrr, x.c, x.R), opts));
      withNative(measure('fft pair: forward + inverse', size, () => { e.forward(x.a, S); e.inverse(S, y); }, opts), nat?.fft_pair_us);

      const roles = mapRoleSource(hrr);
      encodeWith(hrr, roles, TEXT, out); // fills the role cache: the row measures encode, not role()
      rows.push(measure('encode (9 tokens, cached roles)', size, () => encodeWith(hrr, roles, TEXT, out), { inner: Math.max(1, inner >> 3), budgetMs: 800 }));
      rows.push(measure('role generation', size, () => role('bench', D), { inner: Math.max(1, inner >> 4), budgetMs: 800 }));

      const js = new Hrr(new FftjsEngine(D));
      const fftjsRow = measure('bind (fft.js engine)', size, () => bind(js, x.a, x.b, out), { inner: Math.max(1, inner >> 3), budgetMs: 800 });
      fftjsRow.extra = { pffft_us: bindRow.medianUs, ratio_fftjs_pffft: ratio(fftjsRow.medianUs, bindRow.medianUs) };
      rows.push(fftjsRow);
    }
  } finally {
    native?.remove();
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runHrrBench();
  for (const r of rows) {
    const extra = r.extra ? ' ' + Object.entries(r.extra).map(([k, v]) => `${k}=${v}`).join(' ') : '';
    console.log(`${r.size.padEnd(8)} ${r.name.padEnd(58)} ${r.medianUs.toFixed(2).padStart(9)} µs${extra}`);
  }
  console.log(JSON.stringify(rows));
}
