/**
 * PFFFT engine: Julien Pommier's PFFFT (an FFTPACK descendant) compiled to WASM SIMD,
 * float32. Every transform and the spectral product run inside WASM: the forward transform
 * writes the "unordered" z-domain layout, pffft_zconvolve_accumulate multiplies two such
 * spectra (ab += a·b·scale) without reordering, and the backward transform reads it back.
 *
 * Unordered layout with SIMD width 4 (what this build has; checked at load): the D floats form
 * D/8 blocks of 8, four real parts then the four matching imaginary parts. Block 0 slot 0 holds
 * Re F_0 (DC) and slot 4 holds Re F_{D/2} (Nyquist), both real. Bin order across blocks is
 * PFFFT's internal one; pointwise operations do not care, and toComplex uses pffft_zreorder.
 *
 * Buffers live in the module's linear memory, allocated once per engine; the Float32Array view
 * is re-read after allocation because Emscripten replaces it when memory grows.
 */
import PFFFT, { type PffftModule } from '@echogarden/pffft-wasm/simd';
import type { FftEngine, InverseMode } from './engine.js';
import { allFiniteJs, checkDim } from '../check.js';
import { kernelEngine } from '../wasm/engine.js';
import { allocOrZero, instantiateFile, loadWasm, packageFile, wasmApi, type KernelsWasm } from '../wasm/load.js';

const PFFFT_REAL = 0;
const PFFFT_FORWARD = 0;
const PFFFT_BACKWARD = 1;

let modulePromise: Promise<PffftModule> | undefined;
/** finite.wasm's allFinite over PFFFT's memory (byte offset, count) → 1 | 0; null: the JS pass. */
let finiteCheck: ((p: number, n: number) => number) | null = null;
let finiteWhy = 'PFFFT not loaded yet';

/**
 * Emscripten's `instantiateWasm` hook (its documented way to instantiate the module yourself):
 * PFFFT is instantiated as Emscripten would, and its memory (the one Memory among its exports)
 * is handed to finite.wasm, which then checks a transform's output in place. Any failure here
 * makes PFFFT() reject, and loadPffft loads it the plain way (the JS pass then).
 */
function captureMemory(): object {
  const api = wasmApi();
  let bytes: Uint8Array;
  try {
    if (!api) throw new Error('this runtime has no WebAssembly');
    bytes = packageFile('@echogarden/pffft-wasm/simd', 'pffft.wasm');
  } catch (e) {
    finiteWhy = `pffft.wasm not read: ${e instanceof Error ? e.message : String(e)}`;
    return {};
  }
  return {
    instantiateWasm(imports: object, receive: (instance: object, module: object) => void): object {
      const module = new api.Module(bytes);
      const instance = new api.Instance(module, imports);
      const memory = Object.values(instance.exports).find((v) => v instanceof api.Memory);
      if (!memory) throw new Error('pffft.wasm exports no memory');
      finiteCheck = instantiateFile('finite.wasm', { env: { memory } }, ['allFinite']).exports.allFinite as (p: number, n: number) => number;
      finiteWhy = '';
      receive(instance, module);
      return instance.exports;
    },
  };
}

/** Loads (once per thread) and returns the WASM module. Rejects where WASM SIMD is absent. */
export function loadPffft(): Promise<PffftModule> {
  modulePromise ??= PFFFT(captureMemory()).catch((e: unknown) => {
    finiteCheck = null;
    finiteWhy = `finite.wasm not attached to PFFFT's memory: ${e instanceof Error ? e.message : String(e)}`;
    return PFFFT();
  }).then((m) => {
    const w = m._pffft_simd_size();
    if (w !== 4) throw new Error(`pffft: expected SIMD width 4, got ${w}`);
    return m;
  });
  return modulePromise;
}

/** How PFFFT engines check their outputs: 'wasm' (finite.wasm in place), else 'js (why)'. */
export function pffftFiniteCheck(): string {
  return finiteCheck ? 'wasm' : `js (${finiteWhy})`;
}

export class PffftEngine implements FftEngine {
  readonly name = 'pffft' as const;
  readonly layout = 'pffft-simd4';
  readonly D: number;
  private readonly m: PffftModule;
  private readonly setup: number;
  // Float offsets (pointer / 4) of the engine's buffers in linear memory.
  private readonly pX: number; // time-domain input / output
  private readonly pA: number; // spectrum A
  private readonly pB: number; // spectrum B
  private readonly pC: number; // accumulator
  private readonly pWork: number;
  private heap!: Float32Array;
  private readonly finite = finiteCheck;
  /** the spectrum now at pB, when convolveSpectrum put it there (null once pB is overwritten) */
  private spectrumAtB: Float32Array | null = null;
  private filter?: { exports: KernelsWasm; heap: Float32Array; pB: number; pW: number } | null;

  /** Use createPffftEngine (async: the WASM module must be loaded first). */
  constructor(m: PffftModule, D: number) {
    checkDim(D);
    this.m = m;
    this.D = D;
    this.setup = m._pffft_new_setup(D, PFFFT_REAL);
    if (this.setup === 0) throw new Error(`pffft: no setup for D=${D}`);
    const bytes = D * 4;
    const ptrs = [0, 1, 2, 3, 4].map(() => m._pffft_aligned_malloc(bytes));
    if (ptrs.some((p) => p === 0)) throw new Error('pffft: out of WASM memory');
    [this.pX, this.pA, this.pB, this.pC, this.pWork] = ptrs.map((p) => p >> 2);
  }

  /** The current heap view (replaced by Emscripten when the memory grows). */
  private h(): Float32Array {
    const heap = this.m.HEAPF32;
    if (heap !== this.heap) this.heap = heap;
    return heap;
  }

  private fwd(src: number, dst: number): void {
    this.m._pffft_transform(this.setup, src << 2, dst << 2, this.pWork << 2, PFFFT_FORWARD);
  }

  private bwd(src: number, dst: number): void {
    this.m._pffft_transform(this.setup, src << 2, dst << 2, this.pWork << 2, PFFFT_BACKWARD);
  }

  /** C = 0; C += A·B/D; X = backward(C). The result (a time-domain vector) is left at pX. */
  private productInverse(): void {
    const h = this.h(), D = this.D;
    h.fill(0, this.pC, this.pC + D);
    this.m._pffft_zconvolve_accumulate(this.setup, this.pA << 2, this.pB << 2, this.pC << 2, 1 / D);
    this.bwd(this.pC, this.pX);
  }

  forward(x: Float32Array, X: Float32Array): void {
    const h = this.h(), D = this.D;
    h.set(x, this.pX);
    this.fwd(this.pX, this.pA);
    X.set(h.subarray(this.pA, this.pA + D));
  }

  inverse(X: Float32Array, x: Float32Array): void {
    const h = this.h(), D = this.D;
    h.set(X, this.pA);
    this.bwd(this.pA, this.pX);
    const s = 1 / D;
    for (let i = 0; i < D; i++) x[i] = h[this.pX + i] * s;
  }

  convolve(a: Float32Array, b: Float32Array, out: Float32Array): boolean {
    const h = this.h();
    h.set(a, this.pX);
    this.fwd(this.pX, this.pA);
    h.set(b, this.pX);
    this.fwd(this.pX, this.pB);
    this.spectrumAtB = null;
    this.productInverse();
    return this.copyOut(out);
  }

  convolveSpectrum(x: Float32Array, S: Float32Array, out: Float32Array, sameSpectrum = false): boolean {
    const h = this.h();
    h.set(x, this.pX);
    this.fwd(this.pX, this.pA);
    // A batch of binds to one role copies its spectrum (32 KiB at D = 8192) once, not per bind.
    if (!(sameSpectrum && S === this.spectrumAtB)) h.set(S, this.pB);
    this.spectrumAtB = S;
    this.productInverse();
    return this.copyOut(out);
  }

  /**
   * out = the result at pX. Returns whether it is all finite, checked where it lies: finite.wasm
   * 0.7–1.0 µs at D = 8192, the JS pass 4.1–4.4 µs (measured in one process).
   */
  private copyOut(out: Float32Array): boolean {
    const h = this.h(), D = this.D;
    const finite = this.finite ? this.finite(this.pX << 2, D) === 1 : allFiniteJs(h.subarray(this.pX, this.pX + D));
    out.set(h.subarray(this.pX, this.pX + D));
    return finite;
  }

  /**
   * The spectral filter bin by bin. Runs in kernels.wasm (f64x2 SIMD, src/kernels/wasm/assembly/
   * spectral.ts) when the WASM kernels are in use, else in the JS loop below: the same float64
   * operations in the same order, so the two give the same bits (test/kernels/hrr.test.ts).
   */
  inverseFilter(B: Float32Array, W: Float32Array, mode: InverseMode, lambda: number): number {
    const D = this.D;
    const floor = mode === 'floor';
    // Block 0, slots 0 and 4: the real DC and Nyquist bins (read before W, which may alias B).
    const dc = B[0], ny = B[4];
    let floored = 0;
    const w = kernelEngine() === 'wasm' ? this.filterBlock() : null;
    if (w) {
      w.heap.set(B, w.pB >> 2);
      floored = w.exports.pffftInverseFilter(w.pB, w.pW, D, floor ? 1 : 0, lambda);
      W.set(w.heap.subarray(w.pW >> 2, (w.pW >> 2) + D));
    } else {
      for (let b = 0; b < D; b += 8) {
        for (let i = 0; i < 4; i++) {
          const r = b + i, m = r + 4;
          const br = B[r], bi = B[m], p = br * br + bi * bi;
          if (p < lambda) floored++;
          const s = floor ? 1 / (p > lambda ? p : lambda) : 1 / (p + lambda);
          W[r] = br * s;
          W[m] = -bi * s;
        }
      }
    }
    // Redo the two real bins: each is its own bin, not a (re, im) pair.
    const pdc = dc * dc, pny = ny * ny;
    const pair = dc * dc + ny * ny;
    floored -= pair < lambda ? 1 : 0;
    floored += (pdc < lambda ? 1 : 0) + (pny < lambda ? 1 : 0);
    W[0] = floor ? dc / Math.max(pdc, lambda) : dc / (pdc + lambda);
    W[4] = floor ? ny / Math.max(pny, lambda) : ny / (pny + lambda);
    return floored;
  }

  /** Two D-float blocks in kernels.wasm's memory for the filter (once per engine), or null. */
  private filterBlock(): { exports: KernelsWasm; heap: Float32Array; pB: number; pW: number } | null {
    if (this.filter !== undefined) return this.filter;
    const wasm = loadWasm();
    const pB = wasm ? allocOrZero(wasm, this.D * 8) : 0;
    // kernels.wasm's memory is fixed (never grows), so one view of it stays valid.
    this.filter = wasm && pB ? { exports: wasm, heap: new Float32Array(wasm.memory.buffer), pB, pW: pB + this.D * 4 } : null;
    return this.filter;
  }

  conjugate(B: Float32Array, W: Float32Array): void {
    const D = this.D, ny = B[4];
    if (W !== B) W.set(B);
    for (let b = 0; b < D; b += 8) {
      W[b + 4] = -W[b + 4]; W[b + 5] = -W[b + 5]; W[b + 6] = -W[b + 6]; W[b + 7] = -W[b + 7];
    }
    W[4] = ny; // Nyquist is real: it keeps its sign
  }

  makeUnitary(B: Float32Array, W: Float32Array): void {
    const D = this.D;
    const dc = B[0], ny = B[4];
    for (let b = 0; b < D; b += 8) {
      for (let i = 0; i < 4; i++) {
        const r = b + i, m = r + 4;
        const br = B[r], bi = B[m], mod = Math.hypot(br, bi);
        if (mod === 0) { W[r] = 1; W[m] = 0; } else { W[r] = br / mod; W[m] = bi / mod; }
      }
    }
    W[0] = dc < 0 ? -1 : 1;
    W[4] = ny < 0 ? -1 : 1;
  }

  toComplex(X: Float32Array): Float64Array {
    const h = this.h(), D = this.D;
    h.set(X, this.pA);
    this.m._pffft_zreorder(this.setup, this.pA << 2, this.pB << 2, PFFFT_FORWARD);
    this.spectrumAtB = null;
    // Ordered real layout: [Re F_0, Re F_{D/2}, Re F_1, Im F_1, ...].
    const Z = new Float64Array(D + 2);
    Z[0] = h[this.pB];
    Z[D] = h[this.pB + 1];
    for (let k = 1; k < D / 2; k++) { Z[2 * k] = h[this.pB + 2 * k]; Z[2 * k + 1] = h[this.pB + 2 * k + 1]; }
    return Z;
  }

  fromComplex(Z: ArrayLike<number>, X: Float32Array): void {
    const h = this.h(), D = this.D;
    this.spectrumAtB = null;
    h[this.pB] = Z[0];
    h[this.pB + 1] = Z[D];
    for (let k = 1; k < D / 2; k++) { h[this.pB + 2 * k] = Z[2 * k]; h[this.pB + 2 * k + 1] = Z[2 * k + 1]; }
    this.m._pffft_zreorder(this.setup, this.pB << 2, this.pA << 2, PFFFT_BACKWARD);
    X.set(h.subarray(this.pA, this.pA + D));
  }
}

/** Loads the WASM module if needed and builds an engine for dimension D. */
export async function createPffftEngine(D: number): Promise<PffftEngine> {
  checkDim(D);
  return new PffftEngine(await loadPffft(), D);
}
