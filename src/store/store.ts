/**
 * The durable store's interface: one small contract, several implementations (lmdb.ts,
 * redis.ts), chosen once at start by open.ts. A shard worker applies a request to its in-memory
 * tenant (memory/tenant.ts), then commits the resulting writes here as ONE transaction and
 * answers only after `commit` resolves, so an acknowledged write survives a crash.
 *
 * Names (tenant, item key, anchor name) are arbitrary well-formed Unicode strings, checked by
 * `checkName` below: non-empty, no lone UTF-16 surrogate (it has no UTF-8 form, so two different
 * JS strings would encode to the same bytes), and at most a byte budget in UTF-8 so that every
 * store key fits LMDB's 1978-byte key limit (1 + 4 + 256 + 1024 < 1978, see lmdb.ts).
 */
import { HoloError } from '../errors.js';

/**
 * What an item or anchor was made from, when the server can make it again at another D
 * (docs/MEMORY.md "What moves to a new D"): a text (encode), or a role–filler record
 * (kernels/hrr/record.ts). A raw client vector has none.
 */
export type ItemSource = { text: string } | { record: Record<string, string | { role: string }> };

/** One working-memory item as stored. vector: Float32Array (D,), unit norm. Times in ms since epoch. */
export interface ItemRecord {
  key: string;
  vector: Float32Array;
  /** Opaque msgpack bytes given by the client, returned unchanged by recall. */
  payload?: Uint8Array;
  /** Salience when the item was written (recency 1), in [0, 1]. */
  salience: number;
  reward: number;
  createdMs: number;
  lastAccessMs: number;
  /**
   * 1 − max cosine to the items held before the write, in [0, 2]. Kept so that the current
   * salience can be recomputed exactly after a reload (salience eviction). Optional so that
   * records built elsewhere still type-check; when absent, memory/tenant.ts derives it from
   * `salience` (exact unless the write-time salience was clipped at 1).
   */
  novelty?: number;
  /** Its source, durable with it (absent: a raw vector, not rebuildable at another D). */
  source?: ItemSource;
}

/** One anchor of a tenant's codebook. vector: Float32Array (D,), unit norm. */
export interface AnchorRecord {
  name: string;
  vector: Float32Array;
  lastMatchedMs: number;
  /** Its source (absent: a raw vector). */
  source?: ItemSource;
}

export type Write =
  | { kind: 'item.put'; tenant: string; item: ItemRecord }
  | { kind: 'item.delete'; tenant: string; key: string }
  | { kind: 'anchor.put'; tenant: string; anchor: AnchorRecord }
  | { kind: 'anchor.delete'; tenant: string; name: string }
  | { kind: 'tenant.touch'; tenant: string; atMs: number };

export interface Store {
  /** Applies all writes as ONE durable transaction; resolves only after it is on disk. */
  commit(writes: Write[]): Promise<void>;
  /** Every item and anchor of a tenant (empty lists for an unknown tenant), in key order. */
  loadTenant(tenant: string): Promise<{ items: ItemRecord[]; anchors: AnchorRecord[] }>;
  /**
   * A tenant's items (kind 'item') or anchors ('anchor') in key order (UTF-8 bytes), strictly
   * after `after`, through `through` inclusive, at most `limit` (dimension rebuild: a bounded
   * chunk at a time). Items come back as ItemRecord, anchors as AnchorRecord. Optional: the
   * LMDB store has it (and so the rollout runs on LMDB only, src/dimension/controller.ts).
   */
  scanTenant?(tenant: string, kind: 'item' | 'anchor', range: { after?: string; through?: string; limit?: number }): Promise<(ItemRecord | AnchorRecord)[]>;
  /** How many items and anchors a tenant holds (keys counted, values not read). */
  countTenant?(tenant: string): Promise<{ items: number; anchors: number }>;
  /** Up to `limit` tenants by their last `tenant.touch`, most recently active first. */
  recentTenants(limit: number): Promise<string[]>;
  /**
   * Only where processes share the store and own tenants by lease (redis.ts with an owner):
   * true while this process still holds the tenant it loaded (renewing the hold), false once
   * it lost it (reload before use). Absent: a loaded tenant stays valid.
   */
  hold?(tenant: string): Promise<boolean>;
  /** Waits for outstanding transactions, then releases the files. */
  close(): Promise<void>;
}

/** Longest tenant name, in UTF-8 bytes. */
export const MAX_TENANT_BYTES = 256;
/** Longest item key or anchor name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024;

// In a /u regex, a surrogate pair is one code point, so \p{Cs} matches only a lone surrogate.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks a tenant, item key or anchor name (`what` names it in the message).
 * @throws HoloError bad_request (not a string, empty, lone surrogate) | too_large (> maxBytes UTF-8)
 */
export function checkName(what: string, s: unknown, maxBytes: number): asserts s is string {
  if (typeof s !== 'string') throw new HoloError('bad_request', `${what} must be a string`);
  if (s.length === 0) throw new HoloError('bad_request', `${what} must not be empty`);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: skip the exact count for short strings.
  if (s.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(s, 'utf8');
    if (bytes > maxBytes) throw new HoloError('too_large', `${what} is ${bytes} bytes in UTF-8, max ${maxBytes}`);
  }
  if (LONE_SURROGATE.test(s)) throw new HoloError('bad_request', `${what} contains a lone surrogate (not valid Unicode)`);
}
