#!/usr/bin/env python3
"""numpy/OpenBLAS reference for the recall scan (bench/memory.bench.ts calls it, same run).

Reads the slab the bench wrote (raw little-endian float32, n rows of D) and a query, then times
`X @ q` (BLAS sgemv) + argpartition for the top 10, single thread (OPENBLAS_NUM_THREADS=1 is set
by the caller), reps times, and prints one JSON line: {"n", "D", "median_us", "p10_us", "p90_us", "top": [...]}.
numpy asks Linux for transparent huge pages (madvise) on large arrays; with `4k` it does not, which
is what a WebAssembly memory gets (V8 never madvises it): the same page size as holoserve's scan.
Usage: recall_ref.py SLAB QUERY n D reps [4k]
"""
import json
import sys
import time

import numpy as np


def main() -> None:
    slab_path, q_path, n, D, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    if len(sys.argv) > 6 and sys.argv[6] == '4k':
        mod = getattr(np, '_core', None) or np.core
        mod.multiarray._set_madvise_hugepage(False)
    X = np.fromfile(slab_path, dtype='<f4', count=n * D).reshape(n, D)
    q = np.fromfile(q_path, dtype='<f4', count=D)
    k = min(10, n)
    for _ in range(3):
        s = X @ q
        top = np.argpartition(-s, k - 1)[:k]
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        s = X @ q
        top = np.argpartition(-s, k - 1)[:k]
        ts.append((time.perf_counter() - t0) * 1e6)
    ts.sort()
    top = top[np.argsort(-s[top], kind='stable')]
    q_ = lambda p: ts[min(len(ts) - 1, int(p * len(ts)))]
    print(json.dumps({'n': n, 'D': D, 'median_us': q_(0.5), 'p10_us': q_(0.1), 'p90_us': q_(0.9), 'top': [int(i) for i in top]}))


if __name__ == '__main__':
    main()
