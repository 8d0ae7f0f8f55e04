/**
 * The Store on Redis (ioredis 5): many holoserve pods share one Redis; a pod keeps no state of
 * its own. Same contract as lmdb.ts: `commit` applies a batch's writes as ONE transaction and
 * resolves only once Redis has them durably.
 *
 * Durability. Redis acknowledges EXEC after the transaction is in its append-only file; with
 * `appendonly yes` + `appendfsync always` it has also fsynced that file first (redis.io,
 * "Redis persistence": "fsync every time new commands are appended to the AOF"), so an
 * acknowledged write survives a crash or power loss of the Redis machine, as an LMDB commit
 * does. `checkRedisServer` reads the server's configuration at start and again after every
 * reconnect, and refuses to serve (commits and loads fail `unavailable`) when it cannot give
 * that promise, unless `allowWithoutFsync` (then it only warns). With `waitReplicas` = n > 0,
 * each commit is followed by `WAIT n timeout` in the same round trip and acknowledged only
 * when n replicas have the write in memory: it survives the loss of the primary (after a
 * failover to such a replica), not a simultaneous loss of all of them. (WAITAOF, which waits
 * for replicas' fsync, needs Redis 7.2; Debian 12 ships 7.0.)
 *
 * Eviction. Under `maxmemory` any policy but `noeviction` lets Redis drop keys, i.e.
 * acknowledged memory, silently: refused unless `allowEviction`. With `noeviction` a full
 * Redis answers writes with OOM and the commit fails `unavailable` (nothing applied).
 *
 * One round trip per commit: MULTI, the writes, EXEC (and WAIT) written as one pipeline.
 * Keys (binary; P = prefix, which ends in its only ':' so that it is recoverable from any key
 * and two prefixes never share a key; T = tenant UTF-8):
 *
 *   P | 'i' | T   hash   item key (UTF-8) → item record (records.ts), vector as binary string
 *   P | 'a' | T   hash   anchor name → anchor record
 *   P | 'r'       zset   tenant → atMs of its last touch (recentTenants: ZREVRANGE; ties in
 *                        reverse byte order, as LMDB's reverse range scan gives them)
 *
 * Ownership (option `owner`, set from advertiseUrl): several processes share the Redis and
 * each tenant is served by one of them. `loadTenant` first takes the tenant's lease (a fencing
 * token, redis-scripts.ts) in the same round trip as the reads; `commit` is then one Lua script
 * that writes only while every written tenant's lease still holds the token loaded with (a
 * paused or partitioned old owner cannot commit after losing it); `hold` renews a lease before
 * a loaded tenant is used again and says when it was lost (the caller reloads). Leases of a
 * process whose heartbeat is gone are taken over at once; `close` releases its leases.
 *
 * Not for Redis Cluster: one commit may name several tenants and the recency set, which would
 * be several hash slots in one MULTI. A primary with replicas (Sentinel or a managed failover)
 * is the supported shape.
 *
 * Errors. Every failure to reach Redis or to have it apply a commit (connection refused or
 * lost, timeout, LOADING, OOM, READONLY, too few replicas) is `unavailable`: retryable, and
 * the write was not acknowledged (it may or may not have been applied). The offline queue is
 * off, so requests in the gap fail at once instead of piling up. The store reconnects on
 * demand, at the next call after the connection was lost, not on a timer: it lives in a shard
 * worker, which Piscina parks in Atomics.wait between tasks (`atomics: 'sync'`), so a timer
 * there (ioredis's own reconnect backoff) does not run while the worker is idle.
 */
import { Redis } from 'ioredis';
import { HoloError } from '../errors.js';
import { checkName, MAX_TENANT_BYTES, type AnchorRecord, type ItemRecord, type Store, type Write } from './store.js';
import { checkWrite, decodeAnchor, decodeItem, encodeAnchor, encodeItem } from './records.js';
import { ACQUIRE, COMMIT, RELEASE } from './redis-scripts.js';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL */
  url: string;
  /** Key namespace, e.g. 'holoserve:' (see the key table above). */
  prefix: string;
  /** Serve even if maxmemory-policy is not noeviction (warn instead of refusing). */
  allowEviction: boolean;
  /** Serve even without appendonly yes + appendfsync always (warn instead of refusing). */
  allowWithoutFsync: boolean;
  /** Replicas that must acknowledge each commit (WAIT), 0 for none. */
  waitReplicas: number;
  waitTimeoutMs: number;
  /** Told each distinct warning once (allowed but not durable configurations). */
  onWarning?: (message: string) => void;
  /** This process's URL: take tenant leases as it (ownership on); undefined: no leases. */
  owner?: string;
  /** Lease time to live past the last load, commit or hold, ms. */
  leaseTtlMs?: number;
}

/** A command that has not answered in this long fails (e.g. a SIGSTOPped Redis), ms. */
const COMMAND_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A kept ioredis client with holoserve's settings: no offline queue, no resend; reconnects by
 * itself (backoff ≤ 2 s) only with `autoReconnect` (a thread whose event loop always runs).
 */
export function redisClient(url: string, name: string, commandTimeoutMs = COMMAND_TIMEOUT_MS, autoReconnect = true): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: true, // after a restart, 'ready' only once the AOF is loaded
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: commandTimeoutMs,
    connectionName: name,
    retryStrategy: (times) => (autoReconnect ? Math.min(100 * times, 2000) : null),
  });
  client.on('error', () => { /* each failed command reports it; reconnecting is ioredis's job */ });
  return client;
}

/** host:port of a Redis URL, without credentials (for messages). */
export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'redis';
  }
}

export interface RedisCheck {
  /** Reasons the durability promise does not hold (empty: it holds). */
  fsync: string[];
  eviction: string[];
}

/**
 * Reads appendonly, appendfsync and maxmemory-policy with CONFIG GET (one round trip).
 * A server that refuses CONFIG (some managed offerings rename it) cannot be verified: that
 * counts as a problem of both kinds, which the allow* settings can accept.
 */
export async function inspectRedis(client: Redis): Promise<RedisCheck> {
  const res = await client.pipeline([
    ['config', 'get', 'appendonly'], ['config', 'get', 'appendfsync'], ['config', 'get', 'maxmemory-policy'],
  ]).exec();
  const value = (i: number): string | undefined => {
    const [err, pair] = res![i];
    if (err) return undefined;
    return Array.isArray(pair) && pair.length >= 2 ? String(pair[1]) : undefined;
  };
  const [aof, fsync, policy] = [value(0), value(1), value(2)];
  const out: RedisCheck = { fsync: [], eviction: [] };
  if (aof === undefined || fsync === undefined) {
    out.fsync.push(`CONFIG GET appendonly/appendfsync was refused (${String(res![0][0] ?? res![1][0])}), so holoserve cannot verify that Redis fsyncs every write`);
  } else if (aof !== 'yes' || fsync !== 'always') {
    out.fsync.push(`Redis runs appendonly=${aof}, appendfsync=${fsync}: a write it acknowledged could be lost in a crash (needs appendonly yes and appendfsync always)`);
  }
  if (policy === undefined) {
    out.eviction.push(`CONFIG GET maxmemory-policy was refused (${String(res![2][0])}), so holoserve cannot verify that Redis never evicts`);
  } else if (policy !== 'noeviction') {
    out.eviction.push(`Redis maxmemory-policy is ${policy}: at maxmemory it would silently drop keys, i.e. acknowledged memory (needs noeviction)`);
  }
  return out;
}

/**
 * The start-up (and reconnect) check: resolves with the warnings of allowed problems, rejects
 * HoloError unavailable naming every refused one and the setting that would allow it.
 */
export async function checkRedisServer(client: Redis, opts: Pick<RedisStoreOptions, 'url' | 'allowEviction' | 'allowWithoutFsync'>): Promise<string[]> {
  const c = await inspectRedis(client);
  const refused: string[] = [];
  const warnings: string[] = [];
  for (const m of c.fsync) (opts.allowWithoutFsync ? warnings : refused).push(opts.allowWithoutFsync ? `${m}; allowed by allowRedisWithoutFsync` : `${m}; set them (redis.conf or CONFIG SET), or set allowRedisWithoutFsync to accept the risk`);
  for (const m of c.eviction) (opts.allowEviction ? warnings : refused).push(opts.allowEviction ? `${m}; allowed by allowRedisEviction` : `${m}; set maxmemory-policy noeviction, or set allowRedisEviction to accept the risk`);
  if (refused.length > 0) throw new HoloError('unavailable', `Redis at ${redisWhere(opts.url)} cannot keep acknowledged writes: ${refused.join('; ')}`);
  return warnings;
}

/**
 * Connects, checks the server (see checkRedisServer) and returns the Store.
 * @throws HoloError unavailable: Redis unreachable, or its configuration refused.
 */
export async function openRedisStore(opts: RedisStoreOptions): Promise<Store> {
  const client = redisClient(opts.url, 'holoserve-store', Math.max(COMMAND_TIMEOUT_MS, opts.waitTimeoutMs + 5_000), false);
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new HoloError('unavailable', `cannot reach Redis at ${redisWhere(opts.url)}: ${(e as Error).message}`);
  }
  const store = new RedisStore(client, opts);
  try {
    await store.verified;
  } catch (e) {
    client.disconnect();
    throw e;
  }
  return store;
}

class RedisStore implements Store {
  /** Resolves once the server in use has passed checkRedisServer; replaced at each reconnect. */
  verified: Promise<void>;
  /** When the last check failed (0: it passed): a failed check is retried at most once a second. */
  private verifyFailedAt = 0;
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly warned = new Set<string>();
  private readonly prefix: Buffer;
  private readonly recencyKey: Buffer;
  /** Ownership: the token held per loaded tenant and until when (local clock) it surely holds. */
  private readonly leases = new Map<string, { token: string; until: number }>();
  private readonly leaseTtlMs: number;

  constructor(private readonly client: Redis, private readonly opts: RedisStoreOptions) {
    this.prefix = Buffer.from(opts.prefix, 'utf8');
    this.recencyKey = Buffer.concat([this.prefix, Buffer.from('r')]);
    this.leaseTtlMs = opts.leaseTtlMs ?? 5000;
    this.verified = this.verify();
    // A restarted (or failed-over) Redis may come back configured differently: check again
    // before anything else is committed to it.
    client.on('ready', () => { this.verified = this.verify(); });
  }

  private verify(): Promise<void> {
    this.verifyFailedAt = 0;
    const p = checkRedisServer(this.client, this.opts).then((warnings) => {
      for (const w of warnings) if (!this.warned.has(w)) { this.warned.add(w); this.opts.onWarning?.(w); }
    }, (e: unknown) => {
      this.verifyFailedAt = Date.now();
      throw storeError(e, 'configuration check');
    });
    p.catch(() => { /* reported to every caller that awaits it */ });
    return p;
  }

  /**
   * Connected (reconnecting now if the connection was lost) to a server that passed the check;
   * a failed check is retried at most once a second (an operator may have fixed it).
   */
  private async gate(): Promise<void> {
    const st = this.client.status;
    if (st === 'end' || st === 'close' || st === 'wait') {
      this.connecting ??= this.client.connect().finally(() => { this.connecting = undefined; });
    }
    if (this.connecting) {
      try {
        await this.connecting; // its 'ready' has started a new check
      } catch (e) {
        throw new HoloError('unavailable', `cannot reach Redis at ${redisWhere(this.opts.url)} (${(e as Error).message}): retry`);
      }
    }
    if (this.verifyFailedAt !== 0 && Date.now() - this.verifyFailedAt > 1000) this.verified = this.verify();
    return this.verified;
  }
  private connecting: Promise<void> | undefined;

  commit(writes: Write[]): Promise<void> {
    return this.track(async () => {
      // Encode (and so validate) everything first: a bad write rejects the commit, nothing is sent.
      const cmds: (string | Buffer)[][] = [['multi']];
      for (const w of writes) cmds.push(this.command(w));
      if (writes.length === 0) return;
      if (this.opts.owner !== undefined) return this.commitFenced(cmds.slice(1));
      cmds.push(['exec']);
      if (this.opts.waitReplicas > 0) cmds.push(['wait', String(this.opts.waitReplicas), String(this.opts.waitTimeoutMs)]);
      await this.gate();
      let res: [Error | null, unknown][] | null;
      try {
        res = await this.client.pipeline(cmds).exec();
      } catch (e) {
        throw storeError(e, 'commit');
      }
      if (!res) throw new HoloError('unavailable', 'Redis commit failed (no reply); the write was not acknowledged: retry');
      const failed = res.find(([err]) => err !== null);
      if (failed) throw storeError(failed[0], 'commit');
      const exec = res[writes.length + 1][1];
      if (!Array.isArray(exec)) throw new HoloError('unavailable', 'Redis discarded the transaction; the write was not acknowledged: retry');
      // EXEC does not roll back a command that fails at run time (only WRONGTYPE can, and only if
      // something else wrote under our prefix): that is not retryable.
      const bad = exec.find((r) => r instanceof Error) as Error | undefined;
      if (bad) throw new HoloError('internal', `Redis applied the transaction partially: ${bad.message} (is another program writing under prefix ${this.opts.prefix}?)`);
      if (this.opts.waitReplicas > 0) {
        const acked = Number(res[writes.length + 2][1]);
        if (acked < this.opts.waitReplicas) {
          throw new HoloError('unavailable', `only ${acked} of ${this.opts.waitReplicas} Redis replicas acknowledged the write within ${this.opts.waitTimeoutMs} ms; it was not acknowledged: retry`);
        }
      }
    });
  }

  loadTenant(tenant: string): Promise<{ items: ItemRecord[]; anchors: AnchorRecord[] }> {
    return this.track(async () => {
      checkName('tenant', tenant, MAX_TENANT_BYTES);
      await this.gate();
      let res: [Error | null, unknown][] | null;
      const t0 = Date.now();
      try {
        const p = this.client.pipeline();
        // Ownership: the lease first, the reads after it in the same round trip (Redis runs them
        // in order, so nothing another owner wrote can land in between).
        if (this.opts.owner !== undefined) p.eval(ACQUIRE, 2, this.key('l', tenant), this.key('e', tenant), this.opts.owner, String(this.leaseTtlMs), this.key('h', ''));
        res = await p.hgetallBuffer(this.key('i', tenant)).hgetallBuffer(this.key('a', tenant)).exec();
      } catch (e) {
        throw storeError(e, 'load');
      }
      if (res && this.opts.owner !== undefined) {
        const [err, token] = res.shift()!;
        const held = err?.message.match(/HELD (.*)$/);
        if (held) throw new HoloError('unavailable', `tenant is still held by ${held[1]} (its lease lasts at most ${this.leaseTtlMs} ms): retry`);
        if (!err) this.leases.set(tenant, { token: String(token), until: t0 + this.leaseTtlMs });
      }
      const failed = res?.find(([err]) => err !== null);
      if (!res || failed) throw storeError(failed?.[0] ?? new Error('no reply'), 'load');
      const items = sortedEntries(res[0][1] as Record<string, Buffer>).map(([k, v]) => decodeItem(k, v));
      const anchors = sortedEntries(res[1][1] as Record<string, Buffer>).map(([k, v]) => decodeAnchor(k, v));
      return { items, anchors };
    });
  }

  recentTenants(limit: number): Promise<string[]> {
    return this.track(async () => {
      if (!Number.isInteger(limit) || limit < 0) throw new HoloError('bad_request', `limit must be an integer ≥ 0, got ${limit}`);
      if (limit === 0) return [];
      await this.gate();
      try {
        return (await this.client.zrevrangeBuffer(this.recencyKey, 0, limit - 1)).map((b) => b.toString('utf8'));
      } catch (e) {
        throw storeError(e, 'read');
      }
    });
  }

  /**
   * Ownership: true if this process still holds the tenant's lease it loaded with (renewing it
   * when half its time is gone); false if it was lost, or never taken: reload the tenant.
   */
  hold(tenant: string): Promise<boolean> {
    return this.track(async () => {
      if (this.opts.owner === undefined) return true;
      const l = this.leases.get(tenant);
      if (!l) return false;
      const t0 = Date.now();
      if (t0 < l.until - this.leaseTtlMs / 2) return true;
      await this.gate();
      let token: unknown;
      try {
        token = await this.client.eval(ACQUIRE, 2, this.key('l', tenant), this.key('e', tenant), this.opts.owner, String(this.leaseTtlMs), this.key('h', ''));
      } catch (e) {
        if (/HELD /.test((e as Error).message)) { this.leases.delete(tenant); return false; }
        throw storeError(e, 'lease renewal');
      }
      if (String(token) !== l.token) { this.leases.delete(tenant); return false; }
      l.until = t0 + this.leaseTtlMs;
      return true;
    });
  }

  /** The writes (HSET/HDEL/ZADD commands) as one Lua script checking every lease's token. */
  private async commitFenced(cmds: (string | Buffer)[][]): Promise<void> {
    const tenants: string[] = [];
    const args: (string | Buffer)[] = [];
    for (const c of cmds) {
      if (c[0] === 'zadd') args.push('z', c[1], c[2], c[3]);
      else args.push(c[0] === 'hset' ? 'h' : 'd', ...c.slice(1));
    }
    for (const c of cmds) {
      const t = c[0] === 'zadd' ? String(c[3]) : (c[1] as Buffer).subarray(this.prefix.length + 1).toString('utf8');
      if (!tenants.includes(t)) tenants.push(t);
    }
    const tokens = tenants.map((t) => this.leases.get(t)?.token);
    const missing = tenants.find((_, i) => tokens[i] === undefined);
    if (missing !== undefined) throw new HoloError('unavailable', `this process does not hold tenant ${JSON.stringify(missing)}: not applied; retry`);
    const t0 = Date.now();
    await this.gate();
    const p = this.client.pipeline().eval(COMMIT, tenants.length, ...tenants.map((t) => this.key('l', t)), String(tenants.length), String(this.leaseTtlMs), ...(tokens as string[]), ...args);
    if (this.opts.waitReplicas > 0) p.wait(this.opts.waitReplicas, this.opts.waitTimeoutMs);
    let res: [Error | null, unknown][] | null;
    try {
      res = await p.exec();
    } catch (e) {
      throw storeError(e, 'commit');
    }
    if (!res) throw new HoloError('unavailable', 'Redis commit failed (no reply); the write was not acknowledged: retry');
    const fenced = res[0][0]?.message.match(/FENCED (\d+)/);
    if (fenced) {
      const t = tenants[Number(fenced[1]) - 1];
      this.leases.delete(t);
      throw new HoloError('unavailable', `the lease on tenant ${JSON.stringify(t)} was lost (another process owns it now): not applied; retry`);
    }
    if (res[0][0]) throw storeError(res[0][0], 'commit');
    for (const t of tenants) this.leases.get(t)!.until = t0 + this.leaseTtlMs;
    if (this.opts.waitReplicas > 0) {
      const acked = Number(res[1][1]);
      if (acked < this.opts.waitReplicas) {
        throw new HoloError('unavailable', `only ${acked} of ${this.opts.waitReplicas} Redis replicas acknowledged the write within ${this.opts.waitTimeoutMs} ms; it was not acknowledged: retry`);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    if (this.leases.size > 0 && this.client.status === 'ready') {
      // Hand the tenants over at once instead of after the TTL.
      const p = this.client.pipeline();
      for (const [t, l] of this.leases) p.eval(RELEASE, 1, this.key('l', t), l.token);
      await p.exec().catch(() => undefined);
      this.leases.clear();
    }
    this.client.removeAllListeners('ready');
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /** Runs f unless closed, and lets close() wait for it. */
  private track<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new HoloError('unavailable', 'store is closed'));
    const p = f();
    this.inflight.add(p);
    const done = () => { this.inflight.delete(p); };
    p.then(done, done);
    return p;
  }

  /** P | kind | name: items 'i', anchors 'a', lease 'l', lease epoch 'e' of a tenant; heartbeat 'h' of a url. */
  private key(kind: 'i' | 'a' | 'l' | 'e' | 'h', tenant: string): Buffer {
    return Buffer.concat([this.prefix, Buffer.from(kind), Buffer.from(tenant, 'utf8')]);
  }

  /** One write as a Redis command (validated and encoded here). */
  private command(w: Write): (string | Buffer)[] {
    checkWrite(w);
    switch (w.kind) {
      case 'item.put': return ['hset', this.key('i', w.tenant), w.item.key, encodeItem(w.item)];
      case 'item.delete': return ['hdel', this.key('i', w.tenant), w.key];
      case 'anchor.put': return ['hset', this.key('a', w.tenant), w.anchor.name, encodeAnchor(w.anchor)];
      case 'anchor.delete': return ['hdel', this.key('a', w.tenant), w.name];
      // String(x) is the shortest decimal that round-trips, which Redis parses back exactly.
      case 'tenant.touch': return ['zadd', this.recencyKey, String(w.atMs === 0 ? 0 : w.atMs), w.tenant];
    }
  }
}

/** A hash's fields in UTF-8 byte order (LMDB's key order), for the Store's "in key order". */
function sortedEntries(h: Record<string, Buffer>): [string, Buffer][] {
  return Object.entries(h)
    .map(([k, v]) => ({ k, v, b: Buffer.from(k, 'utf8') }))
    .sort((x, y) => Buffer.compare(x.b, y.b))
    .map(({ k, v }) => [k, v]);
}

/** Any failure to reach Redis or to have it apply a command: retryable `unavailable`. */
function storeError(e: unknown, what: string): HoloError {
  if (e instanceof HoloError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const tail = what === 'commit' ? '; the write was not acknowledged: retry' : ': retry';
  return new HoloError('unavailable', `Redis ${what} failed (${msg})${tail}`);
}
