/** Handlers of the HRR ops (docs/PROTOCOL.md): role, bind, unbind, bundle, cosine, encode. */
import { bind, bindSpectrum } from '../kernels/hrr/bind.js';
import { bundle } from '../kernels/hrr/bundle.js';
import { cosine } from '../kernels/hrr/cosine.js';
import { unbind, unbindRole, type UnbindMode, type UnbindResult } from '../kernels/hrr/unbind.js';
import { unbindOptions, unitaryUnbindError } from './budget.js';
import type { ExecContext } from './context.js';
import { fresh } from './transfer.js';

type P = Record<string, unknown>;
export type Handler = (ctx: ExecContext, p: P) => Record<string, unknown>;

/**
 * The eps signal of an exact or wiener unbind (docs/OPERATIONS.md): λ/P̄ where the floor bit
 * (some bin had |B_k|² < λ), else 0, and the fraction of the D/2 + 1 bins floored.
 */
export function observeUnbind(ctx: ExecContext, mode: UnbindMode | undefined, r: UnbindResult): void {
  const m = mode ?? 'exact';
  if (m === 'approx') return;
  ctx.obs.unbinds.push({ mode: m, epsRel: r.floored > 0 ? r.epsRel : 0, flooredRatio: r.floored / (ctx.hrr.D / 2 + 1) });
}

/** The item's shared result slot (pool/messages.ts OUT_OPS), else a fresh array to transfer. */
function outVector(ctx: ExecContext): Float32Array {
  return ctx.out?.length === ctx.hrr.D ? ctx.out : new Float32Array(ctx.hrr.D);
}

export const HRR_HANDLERS: Record<string, Handler> = {
  role: (ctx, p) => ({ vector: fresh(ctx.roleSource.vector(p.token as string)) }),

  bind: (ctx, p) => {
    const out = outVector(ctx);
    // Role spectra are published once and never written while a batch pins them, and the
    // batch's role source hands out one view per role, so a repeat role skips its copy.
    if (p.role !== undefined) bindSpectrum(ctx.hrr, p.a as Float32Array, ctx.roleSource.spectrum(p.role as string), out, true);
    else bind(ctx.hrr, p.a as Float32Array, p.b as Float32Array, out);
    return { vector: out };
  },

  unbind: (ctx, p) => {
    const out = outVector(ctx);
    // The truth budget (worker/budget.ts): the filter's error; a role's |R_k| = 1 gives it in closed form.
    const byRole = p.role !== undefined;
    const opts = { ...unbindOptions(ctx.knobs, p), report: !byRole };
    const r = byRole
      ? unbindRole(ctx.hrr, p.c as Float32Array, ctx.roleSource.spectrum(p.role as string), opts, out)
      : unbind(ctx.hrr, p.c as Float32Array, p.b as Float32Array, opts, out);
    observeUnbind(ctx, opts.mode, r);
    const relErr = byRole ? unitaryUnbindError(opts.mode, r.epsUsed) : r.relErr!;
    return { vector: out, epsUsed: r.epsUsed, flooredBins: r.floored, relErr, overBudget: relErr > ctx.knobs.epsilonTotal };
  },

  bundle: (_ctx, p) => ({ vector: bundle(p.vectors as Float32Array[], p.weights as Float64Array | null) }),

  cosine: (_ctx, p) => ({ cosine: cosine(p.a as Float32Array, p.b as Float32Array) }),

  encode: (ctx, p) => ({ vector: fresh(ctx.encode(p.text as string)) /* the cache keeps its own */ }),
};
