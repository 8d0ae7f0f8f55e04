/** Worker side of the failure drills (src/server/drills/). */
import { bind } from '../kernels/hrr/bind.js';
import { cosine } from '../kernels/hrr/cosine.js';
import type { Hrr } from '../kernels/hrr/hrr.js';
import { role, roleSpectrum } from '../kernels/hrr/role.js';
import { unbind, type UnbindMode } from '../kernels/hrr/unbind.js';
import { rng } from '../kernels/seeded.js';
import type { RoleTableView } from '../roles/table.js';
import { unbindOptions } from './budget.js';
import { observeUnbind, type Handler } from './hrr.js';

/** ‖x − a‖ / ‖a‖ in float64. */
function relativeError(x: Float32Array, a: Float32Array): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { const e = x[i] - a[i]; d += e * e; n += a[i] * a[i]; }
  return Math.sqrt(d / n);
}

/** A Gaussian key of unit norm (Box–Muller): |B_k|² is exponential around 1, so some bins are weak. */
function gaussianKey(D: number, rand: () => number): Float32Array {
  const b = new Float32Array(D);
  let s = 0;
  for (let i = 0; i < D; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    b[i] = g; s += g * g;
  }
  const k = 1 / Math.sqrt(s);
  for (let i = 0; i < D; i++) b[i] *= k;
  return b;
}

interface ModeResult { worstRelErr: number; worstCosine: number; predictedRelErr: number; lambda: number; flooredBins: number }

export const DRILL_HANDLERS: Record<string, Handler> = {
  /** The thread exits mid-batch, as a crashing kernel would. */
  'drill.crash': () => {
    process.exit(70);
  },
  /** The live knobs this batch runs under (recall-latency-spike checks its change reached the worker). */
  'drill.knobs': (ctx) => ({ knobs: { ...ctx.knobs } }),
  /**
   * elevated-epsilon (SEED §12 "diagnostic with synthetic orthogonal vectors"), at the batch's
   * live knobs: the basis vectors e_{iD/8} (orthogonal, unit norm) are bound to 8 unitary roles
   * (every mode) and to 8 Gaussian unit keys (exact and wiener: approx is not an inverse for a
   * non-unitary key), unbound with the knob-derived λ (worker/budget.ts), and each recovery's
   * relative error ‖â − a‖/‖a‖ is measured and compared with the truth budget's epsilon_total.
   * Also reported: unbindError's prediction, λ and floored bins. Fails when any error > budget.
   */
  'drill.epsilon': (ctx) => {
    const D = ctx.hrr.D, n = 8, budget = ctx.knobs.epsilonTotal;
    const rand = rng(0x5eed); // the non-unitary keys are the same every run
    const keys = { unitary: [] as Float32Array[], nonUnitary: [] as Float32Array[] };
    for (let i = 0; i < n; i++) {
      keys.unitary.push(role(`drill:${i}`, D, ctx.cfg.roleSeed));
      keys.nonUnitary.push(gaussianKey(D, rand));
    }
    const report: Record<string, Record<string, ModeResult>> = { unitary: {}, nonUnitary: {} };
    const failures: string[] = [];
    for (const kind of ['unitary', 'nonUnitary'] as const) {
      const modes: UnbindMode[] = kind === 'unitary' ? ['exact', 'wiener', 'approx'] : ['exact', 'wiener'];
      for (const mode of modes) {
        const r: ModeResult = { worstRelErr: 0, worstCosine: 1, predictedRelErr: 0, lambda: 0, flooredBins: 0 };
        for (let i = 0; i < n; i++) {
          const a = new Float32Array(D);
          a[(i * D) / n] = 1;
          const b = keys[kind][i];
          const u = unbind(ctx.hrr, bind(ctx.hrr, a, b), b, { ...unbindOptions(ctx.knobs, { mode }), report: true });
          r.worstRelErr = Math.max(r.worstRelErr, relativeError(u.vector, a));
          r.worstCosine = Math.min(r.worstCosine, cosine(u.vector, a));
          r.predictedRelErr = Math.max(r.predictedRelErr, u.relErr!);
          r.lambda = Math.max(r.lambda, u.epsUsed);
          r.flooredBins = Math.max(r.flooredBins, u.floored);
          observeUnbind(ctx, mode, u);
        }
        if (r.worstRelErr > budget) failures.push(`${kind} ${mode}: relative error ${r.worstRelErr.toPrecision(3)} > epsilon_total ${budget}`);
        report[kind][mode] = r;
      }
    }
    const k = ctx.knobs;
    return {
      pass: failures.length === 0, failures, epsilonTotal: budget,
      knobs: { unbindBeta: k.unbindBeta, wienerSnr: k.wienerSnr, wienerLambda: k.wienerLambda, apprEps: k.apprEps },
      ...report,
    };
  },
};

export interface RoleCheckItem { token: string; slot?: number; data?: Float32Array }

/**
 * The role-cache-corruption drill's check: each role (in the table at `slot`, or the bytes
 * `data` read from the role file: spectrum then vector, 2D floats) against a fresh computation,
 * bit for bit (Object.is: −0 ≠ 0, NaN = NaN), and how far its spectrum is from unitary
 * (max_k | |R_k| − 1 |). Computes into its own buffers: the shared table is only read.
 */
export function checkRoles(hrr: Hrr, view: RoleTableView, items: RoleCheckItem[], seed: number): { bad: string[]; maxUnitaryDeviation: number } {
  const D = hrr.D;
  const fresh = new Float32Array(2 * D);
  const bad: string[] = [];
  let dev = 0;
  for (const it of items) {
    const v = role(it.token, D, seed);
    roleSpectrum(hrr, v, fresh.subarray(0, D));
    fresh.set(v, D);
    const stored = it.data ?? view.data.subarray(it.slot! * 2 * D, (it.slot! + 1) * 2 * D);
    for (let i = 0; i < 2 * D; i++) if (!Object.is(fresh[i], stored[i])) { bad.push(it.token); break; }
    const Z = hrr.engine.toComplex(stored.subarray(0, D));
    for (let k = 0; k <= D / 2; k++) dev = Math.max(dev, Math.abs(Math.hypot(Z[2 * k], Z[2 * k + 1]) - 1));
  }
  return { bad, maxUnitaryDeviation: dev };
}
