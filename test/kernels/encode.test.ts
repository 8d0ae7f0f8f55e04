/**
 * encode against gen-hrr.py (ASCII texts; Python re-implements tokenize, Π, the pair binds with
 * the unit-modulus role spectrum, and the normalisation), then its documented behaviour.
 *
 * Tolerances (encode is a unit vector, elements ~ 1/√D): max |error| < 1e-6 with pffft (float32
 * transforms; measured ≤ 2e-8), < 1e-7 with fft.js (float64 transforms, float32 role spectra;
 * measured ≤ 8e-9).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPffftEngine } from '../../src/kernels/fft/pffft.js';
import { cosine, norm } from '../../src/kernels/hrr/cosine.js';
import { encodeWith, permutationMultiplier, permute, tokenize } from '../../src/kernels/hrr/encode.js';
import { Hrr } from '../../src/kernels/hrr/hrr.js';
import { encode, mapRoleSource } from '../../src/kernels/hrr/reference.js';
import { role } from '../../src/kernels/hrr/role.js';
import { ENGINES, expectCode, loadFixture, maxAbsDiff } from './support.js';

interface EncodeCase { text: string; D: number; seed: number; tokens: string[]; vector: number[] }
const fixture = loadFixture<{ encode: EncodeCase[]; permutationMultiplier: Record<string, number> }>('hrr.json');

describe('tokenize and Π', () => {
  it('tokenizes as the fixture (ASCII) and as documented (NFKC, \\p{L}\\p{N})', () => {
    for (const c of fixture.encode) expect(tokenize(c.text)).toEqual(c.tokens);
    expect(tokenize('Ｈｅｌｌｏ, naïve Café — 日本語 x2!')).toEqual(['hello', 'naïve', 'café', '日本語', 'x2']);
    expect(tokenize(' .,;!? ')).toEqual([]);
  });

  it('permutation multiplier as numpy computes it; Π is a bijection', () => {
    for (const [D, p] of Object.entries(fixture.permutationMultiplier)) {
      expect(permutationMultiplier(Number(D))).toBe(p);
      expect(p % 2).toBe(1);
    }
    const D = 256, x = Float32Array.from({ length: D }, (_, i) => i);
    const y = permute(x, new Float32Array(D));
    expect(new Set(y).size).toBe(D);
    expect(y[0]).toBe(1); // (Πx)[0] = x[1]
    expect(y[1]).toBe((permutationMultiplier(D) + 1) % D);
  });
});

for (const [name, make] of ENGINES) {
  describe(`encode on ${name}`, () => {
    it.each(fixture.encode.map((c) => [`${JSON.stringify(c.text)} D=${c.D} seed=${c.seed}`, c] as const))(
      'matches numpy: %s', async (_, c) => {
        const hrr = new Hrr(await make(c.D));
        const v = encodeWith(hrr, mapRoleSource(hrr, c.seed), c.text);
        expect(maxAbsDiff(v, c.vector)).toBeLessThan(name === 'fftjs' ? 1e-7 : 1e-6);
        expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-6);
      });

    it('one word encodes to its role; out is written and returned', async () => {
      const hrr = new Hrr(await make(2048));
      const out = new Float32Array(2048);
      expect(encodeWith(hrr, mapRoleSource(hrr), 'Dog!', out)).toBe(out);
      expect(maxAbsDiff(out, role('dog', 2048))).toBeLessThan(1e-6);
    });
  });
}

describe('encode (reference facade) behaviour at D = 8192', () => {
  const D = 8192;

  it('"dog bites man" vs "man bites dog": cosine ≈ n/(2n−1) = 3/5', () => {
    const c = cosine(encode('dog bites man', D), encode('man bites dog', D));
    expect(Math.abs(c - 0.6)).toBeLessThan(0.05);
  });

  it('any order reversal of n distinct words: cosine ≈ n/(2n−1)', () => {
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
    for (let n = 2; n <= 6; n++) {
      const fwd = words.slice(0, n);
      const c = cosine(encode(fwd.join(' '), D), encode([...fwd].reverse().join(' '), D));
      expect(Math.abs(c - n / (2 * n - 1)), `n=${n}`).toBeLessThan(0.05);
    }
  });

  it('similar texts score higher than unrelated ones; unrelated ≈ 0', () => {
    const q = encode('the cat sat on the mat', D);
    const near = cosine(q, encode('the cat sat on a mat', D));
    const far = cosine(q, encode('quarterly revenue grew eleven percent', D));
    expect(near).toBeGreaterThan(0.5);
    expect(near).toBeGreaterThan(far + 0.4);
    expect(Math.abs(far)).toBeLessThan(6 / Math.sqrt(D));
  });

  it('is deterministic, unit norm, and engine-independent', async () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('red', 'green', 'blue', 'ship', 'sails', '42', 'été'), { minLength: 1, maxLength: 8 }),
      (ws) => {
        const text = ws.join(' ');
        const v = encode(text, 2048);
        expect(Array.from(encode(text, 2048))).toEqual(Array.from(v));
        expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-6);
      }), { seed: 1, numRuns: 25 });
    const hrr = new Hrr(await createPffftEngine(2048));
    const text = 'the quick brown fox jumps over the lazy dog';
    expect(maxAbsDiff(encodeWith(hrr, mapRoleSource(hrr), text), encode(text, 2048))).toBeLessThan(1e-6);
  });

  it('seed changes the encoding', () => {
    expect(Math.abs(cosine(encode('dog bites man', 2048, 0), encode('dog bites man', 2048, 12345)))).toBeLessThan(0.15);
  });
});

describe('encode bad input', () => {
  it('no tokens → bad_request', () => {
    for (const t of ['', '   ', '!?.,;', '—']) expectCode(() => encode(t, 256), 'bad_request');
  });
  it('bad seed → bad_request; bad D → bad_dimension', () => {
    expectCode(() => encode('dog', 256, -1), 'bad_request');
    expectCode(() => encode('dog', 256, 0.5), 'bad_request');
    expectCode(() => encode('dog', 300), 'bad_dimension');
  });
});
