/** What a drill (src/server/drills/<scenario>.ts, run by the admin op `drill`) can use. */
import type { Dispatcher } from '../../batch/dispatcher.js';
import type { Config } from '../../config.js';
import type { LiveKnobs } from '../../knobs/live.js';
import type { LoadRow } from '../../metrics/load.js';
import type { Metrics } from '../../metrics/registry.js';
import type { ShardPool } from '../../pool/pool.js';
import type { RoleFileMeta } from '../../roles/file.js';
import type { RoleTable } from '../../roles/table.js';

export interface DrillDeps {
  cfg: Config;
  pool: ShardPool;
  roles: RoleTable;
  dispatcher: Dispatcher;
  live: LiveKnobs;
  meta: RoleFileMeta;
  /** computes the missing prewarm roles (main.ts owns the prewarm); resolves to how many */
  prewarm: () => Promise<number>;
  metrics: Metrics;
  /** every tenant loaded, with its worker and shard (metrics/load.ts) */
  load: () => Promise<LoadRow[]>;
}

/** Every report has its scenario and pass, plus its numbers. */
export interface DrillReport { scenario: string; pass: boolean; [k: string]: unknown }

export type Drill = (d: DrillDeps, params: Record<string, unknown>) => Promise<DrillReport>;
