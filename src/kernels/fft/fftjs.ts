/**
 * fft.js engine: float64 arithmetic throughout, rounded to float32 only at the edges. It is
 * the reference the fast engine is tested against, and the fallback when WASM SIMD is absent.
 *
 * Packed layout (FFTPACK/CCS-like): X[0] = Re F_0, X[1] = Re F_{D/2}, X[2k] = Re F_k,
 * X[2k+1] = Im F_k for 1 ≤ k < D/2.
 */
import FFT from 'fft.js';
import type { FftEngine, InverseMode } from './engine.js';
import { allFiniteJs, checkDim } from '../check.js';

export class FftjsEngine implements FftEngine {
  readonly name = 'fftjs' as const;
  readonly layout = 'fftjs-ccs';
  readonly D: number;
  private readonly fft: FFT;
  private readonly re: Float64Array; // real input, float64
  private readonly z: number[]; // complex scratch, length 2D
  private readonly y: number[]; // complex scratch, length 2D

  constructor(D: number) {
    checkDim(D);
    this.D = D;
    this.fft = new FFT(D);
    this.re = new Float64Array(D);
    this.z = this.fft.createComplexArray();
    this.y = this.fft.createComplexArray();
  }

  forward(x: Float32Array, X: Float32Array): void {
    const Z = this.forward64(x);
    this.fromComplex(Z, X);
  }

  inverse(X: Float32Array, x: Float32Array): void {
    const D = this.D, y = this.y;
    // Rebuild the Hermitian full spectrum, then one complex inverse transform (scaled 1/D).
    const z = this.z;
    z[0] = X[0]; z[1] = 0;
    z[D] = X[1]; z[D + 1] = 0;
    for (let k = 1; k < D / 2; k++) {
      const re = X[2 * k], im = X[2 * k + 1];
      z[2 * k] = re; z[2 * k + 1] = im;
      z[2 * (D - k)] = re; z[2 * (D - k) + 1] = -im;
    }
    this.fft.inverseTransform(y, z);
    for (let i = 0; i < D; i++) x[i] = y[2 * i];
  }

  convolve(a: Float32Array, b: Float32Array, out: Float32Array): boolean {
    // Products are formed in float64 from float64 spectra, so the result is the float64
    // circular convolution rounded once to float32.
    const D = this.D;
    const A = Float64Array.from(this.forward64(a).slice(0, D + 2));
    const B = this.forward64(b);
    this.multiplyInverse64(A, B, out);
    return allFiniteJs(out);
  }

  convolveSpectrum(x: Float32Array, S: Float32Array, out: Float32Array, _sameSpectrum = false): boolean {
    const D = this.D;
    const A = Float64Array.from(this.forward64(x).slice(0, D + 2));
    const B = this.toComplex(S);
    this.multiplyInverse64(A, B, out);
    return allFiniteJs(out);
  }

  inverseFilter(B: Float32Array, W: Float32Array, mode: InverseMode, lambda: number): number {
    const D = this.D;
    let floored = 0;
    // DC and Nyquist are real: W = B / max(B², λ) or B / (B² + λ).
    for (const i of [0, 1]) {
      const br = B[i], p = br * br;
      if (p < lambda) floored++;
      W[i] = mode === 'floor' ? br / Math.max(p, lambda) : br / (p + lambda);
    }
    for (let k = 2; k < D; k += 2) {
      const br = B[k], bi = B[k + 1], p = br * br + bi * bi;
      if (p < lambda) floored++;
      const s = mode === 'floor' ? 1 / Math.max(p, lambda) : 1 / (p + lambda);
      W[k] = br * s;
      W[k + 1] = -bi * s;
    }
    return floored;
  }

  conjugate(B: Float32Array, W: Float32Array): void {
    W[0] = B[0]; W[1] = B[1];
    for (let k = 2; k < this.D; k += 2) { W[k] = B[k]; W[k + 1] = -B[k + 1]; }
  }

  makeUnitary(B: Float32Array, W: Float32Array): void {
    W[0] = B[0] < 0 ? -1 : 1;
    W[1] = B[1] < 0 ? -1 : 1;
    for (let k = 2; k < this.D; k += 2) {
      const br = B[k], bi = B[k + 1], m = Math.hypot(br, bi);
      if (m === 0) { W[k] = 1; W[k + 1] = 0; } else { W[k] = br / m; W[k + 1] = bi / m; }
    }
  }

  toComplex(X: Float32Array): Float64Array {
    const D = this.D, Z = new Float64Array(D + 2);
    Z[0] = X[0]; Z[D] = X[1];
    for (let k = 1; k < D / 2; k++) { Z[2 * k] = X[2 * k]; Z[2 * k + 1] = X[2 * k + 1]; }
    return Z;
  }

  fromComplex(Z: ArrayLike<number>, X: Float32Array): void {
    const D = this.D;
    X[0] = Z[0]; X[1] = Z[D];
    for (let k = 1; k < D / 2; k++) { X[2 * k] = Z[2 * k]; X[2 * k + 1] = Z[2 * k + 1]; }
  }

  /** Ordered float64 bins 0..D/2 of rfft(x) in this.z[0 .. D+1] (valid until the next call). */
  private forward64(x: Float32Array): number[] {
    this.re.set(x);
    this.fft.realTransform(this.z, this.re);
    return this.z;
  }


  /** out = irfft(A · B) with A, B ordered float64 bins (length ≥ D + 2). */
  private multiplyInverse64(A: ArrayLike<number>, B: ArrayLike<number>, out: Float32Array): void {
    const D = this.D, z = this.z, y = this.y;
    const half = D / 2;
    for (let k = 0; k <= half; k++) {
      const ar = A[2 * k], ai = A[2 * k + 1], br = B[2 * k], bi = B[2 * k + 1];
      const re = ar * br - ai * bi, im = ar * bi + ai * br;
      z[2 * k] = re; z[2 * k + 1] = im;
      if (k > 0 && k < half) { z[2 * (D - k)] = re; z[2 * (D - k) + 1] = -im; }
    }
    // DC and Nyquist bins of a real signal are real: drop rounding residue in their imag part.
    z[1] = 0; z[D + 1] = 0;
    this.fft.inverseTransform(y, z);
    for (let i = 0; i < D; i++) out[i] = y[2 * i];
  }
}
