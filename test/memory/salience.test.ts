import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { novelty, recency, salience, salienceSettings, SALIENCE_DEFAULTS } from '../../src/memory/salience.js';
import { HoloError } from '../../src/errors.js';

describe('salience', () => {
  it('has the documented defaults', () => {
    expect(SALIENCE_DEFAULTS).toEqual({ alpha: 0.5, beta: 0.3, gamma: 0.2, tauSeconds: 3600 });
  });

  it('worked examples', () => {
    // A new item in an empty memory, reward 0: 0.5·1 + 0 + 0.2·1.
    expect(salience(novelty(undefined), 0, 0)).toBeCloseTo(0.7, 15);
    // novelty 0.4, reward 1, one τ old: 0.2 + 0.3 + 0.2/e.
    expect(salience(0.4, 1, 3600_000)).toBeCloseTo(0.2 + 0.3 + 0.2 * Math.exp(-1), 15);
    expect(salience(0.4, 1, 3600_000)).toBeCloseTo(0.573575888234288, 14);
    expect(novelty(0.25)).toBe(0.75);
  });

  it('clips to [0, 1]', () => {
    expect(salience(2, 5, 0)).toBe(1);
    expect(salience(0, -5, 0)).toBe(0);
  });

  it('recency: 1 at age 0 and for a negative age (clock skew), e^-1 at τ', () => {
    expect(recency(0)).toBe(1);
    expect(recency(-1000)).toBe(1);
    expect(recency(7200_000, 7200)).toBeCloseTo(Math.exp(-1), 15);
  });

  it('equals the unclipped formula whenever it lies in [0, 1]', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        fc.double({ min: 0, max: 1e8, noNaN: true }),
        (nov, rew, age) => {
          const x = 0.5 * nov + 0.3 * rew + 0.2 * Math.exp(-age / 3_600_000);
          const s = salience(nov, rew, age);
          expect(s).toBeCloseTo(Math.min(1, Math.max(0, x)), 12);
        },
      ),
      { seed: 7, numRuns: 40 },
    );
  });

  it('validates its settings by name', () => {
    expect(salienceSettings({ beta: 0 })).toEqual({ ...SALIENCE_DEFAULTS, beta: 0 });
    expect(() => salienceSettings({ alpha: -1 })).toThrow(/options\.salience\.alpha/);
    expect(() => salienceSettings({ tauSeconds: 0 })).toThrow(HoloError);
  });
});
