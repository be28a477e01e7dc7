/*
 * onednn_matmul_probe: the recurrent step's product C[m x n] = H[m x k] . W[n x k]^T (k = 256) on oneDNN 2.5.2's
 * matmul primitive, fp32 and bf16 (bf16 source and weights, f32 destination), one thread; the companion of
 * bf16_gemm_probe.c (docs/performance.md, "bf16: measured, and why it is (not) shipped").
 *
 * The library is the one in JavaCPP's preset (org.bytedeco:dnnl:2.5.2-1.5.7:jar:linux-x86_64, headers included),
 * so the figures are what a JavaCPP route would reach before its own call overhead. One primitive per (m, n), the
 * weights reordered once into the primitive's own layout (format_tag any); the bf16 source is written from the
 * float32 state inside every timed call (_mm512_cvtne2ps_pbh, as in bf16_gemm_probe.c). GFLOP/s = 2 m n k per
 * call over the best thread-CPU time per call of 7 batches of ~20 ms, fp32 and bf16 alternated, best of ROUNDS.
 *
 *   mvn -B dependency:copy -Dartifact=org.bytedeco:dnnl:2.5.2-1.5.7:jar:linux-x86_64 -DoutputDirectory=/tmp/dnnl
 *   cd /tmp/dnnl && unzip -q dnnl-2.5.2-1.5.7-linux-x86_64.jar && D=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
 *   gcc -O3 -march=native -I$D/include -o /tmp/onednn_matmul_probe src/bench/c/onednn_matmul_probe.c \
 *       -L$D -l:libdnnl.so.2 -Wl,-rpath,$D -lm
 *   OMP_NUM_THREADS=1 taskset -c 1 /tmp/onednn_matmul_probe [rounds=5] [m,...=1,2,4,8,16,64,256] [n,...=256,768,1024]
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oneapi/dnnl/dnnl.h"

#define K 256
#define CHECK(x)                                                                   \
  do {                                                                             \
    dnnl_status_t st_ = (x);                                                       \
    if (st_ != dnnl_success) { fprintf(stderr, "%s: %d\n", #x, (int)st_); exit(1); } \
  } while (0)

static dnnl_engine_t eng;
static dnnl_stream_t strm;

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
  int bf16, m, n;
  dnnl_primitive_t prim;
  dnnl_memory_t src, wei, dst;
  const float *h; /* the float32 state, converted into src in every bf16 call */
  const char *impl;
} mm_t;

static uint16_t to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

static mm_t make(int bf16, int m, int n, const float *h, const float *w) {
  mm_t r = {bf16, m, n, 0, 0, 0, 0, h, 0};
  dnnl_data_type_t dt = bf16 ? dnnl_bf16 : dnnl_f32;
  dnnl_dims_t sd = {m, K}, wd = {K, n}, dd = {m, n};
  dnnl_memory_desc_t src_md, wei_any, wei_user, dst_md;
  CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, sd, dt, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 2, wd, dt, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&wei_user, 2, wd, dt, dnnl_ba)); /* W [n][k] row-major = [k x n] "ba" */
  CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_f32, dnnl_ab));
  dnnl_matmul_desc_t md;
  CHECK(dnnl_matmul_desc_init(&md, &src_md, &wei_any, NULL, &dst_md));
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL));
  CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &r.impl));
  const dnnl_memory_desc_t *wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  CHECK(dnnl_primitive_create(&r.prim, pd));
  CHECK(dnnl_memory_create(&r.src, &src_md, eng, DNNL_MEMORY_ALLOCATE));
  CHECK(dnnl_memory_create(&r.dst, &dst_md, eng, DNNL_MEMORY_ALLOCATE));
  CHECK(dnnl_memory_create(&r.wei, wei_md, eng, DNNL_MEMORY_ALLOCATE));
  dnnl_memory_t user;
  CHECK(dnnl_memory_create(&user, &wei_user, eng, DNNL_MEMORY_ALLOCATE));
  void *up, *sp;
  CHECK(dnnl_memory_get_data_handle(user, &up));
  CHECK(dnnl_memory_get_data_handle(r.src, &sp));
  for (int i = 0; i < n * K; i++) {
    if (bf16) ((uint16_t *)up)[i] = to_bf16(w[i]);
    else ((float *)up)[i] = w[i];
  }
  if (!bf16) memcpy(sp, h, sizeof(float) * m * K);
  dnnl_primitive_desc_t rpd;
  CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wei_user, eng, wei_md, eng, NULL));
  dnnl_primitive_t reorder;
  CHECK(dnnl_primitive_create(&reorder, rpd));
  dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, r.wei}};
  CHECK(dnnl_primitive_execute(reorder, strm, 2, rargs));
  CHECK(dnnl_stream_wait(strm));
  return r;
}

static void call(mm_t *r) {
  if (r->bf16) { /* the state changes at every step: float32 -> bf16 in every call */
    void *sp;
    dnnl_memory_get_data_handle(r->src, &sp);
    __m512bh *o = sp;
    const float *s = r->h;
    for (int v = 0; v < r->m * K / 32; v++, s += 32)
      o[v] = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + 16), _mm512_loadu_ps(s));
  }
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, r->src}, {DNNL_ARG_WEIGHTS, r->wei}, {DNNL_ARG_DST, r->dst}};
  dnnl_primitive_execute(r->prim, strm, 3, args);
  dnnl_stream_wait(strm);
}

static double seconds(mm_t *r) {
  double t0 = cpu_now();
  long warm = 0;
  while (cpu_now() - t0 < 0.05) { call(r); warm++; }
  long reps = warm / 2.5 > 1 ? (long)(warm / 2.5) : 1;
  double best = 1e30;
  for (int b = 0; b < 7; b++) {
    double s = cpu_now();
    for (long i = 0; i < reps; i++) call(r);
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
static float uniform(float bound) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (float)(((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1) * bound;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  int ms[32], ns[32];
  int nm = parse(argc > 2 ? argv[2] : "1,2,4,8,16,64,256", ms);
  int nn = parse(argc > 3 ? argv[3] : "256,768,1024", ns);
  CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
  const dnnl_version_t *v = dnnl_version();
  printf("oneDNN %d.%d.%d; k=%d; GFLOP/s best of %d alternated rounds; bf16 includes h -> bf16\n", v->major, v->minor,
         v->patch, K, rounds);
  printf("%5s %4s %9s %9s %8s %11s  %s | %s\n", "n", "m", "f32", "bf16", "bf16/f32", "|bf16-f32|", "f32 impl",
         "bf16 impl");
  for (int in = 0; in < nn; in++) {
    for (int im = 0; im < nm; im++) {
      int m = ms[im], n = ns[in];
      float *w = malloc(sizeof(float) * n * K), *h = malloc(sizeof(float) * m * K);
      for (int i = 0; i < n * K; i++) w[i] = uniform(0.0625f);
      for (int i = 0; i < m * K; i++) h[i] = uniform(1.0f);
      mm_t f = make(0, m, n, h, w), b = make(1, m, n, h, w);
      call(&f);
      call(&b);
      float *cf, *cb;
      dnnl_memory_get_data_handle(f.dst, (void **)&cf);
      dnnl_memory_get_data_handle(b.dst, (void **)&cb);
      double diff = 0;
      for (int i = 0; i < m * n; i++) diff = fmax(diff, fabs(cf[i] - cb[i]));
      double bf = 0, bb = 0;
      for (int r = 0; r < rounds; r++) {
        double x = 2.0 * m * n * K / seconds(&f) / 1e9, y = 2.0 * m * n * K / seconds(&b) / 1e9;
        if (x > bf) bf = x;
        if (y > bb) bb = y;
      }
      printf("%5d %4d %9.1f %9.1f %7.2fx %11.2e  %s | %s\n", n, m, bf, bb, bb / bf, diff, f.impl, b.impl);
      fflush(stdout);
      free(w); free(h);
    }
  }
  return 0;
}
