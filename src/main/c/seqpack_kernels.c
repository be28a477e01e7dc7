/*
 * libseqpack_kernels: the recurrent step's product C[m, n] (=|+=) A[m, k] . W^T in C with AVX-512, for
 * io.seqpack.nn.NativeGemm (docs/performance.md, "The recurrent product in C (native kernel)").
 *
 * W is packed once per model by NativeGemm.pack into panels of PANEL = 32 columns stored [k][32] (zero-padded past
 * n), the layout of PanelGemm on AVX-512. The blocking is PanelGemm's: 8 rows x 2 vectors of accumulators, then
 * blocks of 4 rows, 2 rows (two panels at a time) and 1 row (four panels at a time). Every output element is the
 * chain fma(a[p], w[p], ...) over p = 0 .. k-1 from zero, whatever the block, so a row's product does not depend on
 * m and equals PanelGemm's bit for bit; accumulating adds that product to C with one IEEE add. A last partial panel
 * is stored with a lane mask (the packed zeros only feed lanes that are never stored).
 *
 * Built with function-level target attributes, not -mavx512f, so the library loads on any x86-64; Java calls
 * multiply only when cpuHasAvx512() says so.
 */
#include <immintrin.h>
#include <jni.h>
#include <stdint.h>

#define PANEL 32
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define AVX512_INLINE static inline AVX512 __attribute__((always_inline))

/* Stores (or adds into C) the lanes below `cols` of an accumulator. */
AVX512_INLINE void put(float *o, __m512 v, __mmask16 lanes, int accumulate) {
  if (accumulate) {
    v = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, o), v);
  }
  _mm512_mask_storeu_ps(o, lanes, v);
}

/* The two lane masks of the panel starting at column col of n. */
AVX512_INLINE __mmask16 lanes(int col, int n) {
  int left = n - col;
  return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

/* Keeps a loaded weight vector in a register: otherwise gcc folds the load into each FMA that uses it, and two rows
 * reading the same vector cost twice the loads (rows2 ran at 0.7x the Java kernel, load-port bound). */
#define IN_REGISTER(v) __asm__("" : "+v"(v))

#define PUT2(o, v0, v1, col)                      \
  do {                                            \
    put((o) + (col), v0, lanes(col, n), acc);     \
    put((o) + (col) + 16, v1, lanes((col) + 16, n), acc); \
  } while (0)

#define FMA2(ci0, ci1, row)                    \
  do {                                         \
    __m512 x = _mm512_set1_ps(a[(row) * lda + p]); \
    ci0 = _mm512_fmadd_ps(x, w0, ci0);          \
    ci1 = _mm512_fmadd_ps(x, w1, ci1);          \
  } while (0)

static AVX512 void rows8(const float *a, int lda, const float *w, int n, int k, float *c, int ldc, int acc) {
  for (int col = 0; col < n; col += PANEL) {
    const float *pw = w + (long)(col / PANEL) * k * PANEL;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 w0 = _mm512_loadu_ps(pw), w1 = _mm512_loadu_ps(pw + 16);
      FMA2(c00, c01, 0); FMA2(c10, c11, 1); FMA2(c20, c21, 2); FMA2(c30, c31, 3);
      FMA2(c40, c41, 4); FMA2(c50, c51, 5); FMA2(c60, c61, 6); FMA2(c70, c71, 7);
    }
    PUT2(c, c00, c01, col); PUT2(c + ldc, c10, c11, col); PUT2(c + 2L * ldc, c20, c21, col);
    PUT2(c + 3L * ldc, c30, c31, col); PUT2(c + 4L * ldc, c40, c41, col); PUT2(c + 5L * ldc, c50, c51, col);
    PUT2(c + 6L * ldc, c60, c61, col); PUT2(c + 7L * ldc, c70, c71, col);
  }
}

static AVX512 void rows4(const float *a, int lda, const float *w, int n, int k, float *c, int ldc, int acc) {
  for (int col = 0; col < n; col += PANEL) {
    const float *pw = w + (long)(col / PANEL) * k * PANEL;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 w0 = _mm512_loadu_ps(pw), w1 = _mm512_loadu_ps(pw + 16);
      FMA2(c00, c01, 0); FMA2(c10, c11, 1); FMA2(c20, c21, 2); FMA2(c30, c31, 3);
    }
    PUT2(c, c00, c01, col); PUT2(c + ldc, c10, c11, col); PUT2(c + 2L * ldc, c20, c21, col);
    PUT2(c + 3L * ldc, c30, c31, col);
  }
}

/* One row, one panel at a time: the leftover panels of rows1 and rows2. */
static AVX512 void row1panel(const float *a, const float *pw, int n, int k, float *c, int col, int acc) {
  __m512 c0 = _mm512_setzero_ps(), c1 = c0;
  for (int p = 0; p < k; p++, pw += PANEL) {
    __m512 x = _mm512_set1_ps(a[p]);
    c0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw), c0);
    c1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + 16), c1);
  }
  PUT2(c, c0, c1, col);
}

/* One row, four panels at a time: eight independent chains hide the FMA latency. */
static AVX512 void rows1(const float *a, const float *w, int n, int k, float *c, int acc) {
  long ps = (long)k * PANEL;
  int col = 0;
  for (; col + 4 * PANEL <= n; col += 4 * PANEL) {
    const float *pw = w + (col / PANEL) * ps;
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 x = _mm512_set1_ps(a[p]);
      c0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw), c0);
      c1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + 16), c1);
      c2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + ps), c2);
      c3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + ps + 16), c3);
      c4 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + 2 * ps), c4);
      c5 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + 2 * ps + 16), c5);
      c6 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + 3 * ps), c6);
      c7 = _mm512_fmadd_ps(x, _mm512_loadu_ps(pw + 3 * ps + 16), c7);
    }
    PUT2(c, c0, c1, col); PUT2(c, c2, c3, col + PANEL); PUT2(c, c4, c5, col + 2 * PANEL);
    PUT2(c, c6, c7, col + 3 * PANEL);
  }
  for (; col < n; col += PANEL) {
    row1panel(a, w + (col / PANEL) * ps, n, k, c, col, acc);
  }
}

/* Two rows, two panels at a time (eight chains); the leftover panel row by row. */
static AVX512 void rows2(const float *a, int lda, const float *w, int n, int k, float *c, int ldc, int acc) {
  long ps = (long)k * PANEL;
  int col = 0;
  for (; col + 2 * PANEL <= n; col += 2 * PANEL) {
    const float *pw = w + (col / PANEL) * ps;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    for (int p = 0; p < k; p++, pw += PANEL) {
      __m512 w0 = _mm512_loadu_ps(pw), w1 = _mm512_loadu_ps(pw + 16);
      __m512 w2 = _mm512_loadu_ps(pw + ps), w3 = _mm512_loadu_ps(pw + ps + 16);
      IN_REGISTER(w0); IN_REGISTER(w1); IN_REGISTER(w2); IN_REGISTER(w3);
      __m512 x = _mm512_set1_ps(a[p]);
      c00 = _mm512_fmadd_ps(x, w0, c00); c01 = _mm512_fmadd_ps(x, w1, c01);
      c02 = _mm512_fmadd_ps(x, w2, c02); c03 = _mm512_fmadd_ps(x, w3, c03);
      x = _mm512_set1_ps(a[lda + p]);
      c10 = _mm512_fmadd_ps(x, w0, c10); c11 = _mm512_fmadd_ps(x, w1, c11);
      c12 = _mm512_fmadd_ps(x, w2, c12); c13 = _mm512_fmadd_ps(x, w3, c13);
    }
    PUT2(c, c00, c01, col); PUT2(c, c02, c03, col + PANEL);
    PUT2(c + ldc, c10, c11, col); PUT2(c + ldc, c12, c13, col + PANEL);
  }
  for (; col < n; col += PANEL) {
    row1panel(a, w + (col / PANEL) * ps, n, k, c, col, acc);
    row1panel(a + lda, w + (col / PANEL) * ps, n, k, c + ldc, col, acc);
  }
}

static AVX512 void gemm_f32(int m, const float *a, int lda, const float *w, int n, int k, float *c, int ldc,
    int acc) {
  int i = m / 8 * 8;
  /* Panel by panel, every 8-row block under it (PanelGemm's order): the panel (k x 32 floats, 32 KB at k = 256)
   * stays in L1 while the blocks stream past it, so W is read from L2 once per product, not once per 8 rows. */
  for (int col = 0; i > 0 && col < n; col += PANEL) {
    const float *pw = w + (long)(col / PANEL) * k * PANEL;
    int cols = n - col < PANEL ? n - col : PANEL;
    for (int b = 0; b < i; b += 8) rows8(a + (long)b * lda, lda, pw, cols, k, c + (long)b * ldc + col, ldc, acc);
  }
  for (; i + 4 <= m; i += 4) rows4(a + (long)i * lda, lda, w, n, k, c + (long)i * ldc, ldc, acc);
  if (i + 2 <= m) {
    rows2(a + (long)i * lda, lda, w, n, k, c + (long)i * ldc, ldc, acc);
    i += 2;
  }
  if (i < m) rows1(a + (long)i * lda, w, n, k, c + (long)i * ldc, acc);
}

JNIEXPORT jboolean JNICALL Java_io_seqpack_nn_NativeGemm_cpuHasAvx512(JNIEnv *env, jclass cls) {
  (void)env; (void)cls;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
      && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}

/* Arguments as PanelGemm.multiply; NativeGemm checked the bounds. The arrays are pinned, not copied. */
JNIEXPORT void JNICALL Java_io_seqpack_nn_NativeGemm_multiplyF32(JNIEnv *env, jclass cls, jint m, jfloatArray a,
    jint aOff, jint lda, jfloatArray packed, jint n, jint k, jfloatArray c, jint cOff, jint ldc,
    jboolean accumulate) {
  (void)cls;
  jfloat *pa = (*env)->GetPrimitiveArrayCritical(env, a, 0);
  jfloat *pw = (*env)->GetPrimitiveArrayCritical(env, packed, 0);
  jfloat *pc = (*env)->GetPrimitiveArrayCritical(env, c, 0);
  if (pa && pw && pc) {
    gemm_f32(m, pa + aOff, lda, pw, n, k, pc + cOff, ldc, accumulate ? 1 : 0);
  }
  if (pc) (*env)->ReleasePrimitiveArrayCritical(env, c, pc, 0);
  if (pw) (*env)->ReleasePrimitiveArrayCritical(env, packed, pw, JNI_ABORT);
  if (pa) (*env)->ReleasePrimitiveArrayCritical(env, a, pa, JNI_ABORT);
}

/* ------------------------------------------------------------------------------------------------------------- */
/*
 * The experimental bf16 product (-Dseqpack.gemm=native-bf16; NOT PyTorch-exact): W packed once by
 * NativeGemm.packBf16 into panels [ceil(k/2)][32 columns][2] of bfloat16 (the pair W[j][2q], W[j][2q+1] next to each
 * other, zero-padded), A converted to bf16 pairs at every call (it is the state, new at every step; round to nearest
 * even), products accumulated in float32 by vdpbf16ps: two steps of k per instruction.
 */
#define AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))
#define AVX512BF16_INLINE static inline AVX512BF16 __attribute__((always_inline))

AVX512BF16_INLINE void put_bf(float *o, __m512 v, __mmask16 lanes, int accumulate) {
  if (accumulate) {
    v = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, o), v);
  }
  _mm512_mask_storeu_ps(o, lanes, v);
}

AVX512BF16_INLINE __mmask16 lanes_bf(int col, int n) {
  int left = n - col;
  return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1);
}

#define PUT2BF(o, v0, v1, col)                                  \
  do {                                                          \
    put_bf((o) + (col), v0, lanes_bf(col, n), acc);             \
    put_bf((o) + (col) + 16, v1, lanes_bf((col) + 16, n), acc); \
  } while (0)
#define BCAST(row) ((__m512bh)_mm512_set1_epi32((int)hb[(row) * kp + q]))
#define LOADBF(ptr) ((__m512bh)_mm512_loadu_si512((const void *)(ptr)))
#define DP2(ci0, ci1, row)                   \
  do {                                       \
    __m512bh x = BCAST(row);                 \
    ci0 = _mm512_dpbf16_ps(ci0, x, w0);      \
    ci1 = _mm512_dpbf16_ps(ci1, x, w1);      \
  } while (0)

/* Rows of a [m][k] (stride lda) as [m][kp] pairs of bf16 (32-bit words), the odd k's last pair padded with 0. */
static AVX512BF16 void to_bf16_pairs(int m, const float *a, int lda, int k, uint32_t *hb, int kp) {
  for (int i = 0; i < m; i++) {
    const float *row = a + (long)i * lda;
    uint32_t *out = hb + (long)i * kp;
    for (int p = 0; p < k; p += 32) {
      int left = k - p;
      __mmask16 lo = lanes_bf(0, left), hi = lanes_bf(16, left);
      __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, row + p + 16), _mm512_maskz_loadu_ps(lo, row + p));
      int words = left >= 32 ? 16 : (left + 1) / 2;
      _mm512_mask_storeu_epi32(out + p / 2, (__mmask16)(words >= 16 ? 0xFFFF : (1u << words) - 1), (__m512i)v);
    }
  }
}

static AVX512BF16 void bf_rows(int rows, const uint32_t *hb, int kp, const uint16_t *w, int n, float *c, int ldc,
    int acc) {
  long ps = (long)kp * 2 * PANEL; /* bf16 per panel */
  for (int col = 0; col < n; col += PANEL) {
    const uint16_t *pw = w + (col / PANEL) * ps;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    if (rows == 8) {
      for (int q = 0; q < kp; q++, pw += 2 * PANEL) {
        __m512bh w0 = LOADBF(pw), w1 = LOADBF(pw + 32);
        DP2(c00, c01, 0); DP2(c10, c11, 1); DP2(c20, c21, 2); DP2(c30, c31, 3);
        DP2(c40, c41, 4); DP2(c50, c51, 5); DP2(c60, c61, 6); DP2(c70, c71, 7);
      }
    } else if (rows == 4) {
      for (int q = 0; q < kp; q++, pw += 2 * PANEL) {
        __m512bh w0 = LOADBF(pw), w1 = LOADBF(pw + 32);
        DP2(c00, c01, 0); DP2(c10, c11, 1); DP2(c20, c21, 2); DP2(c30, c31, 3);
      }
    } else if (rows == 2) {
      for (int q = 0; q < kp; q++, pw += 2 * PANEL) {
        __m512bh w0 = LOADBF(pw), w1 = LOADBF(pw + 32);
        DP2(c00, c01, 0); DP2(c10, c11, 1);
      }
    } else {
      for (int q = 0; q < kp; q++, pw += 2 * PANEL) {
        __m512bh w0 = LOADBF(pw), w1 = LOADBF(pw + 32);
        DP2(c00, c01, 0);
      }
    }
    PUT2BF(c, c00, c01, col);
    if (rows > 1) PUT2BF(c + ldc, c10, c11, col);
    if (rows > 2) { PUT2BF(c + 2L * ldc, c20, c21, col); PUT2BF(c + 3L * ldc, c30, c31, col); }
    if (rows > 4) {
      PUT2BF(c + 4L * ldc, c40, c41, col); PUT2BF(c + 5L * ldc, c50, c51, col);
      PUT2BF(c + 6L * ldc, c60, c61, col); PUT2BF(c + 7L * ldc, c70, c71, col);
    }
  }
}

static AVX512BF16 void gemm_bf16(int m, const float *a, int lda, const uint16_t *w, int n, int k, float *c, int ldc,
    int acc, uint32_t *hb) {
  int kp = (k + 1) / 2;
  to_bf16_pairs(m, a, lda, k, hb, kp);
  int i = 0;
  for (; i + 8 <= m; i += 8) bf_rows(8, hb + (long)i * kp, kp, w, n, c + (long)i * ldc, ldc, acc);
  for (; i + 4 <= m; i += 4) bf_rows(4, hb + (long)i * kp, kp, w, n, c + (long)i * ldc, ldc, acc);
  for (; i + 2 <= m; i += 2) bf_rows(2, hb + (long)i * kp, kp, w, n, c + (long)i * ldc, ldc, acc);
  if (i < m) bf_rows(1, hb + (long)i * kp, kp, w, n, c + (long)i * ldc, ldc, acc);
}

JNIEXPORT jboolean JNICALL Java_io_seqpack_nn_NativeGemm_cpuHasAvx512Bf16(JNIEnv *env, jclass cls) {
  (void)env; (void)cls;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw")
      && __builtin_cpu_supports("avx512vl");
}

/* As multiplyF32 on W packed by NativeGemm.packBf16; scratch holds m * ceil(k/2) ints for A's bf16 pairs. */
JNIEXPORT void JNICALL Java_io_seqpack_nn_NativeGemm_multiplyBf16(JNIEnv *env, jclass cls, jint m, jfloatArray a,
    jint aOff, jint lda, jshortArray packed, jint n, jint k, jfloatArray c, jint cOff, jint ldc,
    jboolean accumulate, jintArray scratch) {
  (void)cls;
  jfloat *pa = (*env)->GetPrimitiveArrayCritical(env, a, 0);
  jshort *pw = (*env)->GetPrimitiveArrayCritical(env, packed, 0);
  jfloat *pc = (*env)->GetPrimitiveArrayCritical(env, c, 0);
  jint *ps = (*env)->GetPrimitiveArrayCritical(env, scratch, 0);
  if (pa && pw && pc && ps) {
    gemm_bf16(m, pa + aOff, lda, (const uint16_t *)pw, n, k, pc + cOff, ldc, accumulate ? 1 : 0, (uint32_t *)ps);
  }
  if (ps) (*env)->ReleasePrimitiveArrayCritical(env, scratch, ps, JNI_ABORT);
  if (pc) (*env)->ReleasePrimitiveArrayCritical(env, c, pc, 0);
  if (pw) (*env)->ReleasePrimitiveArrayCritical(env, packed, pw, JNI_ABORT);
  if (pa) (*env)->ReleasePrimitiveArrayCritical(env, a, pa, JNI_ABORT);
}
