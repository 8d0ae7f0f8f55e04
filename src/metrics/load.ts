/**
 * What the workers hold, tenant by tenant, with each tenant's worker and shard: read on demand
 * (a 'load' control task to every worker) by the scrape-time gauges and the recall-latency-spike
 * drill. Tenant names never become metric labels; the registry sums these rows per worker and
 * per shard.
 */
import type { TenantLoad } from '../pool/messages.js';
import type { ShardPool } from '../pool/pool.js';
import type { ShardMap } from '../pool/shard.js';

export interface LoadRow extends TenantLoad {
  worker: number;
  shard: number;
}

export async function tenantLoad(pool: ShardPool, shards: ShardMap): Promise<LoadRow[]> {
  const perWorker = await pool.broadcast<TenantLoad[]>({ type: 'load' });
  return perWorker.flatMap((rows, worker) => rows.map((r) => ({ ...r, worker, shard: shards.shard(r.tenant) })));
}
