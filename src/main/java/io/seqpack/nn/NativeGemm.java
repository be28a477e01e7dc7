package io.seqpack.nn;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The recurrent step's product {@code C (=|+=) A · Wᵀ} in C with AVX-512 ({@code src/main/c/seqpack_kernels.c}),
 * called through JNI on pinned heap arrays. It runs the time loop's product 1.25–1.3x faster than {@link PanelGemm}
 * on the same blocking (docs/performance.md, "The recurrent product in C (native kernel)").
 *
 * <p>The library is built by {@code mvn compile} into {@code native/linux-x86_64/} of the jar (when gcc is there)
 * and loaded from there once per JVM through a temporary file. {@link #available()} is false when the resource is
 * missing, the library does not load, the CPU lacks AVX-512, or the self-test fails; {@link Gemm} then keeps the
 * Vector API kernel.
 *
 * <p>Each output element is the chain {@code fma(a[p], w[p], …)} over p = 0 … k−1 from zero, whatever m or the
 * row's block: the same value as {@link PanelGemm} on AVX-512, bit for bit, and a row's product does not depend on
 * its batch-mates.
 */
final class NativeGemm {
  private NativeGemm() {}

  /** Columns per packed panel: two AVX-512 vectors. */
  static final int PANEL = 32;

  /** The library inside the jar. */
  static final String RESOURCE = "/native/linux-x86_64/libseqpack_kernels.so";

  /** Why the kernel is not available, or null when it is. */
  private static final String UNAVAILABLE = load();

  /** Whether {@link #multiply} can run on this JVM and CPU. */
  static boolean available() {
    return UNAVAILABLE == null;
  }

  /** Why {@link #available()} is false ("no AVX-512", ...), or null. */
  static String unavailableReason() {
    return UNAVAILABLE;
  }

  /** {@code "native-avx512 8x32"}: the ISA and the register block, rows × columns. */
  static String describe() {
    return "native-avx512 8x" + PANEL;
  }

  private static String load() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return "built for linux-x86_64 only";
    }
    try (InputStream in = NativeGemm.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "the jar holds no " + RESOURCE + " (built without gcc)";
      }
      Path file = Files.createTempFile("libseqpack_kernels", ".so");
      file.toFile().deleteOnExit();
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      System.load(file.toAbsolutePath().toString());
    } catch (IOException | UnsatisfiedLinkError | SecurityException e) {
      return "cannot load " + RESOURCE + ": " + e;
    }
    try {
      if (!cpuHasAvx512()) {
        return "no AVX-512 on this CPU";
      }
      return selfTest();
    } catch (UnsatisfiedLinkError e) { // a library from another build, without our entry points
      return "cannot link " + RESOURCE + ": " + e;
    }
  }

  /**
   * A product of every row-block shape and a partial panel, compared with the scalar chain of fused multiply-adds
   * it must equal; null when equal.
   */
  private static String selfTest() {
    // the one-row kernel's four panels, a whole and a partial panel; every block shape (8, 4, 2, 1)
    String difference = Gemm.differenceFromScalarChain(
        (m, a, w, n, k, c) -> multiply(m, a, 0, k, pack(w, 0, n, k), n, k, c, 0, n, false), 8 + 4 + 2 + 1,
        4 * PANEL + PANEL + 3, 5);
    return difference == null ? null : "native product differs from the scalar one at " + difference;
  }

  /** {@code w[wOff ..]}, a row-major {@code [n, k]} weight, as {@code ⌈n / 32⌉} panels {@code [k, 32]}, zero-padded. */
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

  /**
   * {@code C (=|+=) A · Wᵀ} with W packed by {@link #pack}; arguments as {@link Gemm#multiply}. The bounds are
   * checked here: the C side writes through raw pointers.
   */
  static void multiply(int m, float[] a, int aOff, int lda, float[] packed, int n, int k, float[] c, int cOff,
      int ldc, boolean accumulate) {
    if (m <= 0 || n <= 0) {
      return;
    }
    checkOperands(m, a.length, aOff, lda, n, k, c.length, cOff, ldc);
    if (packed.length < (long) ((n + PANEL - 1) / PANEL) * k * PANEL) {
      throw new IllegalArgumentException("packed weight of " + packed.length + " floats is not [" + n + ", " + k
          + "]");
    }
    multiplyF32(m, a, aOff, lda, packed, n, k, c, cOff, ldc, accumulate);
  }

  /** The bounds of A and C: the C side writes through raw pointers. */
  private static void checkOperands(int m, int aLength, int aOff, int lda, int n, int k, int cLength, int cOff,
      int ldc) {
    if (lda < k || ldc < n || k < 0) {
      throw new IllegalArgumentException("lda " + lda + " < k " + k + " or ldc " + ldc + " < n " + n);
    }
    checkSpan("A", aLength, aOff, m, lda, k);
    checkSpan("C", cLength, cOff, m, ldc, n);
  }

  private static void checkSpan(String name, int length, int offset, int rows, int stride, int width) {
    long end = offset + (long) (rows - 1) * stride + width;
    if (offset < 0 || end > length) {
      throw new IndexOutOfBoundsException(name + " [" + rows + " rows of " + width + ", stride " + stride
          + ", from " + offset + "] does not fit its " + length + " floats");
    }
  }

  // ------------------------------------------------------------------------------------------------ bf16

  /**
   * Why the experimental bf16 kernel cannot run here, or null: it needs the library and AVX512_BF16. Only asked for
   * under {@code -Dseqpack.gemm=native-bf16}.
   */
  static String bf16UnavailableReason() {
    if (!available()) {
      return UNAVAILABLE;
    }
    return cpuHasAvx512Bf16() ? null : "no AVX512_BF16 on this CPU";
  }

  /** {@code "native-avx512-bf16 8x32"}. */
  static String describeBf16() {
    return "native-avx512-bf16 8x" + PANEL;
  }

  /** A float rounded to the nearest bfloat16, ties to even (as {@code vcvtne2ps2bf16}); finite inputs. */
  static short toBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
  }

  /**
   * {@code w[wOff ..]}, a row-major {@code [n, k]} weight, in bfloat16 as {@code ⌈n / 32⌉} panels {@code [⌈k /
   * 2⌉][32][2]}: the pair {@code W[j][2q], W[j][2q + 1]} side by side, zero-padded past n and an odd k.
   */
  static short[] packBf16(float[] w, int wOff, int n, int k) {
    int pairs = (k + 1) / 2;
    int panels = (n + PANEL - 1) / PANEL;
    short[] packed = new short[Math.multiplyExact(Math.multiplyExact(panels, pairs), 2 * PANEL)];
    for (int j = 0; j < n; j++) {
      int base = (j / PANEL) * pairs * 2 * PANEL + (j % PANEL) * 2;
      for (int p = 0; p < k; p++) {
        packed[base + (p / 2) * 2 * PANEL + p % 2] = toBf16(w[wOff + j * k + p]);
      }
    }
    return packed;
  }

  /** Per-thread scratch for A's bf16 pairs, grown on demand. */
  private static final ThreadLocal<int[]> BF16_SCRATCH = ThreadLocal.withInitial(() -> new int[0]);

  /**
   * {@code C (=|+=) A · Wᵀ} in bfloat16 with float32 accumulation, W packed by {@link #packBf16}: A and W rounded to
   * bf16 (8 significant bits), so NOT PyTorch's float32 result. Arguments as {@link #multiply}.
   */
  static void multiplyBf16(int m, float[] a, int aOff, int lda, short[] packed, int n, int k, float[] c, int cOff,
      int ldc, boolean accumulate) {
    if (m <= 0 || n <= 0) {
      return;
    }
    checkOperands(m, a.length, aOff, lda, n, k, c.length, cOff, ldc);
    int pairs = (k + 1) / 2;
    if (packed.length < (long) ((n + PANEL - 1) / PANEL) * pairs * 2 * PANEL) {
      throw new IllegalArgumentException("packed bf16 weight of " + packed.length + " is not [" + n + ", " + k + "]");
    }
    int[] scratch = BF16_SCRATCH.get();
    if (scratch.length < m * pairs + 16) { // + 16: the conversion's last masked store stays inside
      scratch = new int[m * pairs + 16];
      BF16_SCRATCH.set(scratch);
    }
    multiplyBf16(m, a, aOff, lda, packed, n, k, c, cOff, ldc, accumulate, scratch);
  }

  private static native boolean cpuHasAvx512Bf16();

  private static native void multiplyBf16(int m, float[] a, int aOff, int lda, short[] packed, int n, int k,
      float[] c, int cOff, int ldc, boolean accumulate, int[] scratch);

  private static native boolean cpuHasAvx512();

  private static native void multiplyF32(int m, float[] a, int aOff, int lda, float[] packed, int n, int k,
      float[] c, int cOff, int ldc, boolean accumulate);
}
