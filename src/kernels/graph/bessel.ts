/**
 * Exponentially scaled modified Bessel functions of the first kind, e^{−t} I_k(t), k = 0..K−1,
 * all at once: the Chebyshev coefficients of e^{−t(1−s)} on s ∈ [−1, 1] (see heat.ts).
 *
 * Miller's backward recurrence: I_{k−1}(t) = (2k/t) I_k(t) + I_{k+1}(t) is stable downwards,
 * so start far above K from (i_{N+1}, i_N) = (0, 1), recur to k = 0 and normalise with
 * e^t = I_0(t) + 2 Σ_{k≥1} I_k(t). Scaling by that sum gives e^{−t} I_k directly, without
 * ever forming e^t, so no overflow for large t. Tiny t (< 1e-6) uses the power series instead,
 * where 2k/t would overflow the recurrence.
 */

/**
 * Start index for Miller's recurrence. Starting at N instead of ∞ costs a relative error at k of
 * about (I_N K_k)/(I_k K_N): ≈ e^{−(N² − k²)/t} when t ≳ N, and ≈ ((t/2)^{N−k} k!/N!)² for small
 * t. N² ≥ K² + 50t and N ≥ K + 30 put both far below 1e-16 (checked against mpmath in the tests).
 */
function startIndex(t: number, K: number): number {
  return Math.ceil(Math.sqrt(K * K + 50 * t)) + 30;
}

/** Largest t accepted: above it the recurrence start grows (≈ 7√t steps) with no use. */
export const MAX_BESSEL_T = 1e6;

/**
 * besselIe(t, K) → e^{−t} I_k(t) for k = 0..K−1, into out (K,); returns the tail
 * 2 Σ_{k≥K} e^{−t} I_k(t) (the Chebyshev truncation bound of heat) as `tail`.
 * t: ≥ 0, ≤ MAX_BESSEL_T, dimensionless; K ≥ 1. Callers validate (heat.ts does).
 * Ref: DLMF 10.29.1 (recurrence), 10.35.5 (e^t = I_0 + 2 Σ I_k), 10.25.2 (series);
 * Press et al., Numerical Recipes 3rd ed. §6.5 (Miller's algorithm).
 * Accuracy: relative ≤ 1e-14 (≈2e-15 seen) against mpmath for t ≤ 1000, ≈1e-12 at t = 1e5 where
 * ~7√t nearly neutral steps add up rounding; values below 1e-290 lose digits to underflow.
 * (scipy.special.ive is itself only good to ~2e-13 relative.)
 * Example: besselIe(1, 3).values =
 *   [0.46575960759364043, 0.20791041534970842, 0.04993877689422353].
 */
export function besselIe(t: number, K: number, out: Float64Array = new Float64Array(K)): { values: Float64Array; tail: number } {
  if (t === 0) {
    out.fill(0);
    out[0] = 1;
    return { values: out, tail: 0 };
  }
  if (t < 1e-6) return series(t, K, out);
  const N = startIndex(t, K);
  const BIG = 1e250, SMALL = 1e-250;
  let ip1 = 0; // i_{k+1}
  let ik = 1; // i_k, unnormalised
  let sum = 0; // Σ_{j ≥ max(k,1)} i_j
  let tail = 0; // Σ_{j ≥ K} i_j
  for (let k = N; k >= 1; k--) {
    if (k < K) out[k] = ik;
    else tail += ik;
    sum += ik;
    const im1 = ((2 * k) / t) * ik + ip1;
    ip1 = ik;
    ik = im1;
    if (ik > BIG) {
      // Rescale everything held so far; what underflows was negligible beside i_0.
      ik *= SMALL; ip1 *= SMALL; sum *= SMALL; tail *= SMALL;
      for (let j = Math.max(k, 1); j < K; j++) out[j] *= SMALL;
    }
  }
  const scale = 1 / (ik + 2 * sum);
  out[0] = ik * scale;
  for (let k = 1; k < K; k++) out[k] *= scale;
  return { values: out, tail: 2 * tail * scale };
}

/** Power series I_k(t) = Σ_m (t/2)^{2m+k} / (m! (m+k)!), three terms: enough for t < 1e-6. */
function series(t: number, K: number, out: Float64Array): { values: Float64Array; tail: number } {
  const h = t / 2, q = h * h;
  let lead = Math.exp(-t); // e^{−t} (t/2)^k / k!
  let tail = 0;
  for (let k = 0; k < K + 4; k++) {
    const v = lead * (1 + q / (k + 1) + (q * q) / (2 * (k + 1) * (k + 2)));
    if (k < K) out[k] = v;
    else tail += v;
    lead *= h / (k + 1);
  }
  return { values: out, tail: 2 * tail };
}
