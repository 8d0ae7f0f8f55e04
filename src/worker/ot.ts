/** Handler of sinkhorn (docs/PROTOCOL.md "sinkhorn"). A batch of problems runs back to back. */
import { sinkhorn } from '../kernels/ot/sinkhorn.js';
import type { Handler } from './hrr.js';

export const OT_HANDLERS: Record<string, Handler> = {
  sinkhorn: (ctx, p) => {
    const tol = (p.tol as number | undefined) ?? ctx.knobs.sinkhornTol;
    const r = sinkhorn(p.a as Float64Array | null, p.b as Float64Array | null, p.cost as Float64Array, p.n as number, p.m as number, {
      epsilon: p.epsilon as number,
      maxIter: p.maxIter as number | undefined,
      tol, // the truth budget's sinkhorn_tol unless the request gives one
      maxSize: ctx.cfg.sinkhornMaxSize,
    });
    return {
      plan: r.plan, cost: r.cost, iterations: r.iterations, marginalError: r.marginalError,
      converged: r.converged, numericalError: r.numericalError,
      tol, tolMet: r.marginalError <= tol, overBudget: r.marginalError > tol || r.numericalError,
    };
  },
};
