/**
 * Which holoserve process serves which tenant, when several share one Redis (setting
 * advertiseUrl). Runs on the main thread, with its own Redis connection.
 *
 * Membership: each process joins the sorted set P m (member: its URL, score: a join number
 * from INCR P q, kept across restarts of the same URL) and refreshes its heartbeat key
 * P h URL (TTL 3 heartbeats) every `heartbeatMs`; at each beat it reads the members, keeps
 * those whose heartbeat exists (removing the others) and orders them by join number.
 *
 * Placement: owner(tenant) = live[jump(h(tenant), live.length)] (Lamping & Veach 2014, the
 * same jump hash as the shards, over a salted key so that it is independent of the shard a
 * tenant gets inside its process). A process that joins is the highest join number, i.e. the
 * new last bucket, so about 1/(n+1) of the tenants move to it and no others move. A process
 * that leaves removes its bucket; its tenants move, and with it in the middle of the order
 * some others too.
 *
 * The view may lag by a heartbeat: two processes can briefly disagree. That is safe, because
 * serving a tenant needs its lease (store/redis.ts): the loser of a disagreement answers
 * `unavailable` (retry) until the views agree.
 */
import type { Redis } from 'ioredis';
import { shardOf } from '../pool/shard.js';
import { redisClient } from '../store/redis.js';
import { log } from '../log.js';

export interface Membership {
  /** Live members, oldest join first (this process included once joined). */
  readonly live: readonly string[];
  /** The URL of the process that serves `tenant` (this process's own URL when it is us). */
  owner(tenant: string): string;
  /** Reads the members now (also done at every heartbeat). */
  refresh(): Promise<void>;
  /** Leaves (the tenants move at once) and closes the connection. */
  leave(): Promise<void>;
}

export interface MembershipOptions {
  url: string;
  prefix: string;
  self: string;
  heartbeatMs: number;
}

export async function joinCluster(o: MembershipOptions): Promise<Membership> {
  const client: Redis = redisClient(o.url, 'holoserve-membership');
  await client.connect();
  const membersKey = o.prefix + 'm';
  const seqKey = o.prefix + 'q';
  const hb = (u: string) => o.prefix + 'h' + u;
  const ttl = String(3 * o.heartbeatMs);
  let live: string[] = [o.self];
  let stopped = false;

  const beat = async () => {
    const score = await client.zscore(membersKey, o.self);
    if (score === null) await client.zadd(membersKey, 'NX', String(await client.incr(seqKey)), o.self);
    await client.set(hb(o.self), '1', 'PX', ttl);
  };
  const refresh = async () => {
    const members = await client.zrange(membersKey, 0, -1); // by join number
    if (members.length === 0) return;
    const alive = await client.mget(...members.map(hb));
    const next = members.filter((_, i) => alive[i] !== null);
    const dead = members.filter((_, i) => alive[i] === null && members[i] !== o.self);
    if (dead.length > 0) await client.zrem(membersKey, ...dead);
    if (next.join('\n') !== live.join('\n')) log.info({ members: next }, `members: ${next.length} live (${next.join(', ')})`);
    live = next.length > 0 ? next : [o.self];
  };
  await beat();
  await refresh();
  const timer = setInterval(() => {
    if (stopped) return;
    beat().then(refresh).catch(() => { /* Redis unreachable: keep the last view; leases keep it safe */ });
  }, o.heartbeatMs);
  timer.unref();

  return {
    get live() { return live; },
    owner: (tenant) => live[shardOf(`holoserve-owner\0${tenant}`, live.length)],
    refresh,
    async leave() {
      stopped = true;
      clearInterval(timer);
      try {
        await client.zrem(membersKey, o.self);
        await client.del(hb(o.self));
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
