/**
 * A pool of SharedArrayBuffer-backed vectors of one size (4·D bytes), so that receiving a
 * vector costs a memcpy, not an allocation: a fresh 32 KiB SharedArrayBuffer costs ~9 µs here,
 * more than the rest of decoding a bind. Vectors are carved from blocks of `perBlock` and come
 * back with `give` once their request is answered (batch/dispatcher.ts); a view that is not
 * the pool's is ignored, so giving back is always safe. A block lives while any of its views
 * does; the pool never shrinks below its peak (bounded by the requests that can be in flight).
 */
export class VectorArena {
  private readonly free: Float32Array[] = [];
  private readonly blocks = new WeakSet<SharedArrayBuffer>();
  /** vectors taken since begin(): given back by rollback() when a request fails to parse */
  private pending: Float32Array[] | null = null;
  taken = 0;

  constructor(readonly length: number, readonly perBlock = 64) {}

  /** Bytes of one vector. */
  get bytes(): number {
    return this.length * 4;
  }

  take(): Float32Array {
    let v = this.free.pop();
    if (!v) {
      const sab = new SharedArrayBuffer(this.bytes * this.perBlock);
      this.blocks.add(sab);
      for (let i = 1; i < this.perBlock; i++) this.free.push(new Float32Array(sab, i * this.bytes, this.length));
      v = new Float32Array(sab, 0, this.length);
    }
    this.taken++;
    this.pending?.push(v);
    return v;
  }

  /** Starts recording takes (one request's parse). */
  begin(): void {
    this.pending = [];
  }

  /** The parse succeeded: its vectors now belong to the request. */
  commit(): void {
    this.pending = null;
  }

  /** The parse failed: what it took goes back. */
  rollback(): void {
    const p = this.pending ?? [];
    this.pending = null;
    for (const v of p) this.give(v);
  }

  give(v: Float32Array): void {
    if (v.length !== this.length || !(v.buffer instanceof SharedArrayBuffer) || !this.blocks.has(v.buffer)) return;
    this.taken--;
    this.free.push(v);
  }

  /** Gives back every pooled vector among a request's fields (lists included). */
  release(params: Record<string, unknown>): void {
    for (const v of Object.values(params)) {
      if (v instanceof Float32Array) this.give(v);
      else if (Array.isArray(v)) for (const x of v) if (x instanceof Float32Array) this.give(x);
    }
  }
}
