/**
 * Salience of a working-memory item: how much it deserves to stay when memory runs short.
 *
 *   salience = clip(α·novelty + β·reward + γ·recency, 0, 1)
 *   novelty  = 1 − max_j cosine(x, m_j)      over the items m_j held before x was written;
 *                                             1 for an empty memory; in [0, 2]
 *   recency  = exp(−age / τ)                 age = now − lastAccess (s), clamped at 0; in (0, 1]
 *
 * reward: the client's signal, any finite number (the clip bounds its effect).
 * Defaults (SALIENCE_DEFAULTS): α = 0.5, β = 0.3, γ = 0.2, τ = 3600 s. With them, an item
 * written now into an empty memory with reward 0 has salience 0.5 + 0.2 = 0.7; the worked
 * numbers below are asserted in test/memory/salience.test.ts.
 *   salience(novelty 0.4, reward 1, age 3600 s) = 0.2 + 0.3 + 0.2·e⁻¹ = 0.573575888…
 */
import { HoloError } from '../errors.js';

export interface SalienceSettings {
  /** weight of novelty, ≥ 0 */
  alpha: number;
  /** weight of reward, ≥ 0 */
  beta: number;
  /** weight of recency, ≥ 0 */
  gamma: number;
  /** recency time constant τ in seconds, > 0 */
  tauSeconds: number;
}

export const SALIENCE_DEFAULTS: Readonly<SalienceSettings> = Object.freeze({
  alpha: 0.5,
  beta: 0.3,
  gamma: 0.2,
  tauSeconds: 3600,
});

/**
 * Fills in defaults and validates, naming the option.
 * @throws HoloError bad_request (a weight negative or not finite, τ not > 0)
 */
export function salienceSettings(s: Partial<SalienceSettings> = {}): SalienceSettings {
  const r: SalienceSettings = { ...SALIENCE_DEFAULTS, ...s };
  for (const name of ['alpha', 'beta', 'gamma'] as const) {
    const w = r[name];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new HoloError('bad_request', `options.salience.${name} must be a finite number ≥ 0, got ${w}`);
    }
  }
  if (typeof r.tauSeconds !== 'number' || !(r.tauSeconds > 0) || !Number.isFinite(r.tauSeconds)) {
    throw new HoloError('bad_request', `options.salience.tauSeconds must be a finite number > 0, got ${r.tauSeconds}`);
  }
  return r;
}

/** 1 − maxCosine (maxCosine over the items held; pass undefined for an empty memory ⇒ 1). */
export function novelty(maxCosine: number | undefined): number {
  return maxCosine === undefined ? 1 : 1 - maxCosine;
}

/** exp(−ageMs / (1000·τ)); a negative age (clock skew) counts as 0, so recency ≤ 1. */
export function recency(ageMs: number, tauSeconds: number = SALIENCE_DEFAULTS.tauSeconds): number {
  return ageMs <= 0 ? 1 : Math.exp(-ageMs / (1000 * tauSeconds));
}

/**
 * clip(α·novelty + β·reward + γ·exp(−age/τ), 0, 1).
 * novelty: in [0, 2]; reward: finite; ageMs: time since last access in ms (≤ 0 ⇒ recency 1).
 * Pure: no clock, the caller passes the age. Settings are not re-validated here (hot path):
 * build them once with salienceSettings.
 */
export function salience(
  novelty: number,
  reward: number,
  ageMs: number,
  s: SalienceSettings = SALIENCE_DEFAULTS,
): number {
  const x = s.alpha * novelty + s.beta * reward + s.gamma * recency(ageMs, s.tauSeconds);
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
