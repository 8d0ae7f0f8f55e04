/**
 * dot, norm, cosine and normalize for Float32Array vectors, accumulated in float64 so the
 * result is the float32 inputs' exact-as-float64 similarity (numpy's float64 `a @ b`).
 */
import { HoloError } from '../../errors.js';
import { checkFinite } from '../check.js';

/** Σ a_i b_i in float64. a, b: (D,). Lengths must match. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new HoloError('bad_dimension', `dot: lengths differ (${a.length} vs ${b.length})`);
  }
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = a.length, n4 = n - (n % 4);
  let i = 0;
  // Four partial sums: breaks the dependency chain so V8 can pipeline the multiply-adds.
  for (; i < n4; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + s2 + s3;
}

/** dot for Float32Array only: one element type keeps the loop monomorphic (hot path). */
export function dotF32(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) {
    throw new HoloError('bad_dimension', `dot: lengths differ (${a.length} vs ${b.length})`);
  }
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = a.length, n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + s2 + s3;
}

/** ‖a‖₂ in float64. */
export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/**
 * cosine(a, b) = a·b / (‖a‖ ‖b‖), in [-1, 1].
 * A zero vector has no direction: its cosine with anything is defined as 0 (not NaN).
 * @throws HoloError bad_dimension (lengths differ) | bad_request (NaN, Inf)
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkFinite('a', a);
  checkFinite('b', b);
  const ab = dot(a, b);
  const na = dot(a, a), nb = dot(b, b);
  if (na === 0 || nb === 0) return 0;
  const c = ab / Math.sqrt(na * nb);
  return c > 1 ? 1 : c < -1 ? -1 : c;
}

/**
 * a / ‖a‖ into out (may alias a). Returns out.
 * @throws HoloError bad_request for a zero vector (it has no direction to keep).
 */
export function normalize(a: Float32Array, out: Float32Array = new Float32Array(a.length)): Float32Array {
  checkFinite('vector', a);
  const n = norm(a);
  if (n === 0) throw new HoloError('bad_request', 'cannot normalize a zero vector');
  const s = 1 / n;
  for (let i = 0; i < a.length; i++) out[i] = a[i] * s;
  return out;
}
