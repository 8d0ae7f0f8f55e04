/**
 * Role–filler records (Plate 1995 §III "frames"): a map slot → filler, encoded as
 *
 *   record = s / ‖s‖,   s = Σ_slot bind(r(slot), f(filler)),   f(text) = encode(text), f({role: t}) = r(t)
 *
 * r(·) are the unitary roles (role.ts), so each bound pair has unit norm and unbind by r(slot)
 * is exact up to the other pairs' cross-talk: cosine(unbind(record, r(slot)), f) ≈ 1/√n for n
 * slots, and the cross-talk against any other vector falls as 1/√D. Rebuildable at any D from
 * the record itself (docs/MEMORY.md "What moves to a new D").
 */
import { HoloError } from '../../errors.js';
import { bindSpectrum } from './bind.js';
import { encodeWith, tokenize, type RoleSource } from './encode.js';
import type { Hrr } from './hrr.js';

/** A filler: a text (encoded) or a role token (its atomic role vector). */
export type Filler = string | { role: string };
export type RecordFields = Record<string, Filler>;

/** The role tokens a record needs: its slots, each role filler, and each filler text's words. */
export function recordTokens(rec: RecordFields): string[] {
  const out = new Set<string>();
  for (const [slot, f] of Object.entries(rec)) {
    out.add(slot);
    if (typeof f === 'string') for (const t of tokenize(f)) out.add(t);
    else out.add(f.role);
  }
  return [...out];
}

/** The filler's vector at hrr.D (unit norm). */
export function fillerVector(hrr: Hrr, roles: RoleSource, f: Filler): Float32Array {
  return typeof f === 'string' ? encodeWith(hrr, roles, f) : Float32Array.from(roles.vector(f.role));
}

/**
 * encodeRecord(hrr, roles, rec): the normalised bundle above. rec has ≥ 1 slot.
 * Cost: per slot, one filler encode and one spectral bind.
 * @throws HoloError bad_request (no slots; a filler text without tokens)
 */
export function encodeRecord(hrr: Hrr, roles: RoleSource, rec: RecordFields, out: Float32Array = new Float32Array(hrr.D)): Float32Array {
  const slots = Object.keys(rec);
  if (slots.length === 0) throw new HoloError('bad_request', 'a record needs at least one slot');
  const D = hrr.D;
  const acc = new Float64Array(D);
  const pair = new Float32Array(D);
  for (const slot of slots) {
    bindSpectrum(hrr, fillerVector(hrr, roles, rec[slot]), roles.spectrum(slot), pair);
    for (let j = 0; j < D; j++) acc[j] += pair[j];
  }
  let n2 = 0;
  for (let j = 0; j < D; j++) n2 += acc[j] * acc[j];
  if (!(n2 > 0)) throw new HoloError('bad_request', 'the record encodes to the zero vector');
  const s = 1 / Math.sqrt(n2);
  for (let j = 0; j < D; j++) out[j] = acc[j] * s;
  return out;
}
