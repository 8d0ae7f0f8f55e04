/**
 * SinkhornLoops on kernels.wasm (assembly/sinkhorn.ts). The Work block is allocated in the
 * module's memory, so K, KT, u, v and the potentials live where the WASM loop reads them, and
 * a whole iterate is one call taking the views' byte offsets as pointers. The one copy: a dense
 * C (the caller's array) goes into w.Cz before the loop, n·m doubles against its n·m exps.
 */
import type { SinkhornLoops } from '../ot/sinkhorn.js';
import { allocOrZero, f64View, loadWasm, noteFallback, type KernelsWasm } from './load.js';

let loops: SinkhornLoops | undefined;

/** The WASM loops of this thread. Call only when loadWasm() has succeeded (kernelEngine is 'wasm'). */
export function wasmSinkhornLoops(): SinkhornLoops {
  return (loops ??= make(loadWasm()!));
}

function make(w: KernelsWasm): SinkhornLoops {
  return {
    scratch(len) {
      const ptr = allocOrZero(w, len * 8);
      if (ptr !== 0) return f64View(w, ptr, len); // not zeroed: iterate writes before it reads
      noteFallback();
      return null;
    },
    release: (block) => w.free(block.byteOffset),
    iterate(s, C, invEps, n, m, maxIter, tolN) {
      if (C !== s.Cz) s.Cz.set(C.subarray(0, n * m));
      const o = s.outcome;
      // maxIter is an i32 there: 2^31 − 1 iterations are as good as forever.
      w.iterate(s.K.byteOffset, s.KT.byteOffset, s.Cz.byteOffset, s.ar.byteOffset, s.bc.byteOffset, s.F.byteOffset,
        s.G.byteOffset, s.lf.byteOffset, s.lg.byteOffset, s.mx.byteOffset, s.sm.byteOffset, s.u.byteOffset,
        s.u2.byteOffset, s.v.byteOffset, s.v2.byteOffset, s.kv.byteOffset, s.ktu.byteOffset,
        invEps, n, m, Math.min(maxIter, 0x7fffffff), tolN, o.byteOffset);
      if (o[5] !== 0) { const t = s.u; s.u = s.u2; s.u2 = t; }
      if (o[6] !== 0) { const t = s.v; s.v = s.v2; s.v2 = t; }
      return { iterations: o[0], stopped: o[1] !== 0, haveK: o[2] !== 0, numericalError: o[3] !== 0, absorptions: o[4] };
    },
  };
}
