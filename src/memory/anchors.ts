/**
 * A tenant's anchor book: its clean codebook of named unit vectors, in one contiguous slab
 * (row = anchor), and cleanup: the anchor nearest a noisy vector, with its margin.
 *
 *   saturation = anchors held / anchorsMax                  (SEED §9 early saturation index)
 *
 * Aging decay at saturation (SEED §8): putting a NEW name into a full book first removes the
 * anchor matched least recently (smallest lastMatchedMs; ties: the one put earliest). put and
 * every cleanup win set an anchor's lastMatchedMs to nowMs, so an anchor that keeps winning
 * cleanups never ages out, and a fresh anchor starts as recent as its put. The removed name is
 * returned so the caller can delete it durably. The slab grows by doubling, like tenant.ts.
 */
import { HoloError } from '../errors.js';
import { checkDim, checkFinite, checkLength } from '../kernels/check.js';
import { normalize } from '../kernels/hrr/cosine.js';
import { checkName, MAX_NAME_BYTES, type AnchorRecord } from '../store/store.js';
import { topK } from './recall.js';

export interface AnchorOptions {
  /** vector length, a power of two in [256, 16384] */
  D: number;
  /** most anchors held (hrr_anchors_max) */
  anchorsMax: number;
  /** slab rows allocated at first put; the slab then doubles */
  initialSlots: number;
}

export const ANCHOR_DEFAULTS: Readonly<AnchorOptions> = Object.freeze({ D: 8192, anchorsMax: 1024, initialSlots: 16 });

export interface Cleanup {
  /** the winning anchor's name */
  key: string;
  /** cosine(vector, anchor) */
  score: number;
  /** score − runner-up's cosine (a book of one: margin = score, recall.ts) */
  margin: number;
}

interface Meta {
  name: string;
  lastMatchedMs: number;
  seq: number;
}

export class AnchorBook {
  readonly options: Readonly<AnchorOptions>;
  readonly D: number;
  private slab = new Float32Array(0);
  private slots = 0;
  private meta: Meta[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly scratch = { index: new Int32Array(2), score: new Float64Array(2) };
  private seq = 0;
  private aged = 0;

  /** @throws HoloError bad_dimension (D) | bad_request (an option out of range, named) */
  constructor(options: Partial<AnchorOptions> = {}) {
    const o: AnchorOptions = { ...ANCHOR_DEFAULTS, ...options };
    checkDim(o.D);
    for (const name of ['anchorsMax', 'initialSlots'] as const) {
      if (!Number.isInteger(o[name]) || o[name] < 1) {
        throw new HoloError('bad_request', `options.${name} must be an integer ≥ 1, got ${o[name]}`);
      }
    }
    this.options = Object.freeze(o);
    this.D = o.D;
  }

  /** Bytes held: the slab and ~160 B per anchor for its name and record (the memory budget's unit). */
  get bytes(): number {
    return this.slab.byteLength + this.meta.length * 160;
  }

  get size(): number {
    return this.meta.length;
  }

  /** Anchors removed by aging decay since construction. */
  get agedOut(): number {
    return this.aged;
  }

  /** used / capacity, in [0, 1]. */
  saturation(): number {
    return this.meta.length / this.options.anchorsMax;
  }

  has(name: string): boolean {
    return this.slotOf.has(name);
  }

  /**
   * Stores a unit-normalised float32 copy of `vector` as `name` (overwriting), lastMatchedMs =
   * nowMs. A new name in a full book first ages out the least recently matched anchor.
   * @returns evicted: the name aged out, or null
   * @throws HoloError bad_dimension | bad_request (NaN/Inf, zero vector, name, nowMs) | too_large (name)
   */
  put(name: string, vector: Float32Array, nowMs: number): { evicted: string | null } {
    checkName('anchor name', name, MAX_NAME_BYTES);
    checkLength('vector', vector, this.D);
    checkTime(nowMs);
    const unit = normalize(vector); // checks finite, rejects zero, before anything changes
    let evicted: string | null = null;
    let slot = this.slotOf.get(name);
    if (slot === undefined) {
      if (this.meta.length >= this.options.anchorsMax) {
        evicted = this.meta[this.leastRecent()].name;
        this.delete(evicted);
        this.aged++;
      }
      slot = this.meta.length;
      this.ensureSlots(slot + 1);
      this.slotOf.set(name, slot);
      this.meta.push({ name, lastMatchedMs: nowMs, seq: this.seq++ });
    } else {
      this.meta[slot] = { name, lastMatchedMs: nowMs, seq: this.seq++ };
    }
    this.slab.set(unit, slot * this.D);
    return { evicted };
  }

  /** Removes `name`; false if it was not held. The last row moves into the hole (O(D)). */
  delete(name: string): boolean {
    const slot = this.slotOf.get(name);
    if (slot === undefined) return false;
    const last = this.meta.length - 1;
    this.slotOf.delete(name);
    if (slot !== last) {
      this.slab.copyWithin(slot * this.D, last * this.D, (last + 1) * this.D);
      this.meta[slot] = this.meta[last];
      this.slotOf.set(this.meta[slot].name, slot);
    }
    this.meta.pop();
    return true;
  }

  /**
   * The anchor nearest `vector` by cosine, its score and margin to the runner-up; the winner's
   * lastMatchedMs becomes max(lastMatchedMs, nowMs). Ties: the anchor in the lower slot.
   * @throws HoloError not_found (empty book) | bad_dimension | bad_request (NaN/Inf, zero vector, nowMs)
   */
  cleanup(vector: Float32Array, nowMs: number): Cleanup {
    checkTime(nowMs);
    if (this.meta.length === 0) throw new HoloError('not_found', 'the anchor book is empty');
    const r = topK(this.slab, this.meta.length, this.D, vector, 1, this.scratch);
    const m = this.meta[r.index[0]];
    if (nowMs > m.lastMatchedMs) m.lastMatchedMs = nowMs;
    return { key: m.name, score: r.score[0], margin: r.margin };
  }

  /** The anchor as a record (vector copied), or undefined. */
  get(name: string): AnchorRecord | undefined {
    const slot = this.slotOf.get(name);
    return slot === undefined ? undefined : this.record(slot);
  }

  /** Every anchor as a record (vectors copied), in slot order. Do not write while iterating. */
  *entries(): IterableIterator<AnchorRecord> {
    for (let slot = 0; slot < this.meta.length; slot++) yield this.record(slot);
  }

  /**
   * Replaces the book with `records` (from the store), vectors copied bit-exactly (must be unit
   * norm within 1e-3). Later duplicates win. Beyond anchorsMax, the most recently matched are
   * kept and the others' names returned.
   * @throws HoloError bad_dimension | bad_request (a malformed record; the book is then unchanged)
   */
  load(records: Iterable<AnchorRecord>): { evicted: string[] } {
    const byName = new Map<string, AnchorRecord>();
    for (const r of records) {
      checkName('anchor name', r.name, MAX_NAME_BYTES);
      checkLength(`anchor ${r.name} vector`, r.vector, this.D);
      checkFinite(`anchor ${r.name} vector`, r.vector);
      let qq = 0;
      for (let i = 0; i < this.D; i++) qq += r.vector[i] * r.vector[i];
      if (Math.abs(Math.sqrt(qq) - 1) > 1e-3) throw new HoloError('bad_request', `anchor ${r.name}: vector is not unit norm`);
      checkTime(r.lastMatchedMs);
      byName.delete(r.name);
      byName.set(r.name, r);
    }
    // Most recently matched first; the tail beyond anchorsMax ages out.
    const all = [...byName.values()].sort((a, b) => b.lastMatchedMs - a.lastMatchedMs);
    const kept = all.slice(0, this.options.anchorsMax);
    const evicted = all.slice(this.options.anchorsMax).map((r) => r.name);
    this.aged += evicted.length;
    this.meta = [];
    this.slotOf.clear();
    this.ensureSlots(kept.length);
    // Stored oldest-match first, so seq keeps the order for ties.
    kept.reverse();
    kept.forEach((r, i) => {
      this.slab.set(r.vector, i * this.D);
      this.meta.push({ name: r.name, lastMatchedMs: r.lastMatchedMs, seq: this.seq++ });
      this.slotOf.set(r.name, i);
    });
    return { evicted };
  }

  private record(slot: number): AnchorRecord {
    const m = this.meta[slot];
    return { name: m.name, vector: this.slab.slice(slot * this.D, (slot + 1) * this.D), lastMatchedMs: m.lastMatchedMs };
  }

  /** Slot of the anchor with the smallest lastMatchedMs (ties: smallest seq). */
  private leastRecent(): number {
    let best = 0;
    for (let i = 1; i < this.meta.length; i++) {
      const a = this.meta[i], b = this.meta[best];
      if (a.lastMatchedMs < b.lastMatchedMs || (a.lastMatchedMs === b.lastMatchedMs && a.seq < b.seq)) best = i;
    }
    return best;
  }

  private ensureSlots(rows: number): void {
    if (rows <= this.slots) return;
    let next = Math.max(this.slots, Math.min(this.options.initialSlots, this.options.anchorsMax));
    while (next < rows) next *= 2;
    next = Math.min(next, this.options.anchorsMax);
    const grown = new Float32Array(next * this.D);
    grown.set(this.slab.subarray(0, this.meta.length * this.D));
    this.slab = grown;
    this.slots = next;
  }
}

function checkTime(nowMs: unknown): void {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new HoloError('bad_request', `time must be a finite number of ms, got ${String(nowMs)}`);
}
