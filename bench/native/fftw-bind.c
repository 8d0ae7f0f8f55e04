/*
 * Native baseline for bench/hrr.bench.ts: HRR bind, bind with a cached spectrum and exact
 * unbind with FFTW in single precision (fftwf r2c/c2r plans, FFTW_MEASURE), built with
 * cc -O3 -march=native ... -lfftw3f. The same work as src/kernels/hrr/{bind,unbind}.ts:
 *
 *   bind(a, b)            2 r2c, complex multiply, 1 c2r, scale 1/D
 *   bindSpectrum(a, R)    1 r2c, multiply by the cached spectrum R, 1 c2r, scale
 *   unbind(c, b) exact    ‖b‖², 1 r2c of b, W = conj(B)/max(|B|², λ) with λ = 1e-3‖b‖²,
 *                         1 r2c of c, multiply, 1 c2r, scale
 *   fft pair              1 r2c + 1 c2r alone (the floor any bind pays)
 *
 * usage: fftw-bind <dir> <D>...
 *   reads  <dir>/in-<D>.bin:  float32 a[D], b[D], c[D], R as (re, im) float32 pairs [D/2+1]
 *   writes <dir>/out-<D>.bin: float32 bind(a,b)[D], bindSpectrum(a,R)[D], unbind(c,b)[D]
 *   prints one line per D: "D=<D> bind_us=<> bind_spectrum_us=<> unbind_us=<> fft_pair_us=<>"
 * Each figure is the median over samples of `inner` consecutive calls, after warm-up.
 * Plans are made once per D (as the JS engines build their setups once) and run with the
 * new-array execute functions on fftwf_malloc'd buffers.
 */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int D, H; /* H = D/2 + 1 bins */
static float *a, *b, *c, *out, *tmp;
static fftwf_complex *A, *B, *R, *W;
static fftwf_plan fwd, inv;

static void bind(const float *x, const float *y, float *o) {
  fftwf_execute_dft_r2c(fwd, (float *)x, A);
  fftwf_execute_dft_r2c(fwd, (float *)y, B);
  for (int k = 0; k < H; k++) {
    float ar = A[k][0], ai = A[k][1], br = B[k][0], bi = B[k][1];
    A[k][0] = ar * br - ai * bi;
    A[k][1] = ar * bi + ai * br;
  }
  fftwf_execute_dft_c2r(inv, A, o);
  const float s = 1.0f / D;
  for (int i = 0; i < D; i++) o[i] *= s;
}

static void bind_spectrum(const float *x, const fftwf_complex *S, float *o) {
  fftwf_execute_dft_r2c(fwd, (float *)x, A);
  for (int k = 0; k < H; k++) {
    float ar = A[k][0], ai = A[k][1], br = S[k][0], bi = S[k][1];
    A[k][0] = ar * br - ai * bi;
    A[k][1] = ar * bi + ai * br;
  }
  fftwf_execute_dft_c2r(inv, A, o);
  const float s = 1.0f / D;
  for (int i = 0; i < D; i++) o[i] *= s;
}

static int unbind_exact(const float *cc, const float *y, float *o) {
  double p = 0;
  for (int i = 0; i < D; i++) p += (double)y[i] * y[i];
  const double lambda = 1e-3 * p;
  fftwf_execute_dft_r2c(fwd, (float *)y, B);
  int floored = 0;
  for (int k = 0; k < H; k++) {
    double br = B[k][0], bi = B[k][1], q = br * br + bi * bi;
    if (q < lambda) floored++;
    double s = 1.0 / (q > lambda ? q : lambda);
    W[k][0] = (float)(br * s);
    W[k][1] = (float)(-bi * s);
  }
  bind_spectrum(cc, W, o);
  return floored;
}

static void fft_pair(const float *x, float *o) {
  fftwf_execute_dft_r2c(fwd, (float *)x, A);
  fftwf_execute_dft_c2r(inv, A, o);
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec * 1e-3;
}

static int cmp(const void *x, const void *y) {
  double u = *(const double *)x, v = *(const double *)y;
  return u < v ? -1 : u > v;
}

#define SAMPLES 101
static volatile float sink;

/* Median µs per call of op(kind) over SAMPLES samples of `inner` calls each. */
static double timeit(int kind, int inner) {
  double t[SAMPLES];
  for (int s = -10; s < SAMPLES; s++) { /* the first 10 samples warm up */
    double t0 = now_us();
    for (int j = 0; j < inner; j++) {
      switch (kind) {
        case 0: bind(a, b, out); break;
        case 1: bind_spectrum(a, R, out); break;
        case 2: unbind_exact(c, b, out); break;
        default: fft_pair(a, tmp); break;
      }
      sink = out[j & (D - 1)];
    }
    if (s >= 0) t[s] = (now_us() - t0) / inner;
  }
  qsort(t, SAMPLES, sizeof t[0], cmp);
  return t[SAMPLES / 2];
}

static void *must(void *p) {
  if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
  return p;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s <dir> <D>...\n", argv[0]); return 2; }
  for (int arg = 2; arg < argc; arg++) {
    D = atoi(argv[arg]);
    H = D / 2 + 1;
    a = must(fftwf_malloc(sizeof(float) * D)); b = must(fftwf_malloc(sizeof(float) * D));
    c = must(fftwf_malloc(sizeof(float) * D)); out = must(fftwf_malloc(sizeof(float) * D));
    tmp = must(fftwf_malloc(sizeof(float) * D));
    A = must(fftwf_malloc(sizeof(fftwf_complex) * H)); B = must(fftwf_malloc(sizeof(fftwf_complex) * H));
    R = must(fftwf_malloc(sizeof(fftwf_complex) * H)); W = must(fftwf_malloc(sizeof(fftwf_complex) * H));
    /* FFTW_MEASURE overwrites the arrays while planning: plan first, then read the inputs. */
    fwd = fftwf_plan_dft_r2c_1d(D, tmp, A, FFTW_MEASURE);
    inv = fftwf_plan_dft_c2r_1d(D, A, tmp, FFTW_MEASURE);
    if (!fwd || !inv) { fprintf(stderr, "no plan for D=%d\n", D); return 1; }

    char path[4096];
    snprintf(path, sizeof path, "%s/in-%d.bin", argv[1], D);
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    if (fread(a, sizeof(float), D, f) != (size_t)D || fread(b, sizeof(float), D, f) != (size_t)D ||
        fread(c, sizeof(float), D, f) != (size_t)D || fread(R, sizeof(fftwf_complex), H, f) != (size_t)H) {
      fprintf(stderr, "%s: short input\n", path);
      return 1;
    }
    fclose(f);

    snprintf(path, sizeof path, "%s/out-%d.bin", argv[1], D);
    f = fopen(path, "wb");
    if (!f) { perror(path); return 1; }
    bind(a, b, out); fwrite(out, sizeof(float), D, f);
    bind_spectrum(a, R, out); fwrite(out, sizeof(float), D, f);
    unbind_exact(c, b, out); fwrite(out, sizeof(float), D, f);
    fclose(f);

    int inner = 262144 / D; /* ~1 ms samples at D = 2048 */
    if (inner < 4) inner = 4;
    double tb = timeit(0, inner), ts = timeit(1, inner), tu = timeit(2, inner), tp = timeit(3, inner);
    printf("D=%d bind_us=%.3f bind_spectrum_us=%.3f unbind_us=%.3f fft_pair_us=%.3f\n", D, tb, ts, tu, tp);
    fflush(stdout);

    fftwf_destroy_plan(fwd); fftwf_destroy_plan(inv);
    fftwf_free(a); fftwf_free(b); fftwf_free(c); fftwf_free(out); fftwf_free(tmp);
    fftwf_free(A); fftwf_free(B); fftwf_free(R); fftwf_free(W);
  }
  return 0;
}
