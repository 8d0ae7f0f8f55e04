/**
 * Hrr: an FFT engine plus the scratch that bind and unbind need, so the hot path allocates
 * nothing but its output. One Hrr per thread per dimension; not safe to share across threads
 * (the scratch is mutable), and it need not be: each worker builds its own.
 */
import type { FftEngine } from '../fft/engine.js';

export class Hrr {
  readonly engine: FftEngine;
  readonly D: number;
  /** Scratch spectra, valid only inside one call. */
  readonly S1: Float32Array;
  readonly S2: Float32Array;
  /** Scratch vector, valid only inside one call. */
  readonly v1: Float32Array;

  constructor(engine: FftEngine) {
    this.engine = engine;
    this.D = engine.D;
    this.S1 = new Float32Array(engine.D);
    this.S2 = new Float32Array(engine.D);
    this.v1 = new Float32Array(engine.D);
  }
}
