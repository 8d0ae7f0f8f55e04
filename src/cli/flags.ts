/** Numeric flags of the CLI's subcommands (plan, dimension), parsed and range-checked in one place. */

export interface NumberRange {
  min?: number;
  max?: number;
  int?: boolean;
}

/**
 * A numeric flag: undefined when absent, else a finite number within the range (an integer if
 * `int`). @throws Error "--NAME must be a number in [min, max], got 'v'" (or "an integer")
 */
export function numberFlag(name: string, v: string | undefined, r: NumberRange = {}): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  const min = r.min ?? -Infinity, max = r.max ?? Infinity;
  if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max || (r.int && !Number.isInteger(x))) {
    const range = r.min !== undefined || r.max !== undefined ? ` in [${min}, ${max}]` : '';
    throw new Error(`--${name} must be ${r.int ? 'an integer' : 'a number'}${range}, got '${v}'`);
  }
  return x;
}

/** numberFlag with a default (undefined: the flag is required). @throws Error "--NAME is required" */
export function numberOr(name: string, v: string | undefined, dflt: number | undefined, r: NumberRange = {}): number {
  const x = numberFlag(name, v, r);
  if (x !== undefined) return x;
  if (dflt === undefined) throw new Error(`--${name} is required`);
  return dflt;
}
