/**
 * Admin ops, answered by the main thread (setting adminOps; off by default):
 *   knobs {set?, reload?}  read the live knobs and the truth budget; change knobs (validated
 *                          all at once, src/knobs/live.ts) or reload them from the config file
 *   status                 readiness, workers, tenants loaded, caches, truth-budget use
 *   drill {scenario}       the seed's failure drills (SEED §12), run for real; every report has
 *                          `scenario` and `pass` (src/server/drills/):
 *     worker-crash            a shard worker exits mid-batch; its requests fail `internal`
 *                             and Piscina starts a replacement
 *     role-cache-corruption   verify every role (table and file), purge, rebuild, check invariants
 *     elevated-epsilon        bind/unbind diagnostic at the live knobs against the budget
 *     recall-latency-spike    turn the HRR-first rerank off and name the hot shards
 *                             (drills/recall-latency-spike.ts)
 *   dimension {action, …}  the rolling dimension increase (src/dimension/controller.ts)
 */
import { HoloError } from '../errors.js';
import type { DrillScenario, Parsed } from '../protocol/ops.js';
import type { Drill, DrillDeps, DrillReport } from './drills/drill.js';
import { elevatedEpsilon } from './drills/elevated-epsilon.js';
import { recallLatencySpike } from './drills/recall-latency-spike.js';
import { roleCacheCorruption } from './drills/role-cache-corruption.js';
import type { DimensionController } from '../dimension/controller.js';

/** The ops answered here; `hello` lists them only when adminOps is on. */
export const ADMIN_OPS: readonly string[] = ['knobs', 'status', 'drill', 'dimension'];

export interface AdminDeps extends DrillDeps {
  enabled: boolean;
  /** re-reads the config file (as SIGHUP does); resolves to what changed */
  reload: (who: string) => Promise<Record<string, unknown>>;
  status: () => Promise<Record<string, unknown>>;
  dimension?: DimensionController;
}

const workerCrash: Drill = async (d, params) => {
  const w = ((params.worker as number | undefined) ?? 0) % d.pool.size;
  const o = await d.dispatcher.submitTo(w, { op: 'drill.crash', kind: 'hrr', route: 'any', params: {} });
  const restarts = d.pool.restarts;
  return { scenario: 'worker-crash', pass: !o.ok && restarts > 0, worker: w, outcome: o.ok ? 'no crash' : o.code, message: o.ok ? '' : o.message, restarts };
};

export const DRILLS: Record<DrillScenario, Drill> = {
  'worker-crash': workerCrash,
  'role-cache-corruption': roleCacheCorruption,
  'elevated-epsilon': elevatedEpsilon,
  'recall-latency-spike': recallLatencySpike,
};

export async function admin(d: AdminDeps, p: Parsed): Promise<Record<string, unknown>> {
  if (!d.enabled) throw new HoloError('unauthorized', `op '${p.op}' needs the adminOps setting`);
  switch (p.op) {
    case 'knobs': {
      let changed: unknown[] = [];
      let reloaded: Record<string, unknown> | undefined;
      if (p.params.reload === true) reloaded = await d.reload('knobs op (reload)');
      const set = p.params.set as Record<string, unknown> | undefined;
      if (set && Object.keys(set).length > 0) changed = d.live.set(set, 'knobs op');
      return { ...d.live.describe(), changed, ...(reloaded ? { reloaded } : {}) };
    }
    case 'status':
      return d.status();
    case 'dimension':
      if (!d.dimension) throw new HoloError('unavailable', 'the dimension controller is not running');
      return d.dimension.handle(p.params);
    default: {
      const drill = DRILLS[p.params.scenario as DrillScenario]; // ops.ts checked the name
      const report: DrillReport = await drill(d, p.params);
      return report;
    }
  }
}
