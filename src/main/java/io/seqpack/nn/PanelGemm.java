package io.seqpack.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * seqpack's own matrix product on the Vector API, for the recurrent step's {@code h·W_hhᵀ}: the weight is packed
 * once per model into column panels, and a register-blocked micro-kernel multiplies them with fused multiply-adds.
 *
 * <p>Layout: {@code W [n, k]} (PyTorch's {@code [out, in]}) becomes {@code ⌈n / PANEL⌉} panels of {@code PANEL = 2
 * vectors} columns, each stored {@code [k, PANEL]} row-major (zero-padded past n), so the kernel reads a panel
 * front to back with two vector loads per step of k. A block of {@link #ROWS} rows keeps {@code ROWS × 2}
 * accumulators in registers (8 of the 16 AVX2 or 32 AVX-512 registers), broadcasting one element of each A row
 * per step of k.
 *
 * <p>Why not OpenBLAS: its SGEMM re-packs the weight on every call (a whole {@code W_hh} per time step), runs at a
 * fraction of its peak below about 32 rows, the sizes the tail of a packed batch multiplies, and its speed depends on
 * which kernel set it picked ({@code OPENBLAS_CORETYPE}); the Vector API picks the widest vectors the JVM runs on.
 * Measured in {@code docs/performance.md}.
 *
 * <p>The block kernels ({@code rows8}, {@code rows6}, {@code rows4}, {@link #twoRows}, {@link #oneRow}) are written
 * out one by one, alike in shape: C2 keeps a {@code FloatVector} in a register only as a local variable, so a loop
 * over an array of accumulators would spill every one of them to memory at every step of k.
 *
 * <p>Every output element is the same chain {@code fma(a[p], w[p], …)} over p = 0 … k−1 starting from zero, whatever
 * m, the row's block or the CPU's vector width: a row's product does not depend on its batch-mates, bit for bit.
 * Only loaded when {@code jdk.incubator.vector} is in the boot layer.
 */
final class PanelGemm {
  private PanelGemm() {}

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /** Columns per panel: two vectors. */
  static final int PANEL = 2 * L;

  /**
   * Rows per register block: 8 (16 accumulators) with 32 AVX-512 registers, 6 (12) with AVX2's 16; the blocks that
   * measured fastest on each (8 rows would spill on AVX2, 4 leave the FMA units idle; {@code docs/performance.md}).
   * The last rows of a product go through a block of 4, then of 2 and 1.
   */
  static final int ROWS = L >= 16 ? 8 : 6;

  /** {@code "vector-api 8x32"}: the register block, rows × columns. */
  static String describe() {
    return "vector-api " + ROWS + "x" + PANEL;
  }

  /** A product of each row-block shape compared with the scalar chain of fused multiply-adds it must equal. */
  static boolean selfTest() {
    // every block shape (ROWS, 4, 2, 1), a full and a partial panel
    String difference = Gemm.differenceFromScalarChain(
        (m, a, w, n, k, c) -> multiply(m, a, 0, k, pack(w, 0, n, k), n, k, c, 0, n, false), ROWS + 7, PANEL + 3, 5);
    if (difference != null) {
      throw new IllegalStateException("Vector API product differs from the scalar one at " + difference);
    }
    return true;
  }

  /** {@code w[wOff ..]}, a row-major {@code [n, k]} weight, as {@code ⌈n / PANEL⌉} panels {@code [k, PANEL]}. */
  static float[] pack(float[] w, int wOff, int n, int k) {
    int panels = (n + PANEL - 1) / PANEL;
    float[] packed = new float[Math.multiplyExact(Math.multiplyExact(panels, k), PANEL)];
    for (int j = 0; j < n; j++) {
      int base = (j / PANEL) * k * PANEL + j % PANEL;
      for (int p = 0; p < k; p++) {
        packed[base + p * PANEL] = w[wOff + j * k + p];
      }
    }
    return packed;
  }

  /** Per-thread scratch for the columns that do not go straight into C, grown on demand. */
  private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

  /**
   * {@code C (=|+=) A · Wᵀ} with W packed by {@link #pack}; arguments as {@link Gemm#multiply}.
   *
   * <p>The block kernels only overwrite whole panels of C. A last, partial panel (n not a multiple of PANEL), and
   * every panel when accumulating, is multiplied into a scratch of whole panels and the columns below n copied (or
   * added) into C. So the kernels hold no masked vector operation and pass no vector to a method of ours: on JDK 17
   * masked loads and stores are not intrinsics, and a vector handed to a method C2 does not inline (one it had
   * already compiled on its own) is boxed; either way C2 recompiled the kernels with accumulators boxed at every
   * step, 10x slower with ~1 MB of garbage per call (what made LongLivedSessionIT slow; docs/performance.md).
   */
  static void multiply(int m, float[] a, int aOff, int lda, float[] packed, int n, int k, float[] c, int cOff,
      int ldc, boolean accumulate) {
    int whole = n - n % PANEL;
    int direct = accumulate ? 0 : whole; // columns written straight into C
    if (direct > 0) {
      blocks(m, a, aOff, lda, packed, 0, direct, k, c, cOff, ldc);
    }
    if (direct < n) {
      int width = (n + PANEL - 1) / PANEL * PANEL - direct;
      float[] scratch = SCRATCH.get();
      if (scratch.length < m * width) {
        scratch = new float[m * width];
        SCRATCH.set(scratch);
      }
      blocks(m, a, aOff, lda, packed, (direct / PANEL) * k * PANEL, width, k, scratch, 0, width);
      for (int i = 0; i < m; i++) {
        int ci = cOff + i * ldc + direct;
        int si = i * width;
        for (int j = 0; j < n - direct; j++) { // the same IEEE add as a vector lane's
          c[ci + j] = accumulate ? c[ci + j] + scratch[si + j] : scratch[si + j];
        }
      }
    }
  }

  /** Columns {@code 0 .. cols} (whole panels from {@code packed[pb0 ..]}) of every row, block by block. */
  private static void blocks(int m, float[] a, int aOff, int lda, float[] packed, int pb0, int cols, int k,
      float[] c, int cOff, int ldc) {
    int i = 0;
    if (ROWS == 8) {
      // panel by panel, every row block under it: the panel (k × 32 floats, 32 KB at k = 256) stays in L1 while
      // the blocks pass, so W is read from L2 / L3 once per product instead of once per 8 rows (an LSTM's W_hh of
      // hidden 256 is 1 MB, as large as a Zen 4 or Zen 5 core's whole L2)
      int blocked = m - m % 8;
      for (int col = 0, pb = pb0; col < cols; col += PANEL, pb += k * PANEL) {
        for (int r = 0; r < blocked; r += 8) {
          rows8(a, aOff + r * lda, lda, packed, pb, PANEL, k, c, cOff + r * ldc + col, ldc);
        }
      }
      i = blocked;
    } else {
      for (; i + 6 <= m; i += 6) {
        rows6(a, aOff + i * lda, lda, packed, pb0, cols, k, c, cOff + i * ldc, ldc);
      }
    }
    for (; i + 4 <= m; i += 4) {
      rows4(a, aOff + i * lda, lda, packed, pb0, cols, k, c, cOff + i * ldc, ldc);
    }
    if (i + 2 <= m) {
      twoRows(a, aOff + i * lda, lda, packed, pb0, cols, k, c, cOff + i * ldc, ldc);
      i += 2;
    }
    if (i < m) {
      oneRow(a, aOff + i * lda, packed, cols, k, c, cOff + i * ldc, 0, pb0);
    }
  }

  private static void rows8(float[] a, int a0, int lda, float[] packed, int pb0, int n, int k, float[] c, int c0,
      int ldc) {
    int a1 = a0 + lda;
    int a2 = a1 + lda;
    int a3 = a2 + lda;
    int a4 = a3 + lda;
    int a5 = a4 + lda;
    int a6 = a5 + lda;
    int a7 = a6 + lda;
    for (int col = 0, pb = pb0; col < n; col += PANEL, pb += k * PANEL) {
      FloatVector c00 = FloatVector.zero(S);
      FloatVector c01 = c00;
      FloatVector c10 = c00;
      FloatVector c11 = c00;
      FloatVector c20 = c00;
      FloatVector c21 = c00;
      FloatVector c30 = c00;
      FloatVector c31 = c00;
      FloatVector c40 = c00;
      FloatVector c41 = c00;
      FloatVector c50 = c00;
      FloatVector c51 = c00;
      FloatVector c60 = c00;
      FloatVector c61 = c00;
      FloatVector c70 = c00;
      FloatVector c71 = c00;
      for (int p = 0, wp = pb; p < k; p++, wp += PANEL) {
        FloatVector w0 = FloatVector.fromArray(S, packed, wp);
        FloatVector w1 = FloatVector.fromArray(S, packed, wp + L);
        FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
        c00 = w0.fma(x, c00);
        c01 = w1.fma(x, c01);
        x = FloatVector.broadcast(S, a[a1 + p]);
        c10 = w0.fma(x, c10);
        c11 = w1.fma(x, c11);
        x = FloatVector.broadcast(S, a[a2 + p]);
        c20 = w0.fma(x, c20);
        c21 = w1.fma(x, c21);
        x = FloatVector.broadcast(S, a[a3 + p]);
        c30 = w0.fma(x, c30);
        c31 = w1.fma(x, c31);
        x = FloatVector.broadcast(S, a[a4 + p]);
        c40 = w0.fma(x, c40);
        c41 = w1.fma(x, c41);
        x = FloatVector.broadcast(S, a[a5 + p]);
        c50 = w0.fma(x, c50);
        c51 = w1.fma(x, c51);
        x = FloatVector.broadcast(S, a[a6 + p]);
        c60 = w0.fma(x, c60);
        c61 = w1.fma(x, c61);
        x = FloatVector.broadcast(S, a[a7 + p]);
        c70 = w0.fma(x, c70);
        c71 = w1.fma(x, c71);
      }
      c00.intoArray(c, c0 + col);
      c01.intoArray(c, c0 + col + L);
      c10.intoArray(c, c0 + ldc + col);
      c11.intoArray(c, c0 + ldc + col + L);
      c20.intoArray(c, c0 + 2 * ldc + col);
      c21.intoArray(c, c0 + 2 * ldc + col + L);
      c30.intoArray(c, c0 + 3 * ldc + col);
      c31.intoArray(c, c0 + 3 * ldc + col + L);
      c40.intoArray(c, c0 + 4 * ldc + col);
      c41.intoArray(c, c0 + 4 * ldc + col + L);
      c50.intoArray(c, c0 + 5 * ldc + col);
      c51.intoArray(c, c0 + 5 * ldc + col + L);
      c60.intoArray(c, c0 + 6 * ldc + col);
      c61.intoArray(c, c0 + 6 * ldc + col + L);
      c70.intoArray(c, c0 + 7 * ldc + col);
      c71.intoArray(c, c0 + 7 * ldc + col + L);
    }
  }

  private static void rows6(float[] a, int a0, int lda, float[] packed, int pb0, int n, int k, float[] c, int c0,
      int ldc) {
    int a1 = a0 + lda;
    int a2 = a1 + lda;
    int a3 = a2 + lda;
    int a4 = a3 + lda;
    int a5 = a4 + lda;
    for (int col = 0, pb = pb0; col < n; col += PANEL, pb += k * PANEL) {
      FloatVector c00 = FloatVector.zero(S);
      FloatVector c01 = c00;
      FloatVector c10 = c00;
      FloatVector c11 = c00;
      FloatVector c20 = c00;
      FloatVector c21 = c00;
      FloatVector c30 = c00;
      FloatVector c31 = c00;
      FloatVector c40 = c00;
      FloatVector c41 = c00;
      FloatVector c50 = c00;
      FloatVector c51 = c00;
      for (int p = 0, wp = pb; p < k; p++, wp += PANEL) {
        FloatVector w0 = FloatVector.fromArray(S, packed, wp);
        FloatVector w1 = FloatVector.fromArray(S, packed, wp + L);
        FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
        c00 = w0.fma(x, c00);
        c01 = w1.fma(x, c01);
        x = FloatVector.broadcast(S, a[a1 + p]);
        c10 = w0.fma(x, c10);
        c11 = w1.fma(x, c11);
        x = FloatVector.broadcast(S, a[a2 + p]);
        c20 = w0.fma(x, c20);
        c21 = w1.fma(x, c21);
        x = FloatVector.broadcast(S, a[a3 + p]);
        c30 = w0.fma(x, c30);
        c31 = w1.fma(x, c31);
        x = FloatVector.broadcast(S, a[a4 + p]);
        c40 = w0.fma(x, c40);
        c41 = w1.fma(x, c41);
        x = FloatVector.broadcast(S, a[a5 + p]);
        c50 = w0.fma(x, c50);
        c51 = w1.fma(x, c51);
      }
      c00.intoArray(c, c0 + col);
      c01.intoArray(c, c0 + col + L);
      c10.intoArray(c, c0 + ldc + col);
      c11.intoArray(c, c0 + ldc + col + L);
      c20.intoArray(c, c0 + 2 * ldc + col);
      c21.intoArray(c, c0 + 2 * ldc + col + L);
      c30.intoArray(c, c0 + 3 * ldc + col);
      c31.intoArray(c, c0 + 3 * ldc + col + L);
      c40.intoArray(c, c0 + 4 * ldc + col);
      c41.intoArray(c, c0 + 4 * ldc + col + L);
      c50.intoArray(c, c0 + 5 * ldc + col);
      c51.intoArray(c, c0 + 5 * ldc + col + L);
    }
  }

  private static void rows4(float[] a, int a0, int lda, float[] packed, int pb0, int n, int k, float[] c, int c0,
      int ldc) {
    int a1 = a0 + lda;
    int a2 = a1 + lda;
    int a3 = a2 + lda;
    for (int col = 0, pb = pb0; col < n; col += PANEL, pb += k * PANEL) {
      FloatVector c00 = FloatVector.zero(S);
      FloatVector c01 = c00;
      FloatVector c10 = c00;
      FloatVector c11 = c00;
      FloatVector c20 = c00;
      FloatVector c21 = c00;
      FloatVector c30 = c00;
      FloatVector c31 = c00;
      for (int p = 0, wp = pb; p < k; p++, wp += PANEL) {
        FloatVector w0 = FloatVector.fromArray(S, packed, wp);
        FloatVector w1 = FloatVector.fromArray(S, packed, wp + L);
        FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
        c00 = w0.fma(x, c00);
        c01 = w1.fma(x, c01);
        x = FloatVector.broadcast(S, a[a1 + p]);
        c10 = w0.fma(x, c10);
        c11 = w1.fma(x, c11);
        x = FloatVector.broadcast(S, a[a2 + p]);
        c20 = w0.fma(x, c20);
        c21 = w1.fma(x, c21);
        x = FloatVector.broadcast(S, a[a3 + p]);
        c30 = w0.fma(x, c30);
        c31 = w1.fma(x, c31);
      }
      c00.intoArray(c, c0 + col);
      c01.intoArray(c, c0 + col + L);
      c10.intoArray(c, c0 + ldc + col);
      c11.intoArray(c, c0 + ldc + col + L);
      c20.intoArray(c, c0 + 2 * ldc + col);
      c21.intoArray(c, c0 + 2 * ldc + col + L);
      c30.intoArray(c, c0 + 3 * ldc + col);
      c31.intoArray(c, c0 + 3 * ldc + col + L);
    }
  }

  /** Two rows, two panels at a time (eight chains, as {@link #oneRow}); a leftover panel alone. */
  private static void twoRows(float[] a, int a0, int lda, float[] packed, int pb0, int n, int k, float[] c, int c0,
      int ldc) {
    int a1 = a0 + lda;
    int panelSize = k * PANEL;
    int col = 0;
    int pb = pb0;
    for (; col + 2 * PANEL <= n; col += 2 * PANEL, pb += 2 * panelSize) {
      FloatVector c00 = FloatVector.zero(S);
      FloatVector c01 = c00;
      FloatVector c02 = c00;
      FloatVector c03 = c00;
      FloatVector c10 = c00;
      FloatVector c11 = c00;
      FloatVector c12 = c00;
      FloatVector c13 = c00;
      for (int p = 0, wp = pb; p < k; p++, wp += PANEL) {
        FloatVector w0 = FloatVector.fromArray(S, packed, wp);
        FloatVector w1 = FloatVector.fromArray(S, packed, wp + L);
        FloatVector w2 = FloatVector.fromArray(S, packed, wp + panelSize);
        FloatVector w3 = FloatVector.fromArray(S, packed, wp + panelSize + L);
        FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
        c00 = w0.fma(x, c00);
        c01 = w1.fma(x, c01);
        c02 = w2.fma(x, c02);
        c03 = w3.fma(x, c03);
        x = FloatVector.broadcast(S, a[a1 + p]);
        c10 = w0.fma(x, c10);
        c11 = w1.fma(x, c11);
        c12 = w2.fma(x, c12);
        c13 = w3.fma(x, c13);
      }
      c00.intoArray(c, c0 + col);
      c01.intoArray(c, c0 + col + L);
      c02.intoArray(c, c0 + col + PANEL);
      c03.intoArray(c, c0 + col + PANEL + L);
      c10.intoArray(c, c0 + ldc + col);
      c11.intoArray(c, c0 + ldc + col + L);
      c12.intoArray(c, c0 + ldc + col + PANEL);
      c13.intoArray(c, c0 + ldc + col + PANEL + L);
    }
    if (col < n) {
      oneRow(a, a0, packed, n, k, c, c0, col, pb);
      oneRow(a, a1, packed, n, k, c, c0 + ldc, col, pb);
    }
  }

  /**
   * One row: four panels at a time, so eight independent fused multiply-add chains hide the instruction's latency
   * (one panel's two chains would leave the FMA units idle most of the time); the leftover panels one by one.
   */
  private static void oneRow(float[] a, int a0, float[] packed, int n, int k, float[] c, int c0, int col,
      int pb) {
    int panelSize = k * PANEL;
    for (; col + 4 * PANEL <= n; col += 4 * PANEL, pb += 4 * panelSize) {
      FloatVector c00 = FloatVector.zero(S);
      FloatVector c01 = c00;
      FloatVector c10 = c00;
      FloatVector c11 = c00;
      FloatVector c20 = c00;
      FloatVector c21 = c00;
      FloatVector c30 = c00;
      FloatVector c31 = c00;
      for (int p = 0, wp = pb; p < k; p++, wp += PANEL) {
        FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
        c00 = FloatVector.fromArray(S, packed, wp).fma(x, c00);
        c01 = FloatVector.fromArray(S, packed, wp + L).fma(x, c01);
        c10 = FloatVector.fromArray(S, packed, wp + panelSize).fma(x, c10);
        c11 = FloatVector.fromArray(S, packed, wp + panelSize + L).fma(x, c11);
        c20 = FloatVector.fromArray(S, packed, wp + 2 * panelSize).fma(x, c20);
        c21 = FloatVector.fromArray(S, packed, wp + 2 * panelSize + L).fma(x, c21);
        c30 = FloatVector.fromArray(S, packed, wp + 3 * panelSize).fma(x, c30);
        c31 = FloatVector.fromArray(S, packed, wp + 3 * panelSize + L).fma(x, c31);
      }
      c00.intoArray(c, c0 + col);
      c01.intoArray(c, c0 + col + L);
      c10.intoArray(c, c0 + col + PANEL);
      c11.intoArray(c, c0 + col + PANEL + L);
      c20.intoArray(c, c0 + col + 2 * PANEL);
      c21.intoArray(c, c0 + col + 2 * PANEL + L);
      c30.intoArray(c, c0 + col + 3 * PANEL);
      c31.intoArray(c, c0 + col + 3 * PANEL + L);
    }
    for (; col < n; col += PANEL, pb += panelSize) {
      FloatVector c00 = FloatVector.zero(S);
      FloatVector c01 = c00;
      for (int p = 0, wp = pb; p < k; p++, wp += PANEL) {
        FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
        c00 = FloatVector.fromArray(S, packed, wp).fma(x, c00);
        c01 = FloatVector.fromArray(S, packed, wp + L).fma(x, c01);
      }
      c00.intoArray(c, c0 + col);
      c01.intoArray(c, c0 + col + L);
    }
  }
}
