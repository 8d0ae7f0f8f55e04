/**
 * The Store on LMDB (the `lmdb` package, lmdb-js 3.5): one environment per directory, binary
 * keys and binary values of our own layout. A commit's writes run in one LMDB write
 * transaction (lmdb-js may fold commits issued in the same event turn into the same
 * transaction: each stays all-or-nothing).
 *
 * Durability. lmdb-js defaults to `overlappingSync` on Linux and macOS: a transaction's promise
 * then resolves when it is committed and visible, and the fsync happens later (README
 * "overlappingSync"; write.js keeps a separate flushPromise). We open with
 * `overlappingSync: false` and never `noSync`/`noMetaSync`/`mapAsync`, so the writer thread's
 * mdb_txn_commit syncs data and meta pages before lmdb-js resolves the promise (writer.cpp:
 * mdb_txn_begin(env, NULL, 0), no MDB_NOSYNC, then mdb_txn_commit; strace shows
 * fdatasync(data.mdb), then the meta page written through an O_DSYNC descriptor, before the
 * promise resolves). `commit` also awaits `db.flushed` (every earlier write synced): a no-op in
 * our mode, and a guard should this directory's environment already be open in the process
 * with overlappingSync (see below).
 *
 * One environment per path per process. LMDB forbids opening one environment twice in a
 * process; lmdb-js enforces that by sharing one MDB_env per path across every open() in the
 * process (all threads, refcounted, env.cpp envTracking), and the first opener's flags win.
 * Several stores on different directories are independent environments.
 *
 * Keys (bytes; the proof that names cannot collide is this table, tested in store.test.ts):
 *
 *   item     'i' | u32be len(T) | T | K        T: tenant UTF-8, K: item key UTF-8
 *   anchor   'a' | u32be len(T) | T | N        N: anchor name UTF-8
 *   touch    't' | u32be len(T) | T            value: f64le atMs
 *   recency  'r' | f64 ordered (8) | T         value: one zero byte (an index of touch)
 *
 * The length field ends T unambiguously, so (T, K) ↦ bytes is injective whatever bytes T and K
 * hold (NUL, '/', 0xFF-free UTF-8), and a tenant's items are exactly the range
 * ['i'|len|T, 'i'|len|T|0xFF): a longer tenant beginning with T has another length field, and
 * UTF-8 never contains 0xFF. recency keys sort by time, so recentTenants is a reverse range scan.
 *
 * Values: the records of records.ts (items and anchors), f64le atMs for a touch.
 */
import { mkdirSync } from 'node:fs';
import { open, type RootDatabase } from 'lmdb';
import { HoloError } from '../errors.js';
import { checkName, MAX_TENANT_BYTES, type AnchorRecord, type ItemRecord, type Store, type Write } from './store.js';
import { checkWrite, decodeAnchor, decodeItem, encodeAnchor, encodeItem } from './records.js';

export interface LmdbStoreOptions {
  /** Initial map size in bytes; lmdb-js grows it as needed. Default: lmdb-js's (128 KiB). */
  mapSize?: number;
}

const KIND_ITEM = 0x69; // 'i'
const KIND_ANCHOR = 0x61; // 'a'
const KIND_TOUCH = 0x74; // 't'
const KIND_RECENCY = 0x72; // 'r'
const ONE_ZERO_BYTE = Buffer.alloc(1);

/**
 * Opens (creating if needed) the store in directory `dir`.
 * @throws Error from lmdb when the directory cannot be opened.
 */
export function openLmdbStore(dir: string, opts: LmdbStoreOptions = {}): Store {
  // `dir` is always a directory: lmdb-js would take a path whose name has a dot ("data.d") for
  // a single database file (noSubdir) and fail on an existing directory of that name.
  mkdirSync(dir, { recursive: true });
  const db: RootDatabase<Buffer, Buffer> = open<Buffer, Buffer>(dir, {
    noSubdir: false,
    encoding: 'binary',
    keyEncoding: 'binary',
    overlappingSync: false,
    compression: false,
    ...(opts.mapSize !== undefined ? { mapSize: opts.mapSize } : {}),
  });
  return new LmdbStore(db);
}

class LmdbStore implements Store {
  private closed = false;
  constructor(private readonly db: RootDatabase<Buffer, Buffer>) {}

  async commit(writes: Write[]): Promise<void> {
    this.checkOpen();
    if (writes.length === 0) return;
    // Encode (and so validate) everything before the transaction: a bad write rejects the whole
    // commit and nothing is written.
    const ops = writes.map(encodeWrite);
    const db = this.db;
    await db.transaction(() => {
      for (const op of ops) {
        if (op.touch !== undefined) {
          // Move the tenant's entry in the recency index: read its previous time in this txn.
          const prev = db.get(op.key);
          if (prev !== undefined) db.remove(recencyKey(prev.readDoubleLE(0), op.tenantBytes!));
          db.put(recencyKey(op.touch, op.tenantBytes!), ONE_ZERO_BYTE);
          db.put(op.key, f64le(op.touch));
        } else if (op.value === undefined) {
          db.remove(op.key);
        } else {
          db.put(op.key, op.value);
        }
      }
    });
    await db.flushed;
  }

  async loadTenant(tenant: string): Promise<{ items: ItemRecord[]; anchors: AnchorRecord[] }> {
    this.checkOpen();
    checkName('tenant', tenant, MAX_TENANT_BYTES);
    const t = Buffer.from(tenant, 'utf8');
    const items: ItemRecord[] = [];
    const anchors: AnchorRecord[] = [];
    for (const { key, value } of this.db.getRange(prefixRange(KIND_ITEM, t))) {
      items.push(decodeItem(key.toString('utf8', 5 + t.length), value));
    }
    for (const { key, value } of this.db.getRange(prefixRange(KIND_ANCHOR, t))) {
      anchors.push(decodeAnchor(key.toString('utf8', 5 + t.length), value));
    }
    return { items, anchors };
  }

  async scanTenant(tenant: string, kind: 'item' | 'anchor', range: { after?: string; through?: string; limit?: number }): Promise<(ItemRecord | AnchorRecord)[]> {
    this.checkOpen();
    checkName('tenant', tenant, MAX_TENANT_BYTES);
    const t = Buffer.from(tenant, 'utf8');
    const whole = prefixRange(kind === 'item' ? KIND_ITEM : KIND_ANCHOR, t);
    // The key right after x in byte order is x|0x00; UTF-8 never holds 0xFF, so prefix|0xFF is
    // past every key of this tenant.
    const start = range.after === undefined ? whole.start : Buffer.concat([whole.start, Buffer.from(range.after, 'utf8'), Buffer.from([0])]);
    const end = range.through === undefined ? whole.end : Buffer.concat([whole.start, Buffer.from(range.through, 'utf8'), Buffer.from([0])]);
    const out: (ItemRecord | AnchorRecord)[] = [];
    for (const { key, value } of this.db.getRange({ start, end, ...(range.limit !== undefined ? { limit: range.limit } : {}) })) {
      const name = key.toString('utf8', 5 + t.length);
      out.push(kind === 'item' ? decodeItem(name, value) : decodeAnchor(name, value));
    }
    return out;
  }

  async countTenant(tenant: string): Promise<{ items: number; anchors: number }> {
    this.checkOpen();
    checkName('tenant', tenant, MAX_TENANT_BYTES);
    const t = Buffer.from(tenant, 'utf8');
    return { items: this.db.getKeysCount(prefixRange(KIND_ITEM, t)), anchors: this.db.getKeysCount(prefixRange(KIND_ANCHOR, t)) };
  }

  async recentTenants(limit: number): Promise<string[]> {
    this.checkOpen();
    if (!Number.isInteger(limit) || limit < 0) throw new HoloError('bad_request', `limit must be an integer ≥ 0, got ${limit}`);
    if (limit === 0) return [];
    const out: string[] = [];
    const range = this.db.getRange({
      start: Buffer.from([KIND_RECENCY + 1]),
      end: Buffer.from([KIND_RECENCY]),
      reverse: true,
      limit,
    });
    for (const { key } of range) out.push(key.toString('utf8', 9));
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new HoloError('unavailable', 'store is closed');
  }
}

interface Op {
  key: Buffer;
  /** undefined: delete key */
  value?: Buffer;
  /** tenant.touch only */
  touch?: number;
  tenantBytes?: Buffer;
}

function encodeWrite(w: Write): Op {
  checkWrite(w);
  switch (w.kind) {
    case 'item.put': return { key: nameKey(KIND_ITEM, w.tenant, w.item.key), value: encodeItem(w.item) };
    case 'item.delete': return { key: nameKey(KIND_ITEM, w.tenant, w.key) };
    case 'anchor.put': return { key: nameKey(KIND_ANCHOR, w.tenant, w.anchor.name), value: encodeAnchor(w.anchor) };
    case 'anchor.delete': return { key: nameKey(KIND_ANCHOR, w.tenant, w.name) };
    case 'tenant.touch': return { key: nameKey(KIND_TOUCH, w.tenant), touch: w.atMs, tenantBytes: Buffer.from(w.tenant, 'utf8') };
  }
}

/** kind | u32be len(T) | T | name */
function nameKey(kind: number, tenant: string, name?: string): Buffer {
  const tLen = Buffer.byteLength(tenant, 'utf8');
  const nLen = name === undefined ? 0 : Buffer.byteLength(name, 'utf8');
  const b = Buffer.allocUnsafe(5 + tLen + nLen);
  b[0] = kind;
  b.writeUInt32BE(tLen, 1);
  b.write(tenant, 5, 'utf8');
  if (name !== undefined) b.write(name, 5 + tLen, 'utf8');
  return b;
}

/** Every key of `kind` for tenant bytes t: [prefix, prefix|0xFF). */
function prefixRange(kind: number, t: Buffer): { start: Buffer; end: Buffer } {
  const start = Buffer.allocUnsafe(5 + t.length);
  start[0] = kind;
  start.writeUInt32BE(t.length, 1);
  t.copy(start, 5);
  return { start, end: Buffer.concat([start, Buffer.from([0xff])]) };
}

/** 'r' | ordered f64 | T. Ordered f64: big-endian IEEE bits, sign bit flipped for x ≥ 0, all bits for x < 0. */
function recencyKey(atMs: number, t: Buffer): Buffer {
  const b = Buffer.allocUnsafe(9 + t.length);
  b[0] = KIND_RECENCY;
  b.writeDoubleBE(atMs === 0 ? 0 : atMs, 1); // −0 sorts as +0
  if (b[1] & 0x80) for (let i = 1; i < 9; i++) b[i] ^= 0xff;
  else b[1] ^= 0x80;
  t.copy(b, 9);
  return b;
}

function f64le(x: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(x, 0);
  return b;
}
