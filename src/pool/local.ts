/**
 * The idle path: a lone HRR request on an idle server runs on the main thread. Handing it to a
 * parked worker costs two thread wake-ups (Piscina's Atomics.notify to the worker, the
 * worker's reply waking the main event loop) and a structured clone each way: measured here
 * ~0.4–0.6 ms of a ~1.1 ms lone bind, for ~40 µs of FFT. So when every worker is idle and the
 * batch is one request of a cheap stateless op (LOCAL_OPS), the dispatcher runs it here, with
 * the same handlers (worker/hrr.ts) over the same shared role table. Under load batches form
 * and go to the workers as before; stateful ops (memory, graphs) never run here.
 *
 * "Idle" also means the request came alone: IDLE_GAP_MS since the previous one. At a steady
 * moderate rate (4,000/s measured here) the workers are often idle between tiny batches, and
 * running those on the main thread made it the one busy thread (p99 up 3–100× on this shared
 * 2-core machine); with requests that close together the workers are not parked anyway.
 */
import type { Config } from '../config.js';
import { HoloError } from '../errors.js';
import { createEngine } from '../kernels/fft/create.js';
import { Hrr } from '../kernels/hrr/hrr.js';
import { RoleTableView } from '../roles/table.js';
import { computeRoles, tableRoleSource, type ExecContext } from '../worker/context.js';
import { HRR_HANDLERS } from '../worker/hrr.js';
import { runItems } from '../worker/run.js';
import { emptyObs, type BatchResult, type BatchTask, type Knobs } from './messages.js';

/** A request is lone when at least this long (ms) passed since the one before it. */
export const IDLE_GAP_MS = 2;

/** Ops cheap and stateless enough to answer on the main thread when the workers are idle. */
export const LOCAL_OPS: ReadonlySet<string> = new Set(['bind', 'unbind', 'cosine']);
const LOCAL_HANDLERS = Object.fromEntries([...LOCAL_OPS].map((op) => [op, HRR_HANDLERS[op]]));

export class LocalExecutor {
  private constructor(
    private readonly cfg: Config,
    private readonly hrr: Hrr,
    private readonly roles: RoleTableView,
  ) {}

  static async create(cfg: Config, roleTable: SharedArrayBuffer): Promise<LocalExecutor> {
    const { engine } = await createEngine(cfg.dim, cfg.fftEngine);
    return new LocalExecutor(cfg, new Hrr(engine), new RoleTableView(roleTable));
  }

  /** The FFT layout (must match the workers': role spectra in the table are in it). */
  get layout(): string {
    return this.hrr.engine.layout;
  }

  /**
   * Runs a batch of LOCAL_OPS items synchronously, as a worker would, under `knobs`: the live
   * knobs of this moment (unbindBeta, wienerSnr, the truth budget), so a lone request answers
   * exactly as the same request batched to a worker.
   */
  run(task: BatchTask, knobs: Knobs): BatchResult {
    const obs = emptyObs();
    obs.rolesComputed = computeRoles(this.hrr, this.roles, task.roles, this.cfg.roleSeed);
    const ctx: ExecContext = {
      cfg: this.cfg, hrr: this.hrr, roles: this.roles, graphs: new Map(), knobs, obs,
      roleSource: tableRoleSource(this.roles, task.roles), nowMs: task.nowMs, itemIndex: 0,
      encode: () => { throw new HoloError('internal', 'encode does not run on the main thread'); },
    };
    // The workers' own loop (worker/run.ts): same outcomes, same handler times for the worker/shard metrics.
    const outcomes = runItems(ctx, task.items, LOCAL_HANDLERS);
    return { outcomes, obs };
  }
}
