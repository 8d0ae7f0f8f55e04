/**
 * Admin ops, answered by the main thread (setting adminOps; off by default):
 *   knobs {set?}        read or change the live knobs in every worker, no restart (SEED §6)
 *   drill {scenario}    the seed's failure drills (SEED §12), run for real:
 *     worker-crash            a shard worker exits mid-batch; its requests fail `internal`
 *                             and Piscina starts a replacement (answers with the error)
 *     role-cache-corruption   purge the role table and file, recompute the prewarm roles,
 *                             verify a sample bit for bit against fresh computations
 *     elevated-epsilon        bind/unbind diagnostic on synthetic orthogonal vectors
 *     recall-latency-spike    turn the HRR-first rerank off and name the hot shards
 *                             (drills/recall-latency-spike.ts)
 *   dimension {action, …}  the rolling dimension increase (src/dimension/controller.ts)
 */
import { HoloError } from '../errors.js';
import type { Dispatcher } from '../batch/dispatcher.js';
import type { Knobs } from '../pool/messages.js';
import type { ShardPool } from '../pool/pool.js';
import type { RoleTable } from '../roles/table.js';
import type { Parsed } from '../protocol/ops.js';
import type { LoadRow } from '../metrics/load.js';
import type { Metrics } from '../metrics/registry.js';
import { recallLatencySpike } from './drills/recall-latency-spike.js';
import type { DimensionController } from '../dimension/controller.js';

export interface AdminDeps {
  enabled: boolean;
  pool: ShardPool;
  roles: RoleTable;
  dispatcher: Dispatcher;
  knobs: Knobs;
  metrics: Metrics;
  /** every tenant loaded, with its worker and shard */
  load: () => Promise<LoadRow[]>;
  shards: number;
  /** recompute + verify the prewarm roles (main.ts owns the prewarm) */
  rebuildRoles: () => Promise<{ purged: number; computed: number; verified: number }>;
  dimension?: DimensionController;
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
  if (p.op === 'dimension') {
    if (!d.dimension) throw new HoloError('unavailable', 'the dimension controller is not running');
    return d.dimension.handle(p.params);
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
      return recallLatencySpike(d, (p.params.windowMs as number | undefined) ?? 2000);
    default:
      throw new HoloError('bad_request', `unknown drill '${scenario}'`);
  }
}
