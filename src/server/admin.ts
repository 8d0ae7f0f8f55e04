/**
 * Admin ops, answered by the main thread (setting adminOps; off by default):
 *   knobs {set?}        read or change the live knobs in every worker, no restart (SEED §6)
 *   drill {scenario}    the seed's failure drills (SEED §12), run for real:
 *     worker-crash            a shard worker exits mid-batch; its requests fail `internal`
 *                             and Piscina starts a replacement (answers with the error)
 *     role-cache-corruption   purge the role table and file, recompute the prewarm roles,
 *                             verify a sample bit for bit against fresh computations
 *     elevated-epsilon        bind/unbind diagnostic on synthetic orthogonal vectors
 *     recall-latency-spike    turn the HRR-first rerank off (the seed's first response)
 */
import { HoloError } from '../errors.js';
import type { Dispatcher } from '../batch/dispatcher.js';
import type { Knobs } from '../pool/messages.js';
import type { ShardPool } from '../pool/pool.js';
import type { RoleTable } from '../roles/table.js';
import type { Parsed } from '../protocol/ops.js';

/** The ops answered here; `hello` lists them only when adminOps is on. */
export const ADMIN_OPS: readonly string[] = ['knobs', 'drill'];

export interface AdminDeps {
  enabled: boolean;
  pool: ShardPool;
  roles: RoleTable;
  dispatcher: Dispatcher;
  knobs: Knobs;
  /** recompute + verify the prewarm roles (main.ts owns the prewarm) */
  rebuildRoles: () => Promise<{ purged: number; computed: number; verified: number }>;
}

export async function admin(d: AdminDeps, p: Parsed): Promise<Record<string, unknown>> {
  if (!d.enabled) throw new HoloError('unauthorized', `op '${p.op}' needs the adminOps setting`);
  if (p.op === 'knobs') {
    const set = p.params.set as Partial<Knobs> | undefined;
    if (set && Object.keys(set).length > 0) {
      Object.assign(d.knobs, set);
      d.dispatcher.knobsChanged();
      await d.pool.broadcast({ type: 'knobs', knobs: set });
    }
    return { knobs: { ...d.knobs } };
  }
  const scenario = p.params.scenario as string;
  switch (scenario) {
    case 'worker-crash': {
      const w = ((p.params.worker as number | undefined) ?? 0) % d.pool.size;
      const o = await d.dispatcher.submitTo(w, { op: 'drill.crash', kind: 'hrr', route: 'any', params: {} });
      const restarts = d.pool.restarts;
      return { scenario, worker: w, outcome: o.ok ? 'no crash' : o.code, message: o.ok ? '' : o.message, restarts };
    }
    case 'role-cache-corruption':
      return { scenario, ...(await d.rebuildRoles()) };
    case 'elevated-epsilon': {
      const o = await d.dispatcher.submitTo(0, { op: 'drill.epsilon', kind: 'hrr', route: 'any', params: {} });
      if (!o.ok) throw new HoloError(o.code, o.message);
      return { scenario, ...o.result };
    }
    case 'recall-latency-spike':
      d.knobs.rerank = false;
      d.dispatcher.knobsChanged();
      await d.pool.broadcast({ type: 'knobs', knobs: { rerank: false } });
      return { scenario, knobs: { ...d.knobs } };
    default:
      throw new HoloError('bad_request', `unknown drill '${scenario}'`);
  }
}
