/**
 * Message shapes between the main thread and the shard workers (Piscina tasks). Typed arrays
 * inside travel on SharedArrayBuffers: structured clone shares them instead of copying.
 */
import type { Budget, ErrorCode } from '../errors.js';
import type { RoleRef } from '../roles/table.js';
import type { Knobs } from '../knobs/table.js';
import type { Cursor, DimStore } from '../dimension/state.js';

export type { Knobs };

/** One request inside a batch. */
export interface TaskItem {
  op: string;
  params: Record<string, unknown>;
  /**
   * Ops in OUT_OPS: a pooled shared D-vector slot (protocol/arena.ts) the worker writes the
   * result into, so neither side allocates an ArrayBuffer per request. Absent: the worker
   * allocates (and transfers) as before.
   */
  out?: Float32Array;
}

/** Ops whose result is one D-vector that the worker can write into TaskItem.out. */
export const OUT_OPS: ReadonlySet<string> = new Set(['bind', 'unbind']);

export interface BatchTask {
  type: 'batch';
  kind: string;
  items: TaskItem[];
  /** roles the items name, by token; compute = true where the worker must build the slot */
  roles: RoleRef[];
  /** wall clock at dispatch, ms (memory timestamps come from here, so a batch sees one time) */
  nowMs: number;
  /**
   * The live knobs' version at dispatch, and their values when this worker has not been sent
   * that version yet (a structured clone of them costs ~15 µs, so they travel once per change).
   * The worker takes them as the task arrives: every batch runs under one consistent set.
   */
  knobsVersion: number;
  knobs?: Knobs;
}

/** Start-up and drills; answered with WorkerInfo or a count. */
export type ControlTask =
  | { type: 'init' }
  | { type: 'roles.compute'; roles: RoleRef[] }
  | { type: 'pin'; texts: string[]; roles: RoleRef[] }
  | { type: 'prefetch'; tenants: string[] }
  | { type: 'recent'; limit: number }
  | { type: 'load' }
  | { type: 'status' }
  | { type: 'roles.check'; items: { token: string; slot?: number; data?: Float32Array }[] }
  | { type: 'close' }
  // the rolling dimension increase (src/dimension/, worker/dimension.ts)
  | { type: 'dimension.open'; store: DimStore }
  | { type: 'dimension.rebuild'; tenant: string; cursor: Cursor; budgetMs: number }
  | { type: 'dimension.count'; tenants: string[] }
  | { type: 'dimension.unmovable' }
  | { type: 'dimension.measure'; tenants: string[]; maxRecords: number; maxItems: number }
  | { type: 'dimension.swap'; roleTable: SharedArrayBuffer }
  | { type: 'dimension.drop' };

export type Task = BatchTask | ControlTask;

export type Outcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; code: ErrorCode; message: string; budget?: Budget };

/** One exact or wiener unbind, as the eps signal sees it (docs/OPERATIONS.md, unbind_eps_used). */
export interface UnbindObs {
  mode: 'exact' | 'wiener';
  /** λ / P̄ (P̄ = mean |B_k|² = ‖b‖²) when at least one bin was floored, else 0 (the floor did not bite) */
  epsRel: number;
  /** bins with |B_k|² < λ over the D/2 + 1 bins */
  flooredRatio: number;
}

/** Numbers a batch observed, for the main thread's metrics (workers do not own a registry). */
export interface BatchObs {
  /** stored graphs dropped to keep graphBytesPerWorker (issue #9) */
  graphEvictions: number;
  unbinds: UnbindObs[];
  /** wall time each item's handler ran on the worker thread, seconds (index = item) */
  itemSeconds: number[];
  rolesComputed: number;
  cleanupScore: number[];
  recallMargin: number[];
  utilization: number[];
  saturation: number[];
  evictions: number;
  embeddingHits: number;
  embeddingMisses: number;
  recallCacheHits: number;
  recallCacheMisses: number;
  commitSeconds: number[];
  /** tenant memory held by this worker after the batch (memoryBudgetBytes), keyed by its thread */
  tenantBytes?: { thread: number; bytes: number };
  /** tenants unloaded (LRU, past the budget) and loaded from the store during the batch */
  tenantUnloads: number;
  tenantLoads: number;
}

export interface BatchResult {
  outcomes: Outcome[];
  obs: BatchObs;
}

export interface WorkerInfo {
  engine: string;
  layout: string;
  fallbackReason?: string;
  threadId: number;
  /** Sinkhorn and heat loops: 'wasm', or 'js (why)' */
  kernels: string;
  /** how the FFT engine checks its results are finite: 'wasm' (finite.wasm, PFFFT), else 'js …' */
  outputCheck: string;
  /** the tenant slabs' pages: '2 MiB (…)' when advised for huge pages, else '4 KiB (why)' */
  slabPages: string;
}

/** What a worker holds, per tenant (answer to the 'load' control task; tenant names stay in drills). */
export interface TenantLoad {
  tenant: string;
  items: number;
  anchors: number;
  /** vectors held in memory: (items + anchors) · D · 4 */
  bytes: number;
  /** requests this worker ran for the tenant since it was loaded */
  requests: number;
  /** seconds this worker spent in the tenant's recall handlers since it was loaded */
  recallSeconds: number;
}

export function emptyObs(): BatchObs {
  return {
    graphEvictions: 0,
    unbinds: [], itemSeconds: [], rolesComputed: 0, cleanupScore: [], recallMargin: [], utilization: [], saturation: [],
    evictions: 0, embeddingHits: 0, embeddingMisses: 0, recallCacheHits: 0, recallCacheMisses: 0, commitSeconds: [],
    tenantUnloads: 0, tenantLoads: 0,
  };
}
