/**
 * `import { connectCluster } from 'holoserve/cluster'`: a client for several holoserve processes
 * sharing one Redis (setting advertiseUrl), with the same
 * API as HoloClient, connected first to any one of them. A tenant's request goes to the process
 * last known to own it; a `moved` reply (its message is the owner's URL, like Redis Cluster's
 * MOVED) updates that mapping and the request is sent again there, transparently (at most 5
 * hops, waiting 50·hop ms from the second on, then `unavailable`: the servers' views disagree
 * for up to a heartbeat while membership changes). Requests without a tenant (bind, sinkhorn, heat …) go to the first process.
 * When an owner cannot be reached (`unavailable` or `timeout` from its connection), its tenants
 * are forgotten, so the next request asks the first process again.
 */
import { HoloClient, HoloClientError, type ConnectOptions } from './client.js';

const MAX_HOPS = 5;
const MAX_MAPPED = 100_000;

export class HoloClusterClient extends HoloClient {
  private readonly peers = new Map<string, HoloClient>();
  /** tenant → owner URL (insertion order: the oldest leaves first beyond MAX_MAPPED) */
  private readonly owners = new Map<string, string>();

  constructor(url: string, private readonly copts: ConnectOptions = {}) {
    super(url, copts);
  }

  /** The owner this client currently maps a tenant to (undefined: not known yet). */
  ownerOf(tenant: string): string | undefined {
    return this.owners.get(tenant);
  }

  override async request(op: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const tenant = typeof params.tenant === 'string' ? params.tenant : undefined;
    if (tenant === undefined) return super.request(op, params);
    for (let hop = 0; ; hop++) {
      const url = this.owners.get(tenant) ?? this.url;
      try {
        return url === this.url ? await super.request(op, params) : await this.peer(url).request(op, params);
      } catch (e) {
        if (!(e instanceof HoloClientError)) throw e;
        if (e.code === 'moved') {
          // Processes whose membership views disagree (one changed a heartbeat ago) can send a
          // request back and forth: wait a little between later hops, then give up retryably.
          if (hop >= MAX_HOPS) throw new HoloClientError('unavailable', `the servers disagree on the owner of this tenant (membership is changing): retry (last: ${e.message})`);
          this.owners.delete(tenant);
          if (this.owners.size >= MAX_MAPPED) this.owners.delete(this.owners.keys().next().value as string);
          this.owners.set(tenant, e.message);
          if (hop >= 1) await new Promise((r) => setTimeout(r, 50 * hop));
          continue;
        }
        if ((e.code === 'unavailable' || e.code === 'timeout') && url !== this.url) this.unmap(url);
        throw e;
      }
    }
  }

  override close(): void {
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
    super.close();
  }

  private peer(url: string): HoloClient {
    let p = this.peers.get(url);
    if (!p) {
      p = new HoloClient(url, this.copts);
      this.peers.set(url, p);
    }
    return p;
  }

  /**
   * An owner that cannot be reached: its tenants are asked for again at the first process, and
   * its connection is dropped (a fresh one has no reconnect backoff, should it come back).
   */
  private unmap(url: string): void {
    for (const [t, u] of this.owners) if (u === url) this.owners.delete(t);
    this.peers.get(url)?.close();
    this.peers.delete(url);
  }
}

/** Connects to one process of a cluster (any) and returns a client that follows `moved`. */
export async function connectCluster(url: string, opts: ConnectOptions = {}): Promise<HoloClusterClient> {
  const c = new HoloClusterClient(url, opts);
  await c.open();
  return c;
}
