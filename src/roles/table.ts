/**
 * The role table: role spectra (and role vectors) computed once and shared by every worker
 * through one SharedArrayBuffer, read in place, never copied.
 *
 *   SharedArrayBuffer
 *   +------------------+---------------------------+--------------------------------------+
 *   | header (4 × i32) | state (capacity × i32)    | slots (capacity × 2D × f32)          |
 *   | D, capacity, …   | 0 empty, 1 ready          | slot s: [spectrum (D) | vector (D)]  |
 *   +------------------+---------------------------+--------------------------------------+
 *
 * Ownership: the main thread owns the token → slot index (an LRU capped at `capacity`
 * distinct tokens) and pins slots while a batch that uses them is in flight, so a slot is never
 * reused under a reader. A worker that finds a slot not ready computes the role into it and
 * publishes it with Atomics.store(state, 1); roles are deterministic, so two workers computing
 * the same slot write the same bits. The spectrum layout belongs to the workers' FFT engine
 * (recorded in the persisted file, see file.ts).
 */
import { HoloError } from '../errors.js';

const kDimField = 0;
const kCapacityField = 1;
const HEADER_I32 = 4;

export const SLOT_EMPTY = 0;
export const SLOT_READY = 1;

/** Byte size of a table (for logs and the capacity planner). */
export function roleTableBytes(D: number, capacity: number): number {
  return (HEADER_I32 + capacity) * 4 + capacity * 2 * D * 4;
}

/** Views over the shared buffer: what both sides (main and workers) read. */
export class RoleTableView {
  readonly D: number;
  readonly capacity: number;
  readonly state: Int32Array;
  readonly data: Float32Array;
  constructor(readonly sab: SharedArrayBuffer) {
    const header = new Int32Array(sab, 0, HEADER_I32);
    this.D = header[kDimField];
    this.capacity = header[kCapacityField];
    this.state = new Int32Array(sab, HEADER_I32 * 4, this.capacity);
    this.data = new Float32Array(sab, (HEADER_I32 + this.capacity) * 4, this.capacity * 2 * this.D);
  }
  isReady(slot: number): boolean {
    return Atomics.load(this.state, slot) === SLOT_READY;
  }
  spectrum(slot: number): Float32Array {
    return this.data.subarray(slot * 2 * this.D, slot * 2 * this.D + this.D);
  }
  vector(slot: number): Float32Array {
    return this.data.subarray(slot * 2 * this.D + this.D, (slot + 1) * 2 * this.D);
  }
  publish(slot: number): void {
    Atomics.store(this.state, slot, SLOT_READY);
  }
  clear(slot: number): void {
    Atomics.store(this.state, slot, SLOT_EMPTY);
  }
}

export function createRoleTableBuffer(D: number, capacity: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(roleTableBytes(D, capacity));
  const header = new Int32Array(sab, 0, HEADER_I32);
  header[kDimField] = D;
  header[kCapacityField] = capacity;
  return sab;
}

/** A role a batch needs: its slot, and whether the worker must compute it first. */
export interface RoleRef {
  token: string;
  slot: number;
  compute: boolean;
}

/** Main-thread owner of the index: LRU by use, pins while in flight. */
export class RoleTable {
  readonly view: RoleTableView;
  private readonly index = new Map<string, number>(); // insertion order = LRU order
  private readonly tokenOf: (string | undefined)[];
  private readonly pins: Int32Array;
  private readonly free: number[] = [];
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly sab: SharedArrayBuffer) {
    this.view = new RoleTableView(sab);
    this.tokenOf = new Array(this.view.capacity);
    this.pins = new Int32Array(this.view.capacity);
    for (let s = this.view.capacity - 1; s >= 0; s--) this.free.push(s);
  }

  get size(): number {
    return this.index.size;
  }

  /** Slot of a token if it is in the table (no LRU touch). */
  peek(token: string): number | undefined {
    return this.index.get(token);
  }

  /**
   * Slots for tokens, pinned until release(); compute = true where the worker must build it.
   * @throws HoloError overloaded when every slot is pinned by batches in flight.
   */
  acquire(tokens: readonly string[]): RoleRef[] {
    const refs: RoleRef[] = [];
    try {
      for (const token of tokens) {
        let slot = this.index.get(token);
        if (slot !== undefined) {
          this.index.delete(token);
          this.index.set(token, slot); // most recently used goes last
          this.hits++;
        } else {
          slot = this.allocate(token);
          this.misses++;
        }
        this.pins[slot]++;
        refs.push({ token, slot, compute: !this.view.isReady(slot) });
      }
    } catch (e) {
      this.release(refs); // the caller never sees these refs, so it cannot release them
      throw e;
    }
    return refs;
  }

  release(refs: readonly RoleRef[]): void {
    for (const r of refs) this.pins[r.slot]--;
  }

  /** Puts a token into a free (or evicted) slot; the caller fills or has it computed. */
  allocate(token: string): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      for (const [t, s] of this.index) {
        if (this.pins[s] === 0) {
          this.index.delete(t);
          this.tokenOf[s] = undefined;
          this.view.clear(s);
          this.evictions++;
          slot = s;
          break;
        }
      }
    }
    if (slot === undefined) {
      throw new HoloError('overloaded', `role table: all ${this.view.capacity} slots are in use by requests in flight`);
    }
    this.index.set(token, slot);
    this.tokenOf[slot] = token;
    return slot;
  }

  /** Ready entries, least recently used first (for persistence). */
  *readyEntries(): Generator<{ token: string; slot: number }> {
    for (const [token, slot] of this.index) if (this.view.isReady(slot)) yield { token, slot };
  }

  /** Forgets every role (the corruption drill's purge). Pinned slots are kept. */
  purge(): number {
    let n = 0;
    for (const [t, s] of [...this.index]) {
      if (this.pins[s] !== 0) continue;
      this.index.delete(t);
      this.tokenOf[s] = undefined;
      this.view.clear(s);
      this.free.push(s);
      n++;
    }
    return n;
  }
}
