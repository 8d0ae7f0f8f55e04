/**
 * The one small FFT interface every HRR kernel is written against. Two engines implement it:
 * pffft (PFFFT compiled to WASM SIMD, float32: the fast path) and fftjs (fft.js in float64:
 * the reference and the fallback). One is chosen once at start (createEngine).
 *
 * Spectrum layout ("packed"): D floats per spectrum for a real vector of length D, holding the
 * D/2+1 rfft bins. Bins 0 (DC) and D/2 (Nyquist) are real; each engine packs them in its own
 * native order (pffft keeps its internal "unordered" z-domain order, which its convolution
 * routine reads directly). Kernels never index a spectrum themselves: they go through the
 * engine's pointwise operations, and `toComplex` gives the ordered bins for tests and docs.
 * A spectrum made by one engine is meaningless to the other; `layout` names which it is.
 */
export type EngineName = 'pffft' | 'fftjs';

export type InverseMode =
  /** W = conj(B) / max(|B|², λ): the exact inverse with a floor λ on the power */
  | 'floor'
  /** W = conj(B) / (|B|² + λ): Wiener deconvolution with noise-to-signal λ */
  | 'add';

export interface FftEngine {
  readonly name: EngineName;
  /** Dimension D (vector length), a power of two in [256, 16384]. */
  readonly D: number;
  /** Identifies the spectrum layout; spectra are only valid for engines with the same layout. */
  readonly layout: string;

  /** X = rfft(x) in the packed layout. x: (D,), X: (D,). x and X may not alias. */
  forward(x: Float32Array, X: Float32Array): void;
  /** x = irfft(X), scaled by 1/D so that inverse(forward(x)) = x. */
  inverse(X: Float32Array, x: Float32Array): void;
  /**
   * out = irfft(rfft(a) · rfft(b)): circular convolution. out may alias a or b. Returns whether
   * every element of out is finite (one pass the engine makes where the result lies).
   */
  convolve(a: Float32Array, b: Float32Array, out: Float32Array): boolean;
  /**
   * out = irfft(rfft(x) · S) for a spectrum S already in the packed layout. out may alias x.
   * sameSpectrum: the caller promises S is the very array of the previous call and was not
   * written since (a batch binding many vectors to one role), so an engine that copies S into
   * its own memory may skip the copy. Optional; false when omitted. Returns whether every
   * element of out is finite, as convolve.
   */
  convolveSpectrum(x: Float32Array, S: Float32Array, out: Float32Array, sameSpectrum?: boolean): boolean;
  /**
   * W = regularised inverse filter of B, bin by bin (see InverseMode); W may alias B.
   * Returns how many of the D/2+1 bins had |B|² below λ (the bins where λ "bit").
   */
  inverseFilter(B: Float32Array, W: Float32Array, mode: InverseMode, lambda: number): number;
  /** W = conj(B) bin by bin (W may alias B). For a unitary spectrum this is its exact inverse. */
  conjugate(B: Float32Array, W: Float32Array): void;
  /** Sets every bin of B to modulus 1 (NengoSPA's make_unitary; a zero bin becomes 1). */
  makeUnitary(B: Float32Array, W: Float32Array): void;
  /** Ordered bins k = 0..D/2 as interleaved (re, im) float64 pairs: length D + 2. */
  toComplex(X: Float32Array): Float64Array;
  /** Inverse of toComplex: packs ordered (re, im) pairs (length D + 2) into the layout. */
  fromComplex(Z: ArrayLike<number>, X: Float32Array): void;
}
