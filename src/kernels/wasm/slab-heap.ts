/**
 * Where tenant slabs live: one shared WebAssembly.Memory per thread, imported by the scan module
 * (scan/index.ts), so a recall scans a slab in place, with no copy per query. Blocks come from a
 * small allocator kept here in JS: power-of-two size classes (64 B … 4 GiB) with a free list
 * each, a bump pointer above them, and a larger free block split in halves when a class is empty
 * (no coalescing: slabs grow by doubling, so their sizes are already powers of two and freed
 * blocks are reused whole). The memory grows by whole pages as the bump pointer needs; a SHARED
 * memory's grow never detaches the buffers already handed out (unlike kernels.wasm's memory,
 * fixed at 256 MiB for that reason, see load.ts), so views made before a grow stay valid. It
 * never shrinks: freed blocks are reused, and `bytesHeld` counts the live ones.
 *
 * Where WebAssembly or shared memory is missing, blocks are plain ArrayBuffers (ptr −1) and the
 * scans run their JS loops (memory/scan.ts).
 */

/** A block of the heap: its byte offset in the memory (−1: a plain buffer outside it) and views. */
export interface Block {
  readonly ptr: number;
  readonly bytes: number;
  readonly f32: Float32Array;
  readonly u8: Uint8Array;
}

interface MemoryLike {
  buffer: ArrayBufferLike;
  grow(pages: number): number;
}

const PAGE = 65536;
/** Bytes below this offset belong to the scan module (its stack and globals). */
const RESERVED = 64 * 1024;
const MIN_CLASS = 6; // 64 B: blocks are cache-line aligned
const MAX_PAGES = 65536; // wasm32: 4 GiB

export class SlabHeap {
  /** bytes in live blocks (their size classes) */
  bytesHeld = 0;
  private top = RESERVED;
  private readonly freeLists: number[][] = [];
  private readonly classOf = new Map<number, number>();

  /** memory: the shared WebAssembly.Memory the scan module imports; null for plain buffers. */
  constructor(readonly memory: MemoryLike | null) {
    for (let c = 0; c <= 32; c++) this.freeLists.push([]);
  }

  /**
   * A zero-filled block of at least `bytes` bytes (its size class: the next power of two ≥ 64).
   * @throws RangeError when the memory cannot grow that far (4 GiB per thread).
   */
  alloc(bytes: number): Block {
    const cls = Math.max(MIN_CLASS, Math.ceil(Math.log2(Math.max(1, bytes))));
    const size = 2 ** cls;
    if (!this.memory) {
      const buf = new ArrayBuffer(size);
      this.bytesHeld += size;
      return { ptr: -1, bytes: size, f32: new Float32Array(buf), u8: new Uint8Array(buf) };
    }
    let ptr = this.take(cls);
    if (ptr < 0) {
      ptr = this.top;
      const end = ptr + size;
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        const pages = Math.ceil((end - have) / PAGE);
        if (have / PAGE + pages > MAX_PAGES) throw new RangeError(`slab heap cannot grow to ${end} bytes (4 GiB per thread)`);
        this.memory.grow(pages);
      }
      this.top = end;
    } else {
      new Uint8Array(this.memory.buffer, ptr, size).fill(0);
    }
    this.classOf.set(ptr, cls);
    this.bytesHeld += size;
    const buf = this.memory.buffer;
    return { ptr, bytes: size, f32: new Float32Array(buf, ptr, size >>> 2), u8: new Uint8Array(buf, ptr, size) };
  }

  /** Returns a block to its free list. Freeing twice, or a block of another heap, is ignored. */
  free(b: Block): void {
    if (b.ptr < 0) {
      this.bytesHeld -= b.bytes;
      return;
    }
    const cls = this.classOf.get(b.ptr);
    if (cls === undefined) return;
    this.classOf.delete(b.ptr);
    this.bytesHeld -= 2 ** cls;
    this.freeLists[cls].push(b.ptr);
  }

  /** A free block of class cls, splitting a larger one if needed; −1 if none. */
  private take(cls: number): number {
    let c = cls;
    while (c < this.freeLists.length && this.freeLists[c].length === 0) c++;
    if (c >= this.freeLists.length) return -1;
    const ptr = this.freeLists[c].pop()!;
    // Split down: keep the lower half, free the upper half one class smaller, until cls.
    while (c > cls) {
      c--;
      this.freeLists[c].push(ptr + 2 ** c);
    }
    return ptr;
  }
}
