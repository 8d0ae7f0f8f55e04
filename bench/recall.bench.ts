/**
 * Recall at scale (issue #10), one thread: the exact scan (JS reference in src/memory/recall.ts,
 * WASM f32x4 in src/memory/scan.ts) and the 1-bit index with exact rescoring, against numpy's
 * `X @ q` + argpartition (OpenBLAS sgemv, one thread; bench/python/recall_ref.py) on the same
 * slab, measured in the same run, interleaved round by round (this machine is shared: the
 * ratios are taken pair by pair within a round, and the median ratio is reported). `ratio` is
 * time ours / time numpy's (≤ 1: at least numpy's rate); `ratio_4k_pages` the same against numpy
 * without the transparent huge pages it asks for, the page size a WASM memory has.
 * The slab memory is advised for huge pages as the server's workers advise theirs (setting
 * slabHugePages, src/native/huge-pages.ts); the same kernel on a twin memory left on 4 KiB pages
 * is timed beside it, interleaved (`huge_over_4k`: time with huge pages / time without).
 * Accuracy on clustered data (C = min(256, n/16) centres, so every centre has ≥ 16 items): recall@10 of binary against exact over 40
 * queries, and top-1 on 100 near-duplicate queries (a stored row + noise, cosine ≈ 0.9).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topK } from '../src/memory/recall.js';
import { scan, codeWords, setScanSplitter, writeCode, type ScanOptions } from '../src/memory/scan.js';
import { startScanHelpers } from '../src/worker/scan-helpers.js';
import { SLAB_MEMORY_MAX_BYTES, scanKernels, scanKernelsOn, slabHeap, slabMemory, type ScanKernels } from '../src/kernels/wasm/scan.js';
import { adviseHugePages, type HugePages } from '../src/native/huge-pages.js';
import { wasmApi } from '../src/kernels/wasm/load.js';
import { centres, clusteredQuery, fillClustered, nearDuplicate } from './recall-data.js';
import { measure, type Row } from './timing.js';

const ROUNDS = 3;
const PY = new URL('../../bench/python/recall_ref.py', import.meta.url).pathname;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** numpy's median µs; pages4k: without the huge pages numpy asks for (the page size a WASM memory has). */
function numpy(dir: string, n: number, D: number, reps: number, pages4k = false): number | null {
  const r = spawnSync('python3', [PY, join(dir, 'slab.f32'), join(dir, 'q.f32'), String(n), String(D), String(reps), ...(pages4k ? ['4k'] : [])], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }, encoding: 'utf8',
  });
  if (r.status !== 0) { console.error('numpy reference failed:', r.stderr?.slice(0, 400)); return null; }
  return JSON.parse(r.stdout.trim().split('\n').pop()!).median_us as number;
}

/** A shared memory on 4 KiB pages (never advised) holding a copy of a slab, with the scan kernel on it. */
class PlainTwin {
  private readonly mem = new (wasmApi()!.Memory)({ initial: 64, maximum: 65536, shared: true });
  private readonly k: ScanKernels = scanKernelsOn(this.mem);
  /** Copies the slab and q in (from byte 64 KiB), and returns a call of the exact top-10 scan on them. */
  load(slab: Uint8Array, q: Float32Array, n: number, D: number): () => void {
    const base = 65536, qp = base + slab.byteLength, ts = qp + q.byteLength, need = ts + 16 * 8;
    const pages = Math.ceil(need / 65536) - this.mem.buffer.byteLength / 65536;
    if (pages > 0) this.mem.grow(pages);
    const u8 = new Uint8Array(this.mem.buffer);
    u8.set(slab, base);
    u8.set(new Uint8Array(q.buffer, q.byteOffset, q.byteLength), qp);
    return () => { this.k.scanTopK(base, n, D, qp, 10, ts, ts + 64); };
  }
}

export function runRecallBench(sizes?: { D: number; n: number }[], oversampling = 16): Row[] {
  const rows: Row[] = [];
  const pages: HugePages = adviseHugePages(slabMemory() as { buffer: ArrayBufferLike } | null, SLAB_MEMORY_MAX_BYTES, true);
  console.error(`recall bench: slab pages ${pages.advised ? `2 MiB (advised, THP mode ${pages.mode})` : `4 KiB (${pages.reason})`}`);
  const heap = slabHeap();
  const kernels = scanKernels();
  const twin = kernels ? new PlainTwin() : null;
  const plan = sizes ?? [
    { D: 8192, n: 1024 }, { D: 8192, n: 4096 }, { D: 8192, n: 16384 },
    { D: 2048, n: 1024 }, { D: 2048, n: 4096 }, { D: 2048, n: 16384 }, { D: 2048, n: 65536 },
  ];
  for (const { D, n } of plan) {
    const slab = heap.alloc(n * D * 4), codes = heap.alloc(n * codeWords(D) * 8);
    const nc = Math.min(256, n / 16); // ≥ 16 items per centre, so ranks 2–10 are cluster mates
    const C = centres(nc, D, 7);
    fillClustered(slab.f32, n, D, C, 11);
    for (let j = 0; j < n; j++) writeCode(slab, codes, j, D);
    const q = clusteredQuery(C, 3, D, 99);
    const size = `D=${D}, ${n} items`;
    const exact: ScanOptions = { mode: 'exact', oversampling: 1 };
    const binary: ScanOptions = { mode: 'binary', oversampling };
    const dir = mkdtempSync(join(tmpdir(), 'holoserve-recall-'));
    const js: Row[] = [], wx: Row[] = [], bin: Row[] = [], np: number[] = [], np4k: number[] = [], raw: Row[] = [], raw4k: Row[] = [];
    // The raw kernel on this slab and on its 4 KiB-page twin (q and the top list beside each).
    const scratch = heap.alloc(D * 4 + 256);
    scratch.f32.set(q);
    const onHuge = () => { kernels!.scanTopK(slab.ptr, n, D, scratch.ptr, 10, scratch.ptr + D * 4, scratch.ptr + D * 4 + 64); };
    const on4k = twin?.load(slab.u8.subarray(0, n * D * 4), q, n, D);
    try {
      writeFileSync(join(dir, 'slab.f32'), slab.u8.subarray(0, n * D * 4));
      writeFileSync(join(dir, 'q.f32'), new Uint8Array(q.buffer));
      const slabView = slab.f32.subarray(0, n * D);
      const big = n * D > 4096 * 8192;
      for (let r = 0; r < ROUNDS; r++) {
        js.push(measure('js', size, () => { topK(slabView, n, D, q, 10); }, { warmup: 1, reps: big ? 3 : 7, budgetMs: 800 }));
        wx.push(measure('wasm', size, () => { scan(slab, codes, n, D, q, 10, exact); }, { warmup: 2, reps: 30, budgetMs: 800 }));
        bin.push(measure('bin', size, () => { scan(slab, codes, n, D, q, 10, binary); }, { warmup: 5, reps: 100, budgetMs: 500 }));
        const p = numpy(dir, n, D, big ? 10 : 30);
        if (p !== null) np.push(p);
        const p4 = numpy(dir, n, D, big ? 10 : 30, true);
        if (p4 !== null) np4k.push(p4);
        if (on4k && slab.ptr >= 0) {
          raw.push(measure('huge', size, onHuge, { warmup: 2, reps: 30, budgetMs: 600 }));
          raw4k.push(measure('4k', size, on4k, { warmup: 2, reps: 30, budgetMs: 600 }));
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const gb = (us: number) => (n * D * 4) / (us * 1000);
    const med = (rs: Row[]) => median(rs.map((x) => x.medianUs));
    const pick = (rs: Row[], name: string, extra: Record<string, number | string>): Row => ({ ...rs[0], name, medianUs: med(rs), p10Us: median(rs.map((x) => x.p10Us)), p90Us: median(rs.map((x) => x.p90Us)), extra });
    const ratios = np.length === ROUNDS ? wx.map((w, i) => w.medianUs / np[i]) : [];
    const ratios4k = np4k.length === ROUNDS ? wx.map((w, i) => w.medianUs / np4k[i]) : [];
    rows.push(pick(js, 'recall scan, exact (JS reference)', { GB_per_s: gb(med(js)) }));
    rows.push(pick(wx, 'recall scan, exact (WASM f32x4)', {
      GB_per_s: gb(med(wx)), ...(np.length ? { native_us: median(np), ratio: median(ratios), numpy_GB_per_s: gb(median(np)) } : {}),
      ...(ratios4k.length ? { numpy_4k_pages_us: median(np4k), ratio_4k_pages: median(ratios4k) } : {}),
      js_over_wasm: median(js.map((j, i) => j.medianUs / wx[i].medianUs)),
      ...(raw.length ? { slab_pages: pages.advised ? '2 MiB' : '4 KiB', kernel_us: med(raw), kernel_4k_pages_us: med(raw4k), huge_over_4k: median(raw.map((h, i) => h.medianUs / raw4k[i].medianUs)) } : {}),
    }));
    // Accuracy against the exact scan, on this clustered slab.
    let hit = 0, inter = 0;
    const Q = 40;
    for (let t = 0; t < Q; t++) {
      const qq = clusteredQuery(C, (t * 37) % nc, D, 1000 + t);
      const e = scan(slab, codes, n, D, qq, 10, exact), b = scan(slab, codes, n, D, qq, 10, binary);
      const set = new Set(e.index);
      for (const i of b.index) if (set.has(i)) inter++;
    }
    const ND = 100;
    for (let t = 0; t < ND; t++) {
      const j = (t * 7919) % n;
      const b = scan(slab, codes, n, D, nearDuplicate(slab.f32, j, D, 5000 + t), 10, binary);
      if (b.index[0] === j) hit++;
    }
    rows.push(pick(bin, `recall, binary + rescoring (oversampling ${oversampling})`, {
      js_over_binary: median(js.map((j, i) => j.medianUs / bin[i].medianUs)),
      recall_at_10: inter / (Q * 10), near_dup_top1: hit / ND,
    }));
    heap.free(slab);
    heap.free(codes);
    heap.free(scratch);
  }
  return rows;
}

/**
 * One exact scan split over this thread and one helper thread (setting recallSplitThreads = 1)
 * against the same scan on this thread alone, interleaved round by round; random unit rows.
 */
export async function runSplitBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const helpers = startScanHelpers(1);
  if (!helpers) return rows;
  const heap = slabHeap();
  try {
    for (const { D, n } of [{ D: 8192, n: 4096 }, { D: 8192, n: 16384 }, { D: 2048, n: 16384 }]) {
      const slab = heap.alloc(n * D * 4), codes = heap.alloc(n * codeWords(D) * 8);
      fillClustered(slab.f32, n, D, centres(256, D, 7), 11);
      const q = clusteredQuery(centres(256, D, 7), 3, D, 99);
      const exact: ScanOptions = { mode: 'exact', oversampling: 1 };
      const one: Row[] = [], two: Row[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        setScanSplitter(null, Infinity);
        one.push(measure('one', '', () => { scan(slab, codes, n, D, q, 10, exact); }, { warmup: 2, reps: 15, budgetMs: 600 }));
        setScanSplitter(helpers, 0);
        two.push(measure('two', '', () => { scan(slab, codes, n, D, q, 10, exact); }, { warmup: 2, reps: 15, budgetMs: 600 }));
      }
      setScanSplitter(null, Infinity);
      const med = (rs: Row[]) => median(rs.map((x) => x.medianUs));
      rows.push({
        name: 'recall scan, exact, split over 2 threads', size: `D=${D}, ${n} items`, medianUs: med(two),
        p10Us: median(two.map((x) => x.p10Us)), p90Us: median(two.map((x) => x.p90Us)),
        extra: { one_thread_us: med(one), speedup: median(one.map((o, i) => o.medianUs / two[i].medianUs)) },
      });
      heap.free(slab);
      heap.free(codes);
    }
  } finally {
    setScanSplitter(null, Infinity);
    await helpers.close();
  }
  return rows;
}
