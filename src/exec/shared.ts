/** Result arrays on SharedArrayBuffers: posted back to the main thread without a copy. */
export function sharedF32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

export function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8));
}

export function toSharedF64(x: Float64Array): Float64Array {
  const y = sharedF64(x.length);
  y.set(x);
  return y;
}
