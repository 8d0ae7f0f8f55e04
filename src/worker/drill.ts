/** Worker side of the failure drills (server/admin.ts). */
import { bind } from '../kernels/hrr/bind.js';
import { cosine } from '../kernels/hrr/cosine.js';
import { role } from '../kernels/hrr/role.js';
import { unbind } from '../kernels/hrr/unbind.js';
import type { Handler } from './hrr.js';

export const DRILL_HANDLERS: Record<string, Handler> = {
  /** The thread exits mid-batch, as a crashing kernel would. */
  'drill.crash': () => {
    process.exit(70);
  },
  /**
   * Bind/unbind diagnostic with synthetic orthogonal vectors: the standard basis vectors
   * e_0, e_1, … (pairwise orthogonal, unit norm) are bound to distinct roles and unbound in
   * every mode; reports the worst recovered cosine per mode and the λ used. A healthy engine
   * gives ≥ 0.999 in every mode (roles are unitary).
   */
  'drill.epsilon': (ctx) => {
    const D = ctx.hrr.D, n = 8;
    const worst: Record<string, number> = { exact: 1, wiener: 1, approx: 1 };
    const eps: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const a = new Float32Array(D);
      a[(i * D) / n] = 1;
      const r = role(`drill:${i}`, D, ctx.cfg.roleSeed);
      const c = bind(ctx.hrr, a, r);
      for (const mode of ['exact', 'wiener', 'approx'] as const) {
        const u = unbind(ctx.hrr, c, r, { mode, beta: ctx.knobs.unbindBeta });
        worst[mode] = Math.min(worst[mode], cosine(u.vector, a));
        eps[mode] = u.epsUsed;
      }
    }
    return { worstCosine: worst, epsUsed: eps, healthy: Object.values(worst).every((c) => c >= 0.999) };
  },
};
