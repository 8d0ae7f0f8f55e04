/*
 * Native baseline for bench/heat.bench.ts: the same fused CSR Chebyshev loop as
 * src/kernels/graph/heat.ts (heat with one t), in C, built with cc -O3 -march=native.
 *
 * usage: heat <input.bin> <reps> <output.bin>
 * input (little-endian): int32 n, nnz, K, nIso; int32 rowPtr[n+1], col[nnz], iso[nIso];
 *                        float64 val[nnz], x[n], c[K]   (c: the Chebyshev coefficients)
 * prints "median_us <µs per call>" after 5 warm-up calls; writes y (float64[n]) to output.bin.
 * Each call allocates its work vectors, as the JS kernel does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int32_t n, nnz, K, nIso;
static int32_t *rowPtr, *col, *iso;
static double *val, *x, *c;

static void *readAll(FILE *f, size_t bytes) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p || fread(p, 1, bytes, f) != bytes) { fprintf(stderr, "short input\n"); exit(1); }
  return p;
}

static double *heat(void) {
  double *a = malloc(sizeof(double) * n), *b = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
  memcpy(a, x, sizeof(double) * n);
  for (int32_t i = 0; i < n; i++) {
    double s = 0;
    for (int32_t p = rowPtr[i]; p < rowPtr[i + 1]; p++) s += val[p] * a[col[p]];
    b[i] = s;
  }
  double c1 = K > 1 ? c[1] : 0;
  for (int32_t i = 0; i < n; i++) y[i] = c[0] * a[i] + c1 * b[i];
  for (int32_t k = 2; k < K; k++) {
    const double ck = c[k];
    int32_t p = rowPtr[0];
    for (int32_t i = 0; i < n; i++) {
      const int32_t end = rowPtr[i + 1];
      double s = 0;
      for (; p < end; p++) s += val[p] * b[col[p]];
      const double v = 2 * s - a[i];
      a[i] = v;
      y[i] += ck * v;
    }
    double *t = a; a = b; b = t;
  }
  for (int32_t q = 0; q < nIso; q++) y[iso[q]] = x[iso[q]];
  free(a); free(b);
  return y;
}

static double nowUs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp(const void *p, const void *q) {
  double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: heat <input.bin> <reps> <output.bin>\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  int32_t hdr[4];
  if (fread(hdr, 4, 4, f) != 4) { fprintf(stderr, "short header\n"); return 1; }
  n = hdr[0]; nnz = hdr[1]; K = hdr[2]; nIso = hdr[3];
  rowPtr = readAll(f, 4 * (size_t)(n + 1));
  col = readAll(f, 4 * (size_t)nnz);
  iso = readAll(f, 4 * (size_t)nIso);
  val = readAll(f, 8 * (size_t)nnz);
  x = readAll(f, 8 * (size_t)n);
  c = readAll(f, 8 * (size_t)K);
  fclose(f);
  int reps = atoi(argv[2]);
  if (reps < 1) reps = 1;
  double *y = NULL;
  for (int w = 0; w < 5; w++) { free(y); y = heat(); }
  double *us = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double t0 = nowUs();
    free(y);
    y = heat();
    us[r] = nowUs() - t0;
  }
  qsort(us, reps, sizeof(double), cmp);
  printf("median_us %.3f\n", us[reps / 2]);
  FILE *o = fopen(argv[3], "wb");
  if (!o || fwrite(y, 8, n, o) != (size_t)n) { perror(argv[3]); return 1; }
  fclose(o);
  return 0;
}
