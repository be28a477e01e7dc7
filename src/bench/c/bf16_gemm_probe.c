/*
 * bf16_gemm_probe: can a bfloat16 recurrent product pay? (issue 19, target 3; docs/performance.md, "bf16:
 * measured, and why it is (not) shipped"). Not part of any build: a throwaway-sized probe kept for the record.
 *
 * The time step's product C[m x n] = H[m x k] . W[n x k]^T (h . W_hh^T; k = 256; n = 256 / 768 / 1024 for RNN /
 * GRU / LSTM at hidden 256; m = the rows still active) on one thread, two kernels with the same blocking as
 * seqpack's nn.PanelGemm (W packed once into panels of 2 vectors of columns, 8 rows x 2 vectors of accumulators,
 * then blocks of 4, 2 (two panels at once) and 1 row (four panels at once) for the leftover rows):
 *   fp32: _mm512_fmadd_ps, W panels [k][32] float, one broadcast of h[i][p] per row and step of k;
 *   bf16: _mm512_dpbf16_ps (AVX512_BF16), W packed once into bf16 pairs, panels [k/2][32 columns][2], float32
 *         accumulation; h is converted to bf16 (_mm512_cvtne2ps_pbh, round to nearest even) inside every call,
 *         since the state changes at every step: that conversion is in the timed figure. One broadcast of the pair
 *         (h[i][p], h[i][p+1]) per row and two steps of k.
 * GFLOP/s = 2 m n k per call over the best thread-CPU time per call (CLOCK_THREAD_CPUTIME_ID) of 7 batches of about
 * 20 ms, the two kernels alternated per shape and round, best of ROUNDS rounds. The bf16 result is checked against
 * the fp32 one (max |diff|, and max |diff| relative to the largest |C|); so is fp32 against a scalar double loop.
 * n must be a multiple of 32 and k even (all the product shapes are).
 *
 * Build and run (gcc 12, the machine must have avx512_bf16 in /proc/cpuinfo):
 *   gcc -O3 -march=native -o /tmp/bf16_gemm_probe src/bench/c/bf16_gemm_probe.c
 *   taskset -c 1 /tmp/bf16_gemm_probe [rounds=5] [m,m,...=1,2,4,8,16,64,256] [n,n,...=256,768,1024]
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define K 256
#define PANEL 32 /* columns per panel: 2 vectors of 16 floats */

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- fp32 ---------------------------------------- */

/* W [n][k] row-major -> n/PANEL panels [k][PANEL] */
static float *pack_f32(const float *w, int n, int k) {
  float *p = aligned_alloc(64, sizeof(float) * n * k);
  for (int j = 0; j < n; j++)
    for (int q = 0; q < k; q++) p[(j / PANEL) * k * PANEL + q * PANEL + j % PANEL] = w[j * k + q];
  return p;
}

static void f32_rows8(const float *a, int k, const float *w, int n, float *c) {
  for (int col = 0; col < n; col += PANEL) {
    const float *pw = w + (col / PANEL) * k * PANEL;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 w0 = _mm512_load_ps(pw), w1 = _mm512_load_ps(pw + 16), x;
      x = _mm512_set1_ps(a[p]);         c00 = _mm512_fmadd_ps(w0, x, c00); c01 = _mm512_fmadd_ps(w1, x, c01);
      x = _mm512_set1_ps(a[k + p]);     c10 = _mm512_fmadd_ps(w0, x, c10); c11 = _mm512_fmadd_ps(w1, x, c11);
      x = _mm512_set1_ps(a[2 * k + p]); c20 = _mm512_fmadd_ps(w0, x, c20); c21 = _mm512_fmadd_ps(w1, x, c21);
      x = _mm512_set1_ps(a[3 * k + p]); c30 = _mm512_fmadd_ps(w0, x, c30); c31 = _mm512_fmadd_ps(w1, x, c31);
      x = _mm512_set1_ps(a[4 * k + p]); c40 = _mm512_fmadd_ps(w0, x, c40); c41 = _mm512_fmadd_ps(w1, x, c41);
      x = _mm512_set1_ps(a[5 * k + p]); c50 = _mm512_fmadd_ps(w0, x, c50); c51 = _mm512_fmadd_ps(w1, x, c51);
      x = _mm512_set1_ps(a[6 * k + p]); c60 = _mm512_fmadd_ps(w0, x, c60); c61 = _mm512_fmadd_ps(w1, x, c61);
      x = _mm512_set1_ps(a[7 * k + p]); c70 = _mm512_fmadd_ps(w0, x, c70); c71 = _mm512_fmadd_ps(w1, x, c71);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c00); _mm512_storeu_ps(o + 16, c01); o += n;
    _mm512_storeu_ps(o, c10); _mm512_storeu_ps(o + 16, c11); o += n;
    _mm512_storeu_ps(o, c20); _mm512_storeu_ps(o + 16, c21); o += n;
    _mm512_storeu_ps(o, c30); _mm512_storeu_ps(o + 16, c31); o += n;
    _mm512_storeu_ps(o, c40); _mm512_storeu_ps(o + 16, c41); o += n;
    _mm512_storeu_ps(o, c50); _mm512_storeu_ps(o + 16, c51); o += n;
    _mm512_storeu_ps(o, c60); _mm512_storeu_ps(o + 16, c61); o += n;
    _mm512_storeu_ps(o, c70); _mm512_storeu_ps(o + 16, c71);
  }
}

static void f32_rows4(const float *a, int k, const float *w, int n, float *c) {
  for (int col = 0; col < n; col += PANEL) {
    const float *pw = w + (col / PANEL) * k * PANEL;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 w0 = _mm512_load_ps(pw), w1 = _mm512_load_ps(pw + 16), x;
      x = _mm512_set1_ps(a[p]);         c00 = _mm512_fmadd_ps(w0, x, c00); c01 = _mm512_fmadd_ps(w1, x, c01);
      x = _mm512_set1_ps(a[k + p]);     c10 = _mm512_fmadd_ps(w0, x, c10); c11 = _mm512_fmadd_ps(w1, x, c11);
      x = _mm512_set1_ps(a[2 * k + p]); c20 = _mm512_fmadd_ps(w0, x, c20); c21 = _mm512_fmadd_ps(w1, x, c21);
      x = _mm512_set1_ps(a[3 * k + p]); c30 = _mm512_fmadd_ps(w0, x, c30); c31 = _mm512_fmadd_ps(w1, x, c31);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c00); _mm512_storeu_ps(o + 16, c01); o += n;
    _mm512_storeu_ps(o, c10); _mm512_storeu_ps(o + 16, c11); o += n;
    _mm512_storeu_ps(o, c20); _mm512_storeu_ps(o + 16, c21); o += n;
    _mm512_storeu_ps(o, c30); _mm512_storeu_ps(o + 16, c31);
  }
}

/* two rows, two panels at a time (8 chains) */
static void f32_rows2(const float *a, int k, const float *w, int n, float *c) {
  int ps = k * PANEL;
  for (int col = 0; col < n; col += 2 * PANEL) {
    const float *pw = w + (col / PANEL) * ps;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 w0 = _mm512_load_ps(pw), w1 = _mm512_load_ps(pw + 16);
      __m512 w2 = _mm512_load_ps(pw + ps), w3 = _mm512_load_ps(pw + ps + 16), x;
      x = _mm512_set1_ps(a[p]);
      c00 = _mm512_fmadd_ps(w0, x, c00); c01 = _mm512_fmadd_ps(w1, x, c01);
      c02 = _mm512_fmadd_ps(w2, x, c02); c03 = _mm512_fmadd_ps(w3, x, c03);
      x = _mm512_set1_ps(a[k + p]);
      c10 = _mm512_fmadd_ps(w0, x, c10); c11 = _mm512_fmadd_ps(w1, x, c11);
      c12 = _mm512_fmadd_ps(w2, x, c12); c13 = _mm512_fmadd_ps(w3, x, c13);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c00); _mm512_storeu_ps(o + 16, c01); _mm512_storeu_ps(o + 32, c02); _mm512_storeu_ps(o + 48, c03);
    o += n;
    _mm512_storeu_ps(o, c10); _mm512_storeu_ps(o + 16, c11); _mm512_storeu_ps(o + 32, c12); _mm512_storeu_ps(o + 48, c13);
  }
}

/* one row, four panels at a time (8 chains); n a multiple of 4 panels (128) */
static void f32_rows1(const float *a, int k, const float *w, int n, float *c) {
  int ps = k * PANEL;
  for (int col = 0; col < n; col += 4 * PANEL) {
    const float *pw = w + (col / PANEL) * ps;
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 x = _mm512_set1_ps(a[p]);
      c0 = _mm512_fmadd_ps(_mm512_load_ps(pw), x, c0);
      c1 = _mm512_fmadd_ps(_mm512_load_ps(pw + 16), x, c1);
      c2 = _mm512_fmadd_ps(_mm512_load_ps(pw + ps), x, c2);
      c3 = _mm512_fmadd_ps(_mm512_load_ps(pw + ps + 16), x, c3);
      c4 = _mm512_fmadd_ps(_mm512_load_ps(pw + 2 * ps), x, c4);
      c5 = _mm512_fmadd_ps(_mm512_load_ps(pw + 2 * ps + 16), x, c5);
      c6 = _mm512_fmadd_ps(_mm512_load_ps(pw + 3 * ps), x, c6);
      c7 = _mm512_fmadd_ps(_mm512_load_ps(pw + 3 * ps + 16), x, c7);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c0); _mm512_storeu_ps(o + 16, c1); _mm512_storeu_ps(o + 32, c2); _mm512_storeu_ps(o + 48, c3);
    _mm512_storeu_ps(o + 64, c4); _mm512_storeu_ps(o + 80, c5); _mm512_storeu_ps(o + 96, c6); _mm512_storeu_ps(o + 112, c7);
  }
}

static void gemm_f32(int m, const float *a, const float *w, int n, int k, float *c) {
  int i = 0;
  for (; i + 8 <= m; i += 8) f32_rows8(a + i * k, k, w, n, c + i * n);
  for (; i + 4 <= m; i += 4) f32_rows4(a + i * k, k, w, n, c + i * n);
  if (i + 2 <= m) { f32_rows2(a + i * k, k, w, n, c + i * n); i += 2; }
  if (i < m) f32_rows1(a + i * k, k, w, n, c + i * n);
}

/* ---------------------------------------------------------------- bf16 ---------------------------------------- */

static uint16_t to_bf16(float f) { /* round to nearest even, as vcvtne2ps2bf16 (no NaNs here) */
  uint32_t u;
  memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

/* W [n][k] -> n/PANEL panels [k/2][PANEL][2] bf16: a 512-bit load = 16 columns x the pair (W[j][p], W[j][p+1]) */
static uint16_t *pack_bf16(const float *w, int n, int k) {
  uint16_t *p = aligned_alloc(64, sizeof(uint16_t) * n * k);
  for (int j = 0; j < n; j++)
    for (int q = 0; q < k; q++)
      p[(j / PANEL) * k * PANEL + (q / 2) * 2 * PANEL + (j % PANEL) * 2 + q % 2] = to_bf16(w[j * k + q]);
  return p;
}

/* h [m][k] float -> [m][k] bf16 pairs, 32 at a time (k a multiple of 32) */
static void convert_h(int m, const float *a, int k, __m512bh *out) {
  const float *s = a;
  int vecs = m * k / 32;
  for (int v = 0; v < vecs; v++, s += 32) out[v] = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + 16), _mm512_loadu_ps(s));
}

#define BC(hb, idx) ((__m512bh)_mm512_set1_epi32((hb)[idx]))
#define DP(acc, wv, x) acc = _mm512_dpbf16_ps(acc, wv, x)
#define LD(ptr) ((__m512bh)_mm512_load_si512((const void *)(ptr)))

/* hb: the rows' bf16 pairs as 32-bit words, kp = k / 2 words per row; wb: the bf16 panels */
static void bf16_rows8(const uint32_t *hb, int kp, const uint16_t *wb, int n, float *c) {
  for (int col = 0; col < n; col += PANEL) {
    const uint16_t *pw = wb + (col / PANEL) * kp * 2 * PANEL;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    for (int p = 0; p < kp; p++, pw += 2 * PANEL) {
      __m512bh w0 = LD(pw), w1 = LD(pw + 32), x;
      x = BC(hb, p);          DP(c00, w0, x); DP(c01, w1, x);
      x = BC(hb, kp + p);     DP(c10, w0, x); DP(c11, w1, x);
      x = BC(hb, 2 * kp + p); DP(c20, w0, x); DP(c21, w1, x);
      x = BC(hb, 3 * kp + p); DP(c30, w0, x); DP(c31, w1, x);
      x = BC(hb, 4 * kp + p); DP(c40, w0, x); DP(c41, w1, x);
      x = BC(hb, 5 * kp + p); DP(c50, w0, x); DP(c51, w1, x);
      x = BC(hb, 6 * kp + p); DP(c60, w0, x); DP(c61, w1, x);
      x = BC(hb, 7 * kp + p); DP(c70, w0, x); DP(c71, w1, x);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c00); _mm512_storeu_ps(o + 16, c01); o += n;
    _mm512_storeu_ps(o, c10); _mm512_storeu_ps(o + 16, c11); o += n;
    _mm512_storeu_ps(o, c20); _mm512_storeu_ps(o + 16, c21); o += n;
    _mm512_storeu_ps(o, c30); _mm512_storeu_ps(o + 16, c31); o += n;
    _mm512_storeu_ps(o, c40); _mm512_storeu_ps(o + 16, c41); o += n;
    _mm512_storeu_ps(o, c50); _mm512_storeu_ps(o + 16, c51); o += n;
    _mm512_storeu_ps(o, c60); _mm512_storeu_ps(o + 16, c61); o += n;
    _mm512_storeu_ps(o, c70); _mm512_storeu_ps(o + 16, c71);
  }
}

static void bf16_rows4(const uint32_t *hb, int kp, const uint16_t *wb, int n, float *c) {
  for (int col = 0; col < n; col += PANEL) {
    const uint16_t *pw = wb + (col / PANEL) * kp * 2 * PANEL;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int p = 0; p < kp; p++, pw += 2 * PANEL) {
      __m512bh w0 = LD(pw), w1 = LD(pw + 32), x;
      x = BC(hb, p);          DP(c00, w0, x); DP(c01, w1, x);
      x = BC(hb, kp + p);     DP(c10, w0, x); DP(c11, w1, x);
      x = BC(hb, 2 * kp + p); DP(c20, w0, x); DP(c21, w1, x);
      x = BC(hb, 3 * kp + p); DP(c30, w0, x); DP(c31, w1, x);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c00); _mm512_storeu_ps(o + 16, c01); o += n;
    _mm512_storeu_ps(o, c10); _mm512_storeu_ps(o + 16, c11); o += n;
    _mm512_storeu_ps(o, c20); _mm512_storeu_ps(o + 16, c21); o += n;
    _mm512_storeu_ps(o, c30); _mm512_storeu_ps(o + 16, c31);
  }
}

static void bf16_rows2(const uint32_t *hb, int kp, const uint16_t *wb, int n, float *c) {
  int ps = kp * 2 * PANEL;
  for (int col = 0; col < n; col += 2 * PANEL) {
    const uint16_t *pw = wb + (col / PANEL) * ps;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    for (int p = 0; p < kp; p++, pw += 2 * PANEL) {
      __m512bh w0 = LD(pw), w1 = LD(pw + 32), w2 = LD(pw + ps), w3 = LD(pw + ps + 32), x;
      x = BC(hb, p);      DP(c00, w0, x); DP(c01, w1, x); DP(c02, w2, x); DP(c03, w3, x);
      x = BC(hb, kp + p); DP(c10, w0, x); DP(c11, w1, x); DP(c12, w2, x); DP(c13, w3, x);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c00); _mm512_storeu_ps(o + 16, c01); _mm512_storeu_ps(o + 32, c02); _mm512_storeu_ps(o + 48, c03);
    o += n;
    _mm512_storeu_ps(o, c10); _mm512_storeu_ps(o + 16, c11); _mm512_storeu_ps(o + 32, c12); _mm512_storeu_ps(o + 48, c13);
  }
}

static void bf16_rows1(const uint32_t *hb, int kp, const uint16_t *wb, int n, float *c) {
  int ps = kp * 2 * PANEL;
  for (int col = 0; col < n; col += 4 * PANEL) {
    const uint16_t *pw = wb + (col / PANEL) * ps;
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    for (int p = 0; p < kp; p++, pw += 2 * PANEL) {
      __m512bh x = BC(hb, p);
      DP(c0, LD(pw), x); DP(c1, LD(pw + 32), x);
      DP(c2, LD(pw + ps), x); DP(c3, LD(pw + ps + 32), x);
      DP(c4, LD(pw + 2 * ps), x); DP(c5, LD(pw + 2 * ps + 32), x);
      DP(c6, LD(pw + 3 * ps), x); DP(c7, LD(pw + 3 * ps + 32), x);
    }
    float *o = c + col;
    _mm512_storeu_ps(o, c0); _mm512_storeu_ps(o + 16, c1); _mm512_storeu_ps(o + 32, c2); _mm512_storeu_ps(o + 48, c3);
    _mm512_storeu_ps(o + 64, c4); _mm512_storeu_ps(o + 80, c5); _mm512_storeu_ps(o + 96, c6); _mm512_storeu_ps(o + 112, c7);
  }
}

static __m512bh *hbuf; /* per-call conversion target, sized for the largest m */

static void gemm_bf16(int m, const float *a, const uint16_t *wb, int n, int k, float *c) {
  convert_h(m, a, k, hbuf); /* h changes at every step: converted in every call */
  const uint32_t *hb = (const uint32_t *)hbuf;
  int kp = k / 2, i = 0;
  for (; i + 8 <= m; i += 8) bf16_rows8(hb + i * kp, kp, wb, n, c + i * n);
  for (; i + 4 <= m; i += 4) bf16_rows4(hb + i * kp, kp, wb, n, c + i * n);
  if (i + 2 <= m) { bf16_rows2(hb + i * kp, kp, wb, n, c + i * n); i += 2; }
  if (i < m) bf16_rows1(hb + i * kp, kp, wb, n, c + i * n);
}

/* ---------------------------------------------------------------- timing -------------------------------------- */

enum { F32, BF16, CONV };

static void run(int which, int m, const float *a, const float *wf, const uint16_t *wb, int n, float *c) {
  if (which == F32) gemm_f32(m, a, wf, n, K, c);
  else if (which == BF16) gemm_bf16(m, a, wb, n, K, c);
  else convert_h(m, a, K, hbuf);
}

/* best thread-CPU seconds per call: warm-up of ~50 ms, then 7 batches of ~20 ms */
static double seconds(int which, int m, const float *a, const float *wf, const uint16_t *wb, int n, float *c) {
  double t0 = cpu_now();
  long warm = 0;
  while (cpu_now() - t0 < 0.05) { run(which, m, a, wf, wb, n, c); warm++; }
  long reps = warm / 2.5 > 1 ? (long)(warm / 2.5) : 1;
  double best = 1e30;
  for (int b = 0; b < 7; b++) {
    double s = cpu_now();
    for (long r = 0; r < reps; r++) run(which, m, a, wf, wb, n, c);
    double per = (cpu_now() - s) / reps;
    if (per < best) best = per;
  }
  return best;
}

static int parse(const char *csv, int *out) {
  int cnt = 0;
  char *s = strdup(csv), *tok = strtok(s, ",");
  for (; tok; tok = strtok(NULL, ",")) out[cnt++] = atoi(tok);
  free(s);
  return cnt;
}

static unsigned long long rng = 88172645463325252ULL;
static float uniform(float bound) { /* xorshift64 */
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (float)(((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1) * bound;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  int ms[32], ns[32];
  int nm = parse(argc > 2 ? argv[2] : "1,2,4,8,16,64,256", ms);
  int nn = parse(argc > 3 ? argv[3] : "256,768,1024", ns);
  int mmax = 0;
  for (int i = 0; i < nm; i++) if (ms[i] > mmax) mmax = ms[i];
  hbuf = aligned_alloc(64, sizeof(__m512bh) * (mmax * K / 32 + 1));
  printf("k=%d; GFLOP/s = 2mnk / best thread-CPU time per call, best of %d alternated rounds; bf16 includes h -> bf16\n",
         K, rounds);
  printf("%5s %4s %9s %9s %7s %11s %12s %12s %12s\n", "n", "m", "fp32", "bf16", "bf16/32", "conv % bf16",
         "|bf16-f32|", "rel", "|f32-exact|");
  for (int in = 0; in < nn; in++) {
    int n = ns[in];
    for (int im = 0; im < nm; im++) {
      int m = ms[im];
      float *w = malloc(sizeof(float) * n * K), *a = aligned_alloc(64, sizeof(float) * m * K);
      float *cf = aligned_alloc(64, sizeof(float) * m * n), *cb = aligned_alloc(64, sizeof(float) * m * n);
      /* the scale of an LSTM's state and PyTorch's init: h in (-1, 1), W in +-1/sqrt(hidden) */
      for (int i = 0; i < n * K; i++) w[i] = uniform(0.0625f);
      for (int i = 0; i < m * K; i++) a[i] = uniform(1.0f);
      float *wf = pack_f32(w, n, K);
      uint16_t *wb = pack_bf16(w, n, K);
      gemm_f32(m, a, wf, n, K, cf);
      gemm_bf16(m, a, wb, n, K, cb);
      double diff = 0, big = 0, exact = 0;
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
          double e = 0;
          for (int q = 0; q < K; q++) e += (double)a[i * K + q] * w[j * K + q];
          exact = fmax(exact, fabs(cf[i * n + j] - e));
          diff = fmax(diff, fabs(cb[i * n + j] - cf[i * n + j]));
          big = fmax(big, fabs(e));
        }
      double bf = 0, bb = 0, bc = 0;
      for (int r = 0; r < rounds; r++) {
        double f = 2.0 * m * n * K / seconds(F32, m, a, wf, wb, n, cf) / 1e9;
        double b = 2.0 * m * n * K / seconds(BF16, m, a, wf, wb, n, cb) / 1e9;
        double cv = seconds(CONV, m, a, wf, wb, n, cb);
        if (f > bf) bf = f;
        if (b > bb) bb = b;
        if (r == 0 || cv < bc) bc = cv;
      }
      double bf16_call = 2.0 * m * n * K / bb / 1e9;
      printf("%5d %4d %9.1f %9.1f %6.2fx %10.1f%% %12.2e %12.2e %12.2e\n", n, m, bf, bb, bb / bf,
             100 * bc / bf16_call, diff, diff / big, exact);
      fflush(stdout);
      free(w); free(a); free(cf); free(cb); free(wf); free(wb);
    }
  }
  return 0;
}
