/**
 * The truth budget inside a worker (docs/OPERATIONS.md "The truth budget"): how each op's
 * defaults come from the live knobs, and the error each computed reply reports.
 *   unbind   λ: exact eps ?? max(beta, apprEps)·‖b‖²; wiener 1/snr ?? max(beta ?? 1/wienerSnr,
 *            wienerLambda)·‖b‖²  (beta = request beta ?? unbindBeta for exact)
 *            reports epsUsed (λ), flooredBins, relErr (unbindError) and overBudget = relErr > epsilonTotal
 *   heat     K = request K ?? max(chebyshevK, smallest K with tail bound ≤ relErr), ≤ 200;
 *            reports K, truncationBound (per t) and overBudget = a bound > relErr
 *   sinkhorn tol = request tol ?? sinkhornTol; reports tol, tolMet (marginalError ≤ tol) and
 *            overBudget = !tolMet or a numerical error
 */
import { heatBound, heatTerms, MAX_K } from '../kernels/graph/heat.js';
import type { UnbindMode, UnbindOptions } from '../kernels/hrr/unbind.js';
import type { Knobs } from '../knobs/table.js';

type P = Record<string, unknown>;

/** Unbind options from a request and the batch's knobs. */
export function unbindOptions(k: Knobs, p: P): UnbindOptions & { mode: UnbindMode } {
  const mode = (p.mode as UnbindMode | undefined) ?? 'exact';
  const eps = p.eps as number | undefined, snr = p.snr as number | undefined, beta = p.beta as number | undefined;
  if (mode === 'wiener') {
    if (snr !== undefined) return { mode, snr, eps, beta };
    return { mode, eps, beta: Math.max(beta ?? 1 / k.wienerSnr, k.wienerLambda) };
  }
  if (mode === 'exact' && eps !== undefined) return { mode, eps, snr, beta };
  return { mode, eps, snr, beta: Math.max(beta ?? k.unbindBeta, k.apprEps) };
}

/** unbindError for a unitary key (|B_k| = 1 in every bin): exact 0 (λ ≤ 1) or 1 − 1/λ, wiener λ/(1 + λ), approx 0. */
export function unitaryUnbindError(mode: UnbindMode, lambda: number): number {
  if (mode === 'wiener') return lambda / (1 + lambda);
  if (mode === 'exact') return lambda <= 1 ? 0 : 1 - 1 / lambda;
  return 0;
}

/** K for a heat request: the asked K, or the budget's. */
export function heatK(k: Knobs, ts: number[], asked: number | undefined): number {
  if (asked !== undefined) return asked;
  const tMax = ts.reduce((a, b) => Math.max(a, b), 0);
  return Math.min(MAX_K, Math.max(k.chebyshevK, heatTerms(tMax, k.relErr)));
}

/** The heat reply's budget fields. */
export function heatReport(k: Knobs, ts: number[], K: number, list: boolean): P {
  const bounds = ts.map((t) => heatBound(t, K));
  return { K, truncationBound: list ? bounds : bounds[0], overBudget: bounds.some((b) => b > k.relErr) };
}
