/**
 * Results go back to the main thread by transfer, not copy: every Float32Array/Float64Array in
 * a batch's results owns a fresh ArrayBuffer, which the worker hands over (postMessage transfer
 * list) and can no longer touch. So a handler must never return an array something else keeps
 * (a cache entry, a role table slot): it returns `fresh(x)`. Uint8Arrays (stored payloads) are
 * never transferred. Measured here: allocating a 32 KiB SharedArrayBuffer costs ~9 µs, a plain
 * ArrayBuffer ~3 µs, and msgpackr packs a view of the latter twice as fast.
 */
import { move, Piscina } from 'piscina';

/** A copy of x in its own ArrayBuffer (safe to transfer). */
export function fresh<T extends Float32Array | Float64Array>(x: T): T {
  return x.slice() as T;
}

/** The distinct transferable ArrayBuffers of the float arrays inside results. */
export function transferables(values: unknown[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const walk = (v: unknown): void => {
    if (v instanceof Float32Array || v instanceof Float64Array) {
      if (v.buffer instanceof ArrayBuffer) seen.add(v.buffer);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      for (const x of Object.values(v)) walk(x);
    }
  };
  for (const v of values) walk(v);
  return [...seen];
}

/** Wraps a task's answer so Piscina transfers `buffers` instead of copying them. */
export function withTransfer<T extends object>(value: T, buffers: ArrayBuffer[]): T {
  if (buffers.length === 0) return value;
  return move({
    get [Piscina.transferableSymbol]() { return buffers; },
    get [Piscina.valueSymbol]() { return value; },
  } as never) as unknown as T;
}
