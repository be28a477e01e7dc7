package io.seqpack.nn;

import java.nio.FloatBuffer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The engine's only matrix product: {@code C[m, n] (=|+=) A[m, k] · Wᵀ}, where {@code W} is a PyTorch
 * {@code Linear}-layout weight {@code [n, k]} prepared once as {@link Weights}. Every other class calls this one.
 *
 * <p>Four backends:
 * <ul>
 *   <li><b>native</b> ({@link NativeGemm}: C with AVX-512 through JNI on pinned heap arrays, {@code
 *       src/main/c/seqpack_kernels.c}), for the recurrent products of the time loop ({@link #prepareRecurrent}:
 *       {@code W_hh} and LSTM's {@code W_hr}), weight packed once into 32-column panels. The default ({@code auto})
 *       when the jar holds the library (built by {@code mvn compile} when gcc is there), it loads, and the CPU has
 *       AVX-512; forced with {@code -Dseqpack.gemm=native} (an error where it cannot run). 1.25–1.3x the Vector API
 *       kernel's speed on the same blocking ({@code docs/performance.md}, "The recurrent product in C").
 *   <li><b>Vector API panels</b> ({@link PanelGemm}), for the recurrent products where the native kernel cannot
 *       run, or with {@code -Dseqpack.gemm=panels}: the weight packed once into register-blocked
 *       panels, multiplied on heap arrays with no copies, at the same speed whatever OpenBLAS's core choice. Used
 *       when the JVM has {@code jdk.incubator.vector} and the CPU has FMA ({@code -Dseqpack.gemm=blas} puts
 *       the time loop back on OpenBLAS). It runs 1.1–12× faster than OpenBLAS 0.3.19 at the row counts a time step
 *       multiplies (the table in {@code docs/performance.md}). On both the native and the panel kernel each output
 *       element is the same chain of fused multiply-adds whatever the batch (the same chain on both), so a row's
 *       product does not depend on its batch-mates at all.
 *   <li><b>OpenBLAS</b> ({@code cblas_sgemm}, row-major, {@code CblasTrans} on the {@code [n, k]} weight), used
 *       when the native library loads, for the other products (the hoisted input projection, heads, attention) and
 *       for every product with {@code -Dseqpack.gemm=blas}. The weight is copied off-heap once per {@link Weights} (freed by JavaCPP's
 *       deallocator when the weights become unreachable). Per call, A is copied into a per-thread off-heap
 *       buffer and C copied back ({@code FloatBuffer} bulk copies, no JNI array pinning of the weights), so the
 *       product costs one sgemm plus O((m·k + m·n)) copies. OpenBLAS is set to one thread: each Spark task
 *       thread scores on its own core.
 *   <li><b>Java</b>: W stored transposed {@code [k, n]}, inner loop a contiguous axpy over n that C2
 *       auto-vectorizes. The fallback when OpenBLAS cannot load (logged once), or forced with {@code
 *       -Dseqpack.gemm=java}.
 * </ul>
 *
 * <p>{@code -Dseqpack.gemm=native-bf16} is a measurement switch, not a product mode: the recurrent products on the
 * native kernel in bfloat16 (W and h rounded to 8 significant bits, float32 accumulation) where the CPU has
 * AVX512_BF16. Its scores are NOT PyTorch's (logged once when it is on); {@code docs/performance.md} has its speed and
 * its score differences.
 *
 * <p>Each output row depends only on its own input row; on OpenBLAS not bit for bit: its kernels for the last
 * partial block of rows accumulate in a different order, so a row's product moves by a few ulps with m (up to about
 * 2e-7 of {@code Σ|a·w|}, see {@code GemmTest}); scores stay within 1e-6 whatever the batch ({@code
 * BatchIndependenceTest}), as PyTorch's own do with MKL or OpenBLAS.
 */
public final class Gemm {
  private Gemm() {}

  /** A kernel under a self-test: {@code c[m, n] = a[m, k] · wᵀ} for a row-major {@code w [n, k]}. */
  interface Product {
    void multiply(int m, float[] a, float[] w, int n, int k, float[] c);
  }

  /**
   * Where {@code product} differs from the scalar chain of fused multiply-adds over an {@code m × n} product of
   * small exact operands ({@code "row,column"}), or null when every element equals it bit for bit: the check each
   * own kernel runs before it is used.
   */
  static String differenceFromScalarChain(Product product, int m, int n, int k) {
    float[] w = new float[n * k];
    float[] a = new float[m * k];
    for (int j = 0; j < w.length; j++) {
      w[j] = (j % 7 - 3) * 0.375f;
    }
    for (int j = 0; j < a.length; j++) {
      a[j] = (j % 5 - 2) * 0.625f;
    }
    float[] c = new float[m * n];
    product.multiply(m, a, w, n, k, c);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float expected = 0f;
        for (int p = 0; p < k; p++) {
          expected = Math.fma(a[i * k + p], w[j * k + p], expected);
        }
        if (c[i * n + j] != expected) {
          return i + "," + j;
        }
      }
    }
    return null;
  }

  private static final Logger LOG = Logger.getLogger(Gemm.class.getName());

  /**
   * {@code -Dseqpack.gemm=auto|native|panels|blas|java}: which backend runs which products (the class comment);
   * {@code native-bf16} is an experimental measurement switch (the recurrent products in bfloat16, not exact).
   */
  private static final String CHOICE = System.getProperty("seqpack.gemm", "auto").toLowerCase(java.util.Locale.ROOT);

  /** Whether the OpenBLAS backend is in use. */
  private static final boolean BLAS = loadBlas();

  /** Whether recurrent products run on {@link NativeGemm}. */
  private static final boolean NATIVE = loadNative();

  /**
   * Whether the recurrent products run on the native bf16 kernel ({@code -Dseqpack.gemm=native-bf16}): an
   * experiment to measure what bfloat16 would buy, NOT PyTorch-exact (scores move by about 1e-3).
   */
  private static final boolean BF16 = NATIVE && CHOICE.equals("native-bf16") && loadBf16();

  /** Whether recurrent products run on {@link PanelGemm}. */
  private static final boolean PANELS = !NATIVE && loadPanels();

  /** {@code openblas_get_corename()}: the kernel set OpenBLAS picked (see {@link OpenBlasCore}). */
  private static final String CORE = BLAS ? OpenBlasCore.loadedCoreName() : "none";

  static {
    if (BLAS) {
      OpenBlasCore.warnIfSlow(CORE, PANELS || NATIVE);
    }
  }

  private static boolean loadBlas() {
    if (CHOICE.equals("java")) {
      return false;
    }
    try {
      OpenBlasCore.prepare(); // before the library loads: OpenBLAS reads its core type once, at load time
      openblas_nolapack.blas_set_num_threads(1);
      // a 1×1 product proves the library links and runs
      try (FloatPointer a = new FloatPointer(2f); FloatPointer b = new FloatPointer(3f);
          FloatPointer c = new FloatPointer(1)) {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
            openblas_nolapack.CblasTrans, 1, 1, 1, 1f, a, 1, b, 1, 0f, c, 1);
        if (c.get(0) != 6f) {
          throw new IllegalStateException("cblas_sgemm self-test gave " + c.get(0) + " instead of 6");
        }
      }
      return true;
    } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError, ...
      if (CHOICE.equals("blas")) {
        throw new IllegalStateException("-Dseqpack.gemm=blas but OpenBLAS cannot be loaded", t);
      }
      LOG.log(Level.WARNING, "OpenBLAS could not be loaded; using the slower pure-Java matrix product ("
          + t + ")");
      return false;
    }
  }

  private static boolean loadNative() {
    if (!CHOICE.equals("auto") && !CHOICE.equals("native") && !CHOICE.equals("native-bf16")) {
      return false;
    }
    boolean available;
    try {
      available = NativeGemm.available();
    } catch (Throwable t) { // ExceptionInInitializerError, ...: the Vector API kernel stays
      if (!CHOICE.equals("auto")) {
        throw new IllegalStateException("-Dseqpack.gemm=" + CHOICE + " but the native kernel cannot run", t);
      }
      return false;
    }
    if (!available && !CHOICE.equals("auto")) {
      throw new IllegalStateException("-Dseqpack.gemm=" + CHOICE + " but the native kernel cannot run: "
          + NativeGemm.unavailableReason());
    }
    return available; // unavailable under auto is the normal case off AVX-512: the Vector API kernel, silently
  }

  private static boolean loadBf16() {
    String reason = NativeGemm.bf16UnavailableReason();
    if (reason != null) {
      throw new IllegalStateException("-Dseqpack.gemm=native-bf16 but the bf16 kernel cannot run: " + reason);
    }
    LOG.warning("-Dseqpack.gemm=native-bf16: the recurrent products run in bfloat16, an experiment; scores are NOT "
        + "PyTorch-exact");
    return true;
  }

  private static boolean loadPanels() {
    if (CHOICE.equals("blas") || CHOICE.equals("java")
        || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()
        || !OpenBlasCore.CpuInfo.current().hasFma()) { // without FMA the Vector API's fma is a slow software loop
      return false;
    }
    try {
      return PanelGemm.selfTest();
    } catch (Throwable t) { // NoClassDefFoundError, a JVM without the intrinsics, ...
      LOG.log(Level.WARNING, "Vector API matrix kernel unavailable; the recurrent products run on " + backend()
          + " (" + t + ")");
      return false;
    }
  }

  /** {@code "openblas"} or {@code "java"}: the backend products other than the recurrent ones run on. */
  public static String backend() {
    return BLAS ? "openblas" : "java";
  }

  /** The OpenBLAS core in use ({@code "SkylakeX"}, {@code "Haswell"}, ...), or {@code "none"}. */
  public static String blasCore() {
    return CORE;
  }

  /**
   * The backends with their kernels, for reports: {@code "recurrent native-avx512 8x32, other openblas SkylakeX"},
   * {@code "recurrent vector-api 8x32, other openblas SkylakeX"}, or
   * {@code "openblas SkylakeX"} or {@code "java"} when every product runs on one backend.
   */
  public static String describe() {
    String other = BLAS ? "openblas " + CORE : "java";
    return BF16 ? "recurrent " + NativeGemm.describeBf16() + ", other " + other
        : NATIVE ? "recurrent " + NativeGemm.describe() + ", other " + other
        : PANELS ? "recurrent " + PanelGemm.describe() + ", other " + other : other;
  }

  /**
   * {@code "native"} when the recurrent products run on {@link NativeGemm}, {@code "vector-api"} on {@link
   * PanelGemm}, else {@link #backend()}.
   */
  public static String recurrentBackend() {
    return NATIVE ? "native" : PANELS ? "vector-api" : backend();
  }

  /** A right-hand operand prepared for {@link #multiply}: a weight of PyTorch shape {@code [n, k]}. */
  public static final class Weights {
    private final int n;
    private final int k;
    private final float[] transposed; // [k, n], Java backend only
    private final FloatPointer offHeap; // [n, k] row-major, BLAS backend only
    private final float[] panels; // PanelGemm.pack's layout, recurrent weights on the Vector API only
    private final float[] nativePanels; // NativeGemm.pack's layout, recurrent weights on the native kernel only
    private final short[] bf16Panels; // NativeGemm.packBf16's layout, under -Dseqpack.gemm=native-bf16 only

    private Weights(int n, int k, float[] transposed, FloatPointer offHeap, float[] panels, float[] nativePanels,
        short[] bf16Panels) {
      this.n = n;
      this.k = k;
      this.transposed = transposed;
      this.offHeap = offHeap;
      this.panels = panels;
      this.nativePanels = nativePanels;
      this.bf16Panels = bf16Panels;
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
    int size = Math.multiplyExact(n, k);
    if (BLAS) {
      FloatPointer p = new FloatPointer(Math.max(1, size));
      p.put(w, wOff, size);
      return new Weights(n, k, null, p, null, null, null);
    }
    float[] t = new float[size];
    for (int row = 0; row < n; row++) {
      for (int p = 0; p < k; p++) {
        t[p * n + row] = w[wOff + row * k + p];
      }
    }
    return new Weights(n, k, t, null, null, null, null);
  }

  /**
   * Prepares a weight the time loop multiplies at every step ({@code W_hh}, {@code W_hr}): packed once into {@link
   * NativeGemm}'s or {@link PanelGemm}'s panels when that kernel is in use, else as {@link #prepare}.
   */
  public static Weights prepareRecurrent(float[] w, int wOff, int n, int k) {
    if (BF16) {
      return new Weights(n, k, null, null, null, null, NativeGemm.packBf16(w, wOff, n, k));
    }
    if (NATIVE) {
      return new Weights(n, k, null, null, null, NativeGemm.pack(w, wOff, n, k), null);
    }
    if (!PANELS) {
      return prepare(w, wOff, n, k);
    }
    return new Weights(n, k, null, null, PanelGemm.pack(w, wOff, n, k), null, null);
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
    if (m <= 0) {
      return;
    }
    if (w.bf16Panels != null) {
      NativeGemm.multiplyBf16(m, a, aOff, lda, w.bf16Panels, w.n, w.k, c, cOff, ldc, accumulate);
    } else if (w.nativePanels != null) {
      NativeGemm.multiply(m, a, aOff, lda, w.nativePanels, w.n, w.k, c, cOff, ldc, accumulate);
    } else if (w.panels != null) {
      PanelGemm.multiply(m, a, aOff, lda, w.panels, w.n, w.k, c, cOff, ldc, accumulate);
    } else if (w.offHeap != null) {
      multiplyBlas(m, a, aOff, lda, w, c, cOff, ldc, accumulate);
    } else {
      multiplyJava(m, a, aOff, lda, w, c, cOff, ldc, accumulate);
    }
  }

  // ------------------------------------------------------------------------------------------------ OpenBLAS

  /** Per-thread off-heap operands, grown on demand and never shrunk. */
  private static final class Scratch {
    FloatPointer a = new FloatPointer(1);
    FloatBuffer aView = a.asBuffer();
    FloatPointer c = new FloatPointer(1);
    FloatBuffer cView = c.asBuffer();

    void ensure(long aSize, long cSize) {
      if (aView.capacity() < aSize) {
        a.close();
        a = new FloatPointer(Math.max(aSize, aView.capacity() * 3L / 2));
        aView = a.asBuffer();
      }
      if (cView.capacity() < cSize) {
        c.close();
        c = new FloatPointer(Math.max(cSize, cView.capacity() * 3L / 2));
        cView = c.asBuffer();
      }
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static void multiplyBlas(
      int m, float[] a, int aOff, int lda, Weights w, float[] c, int cOff, int ldc, boolean accumulate) {
    final int n = w.n;
    final int k = w.k;
    Scratch s = SCRATCH.get();
    s.ensure((long) m * k, (long) m * n);
    FloatBuffer av = s.aView;
    av.clear();
    if (lda == k) {
      av.put(a, aOff, m * k);
    } else {
      for (int i = 0; i < m; i++) {
        av.put(a, aOff + i * lda, k);
      }
    }
    FloatBuffer cv = s.cView;
    if (accumulate) {
      cv.clear();
      if (ldc == n) {
        cv.put(c, cOff, m * n);
      } else {
        for (int i = 0; i < m; i++) {
          cv.put(c, cOff + i * ldc, n);
        }
      }
    }
    openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
        openblas_nolapack.CblasTrans, m, n, k, 1f, s.a, k, w.offHeap, k, accumulate ? 1f : 0f, s.c, n);
    cv.clear();
    if (ldc == n) {
      cv.get(c, cOff, m * n);
    } else {
      for (int i = 0; i < m; i++) {
        cv.get(c, cOff + i * ldc, n);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ Java

  private static void multiplyJava(
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
