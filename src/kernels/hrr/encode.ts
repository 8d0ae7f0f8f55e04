/**
 * encode(text): a deterministic LEXICAL text encoder (not a neural embedding). Texts that share
 * words, and word pairs in the same order, score a higher cosine; synonyms do not.
 *
 *   tokens t_1 … t_n = NFKC-normalised, lower-cased runs of letters and digits (\p{L}\p{N})
 *   v = Σ_i r(t_i) + Σ_{i<n} r(t_i) ⊛ Π r(t_{i+1}),   encode = v / ‖v‖
 *
 * r(t) is the token's role (unitary, unit norm). The first sum is a bag of words; the second
 * binds each adjacent pair in order: Π is a fixed index permutation, (Πx)[j] = x[(p·j + 1) mod D]
 * with p odd, so Π maps unitary vectors to unitary vectors but does not commute with ⊛, and
 * "dog bites man" differs from "man bites dog" (BEAGLE-style order binding, Jones & Mewhort 2007).
 * Expected cosines: texts with the same words in another order ≈ n/(2n−1); unrelated ≈ 0 ± 1/√D.
 */
import { HoloError } from '../../errors.js';
import type { Hrr } from './hrr.js';

/** Where the encoder gets roles: a cache in the server, a plain function in the facade. */
export interface RoleSource {
  /** role(token) as a time-domain vector (D,) */
  vector(token: string): Float32Array;
  /** its role spectrum in the engine's layout (D,) */
  spectrum(token: string): Float32Array;
}

const TOKEN = /[\p{L}\p{N}]+/gu;

/** The encoder's tokens, in order. */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(TOKEN) ?? [];
}

/** The odd multiplier p of Π for dimension D: the odd number nearest D·(√5 − 1)/2. */
export function permutationMultiplier(D: number): number {
  return Math.floor((D * (Math.sqrt(5) - 1)) / 4) * 2 + 1;
}

/** out = Π x, (Πx)[j] = x[(p·j + 1) mod D]. out must not alias x. */
export function permute(x: Float32Array, out: Float32Array): Float32Array {
  const D = x.length, mask = D - 1, p = permutationMultiplier(D);
  for (let j = 0; j < D; j++) out[j] = x[(Math.imul(p, j) + 1) & mask];
  return out;
}

/**
 * encodeWith(hrr, roles, text): the encoding above, with roles from `roles`.
 * text: string with at least one letter or digit. Returns a unit-norm Float32Array (D,).
 * Cost: n role look-ups and n − 1 spectral binds (each one forward and one inverse FFT).
 * @throws HoloError bad_request (no tokens in text)
 */
export function encodeWith(hrr: Hrr, roles: RoleSource, text: string, out: Float32Array = new Float32Array(hrr.D)): Float32Array {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new HoloError('bad_request', 'text has no tokens (letters or digits) to encode');
  const D = hrr.D;
  const acc = new Float64Array(D);
  const pair = out; // scratch until the final write
  for (let i = 0; i < tokens.length; i++) {
    const r = roles.vector(tokens[i]);
    for (let j = 0; j < D; j++) acc[j] += r[j];
    if (i + 1 < tokens.length) {
      permute(roles.vector(tokens[i + 1]), hrr.v1);
      hrr.engine.convolveSpectrum(hrr.v1, roles.spectrum(tokens[i]), pair);
      for (let j = 0; j < D; j++) acc[j] += pair[j];
    }
  }
  let n2 = 0;
  for (let j = 0; j < D; j++) n2 += acc[j] * acc[j];
  const s = 1 / Math.sqrt(n2); // n2 > 0: a bag of unit roles plus pairs is never exactly zero
  for (let j = 0; j < D; j++) out[j] = acc[j] * s;
  return out;
}
