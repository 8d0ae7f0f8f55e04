/**
 * Shard worker entry (one Piscina pool of one thread per worker slot). It reads a batch,
 * makes sure the roles it names are in the shared role table, runs each item through its op's
 * handler, and answers one outcome per item: a bad item gets its error code and the batch goes
 * on (Piscina's habit); only a broken invariant escapes and costs the thread.
 */
import { threadId, workerData } from 'node:worker_threads';
import { encodeWith } from '../kernels/hrr/encode.js';
import type { Graph } from '../kernels/graph/csr.js';
import type { Config } from '../config.js';
import { computeRoles, tableRoleSource, type ExecContext } from './context.js';
import { checkRoles, DRILL_HANDLERS } from './drill.js';
import { GRAPH_HANDLERS } from './graph.js';
import { HRR_HANDLERS, type Handler } from './hrr.js';
import { workerBudgetBytes } from './memory.js';
import { checkOther, measure, mirror, openDim, rebuildChunk, unmovableReport, type Dim, type RecentQuery } from './dimension.js';
import { readDimensionState } from '../dimension/state.js';
import { OT_HANDLERS } from './ot.js';
import { transferables, withTransfer } from './transfer.js';
import { emptyObs, type BatchResult, type BatchTask, type Knobs, type Task, type WorkerInfo } from '../pool/messages.js';
import { runItems, toOutcome } from './run.js';
import { RoleTableView } from '../roles/table.js';
import { pick } from '../knobs/live.js';
import { loadWasm, wasmStatus } from '../kernels/wasm/load.js';
import { SLAB_MEMORY_MAX_BYTES, slabMemory } from '../kernels/wasm/scan.js';
import { adviseHugePages } from '../native/huge-pages.js';
import { pffftFiniteCheck } from '../kernels/fft/pffft.js';
import { log } from '../log.js';

interface WorkerData {
  cfg: Config;
  roleTable: SharedArrayBuffer;
  /** the live knobs when this thread was started (a replacement gets the current ones) */
  knobs?: Knobs;
  knobsVersion?: number;
}

const { cfg, roleTable, knobs: startKnobs } = workerData as WorkerData;
// The slabs' pages: 2 MiB where the kernel and the native addon allow (native/huge-pages.ts),
// advised before any slab is written.
const hugePages = adviseHugePages(slabMemory() as { buffer: ArrayBufferLike } | null, SLAB_MEMORY_MAX_BYTES, cfg.slabHugePages);
// The served D and, during a rollout, the other (src/dimension/state.ts; worker/dimension.ts).
// A switch swaps the two between batches, so these are `let`.
const dimState = readDimensionState(cfg.dataDir, cfg.dim);
let served: Dim = await openDim(cfg, dimState.served);
let other: Dim | undefined = dimState.other ? await openDim(cfg, dimState.other) : undefined;
let hrr = served.hrr;
let memory = served.memory;
applySplit(); // a rollout resumed after a restart holds both rooms from the start
let roles = new RoleTableView(roleTable);
const choice = { fallbackReason: served.fallbackReason };
const graphs = new Map<string, Graph>();
/** the live knobs as of the last task received (batch tasks carry them when they change) */
let knobs: Knobs = startKnobs ?? pick(cfg);
const handlersOf = (m: typeof memory): Record<string, Handler> => ({ ...HRR_HANDLERS, ...OT_HANDLERS, ...GRAPH_HANDLERS, ...m.handlers, ...DRILL_HANDLERS });
let HANDLERS = handlersOf(memory);
/** recent text recalls, replayed at both D by the rollout's measurement */
const recentQueries: RecentQuery[] = [];

/**
 * Memory batches run one after another on this thread, each after the previous one's commit:
 * Piscina may hand us the next batch while one awaits its commit, and a read must not see a
 * write that is not yet durable (it could be lost in a crash after being read).
 */
let memoryTail: Promise<unknown> = Promise.resolve();

function runBatch(task: BatchTask): Promise<BatchResult> {
  // The knobs are taken as the task arrives, before any wait: tasks are received in dispatch
  // order, so each runs under the set of its version even when a memory batch waits its turn.
  if (task.knobs) knobs = task.knobs;
  const k = knobs;
  if (task.kind !== 'memory') return runBatchNow(task, k);
  return afterMemory(() => {
    memory.reconfigure(k); // between memory batches: each sees one set of options
    other?.memory.reconfigure(k);
    return runBatchNow(task, k);
  });
}

/**
 * While two rooms are held (D and D′ during a rollout) the worker's share of memoryBudgetBytes
 * is split between them in proportion to D, as their items' bytes are (4·D per vector), so the
 * two together stay within the share; applied between memory batches.
 */
function splitBudget(): Promise<void> {
  return afterMemory(async () => applySplit());
}

function applySplit(): void {
  const o = other;
  if (!o) return;
  const share = workerBudgetBytes(cfg);
  served.memory.setBudget(Math.floor(share * served.D / (served.D + o.D)));
  o.memory.setBudget(Math.floor(share * o.D / (served.D + o.D)));
}

/** Runs f after every memory batch before it (and their commits): rollout work goes here too. */
function afterMemory<T>(f: () => Promise<T>): Promise<T> {
  const run = memoryTail.then(f);
  memoryTail = run.catch(() => undefined);
  return run;
}

async function runBatchNow(task: BatchTask, knobs: Knobs): Promise<BatchResult> {
  const obs = emptyObs();
  obs.rolesComputed = computeRoles(hrr, roles, task.roles, cfg.roleSeed);
  const roleSource = tableRoleSource(roles, task.roles);
  const ctx: ExecContext = {
    cfg, hrr, roles, graphs, knobs, obs, roleSource, nowMs: task.nowMs, itemIndex: 0,
    encode: (text) => memory.encode(text, () => encodeWith(hrr, roleSource, text), obs),
  };
  if (task.kind === 'memory') {
    // Tenants that cannot be loaded (e.g. Redis unreachable: `unavailable`) fail the batch's items, not the thread.
    try { await memory.prepare(task.items); } catch (e) { const o = toOutcome(e); return { outcomes: task.items.map(() => o), obs }; }
  }
  const outcomes = runItems(ctx, task.items, HANDLERS, task.kind === 'memory' ? (item, seconds) => memory.account(item, seconds) : undefined);
  if (task.kind === 'memory' && other) {
    for (const it of task.items) {
      if (it.op === 'recall' && typeof it.params.text === 'string') {
        recentQueries.push({ tenant: it.params.tenant as string, text: it.params.text, k: it.params.k as number });
        if (recentQueries.length > 64) recentQueries.shift();
      }
    }
  }
  // Memory writes are acknowledged only once durable: one commit for the whole batch (and,
  // during a rollout, the same writes at the other D).
  await Promise.all([
    memory.commit(ctx, outcomes),
    task.kind === 'memory' && other ? mirror(other, cfg, knobs, roles, task.items, outcomes, task.nowMs) : undefined,
  ]);
  return { outcomes, obs };
}

export default async function handle(task: Task): Promise<unknown> {
  switch (task.type) {
    case 'batch': {
      const r = await runBatch(task);
      return withTransfer(r, transferables(r.outcomes.map((o) => (o.ok ? o.result : null))));
    }
    case 'init': {
      loadWasm(); // the Sinkhorn and heat loops (AssemblyScript, WASM SIMD): load now, report why not
      const w = wasmStatus();
      const info: WorkerInfo = {
        engine: hrr.engine.name, layout: hrr.engine.layout, fallbackReason: choice.fallbackReason, threadId,
        kernels: w.loaded ? 'wasm' : `js (${w.reason ?? 'unavailable'})`,
        outputCheck: hrr.engine.name === 'pffft' ? pffftFiniteCheck() : 'js (fft.js engine)',
        slabPages: hugePages.advised ? `2 MiB (transparent huge pages advised; kernel mode ${hugePages.mode})` : `4 KiB (${hugePages.reason})`,
      };
      return info;
    }
    case 'roles.compute':
      return computeRoles(hrr, roles, task.roles, cfg.roleSeed);
    case 'pin': {
      // System prompts (seed §5 step 3): encoded once and pinned in the embedding cache.
      computeRoles(hrr, roles, task.roles, cfg.roleSeed);
      const source = tableRoleSource(roles, task.roles);
      for (const text of task.texts) memory.pin(text, encodeWith(hrr, source, text));
      return task.texts.length;
    }
    case 'load':
      return memory.load();
    case 'recent':
      return memory.recent(task.limit);
    case 'prefetch':
      return memory.prefetch(task.tenants);
    case 'roles.check':
      return checkRoles(hrr, roles, task.items, cfg.roleSeed);
    case 'status':
      return {
        threadId, ...memory.stats(), graphs: graphs.size,
        // during a rollout: the other D's room (its held bytes and its part of the budget)
        ...(other ? { otherDim: other.D, otherHeldBytes: other.memory.stats().heldBytes, otherBudgetBytes: other.memory.stats().budgetBytes } : {}),
      };
    case 'dimension.open':
      if (!other || other.D !== task.store.D) {
        if (other) await other.memory.close();
        other = await openDim(cfg, task.store);
      }
      await splitBudget();
      return { engine: other.engineName, layout: other.layout };
    case 'dimension.rebuild': {
      const o = checkOther(other);
      return afterMemory(() => rebuildChunk(served, o, task.tenant, task.cursor, task.budgetMs));
    }
    case 'dimension.count':
      return Promise.all(task.tenants.map((t) => memory.store.countTenant!(t)));
    case 'dimension.unmovable':
      return unmovableReport(checkOther(other));
    case 'dimension.measure': {
      const o = checkOther(other);
      return afterMemory(() => measure(served, o, task.tenants, recentQueries, task.maxRecords, task.maxItems));
    }
    case 'dimension.swap': {
      // The main thread holds every batch back while this runs (the switch barrier), and memory
      // work already queued here finishes first.
      const o = checkOther(other);
      return afterMemory(async () => {
        const old = served;
        served = o;
        other = old;
        other.unmovable.clear(); // it held every item until now
        hrr = served.hrr;
        memory = served.memory;
        roles = new RoleTableView(task.roleTable);
        HANDLERS = handlersOf(memory);
        recentQueries.length = 0;
        return { D: served.D };
      });
    }
    case 'dimension.drop': {
      const o = other;
      if (!o) return false;
      return afterMemory(async () => {
        other = undefined;
        await o.memory.close();
        served.memory.setBudget(workerBudgetBytes(cfg)); // the whole share again
        return true;
      });
    }
    case 'close':
      await memory.close();
      if (other) await other.memory.close();
      return true;
    default:
      throw new Error(`unknown task type ${(task as { type: string }).type}`);
  }
}
