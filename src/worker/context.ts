/**
 * What one shard worker holds: its HRR engine, the shared role table, its graphs, the live
 * knobs, and (memory.ts) its tenants. Built once per worker thread; handlers receive it.
 */
import { HoloError } from '../errors.js';
import type { RoleSource } from '../kernels/hrr/encode.js';
import type { Hrr } from '../kernels/hrr/hrr.js';
import { role, roleSpectrum } from '../kernels/hrr/role.js';
import type { Graph } from '../kernels/graph/csr.js';
import type { BatchObs, Knobs } from '../pool/messages.js';
import type { RoleRef, RoleTableView } from '../roles/table.js';
import type { Config } from '../config.js';

export interface ExecContext {
  cfg: Config;
  hrr: Hrr;
  roles: RoleTableView;
  graphs: Map<string, Graph>; // insertion order = LRU order
  knobs: Knobs;
  obs: BatchObs;
  /** roles of the current batch, by token */
  roleSource: RoleSource;
  nowMs: number;
  /** index of the item being handled within its batch */
  itemIndex: number;
  /** the item's result slot (TaskItem.out), when the main thread gave one */
  out?: Float32Array;
  /** encode(text) for this batch's roles, through the worker's embedding cache */
  encode(text: string): Float32Array;
}

/** Builds the roles a batch needs that are not in the table yet, and publishes them. */
export function computeRoles(hrr: Hrr, view: RoleTableView, refs: readonly RoleRef[], seed: number): number {
  let n = 0;
  for (const r of refs) {
    if (view.isReady(r.slot)) continue;
    const v = role(r.token, hrr.D, seed);
    view.vector(r.slot).set(v);
    roleSpectrum(hrr, v, view.spectrum(r.slot));
    view.publish(r.slot);
    n++;
  }
  return n;
}

/** A RoleSource over the table for one batch's token → slot map. */
export function tableRoleSource(view: RoleTableView, refs: readonly RoleRef[]): RoleSource {
  const slots = new Map<string, number>();
  for (const r of refs) slots.set(r.token, r.slot);
  const slot = (t: string) => {
    const s = slots.get(t);
    if (s === undefined) throw new HoloError('internal', `role '${t}' was not resolved for this batch`);
    return s;
  };
  // One spectrum view per role for the batch: bindSpectrum's sameSpectrum test is by identity.
  const spectra = new Map<string, Float32Array>();
  return {
    vector: (t) => view.vector(slot(t)),
    spectrum: (t) => {
      let s = spectra.get(t);
      if (!s) spectra.set(t, (s = view.spectrum(slot(t))));
      return s;
    },
  };
}
