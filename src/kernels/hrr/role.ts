/**
 * Roles: deterministic unitary vectors named by string tokens.
 *
 * Construction (the same bits on every machine, and re-implemented in test/fixtures/gen-hrr.py):
 *   h = FNV-1a 64 of the token's UTF-8 bytes; (hi, lo) its 32-bit halves
 *   xoshiro128** state: s0 = fmix32(lo ^ 0x9E3779B9), s1 = fmix32(hi ^ s0),
 *                       s2 = fmix32(seed ^ s1),      s3 = fmix32(D ^ s2)    (fmix32: MurmurHash3)
 *   draws u_0, u_1, …: F_0 = ±1 (sign from bit 31 of u_0), F_{D/2} = ±1 (bit 31 of u_1),
 *   F_k = exp(i·2π·u_{k+1}/2³²) for 1 ≤ k < D/2
 *   role = irfft(F) in float64, rounded once to float32.
 * Every bin has |F_k| = 1, so ‖role‖ = 1 (Parseval), bind with it preserves norms, and its exact
 * inverse is its involution (Plate 1995 §VI; NengoSPA's make_unitary).
 */
import FFT from 'fft.js';
import { HoloError } from '../../errors.js';
import { checkDim } from '../check.js';
import type { Hrr } from './hrr.js';

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;
const TWO_PI_OVER_2_32 = (2 * Math.PI) / 4294967296;
const encoder = new TextEncoder();

/** FNV-1a, 64 bit, over bytes (Fowler, Noll, Vo). */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV64_OFFSET;
  for (let i = 0; i < bytes.length; i++) h = ((h ^ BigInt(bytes[i])) * FNV64_PRIME) & MASK64;
  return h;
}

/** MurmurHash3's 32-bit finaliser. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** xoshiro128** (Blackman & Vigna 2018): 32-bit draws from a 128-bit state. */
export class Xoshiro128 {
  private s0: number; private s1: number; private s2: number; private s3: number;
  constructor(s0: number, s1: number, s2: number, s3: number) {
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
    this.s0 = s0 >>> 0; this.s1 = s1 >>> 0; this.s2 = s2 >>> 0; this.s3 = s3 >>> 0;
  }
  next(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t; this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return r;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The PRNG for (token, D, seed), as the header describes. */
export function roleStream(token: string, D: number, seed: number): Xoshiro128 {
  const h = fnv1a64(encoder.encode(token));
  const hi = Number(h >> 32n) >>> 0, lo = Number(h & 0xffffffffn) >>> 0;
  const s0 = fmix32(lo ^ 0x9e3779b9);
  const s1 = fmix32(hi ^ s0);
  const s2 = fmix32((seed ^ s1) >>> 0);
  const s3 = fmix32((D ^ s2) >>> 0);
  return new Xoshiro128(s0, s1, s2, s3);
}

const inverseFfts = new Map<number, FFT>(); // one fft.js twiddle table per D, built on first use

/**
 * role(token, D, seed): the unitary vector for a token (see the header for the construction).
 * token: any string (UTF-8); D: power of two in [256, 16384]; seed: uint32 (default 0).
 * Accuracy: |F_k| = 1 to float32 rounding (≤ 1e-6); bit-identical across runs and machines.
 * @throws HoloError bad_dimension (D) | bad_request (seed not a uint32)
 */
export function role(token: string, D: number, seed = 0): Float32Array {
  checkDim(D);
  checkSeed(seed);
  const rng = roleStream(token, D, seed);
  let fft = inverseFfts.get(D);
  if (!fft) inverseFfts.set(D, (fft = new FFT(D)));
  // Full Hermitian spectrum Z (length 2D, interleaved), then one float64 inverse transform.
  const Z = fft.createComplexArray();
  const half = D / 2;
  Z[0] = rng.next() >>> 31 ? -1 : 1;
  Z[2 * half] = rng.next() >>> 31 ? -1 : 1;
  for (let k = 1; k < half; k++) {
    const phi = rng.next() * TWO_PI_OVER_2_32;
    const re = Math.cos(phi), im = Math.sin(phi);
    Z[2 * k] = re; Z[2 * k + 1] = im;
    Z[2 * (D - k)] = re; Z[2 * (D - k) + 1] = -im;
  }
  const y = fft.createComplexArray();
  fft.inverseTransform(y, Z); // scaled by 1/D
  const out = new Float32Array(D);
  for (let i = 0; i < D; i++) out[i] = y[2 * i];
  return out;
}

/**
 * The role spectrum: rfft(role) in hrr.engine's layout, with every bin set back to modulus 1
 * (the float32 rounding of the vector leaves |F_k| = 1 ± 1e-7), so binds with it preserve
 * norms to the float32 rounding of the transforms alone.
 */
export function roleSpectrum(hrr: Hrr, roleVector: Float32Array, out: Float32Array = new Float32Array(hrr.D)): Float32Array {
  if (roleVector.length !== hrr.D) {
    throw new HoloError('bad_dimension', `role has length ${roleVector.length}, expected ${hrr.D}`);
  }
  hrr.engine.forward(roleVector, out);
  hrr.engine.makeUnitary(out, out);
  return out;
}

export function checkSeed(seed: number): void {
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw new HoloError('bad_request', `seed must be an integer in [0, 2^32), got ${String(seed)}`);
  }
}
