/**
 * Loads dist/kernels.wasm (src/kernels/wasm/assembly/, built by `npm run build`) once per
 * thread, synchronously and lazily, for the Sinkhorn and heat hot loops. If the file is missing
 * or does not instantiate (no WASM SIMD, say), loadWasm returns null, the kernels run their JS
 * loops, and wasmStatus says why.
 *
 * Memory scheme: the module exports its memory and a TLSF allocator (alloc/free); the
 * TypeScript side allocates its blocks there and reads and writes them through typed-array
 * views. The memory is 256 MiB from the start and never grows (src/kernels/wasm/asconfig.json:
 * initialMemory = maximumMemory = 4096 pages; pages cost nothing until touched). Growing would
 * detach the old ArrayBuffer, and after the first detach in a thread V8 runs typed-array code
 * slower in the whole thread (measured: the JS Sinkhorn 580 → 750 µs after one unrelated
 * WebAssembly.Memory.grow; V8's array-buffer-detaching protector, as far as we can tell). An
 * alloc that does not fit returns 0 and that call runs on the JS loops (counted in
 * wasmStatus().fallbacks). Views therefore stay valid; the kernels still make them per call.
 *
 * The file is found relative to this module: dist/src/kernels/wasm/load.js reaches
 * dist/kernels.wasm as ../../../kernels.wasm; run from source (vitest), src/kernels/wasm/load.ts
 * reaches it as ../../../dist/kernels.wasm.
 *
 * Why process.getBuiltinModule and not `import … from 'node:fs'`: kernels/ imports no node:
 * module (STYLE §1, test/kernels/imports.test.ts), since kernels are pure math. Reading our own
 * compiled loops at load is the one exception, the same I/O @echogarden/pffft-wasm does inside
 * its package; doing it through the runtime keeps the kernels importable where there is no fs
 * (there the JS loops serve). It is the only file under src/kernels/ that touches the file
 * system: instantiateFile also loads scan.wasm (scan.ts) and finite.wasm (fft/pffft.ts), and
 * packageFile reads pffft.wasm for pffft.ts.
 */

/** The exports of kernels.wasm (src/kernels/wasm/assembly/index.ts); pointers are byte offsets. */
export interface KernelsWasm {
  memory: { buffer: ArrayBuffer };
  alloc(bytes: number): number;
  free(ptr: number): void;
  iterate(K: number, KT: number, C: number, ar: number, bc: number, F: number, G: number, lf: number,
    lg: number, mx: number, sm: number, u: number, u2: number, v: number, v2: number, kv: number, ktu: number,
    invEps: number, n: number, m: number, maxIter: number, tolN: number, out: number): void;
  /** fdlibm's exp and log as V8 has them (exported for the tests that check exactly that) */
  exp(x: number): number;
  log(x: number): number;
  chebyshev1(n: number, rowPtr: number, col: number, val: number, a: number, b: number, y: number, c: number, K: number): void;
  chebyshevMany(n: number, rowPtr: number, col: number, val: number, a: number, b: number, ys: number, cs: number, m: number, K: number): void;
  pffftInverseFilter(B: number, W: number, D: number, floor: number, lambda: number): number;
}

const FUNCTIONS = [
  'alloc', 'free', 'iterate', 'exp', 'log', 'chebyshev1', 'chebyshevMany', 'pffftInverseFilter',
] as const;

export interface WasmStatus {
  /** the module is instantiated and the kernels may use it */
  loaded: boolean;
  /** the file it came from, when loaded */
  path?: string;
  /** why not, when not loaded (missing file, no WebAssembly, failed instantiation) */
  reason?: string;
  /** calls that ran on the JS loops because their blocks did not fit in WASM memory */
  fallbacks: number;
}

/** The subset of the WebAssembly JS API the kernels use (lib.dom is not in this project's libs). */
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => { buffer: ArrayBufferLike; grow(pages: number): number };
}

/** This runtime's WebAssembly, or undefined where there is none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** node:fs through the runtime (see above), or undefined. */
function fileSystem() {
  return typeof process === 'object' ? process.getBuiltinModule?.('fs') : undefined;
}

let wasm: KernelsWasm | null | undefined;
let status: Omit<WasmStatus, 'fallbacks'> = { loaded: false, reason: 'not loaded yet' };
let fallbacks = 0;

/** The instance of this thread, instantiated on first call; null when it cannot be (see wasmStatus). */
export function loadWasm(): KernelsWasm | null {
  if (wasm === undefined) {
    try {
      const { exports, path } = instantiate();
      wasm = exports;
      status = { loaded: true, path };
    } catch (e) {
      wasm = null;
      status = { loaded: false, reason: e instanceof Error ? e.message : String(e) };
    }
  }
  return wasm;
}

/** Whether the WASM loops are in use, and why not; loads the module if nobody has yet. */
export function wasmStatus(): WasmStatus {
  loadWasm();
  return { ...status, fallbacks };
}

/** Counts one call that could not get WASM memory and ran on the JS loops. */
export function noteFallback(): void {
  fallbacks++;
}

function instantiate(): { exports: KernelsWasm; path: string } {
  const { exports: raw, path } = instantiateFile('kernels.wasm', {}, FUNCTIONS);
  if (!(raw.memory && (raw.memory as { buffer?: unknown }).buffer instanceof ArrayBuffer)) {
    throw new Error(`${path} exports no memory`);
  }
  return { exports: raw as unknown as KernelsWasm, path };
}

/**
 * Instantiates dist/`name` (found beside the compiled module, or under dist/ from the sources)
 * with `imports`, and checks it exports `functions`: kernels.wasm here, scan.wasm (scan.ts).
 * @throws Error saying why not (no WebAssembly, no file system, not built, does not instantiate)
 */
export function instantiateFile(name: string, imports: object, functions: readonly string[]): { exports: Record<string, unknown>; path: string } {
  const api = wasmApi();
  if (!api) throw new Error('this runtime has no WebAssembly');
  const fs = fileSystem();
  if (!fs) throw new Error(`no file system to read ${name} from (process.getBuiltinModule needs Node ≥ 20.16)`);
  const urls = [`../../../${name}`, `../../../dist/${name}`].map((rel) => new URL(rel, import.meta.url));
  const url = urls.find((u) => fs.existsSync(u));
  if (!url) {
    throw new Error(`${name} not found (looked for ${urls.map((u) => u.pathname).join(', ')}): run npm run build`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = new api.Instance(new api.Module(fs.readFileSync(url)), imports).exports;
  } catch (e) {
    throw new Error(`${url.pathname} does not instantiate: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const f of functions) {
    if (typeof raw[f] !== 'function') throw new Error(`${url.pathname} lacks the export ${f}: rebuild it (npm run build)`);
  }
  return { exports: raw, path: url.pathname };
}

/**
 * The bytes of `name`, a file beside the module that the package specifier `specifier` resolves
 * to (pffft.wasm beside @echogarden/pffft-wasm/simd's pffft.js).
 * @throws Error saying why not (no file system, not resolvable, unreadable)
 */
export function packageFile(specifier: string, name: string): Uint8Array {
  const fs = fileSystem();
  const mod = typeof process === 'object' ? process.getBuiltinModule?.('module') : undefined;
  if (!fs || !mod) throw new Error(`no file system to read ${name} from (process.getBuiltinModule needs Node ≥ 20.16)`);
  const main = mod.createRequire(import.meta.url).resolve(specifier);
  return fs.readFileSync(main.slice(0, main.lastIndexOf('/') + 1) + name);
}

/**
 * A block of `bytes` bytes in w's memory, or 0 if none is free that large (the caller then uses
 * its JS loop; TLSF traps on a full memory before changing any of its state).
 */
export function allocOrZero(w: KernelsWasm, bytes: number): number {
  if (!(bytes < w.memory.buffer.byteLength)) return 0; // cannot fit: spare the trap
  try {
    return w.alloc(Math.max(bytes, 8));
  } catch {
    return 0;
  }
}

/** A Float64Array view of len doubles at byte offset ptr (the memory never grows, so it stays valid). */
export function f64View(w: KernelsWasm, ptr: number, len: number): Float64Array {
  return new Float64Array(w.memory.buffer, ptr, len);
}

/** An Int32Array view of len ints at byte offset ptr. */
export function i32View(w: KernelsWasm, ptr: number, len: number): Int32Array {
  return new Int32Array(w.memory.buffer, ptr, len);
}
