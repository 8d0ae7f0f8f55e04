/*
 * Native baseline for bench/sinkhorn.bench.ts: the algorithm of src/kernels/ot/sinkhorn.ts
 * (Sinkhorn scaling, absorption into log-domain potentials when a scaling leaves [1/TAU, TAU],
 * K and its transpose, kernel entries below FLUSH × their row/column maximum set to 0) step for
 * step in C, without input validation (the bench feeds it valid data).
 *
 *   cc -O3 -march=native -o sinkhorn sinkhorn.c -lm
 *   ./sinkhorn INPUT N M EPSILON MAXITER TOL REPS
 *
 * INPUT holds float64 C (N*M, row-major), a (N), b (M), native byte order. Prints
 * "median_us X", "cost X", "iterations K", "absorptions K", "marginal_error X".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAU 1e50
#define INV_TAU (1.0 / TAU)

#define FLUSH 1e-200

typedef struct {
  double *K, *KT, *Cz, *ar, *bc, *F, *G, *lf, *lg, *mx, *sm, *u, *u2, *v, *v2, *kv, *ktu;
  int *I, *J;
} Work;

typedef struct { int iterations, stopped, haveK, numerical_error, absorptions; } Outcome;

typedef struct { double *plan, cost, marginal_error; Outcome o; } Result;

static int log_row(Work *w, const double *C, double inv_eps, int n, int m) {
  double *K = w->K;
  for (int j = 0; j < m; j++) w->lg[j] = w->G[j] + log(w->v[j]);
  for (int i = 0, r = 0; i < n; i++, r += m) {
    double M = -INFINITY;
    for (int j = 0; j < m; j++) { double x = w->lg[j] - C[r + j] * inv_eps; K[r + j] = x; if (x > M) M = x; }
    if (!isfinite(M)) return 0;
    double s = 0;
    for (int j = 0; j < m; j++) { double e = exp(K[r + j] - M); K[r + j] = e; s += e; }
    double c = w->ar[i] / s;
    for (int j = 0; j < m; j++) { double e = K[r + j]; K[r + j] = e < FLUSH ? 0 : e * c; }
    w->lf[i] = log(w->ar[i]) - M - log(s);
    if (!isfinite(w->lf[i])) return 0;
  }
  memcpy(w->F, w->lf, n * sizeof(double));
  memcpy(w->G, w->lg, m * sizeof(double));
  return 1;
}

static int log_col(Work *w, const double *C, double inv_eps, int n, int m) {
  double *K = w->K;
  for (int i = 0; i < n; i++) w->lf[i] = w->F[i] + log(w->u[i]);
  for (int j = 0; j < m; j++) { w->mx[j] = -INFINITY; w->sm[j] = 0; }
  for (int i = 0, r = 0; i < n; i++, r += m)
    for (int j = 0; j < m; j++) { double x = w->lf[i] - C[r + j] * inv_eps; K[r + j] = x; if (x > w->mx[j]) w->mx[j] = x; }
  for (int j = 0; j < m; j++) if (!isfinite(w->mx[j])) return 0;
  for (int i = 0, r = 0; i < n; i++, r += m)
    for (int j = 0; j < m; j++) { double e = exp(K[r + j] - w->mx[j]); K[r + j] = e; w->sm[j] += e; }
  for (int j = 0; j < m; j++) {
    w->lg[j] = log(w->bc[j]) - w->mx[j] - log(w->sm[j]);
    if (!isfinite(w->lg[j])) return 0;
    w->sm[j] = w->bc[j] / w->sm[j];
  }
  for (int i = 0, r = 0; i < n; i++, r += m)
    for (int j = 0; j < m; j++) { double e = K[r + j]; K[r + j] = e < FLUSH ? 0 : e * w->sm[j]; }
  memcpy(w->F, w->lf, n * sizeof(double));
  memcpy(w->G, w->lg, m * sizeof(double));
  return 1;
}

static void absorb(Work *w, int n, int m, int ok) {
  if (ok) {
    for (int i = 0, r = 0; i < n; i++, r += m) for (int j = 0; j < m; j++) w->KT[j * n + i] = w->K[r + j];
    for (int i = 0; i < n; i++) w->u[i] = 1;
    for (int j = 0; j < m; j++) w->v[j] = 1;
  } else {
    for (int i = 0, r = 0; i < n; i++, r += m) for (int j = 0; j < m; j++) w->K[r + j] = w->KT[j * n + i];
  }
}

/*
 * out = M^T x, rows of M scaled and added eight at a time, as the JS does. With -O3
 * -march=native gcc vectorises the inner loop (AVX2/FMA); measured ~10% faster than the plain
 * one-row loop, so the baseline is the faster of the two.
 */
static void gemv_t(const double *restrict M, int rows, int cols, const double *restrict x, double *restrict out) {
  for (int c = 0; c < cols; c++) out[c] = 0;
  int r = 0, o = 0, r8 = rows - rows % 8;
  for (; r < r8; r += 8, o += 8 * cols) {
    double x0 = x[r], x1 = x[r + 1], x2 = x[r + 2], x3 = x[r + 3];
    double x4 = x[r + 4], x5 = x[r + 5], x6 = x[r + 6], x7 = x[r + 7];
    const double *m0 = M + o, *m1 = m0 + cols, *m2 = m1 + cols, *m3 = m2 + cols;
    const double *m4 = m3 + cols, *m5 = m4 + cols, *m6 = m5 + cols, *m7 = m6 + cols;
    for (int c = 0; c < cols; c++)
      out[c] += ((x0 * m0[c] + x1 * m1[c]) + (x2 * m2[c] + x3 * m3[c])) +
                ((x4 * m4[c] + x5 * m5[c]) + (x6 * m6[c] + x7 * m7[c]));
  }
  for (; r < rows; r++, o += cols) {
    double xr = x[r];
    for (int c = 0; c < cols; c++) out[c] += xr * M[o + c];
  }
}

#define SWAP(x, y) do { double *t_ = (x); (x) = (y); (y) = t_; } while (0)

static Outcome iterate(Work *w, const double *C, double inv_eps, int n, int m, int max_iter, double tolN) {
  Outcome o = {0, 0, 0, 0, 0};
  for (int i = 0; i < n; i++) w->u[i] = 1;
  for (int j = 0; j < m; j++) { w->v[j] = 1; w->G[j] = 0; }
  for (int it = 1; it <= max_iter; it++) {
    int ok = o.haveK;
    if (o.haveK) {
      gemv_t(w->KT, m, n, w->v, w->kv);
      double err = 0;
      for (int i = 0; i < n; i++) {
        err += fabs(w->u[i] * w->kv[i] - w->ar[i]);
        double x = w->ar[i] / w->kv[i];
        w->u2[i] = x;
        if (!(x >= INV_TAU && x <= TAU)) ok = 0;
      }
      if (err <= tolN) { o.stopped = 1; break; }
      if (ok) SWAP(w->u, w->u2);
    }
    if (!ok) {
      int good = log_row(w, C, inv_eps, n, m);
      absorb(w, n, m, good);
      if (!good) { o.numerical_error = 1; break; }
      o.haveK = 1; o.absorptions++;
    }
    gemv_t(w->K, n, m, w->u, w->ktu);
    ok = 1;
    for (int j = 0; j < m; j++) {
      double x = w->bc[j] / w->ktu[j];
      w->v2[j] = x;
      if (!(x >= INV_TAU && x <= TAU)) ok = 0;
    }
    if (ok) SWAP(w->v, w->v2);
    else {
      int good = log_col(w, C, inv_eps, n, m);
      absorb(w, n, m, good);
      if (!good) { o.numerical_error = 1; break; }
      o.absorptions++;
    }
    o.iterations = it;
  }
  return o;
}

/* One sinkhorn() call: allocate scratch, compress zero masses, iterate, build plan and checks. */
static Result sinkhorn(const double *a, const double *b, const double *C, int n, int m, double eps, int max_iter,
                       double tol) {
  Work w;
  size_t nm = (size_t)n * m;
  double *blk = malloc(sizeof(double) * (3 * nm + 6 * n + 9 * m));
  double *p = blk;
  w.K = p; p += nm; w.KT = p; p += nm; w.Cz = p; p += nm;
  w.ar = p; p += n; w.F = p; p += n; w.lf = p; p += n; w.u = p; p += n; w.u2 = p; p += n; w.kv = p; p += n;
  w.bc = p; p += m; w.G = p; p += m; w.lg = p; p += m; w.v = p; p += m; w.v2 = p; p += m;
  w.ktu = p; p += m; w.mx = p; p += m; w.sm = p; p += m;
  w.I = malloc(sizeof(int) * (n + m));
  w.J = w.I + n;
  double mass = 0;
  for (int i = 0; i < n; i++) mass += a[i];
  int nn = 0, mm = 0;
  for (int i = 0; i < n; i++) { double x = a[i] / mass; if (x > 0) { w.I[nn] = i; w.ar[nn++] = x; } }
  for (int j = 0; j < m; j++) { double x = b[j] / mass; if (x > 0) { w.J[mm] = j; w.bc[mm++] = x; } }
  const double *Cw = C;
  if (nn < n || mm < m) {
    for (int i = 0; i < nn; i++)
      for (int j = 0; j < mm; j++) w.Cz[i * mm + j] = C[w.I[i] * m + w.J[j]];
    Cw = w.Cz;
  }
  Result res;
  res.o = iterate(&w, Cw, 1 / eps, nn, mm, max_iter, tol / mass);
  res.plan = calloc(nm, sizeof(double));
  if (res.o.haveK)
    for (int i = 0; i < nn; i++) {
      double ui = w.u[i] * mass;
      for (int j = 0; j < mm; j++) res.plan[w.I[i] * m + w.J[j]] = ui * w.K[i * mm + j] * w.v[j];
    }
  double cost = 0, row_err = 0, col_err = 0;
  double *col = w.ktu;
  for (int j = 0; j < m; j++) col[j] = 0;
  for (int i = 0, r = 0; i < n; i++, r += m) {
    double s = 0;
    for (int j = 0; j < m; j++) { double x = res.plan[r + j]; s += x; cost += x * C[r + j]; col[j] += x; }
    row_err += fabs(s - a[i]);
  }
  for (int j = 0; j < m; j++) col_err += fabs(col[j] - b[j]);
  res.cost = cost;
  res.marginal_error = row_err + col_err;
  free(blk);
  free(w.I);
  return res;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp(const void *x, const void *y) {
  double d = *(const double *)x - *(const double *)y;
  return (d > 0) - (d < 0);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s INPUT N M EPSILON MAXITER TOL REPS\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[2]), m = atoi(argv[3]), max_iter = atoi(argv[5]), reps = atoi(argv[7]);
  double eps = atof(argv[4]), tol = atof(argv[6]);
  size_t count = (size_t)n * m + n + m;
  double *data = malloc(sizeof(double) * count);
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(data, sizeof(double), count, f) != count) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  fclose(f);
  const double *C = data, *a = data + (size_t)n * m, *b = a + n;
  Result r = {0};
  for (int k = 0; k < 20; k++) { free(r.plan); r = sinkhorn(a, b, C, n, m, eps, max_iter, tol); }
  double *t = malloc(sizeof(double) * reps);
  for (int k = 0; k < reps; k++) {
    free(r.plan);
    double s = now_us();
    r = sinkhorn(a, b, C, n, m, eps, max_iter, tol);
    t[k] = now_us() - s;
  }
  qsort(t, reps, sizeof(double), cmp);
  printf("median_us %.3f\ncost %.17g\niterations %d\nabsorptions %d\nmarginal_error %.17g\n", t[reps / 2], r.cost,
         r.o.iterations, r.o.absorptions, r.marginal_error);
  free(r.plan);
  free(t);
  free(data);
  return 0;
}
