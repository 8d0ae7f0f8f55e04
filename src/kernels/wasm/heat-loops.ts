/**
 * ChebyshevLoops on kernels.wasm (assembly/heat.ts).
 *
 * Where the copies happen: a graph's CSR (val, col, rowPtr: 12 bytes per entry + 4 per node)
 * goes into WASM memory on its first heat call and stays there, found again through a WeakMap
 * keyed by the Graph, until the Graph is garbage-collected (a FinalizationRegistry frees the
 * block; the server keeps graphs by id and drops them from its LRU). Each call then allocates a
 * scratch block for a, b (the two Chebyshev vectors), the outputs and the coefficients, copies x
 * and the coefficients in and the outputs out: 8·n·(1 + times) bytes, against K sweeps over the
 * CSR. A call whose blocks do not fit in WASM memory (fixed at 256 MiB so that it never grows,
 * see load.ts) returns false and runs on the JS loops.
 */
import type { Graph } from '../graph/csr.js';
import type { ChebyshevLoops } from '../graph/heat.js';
import { allocOrZero, f64View, i32View, loadWasm, noteFallback, type KernelsWasm } from './load.js';

/** A graph's CSR in WASM memory: one block at ptr holding val, col, rowPtr. */
interface Resident {
  ptr: number; val: number; col: number; rowPtr: number;
  /** the arrays copied, to notice a Graph whose arrays were replaced */
  from: { val: Float64Array; col: Int32Array; rowPtr: Int32Array };
}

let loops: ChebyshevLoops | undefined;

/** The WASM loops of this thread. Call only when loadWasm() has succeeded (kernelEngine is 'wasm'). */
export function wasmChebyshevLoops(): ChebyshevLoops {
  return (loops ??= make(loadWasm()!));
}

function make(w: KernelsWasm): ChebyshevLoops {
  const resident = new WeakMap<Graph, Resident>();
  const registry = new FinalizationRegistry<number>((ptr) => w.free(ptr));

  function residentOf(g: Graph): Resident | null {
    const r = resident.get(g);
    if (r && r.from.val === g.val && r.from.col === g.col && r.from.rowPtr === g.rowPtr) return r;
    if (r) {
      registry.unregister(r);
      w.free(r.ptr);
      resident.delete(g);
    }
    const { n, nnz } = g;
    const ptr = allocOrZero(w, 8 * nnz + 4 * nnz + 4 * (n + 1));
    if (ptr === 0) return null;
    const val = ptr, col = val + 8 * nnz, rowPtr = col + 4 * nnz;
    f64View(w, val, nnz).set(g.val.subarray(0, nnz));
    i32View(w, col, nnz).set(g.col.subarray(0, nnz));
    i32View(w, rowPtr, n + 1).set(g.rowPtr.subarray(0, n + 1));
    const made: Resident = { ptr, val, col, rowPtr, from: { val: g.val, col: g.col, rowPtr: g.rowPtr } };
    resident.set(g, made);
    registry.register(g, ptr, made);
    return made;
  }

  return {
    run(graph, x, cs, ys, K) {
      const g = residentOf(graph);
      const { n } = graph;
      const m = ys.length;
      const ptr = g === null ? 0 : allocOrZero(w, 8 * (n * (2 + m) + m * K));
      if (g === null || ptr === 0) {
        noteFallback();
        return false;
      }
      try {
        const a = ptr, b = a + 8 * n, y = b + 8 * n, c = y + 8 * n * m;
        f64View(w, a, n).set(x);
        const cv = f64View(w, c, m * K);
        for (let j = 0; j < m; j++) cv.set(cs[j].subarray(0, K), j * K);
        if (m === 1) w.chebyshev1(n, g.rowPtr, g.col, g.val, a, b, y, c, K);
        else w.chebyshevMany(n, g.rowPtr, g.col, g.val, a, b, y, c, m, K);
        const yv = f64View(w, y, n * m);
        for (let j = 0; j < m; j++) ys[j].set(yv.subarray(j * n, (j + 1) * n));
      } finally {
        w.free(ptr);
      }
      return true;
    },
  };
}
