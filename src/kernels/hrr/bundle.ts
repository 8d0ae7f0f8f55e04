import { HoloError } from '../../errors.js';
import { checkFinite, checkVector } from '../check.js';

/**
 * bundle(v, w) = Σ_i w_i v_i / ‖Σ_i w_i v_i‖: the normalised weighted superposition.
 * vectors: n ≥ 1 Float32Array (D,); weights: (n,) finite, default all 1. Sums in float64.
 * Example: bundle([[1,0,…], [0,1,0,…]]) = [1/√2, 1/√2, 0, …].
 * Accuracy: float64 accumulation, one float32 rounding per element.
 * @throws HoloError bad_request (no vectors, NaN/Inf, weights length, zero sum) | bad_dimension
 */
export function bundle(vectors: Float32Array[], weights?: ArrayLike<number> | null, D = vectors[0]?.length): Float32Array {
  if (vectors.length === 0 || D === undefined) throw new HoloError('bad_request', 'bundle needs at least one vector');
  if (weights && weights.length !== vectors.length) {
    throw new HoloError('bad_request', `weights has length ${weights.length}, expected ${vectors.length}`);
  }
  if (weights) checkFinite('weights', weights);
  const acc = new Float64Array(D);
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    checkVector(`vectors[${i}]`, v, D);
    const w = weights ? weights[i] : 1;
    for (let j = 0; j < D; j++) acc[j] += w * v[j];
  }
  let n2 = 0;
  for (let j = 0; j < D; j++) n2 += acc[j] * acc[j];
  if (n2 === 0) throw new HoloError('bad_request', 'bundle is the zero vector (the weighted sum cancels)');
  const s = 1 / Math.sqrt(n2);
  const out = new Float32Array(D);
  for (let j = 0; j < D; j++) out[j] = acc[j] * s;
  return out;
}
