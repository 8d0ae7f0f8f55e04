// Types for the parts of @echogarden/pffft-wasm (an Emscripten module) that holoserve uses.
declare module '@echogarden/pffft-wasm/simd' {
  export interface PffftModule {
    HEAPF32: Float32Array;
    _pffft_new_setup(N: number, transform: number): number;
    _pffft_destroy_setup(setup: number): void;
    _pffft_transform(setup: number, input: number, output: number, work: number, direction: number): void;
    _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
    _pffft_zreorder(setup: number, input: number, output: number, direction: number): void;
    _pffft_zconvolve_accumulate(setup: number, a: number, b: number, ab: number, scaling: number): void;
    _pffft_aligned_malloc(bytes: number): number;
    _pffft_aligned_free(ptr: number): void;
    _pffft_simd_size(): number;
  }
  const factory: (moduleArg?: object) => Promise<PffftModule>;
  export default factory;
}
