/**
 * One HRR dimension inside a shard worker (SEED §11, src/dimension/state.ts): its engine, its
 * memory room on its own store directory, and a private role cache. The worker serves one Dim
 * and, during a rollout, holds a second ("other"): new writes are mirrored into it, the
 * background rebuild re-encodes every item and anchor that has a source (text or record) at
 * its D, and `measure` compares the two. Swapping the two is the switch (and the rollback).
 *
 * Which items move (docs/MEMORY.md): items and anchors with a source are rebuilt; raw vectors
 * move only when the client gave `shadowVector` at the other D. The others are `unmovable`,
 * kept per tenant as 'item:<key>' / 'anchor:<name>'.
 */
import { describeBug, HoloError, isHoloError } from '../errors.js';
import type { Config } from '../config.js';
import { storeDir, type Cursor, type DimStore } from '../dimension/state.js';
import { createEngine } from '../kernels/fft/create.js';
import { cosine } from '../kernels/hrr/cosine.js';
import { encodeWith, type RoleSource } from '../kernels/hrr/encode.js';
import { Hrr } from '../kernels/hrr/hrr.js';
import { encodeRecord, fillerVector, type RecordFields } from '../kernels/hrr/record.js';
import { role, roleSpectrum } from '../kernels/hrr/role.js';
import { unbindRole } from '../kernels/hrr/unbind.js';
import { topK } from '../memory/recall.js';
import type { BatchObs, Knobs, Outcome, TaskItem } from '../pool/messages.js';
import { emptyObs } from '../pool/messages.js';
import type { AnchorRecord, ItemRecord, ItemSource, Store, Write } from '../store/store.js';
import type { RoleTableView } from '../roles/table.js';
import type { ExecContext } from './context.js';
import { LruCache } from '../memory/cache.js';
import { createMemoryRoom, type MemoryRoom } from './memory.js';

/** Roles computed into a private LRU cache (the shared table belongs to the served D). */
export class LocalRoles implements RoleSource {
  private readonly cache: LruCache<string, { v: Float32Array; s: Float32Array }>;
  constructor(private readonly hrr: Hrr, private readonly seed: number, max = 1024) {
    this.cache = new LruCache(max);
  }
  private get(token: string) {
    let e = this.cache.get(token);
    if (!e) {
      const v = role(token, this.hrr.D, this.seed);
      this.cache.set(token, (e = { v, s: roleSpectrum(this.hrr, v) }));
    }
    return e;
  }
  vector(token: string): Float32Array { return this.get(token).v; }
  spectrum(token: string): Float32Array { return this.get(token).s; }
}

export interface Dim {
  D: number;
  store: DimStore;
  hrr: Hrr;
  engineName: string;
  layout: string;
  fallbackReason?: string;
  memory: MemoryRoom;
  local: LocalRoles;
  /** tenant → 'item:<key>' | 'anchor:<name>' with no vector at this D (while it is the other) */
  unmovable: Map<string, Set<string>>;
}

export async function openDim(cfg: Config, s: DimStore): Promise<Dim> {
  const choice = await createEngine(s.D, cfg.fftEngine);
  const hrr = new Hrr(choice.engine);
  const memory = await createMemoryRoom({ ...cfg, dim: s.D, dataDir: storeDir(cfg.dataDir, s) }, hrr);
  return {
    D: s.D, store: s, hrr, engineName: choice.engine.name, layout: choice.engine.layout, fallbackReason: choice.fallbackReason,
    memory, local: new LocalRoles(hrr, cfg.roleSeed), unmovable: new Map(),
  };
}

/** The vector an item's source gives at dim's D. */
export function sourceVector(dim: Dim, s: ItemSource): Float32Array {
  return 'record' in s ? encodeRecord(dim.hrr, dim.local, s.record) : encodeWith(dim.hrr, dim.local, s.text);
}

function mark(dim: Dim, tenant: string, id: string, missing: boolean): void {
  let set = dim.unmovable.get(tenant);
  if (missing) {
    if (!set) dim.unmovable.set(tenant, (set = new Set()));
    set.add(id);
  } else if (set) {
    set.delete(id);
    if (set.size === 0) dim.unmovable.delete(tenant);
  }
}

const WRITE_OPS = new Set(['remember', 'forget', 'anchor.put', 'anchor.delete']);

/**
 * Dual write: the batch's successful memory writes, applied to the other D and committed to
 * its store. A raw vector without `shadowVector` cannot be written there: the other D's stale
 * copy is removed instead and the key counted unmovable. Returns the commit's promise (the
 * caller awaits it with the served commit, before any reply).
 */
export async function mirror(
  other: Dim, cfg: Config, knobs: Knobs, view: RoleTableView, items: readonly TaskItem[], outcomes: readonly Outcome[], nowMs: number,
): Promise<void> {
  const todo: TaskItem[] = [];
  items.forEach((it, i) => {
    if (!outcomes[i].ok || !WRITE_OPS.has(it.op)) return;
    const p = it.params;
    const tenant = p.tenant as string;
    const isItem = it.op === 'remember' || it.op === 'forget';
    const id = `${isItem ? 'item' : 'anchor'}:${(isItem ? p.key : p.name) as string}`;
    if ((it.op === 'remember' || it.op === 'anchor.put') && p.vector !== undefined) {
      if (p.shadowVector !== undefined && (p.shadowVector as Float32Array).length === other.D) {
        mark(other, tenant, id, false);
        todo.push({ op: it.op, params: { ...p, vector: p.shadowVector } });
      } else {
        mark(other, tenant, id, true);
        todo.push({ op: isItem ? 'forget' : 'anchor.delete', params: { tenant, key: p.key, name: p.name } });
      }
      return;
    }
    mark(other, tenant, id, false);
    todo.push(it);
  });
  if (todo.length === 0) return;
  await other.memory.prepare(todo);
  const obs: BatchObs = emptyObs(); // the other D's numbers do not count as served
  const ctx: ExecContext = {
    cfg, hrr: other.hrr, roles: view /* not read by memory handlers */, graphs: new Map(), knobs, obs, roleSource: other.local, nowMs, itemIndex: 0,
    encode: (text) => other.memory.encode(text, () => encodeWith(other.hrr, other.local, text), obs),
  };
  const outs: Outcome[] = [];
  for (const it of todo) {
    ctx.itemIndex = outs.length;
    try {
      outs.push({ ok: true, result: other.memory.handlers[it.op](ctx, it.params) });
    } catch (e) {
      // The served write stood; the other D misses it: the next rebuild pass makes it again.
      if (!isHoloError(e)) console.error(`holoserve worker: dual write at D=${other.D} failed: ${describeBug(e)}`);
      outs.push({ ok: false, code: 'internal', message: 'dual write failed' });
    }
  }
  await other.memory.commit(ctx, outs);
}

export interface ChunkResult {
  /** where to go on; null when the tenant is done */
  cursor: Cursor | null;
  processed: number;
  ms: number;
}

const keyOf = (r: ItemRecord | AnchorRecord) => ('key' in r ? r.key : r.name);

/**
 * One bounded slice of a tenant's rebuild at other.D: reads the served store from the cursor
 * in key order, up to 16 records a read, and re-encodes sourced records one by one until
 * budgetMs is spent; their vectors at other.D go to the other store (metadata kept) in one
 * commit at the end of the slice; records there that the served store no longer has are
 * deleted. Runs between memory batches (entry.ts), so no write interleaves. The other D's
 * in-memory copy of the tenant is dropped when its rebuild starts and loaded again, whole,
 * when it ends (both slabs are then held, and a switch serves it at once); in between, dual
 * writes may load a copy that misses rebuilt rows: it is only written through, never served.
 */
export async function rebuildChunk(served: Dim, other: Dim, tenant: string, cursor: Cursor, budgetMs: number): Promise<ChunkResult> {
  const t0 = performance.now();
  let { kind, after } = cursor;
  if (kind === 'item' && after === undefined) other.memory.unload(tenant);
  let processed = 0;
  let done = false;
  const writes: Write[] = [];
  while (performance.now() - t0 < budgetMs) {
    const src = await scanOf(served)(tenant, kind, { after, limit: 16 });
    if (src.length === 0) {
      // Past the last record: what the other store holds beyond it is gone from the served one.
      const stale = await scanOf(other)(tenant, kind, { after });
      for (const r of stale) writes.push(del(kind, tenant, keyOf(r)));
      if (kind === 'item') { kind = 'anchor'; after = undefined; continue; }
      done = true;
      break;
    }
    const last = keyOf(src[src.length - 1]);
    const dst = new Set((await scanOf(other)(tenant, kind, { after, through: last })).map(keyOf));
    let upTo = after; // the last record handled: the slice may stop inside this read
    for (const r of src) {
      const k = keyOf(r);
      const id = `${kind}:${k}`;
      if (r.source !== undefined) {
        const vector = sourceVector(other, r.source);
        writes.push(kind === 'item' ? { kind: 'item.put', tenant, item: { ...(r as ItemRecord), vector } } : { kind: 'anchor.put', tenant, anchor: { ...(r as AnchorRecord), vector } });
        mark(other, tenant, id, false);
      } else {
        mark(other, tenant, id, !dst.has(k)); // a raw vector: there only if the client gave shadowVector
      }
      dst.delete(k);
      processed++;
      upTo = k;
      if (performance.now() - t0 >= budgetMs) break;
    }
    // keys only the other store has, up to the last record handled (UTF-8 byte order, as stored)
    for (const k of dst) if (Buffer.compare(Buffer.from(k, 'utf8'), Buffer.from(upTo!, 'utf8')) < 0) writes.push(del(kind, tenant, k));
    after = upTo;
  }
  if (writes.length) await other.memory.store.commit(writes);
  if (done) {
    other.memory.unload(tenant);
    await other.memory.prepare([{ op: 'stats', params: { tenant } }]);
  }
  return { cursor: done ? null : { kind, after }, processed, ms: performance.now() - t0 };
}

/** The store's ordered scan (LMDB has it; the rollout refuses other stores, controller.ts). */
function scanOf(d: Dim): NonNullable<Store['scanTenant']> {
  const s = d.memory.store;
  if (!s.scanTenant) throw new HoloError('bad_request', 'this store cannot scan a tenant in key order: the dimension rollout needs store = lmdb');
  return s.scanTenant.bind(s);
}

function del(kind: 'item' | 'anchor', tenant: string, k: string): Write {
  return kind === 'item' ? { kind: 'item.delete', tenant, key: k } : { kind: 'anchor.delete', tenant, name: k };
}

/** Per-D numbers of one measurement, raw (the main thread pools workers and takes quantiles). */
export interface MeasureRaw {
  records: number;
  /** per record: mean over its slots of cosine(unbind(record, r(slot)), filler), at [served, other] */
  recon: [number[], number[]];
  /** per record slot with a text filler: cleanup against the tenant's anchors at [served, other] */
  cleanupScore: [number[], number[]];
  /** … and its margin to the runner-up anchor */
  cleanupMargin: [number[], number[]];
  cleanupCorrect: [number, number];
  cleanupTotal: number;
  /** replayed recent text recalls: margin top1 − top2 at [served, other], and top-k overlap / k */
  recallMargin: [number[], number[]];
  agreement: number[];
  /** 1 when both D put the same item first */
  agreementTop1: number[];
}

export interface RecentQuery {
  tenant: string;
  text: string;
  k: number;
}

/**
 * Quality at both D for some tenants (SEED §11 step 2): for up to `maxRecords` record items
 * (key order, over all items), each slot unbound with its role, cosine to the true filler (reconstruction),
 * and cleaned up against the tenant's anchors (score; correct when the winning anchor was made
 * from the filler's text); and the recent text recalls replayed at both D over the tenant's
 * first `maxItems` items. Reads the two stores; changes nothing.
 */
export async function measure(served: Dim, other: Dim, tenants: readonly string[], recent: readonly RecentQuery[], maxRecords: number, maxItems: number): Promise<MeasureRaw> {
  const out: MeasureRaw = { records: 0, recon: [[], []], cleanupScore: [[], []], cleanupMargin: [[], []], cleanupCorrect: [0, 0], cleanupTotal: 0, recallMargin: [[], []], agreement: [], agreementTop1: [] };
  const dims = [served, other] as const;
  for (const tenant of tenants) {
    if (out.records >= maxRecords && !recent.some((q) => q.tenant === tenant)) continue;
    const items = await Promise.all(dims.map((d) => scanOf(d)(tenant, 'item', { limit: maxItems }) as Promise<ItemRecord[]>));
    const anchors = await Promise.all(dims.map((d) => scanOf(d)(tenant, 'anchor', {}) as Promise<AnchorRecord[]>));
    const byKey = items.map((list) => new Map(list.map((r) => [r.key, r])));
    const books = anchors.map((list, i) => ({ slab: slabOf(list, dims[i].D), names: list.map((a) => a.name), text: list.map((a) => (a.source && 'text' in a.source ? a.source.text : undefined)) }));
    // role–filler records present at both D, found over all the tenant's items (pages of 256 in key order)
    for (let after: string | undefined, page: ItemRecord[]; out.records < maxRecords; after = page[page.length - 1].key) {
      page = await scanOf(served)(tenant, 'item', { after, limit: 256 }) as ItemRecord[];
      if (page.length === 0) break;
      const recs = page.filter((r) => r.source !== undefined && 'record' in r.source);
      if (recs.length === 0) continue;
      const there = new Map((await scanOf(other)(tenant, 'item', { after, through: page[page.length - 1].key }) as ItemRecord[]).map((r) => [r.key, r]));
      for (const r of recs) {
        if (out.records >= maxRecords) break;
        const r2 = there.get(r.key);
        if (!r2) continue;
        const rec = (r.source as { record: RecordFields }).record;
        out.records++;
        const sum = [0, 0];
        const slots = Object.keys(rec);
        for (const slot of slots) {
          const f = rec[slot];
          for (let i = 0; i < 2; i++) {
            const d = dims[i];
            const u = unbindRole(d.hrr, (i === 0 ? r : r2).vector, d.local.spectrum(slot)).vector;
            sum[i] += cosine(u, fillerVector(d.hrr, d.local, f));
            const b = books[i];
            if (typeof f === 'string' && b.names.length > 0) {
              const c = topK(b.slab, b.names.length, d.D, u, 1);
              out.cleanupScore[i].push(c.score[0]);
              out.cleanupMargin[i].push(c.margin);
              if (b.text[c.index[0]] === f) out.cleanupCorrect[i]++;
            }
          }
          if (typeof f === 'string' && books[0].names.length > 0) out.cleanupTotal++;
        }
        out.recon[0].push(sum[0] / slots.length);
        out.recon[1].push(sum[1] / slots.length);
      }
    }
    // replayed recent text recalls, over the same items at both D
    const common = items[0].filter((r) => byKey[1].has(r.key));
    if (common.length === 0) continue;
    const slabs = dims.map((d, i) => slabOf(common.map((r) => (i === 0 ? r : byKey[1].get(r.key)!)), d.D));
    for (const q of recent) {
      if (q.tenant !== tenant) continue;
      const firsts: number[] = [];
      const tops = dims.map((d, i) => {
        const t = topK(slabs[i], common.length, d.D, encodeWith(d.hrr, d.local, q.text), q.k);
        out.recallMargin[i].push(t.margin);
        firsts.push(t.index[0]);
        return new Set(t.index);
      });
      out.agreementTop1.push(firsts[0] === firsts[1] ? 1 : 0);
      let both = 0;
      for (const j of tops[0]) if (tops[1].has(j)) both++;
      out.agreement.push(both / Math.max(1, tops[0].size));
    }
  }
  return out;
}

function slabOf(list: readonly { vector: Float32Array }[], D: number): Float32Array {
  const slab = new Float32Array(Math.max(1, list.length) * D);
  list.forEach((r, i) => slab.set(r.vector, i * D));
  return slab;
}

/** Unmovable counts and up to 16 names per tenant. */
export function unmovableReport(dim: Dim): { total: number; tenants: { tenant: string; count: number; some: string[] }[] } {
  let total = 0;
  const tenants: { tenant: string; count: number; some: string[] }[] = [];
  for (const [tenant, set] of dim.unmovable) {
    total += set.size;
    tenants.push({ tenant, count: set.size, some: [...set].slice(0, 16) });
  }
  return { total, tenants };
}

export function checkOther(other: Dim | undefined): Dim {
  if (!other) throw new HoloError('bad_request', 'no dimension rollout in progress in this worker');
  return other;
}
