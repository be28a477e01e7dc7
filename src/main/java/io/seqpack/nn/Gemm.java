package io.seqpack.nn;

/**
 * The engine's only matrix product: {@code C[m, n] (=|+=) A[m, k] · Wᵀ}, where {@code W} is a PyTorch
 * {@code Linear}-layout weight {@code [n, k]} prepared once as {@link Weights}. Every other class calls this one,
 * so a BLAS-backed implementation (OpenBLAS {@code sgemm} with {@code CblasTrans}, off-heap) can replace it
 * without touching the model code.
 *
 * <p>This plain-Java version stores W transposed, {@code [k, n]}, so the inner loop is a contiguous axpy over n
 * ({@code c[i, :] += a[i, p] · wT[p, :]}) that C2 auto-vectorizes. Each output row depends only on its own input
 * row and is summed in the same order whatever m is, so results do not depend on batch composition.
 */
public final class Gemm {
  private Gemm() {}

  /** A right-hand operand prepared for {@link #multiply}: a weight of PyTorch shape {@code [n, k]}. */
  public static final class Weights {
    private final int n;
    private final int k;
    private final float[] transposed; // [k, n]

    private Weights(int n, int k, float[] transposed) {
      this.n = n;
      this.k = k;
      this.transposed = transposed;
    }

    /** Output width (PyTorch {@code out_features}). */
    public int n() {
      return n;
    }

    /** Input width (PyTorch {@code in_features}). */
    public int k() {
      return k;
    }
  }

  /** Prepares {@code w[wOff ..]}, a row-major {@code [n, k]} weight, for products; copies it. */
  public static Weights prepare(float[] w, int wOff, int n, int k) {
    float[] t = new float[Math.multiplyExact(n, k)];
    for (int row = 0; row < n; row++) {
      for (int p = 0; p < k; p++) {
        t[p * n + row] = w[wOff + row * k + p];
      }
    }
    return new Weights(n, k, t);
  }

  /**
   * {@code C = A · Wᵀ} ({@code accumulate == false}) or {@code C += A · Wᵀ}.
   *
   * @param m rows of A and C
   * @param a {@code [m, k]} starting at {@code aOff}, row stride {@code lda}
   * @param c {@code [m, n]} starting at {@code cOff}, row stride {@code ldc}; must not overlap A
   */
  public static void multiply(
      int m, float[] a, int aOff, int lda, Weights w, float[] c, int cOff, int ldc, boolean accumulate) {
    final int n = w.n;
    final int k = w.k;
    final float[] wt = w.transposed;
    for (int i = 0; i < m; i++) {
      int ci = cOff + i * ldc;
      int ai = aOff + i * lda;
      if (!accumulate) {
        java.util.Arrays.fill(c, ci, ci + n, 0f);
      }
      for (int p = 0; p < k; p++) {
        float av = a[ai + p];
        int wp = p * n;
        for (int j = 0; j < n; j++) {
          c[ci + j] += av * wt[wp + j];
        }
      }
    }
  }
}
