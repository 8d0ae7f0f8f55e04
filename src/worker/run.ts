/**
 * The item loop a batch runs through, shared by the shard workers (entry.ts) and the main
 * thread's idle path (pool/local.ts), so both answer and account alike: one outcome per item
 * (a bad item gets its code and the batch goes on, Piscina's habit) and each item's handler
 * time in obs.itemSeconds (the worker_* and shard_* metrics).
 */
import { BudgetError, describeBug, HoloError, isHoloError } from '../errors.js';
import { log } from '../log.js';
import type { Outcome, TaskItem } from '../pool/messages.js';
import type { ExecContext } from './context.js';
import type { Handler } from './hrr.js';

/** An error as an outcome: a client's mistake by its code (and budget); anything else is a bug, logged bounded. */
export function toOutcome(e: unknown): Outcome {
  if (e instanceof BudgetError) return { ok: false, code: e.code, message: e.message, budget: e.budget };
  if (isHoloError(e)) return { ok: false, code: e.code, message: e.message };
  log.error({ bug: describeBug(e) }, 'internal error');
  return { ok: false, code: 'internal', message: 'internal error (logged by the server)' };
}

/** Runs each item through handlers[item.op]; `after` sees each item with its handler time, seconds. */
export function runItems(
  ctx: ExecContext, items: readonly TaskItem[], handlers: Readonly<Record<string, Handler>>,
  after?: (item: TaskItem, seconds: number) => void,
): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const item of items) {
    ctx.itemIndex = outcomes.length;
    const t0 = performance.now();
    ctx.out = item.out;
    try {
      const h = Object.hasOwn(handlers, item.op) ? handlers[item.op] : undefined;
      if (!h) throw new HoloError('unknown_op', `worker has no handler for '${item.op}'`);
      outcomes.push({ ok: true, result: h(ctx, item.params) });
    } catch (e) {
      outcomes.push(toOutcome(e));
    }
    const seconds = (performance.now() - t0) / 1000;
    ctx.obs.itemSeconds.push(seconds);
    after?.(item, seconds);
  }
  return outcomes;
}
