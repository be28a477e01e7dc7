package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class GemmTest {

  @Test
  void multipliesByTransposedPyTorchWeight() {
    // W [n=2, k=3] as PyTorch stores a Linear(3, 2) weight; A [m=2, k=3]
    float[] w = {1, 2, 3, 4, 5, 6};
    float[] a = {1, 0, -1, 2, 1, 0};
    Gemm.Weights weights = Gemm.prepare(w, 0, 2, 3);
    float[] c = new float[4];
    Gemm.multiply(2, a, 0, 3, weights, c, 0, 2, false);
    assertArrayEquals(new float[] {1 - 3, 4 - 6, 2 + 2, 8 + 5}, c);
    Gemm.multiply(2, a, 0, 3, weights, c, 0, 2, true);
    assertArrayEquals(new float[] {-4, -4, 8, 26}, c);
  }

  @Test
  void honoursOffsetsAndLeadingDimensions() {
    Random random = new Random(7);
    int m = 5;
    int n = 7;
    int k = 4;
    float[] w = new float[n * k];
    for (int i = 0; i < w.length; i++) {
      w[i] = random.nextFloat() - 0.5f;
    }
    int lda = 9; // A is a column block of a wider matrix
    int ldc = 11;
    float[] a = new float[3 + m * lda];
    for (int i = 0; i < a.length; i++) {
      a[i] = random.nextFloat() - 0.5f;
    }
    float[] c = new float[2 + m * ldc];
    java.util.Arrays.fill(c, 99f);
    Gemm.multiply(m, a, 3, lda, Gemm.prepare(w, 0, n, k), c, 2, ldc, false);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double expected = 0;
        for (int p = 0; p < k; p++) {
          expected += a[3 + i * lda + p] * w[j * k + p];
        }
        assertEquals(expected, c[2 + i * ldc + j], 1e-6);
      }
      for (int j = n; j < ldc && 2 + i * ldc + j < c.length; j++) {
        assertEquals(99f, c[2 + i * ldc + j], "outside the block stays untouched");
      }
    }
  }

  @Test
  void usesOpenBlasUnlessForcedToJava() {
    // the golden parity tests then run on the BLAS path the engine uses in production
    String expected = "java".equalsIgnoreCase(System.getProperty("seqpack.gemm")) ? "java" : "openblas";
    assertEquals(expected, Gemm.backend());
  }

  @Test
  void recurrentProductsRunOnTheNativeKernelWhereItRunsElseOnTheVectorApi() {
    // the golden parity tests run the time loop on the native kernel by default (AVX-512 and the library in the
    // jar), on the Vector API panels in panel-kernels (-Dseqpack.gemm=panels) or without AVX-512, on OpenBLAS in
    // openblas-kernels (-Dseqpack.gemm=blas), on plain loops in java-fallback-kernels (-Dseqpack.gemm=java)
    String forced = System.getProperty("seqpack.gemm", "auto");
    boolean nativeRuns = NativeGemm.available();
    String expected = forced.equalsIgnoreCase("java") ? "java" : forced.equalsIgnoreCase("blas") ? "openblas"
        : forced.equalsIgnoreCase("panels") || !nativeRuns ? "vector-api" : "native";
    assertEquals(expected, Gemm.recurrentBackend());
    assertEquals(expected.equals("vector-api"), Gemm.describe().startsWith("recurrent vector-api "), Gemm.describe());
    assertEquals(expected.equals("native"), Gemm.describe().startsWith("recurrent native-avx512 8x32, "),
        Gemm.describe());
  }

  /** A build with gcc on an AVX-512 Linux machine (this project's) must ship a native kernel that loads. */
  @Test
  void nativeKernelLoadsWhereTheJarHoldsItAndTheCpuHasAvx512() {
    boolean built = GemmTest.class.getResource(NativeGemm.RESOURCE) != null;
    Assumptions.assumeTrue(built && OpenBlasCore.CpuInfo.current().hasAvx512(), "no library or no AVX-512 here");
    assertTrue(NativeGemm.available(), NativeGemm.unavailableReason());
  }

  /**
   * The native kernel directly, on every block shape (m up to 8 + 4 + 2 + 1 and beyond), whole and partial panels
   * (n % 32 != 0), the hidden sizes of the tests (k = 1, 5 .. 12) and the benches' (256), with offsets and leading
   * dimensions: each element must be exactly the scalar chain of fused multiply-adds, and within float rounding of
   * a double-precision product; accumulating adds it to C with one add; nothing outside the block is written.
   */
  @Test
  void nativeKernelIsTheFmaChainAndMatchesADoubleProduct() {
    Assumptions.assumeTrue(NativeGemm.available(), "native kernel: " + NativeGemm.unavailableReason());
    Random random = new Random(2025);
    int[] ms = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 23, 40};
    int[] ns = {1, 5, 16, 17, 31, 32, 33, 64, 96, 127, 128, 129, 160, 255, 256, 300, 768, 1024};
    int[] ks = {1, 2, 5, 6, 8, 12, 31, 256};
    int checked = 0;
    for (int m : ms) {
      for (int n : ns) {
        for (int k : ks) {
          if ((long) m * n * k > 3_000_000 || random.nextInt(3) != 0 && !(m == 15 && k <= 12)) {
            continue; // a third of the grid, and every small k at the m that takes every block shape
          }
          Operands o = Operands.random(random, m, n, k);
          NativeGemm.multiply(m, o.a, o.aOff, o.lda, NativeGemm.pack(o.w, o.wOff, n, k), n, k, o.c, o.cOff, o.ldc,
              o.accumulate);
          o.checkEveryElement((i, j, at, where) -> {
            float chain = 0f;
            double exact = 0;
            for (int p = 0; p < k; p++) {
              chain = Math.fma(o.a(i, p), o.w(j, p), chain);
              exact += (double) o.a(i, p) * o.w(j, p);
            }
            assertEquals(o.accumulate ? o.before[at] + chain : chain, o.c[at], where);
            assertEquals(exact + (o.accumulate ? o.before[at] : 0), o.c[at], 1e-6 * (1 + Math.sqrt(k)), where);
          });
          checked++;
        }
      }
    }
    assertTrue(checked > 100, checked + " shapes");
  }

  /**
   * The experimental bf16 kernel ({@code -Dseqpack.gemm=native-bf16}): A and W rounded to bfloat16 (nearest, ties to
   * even), products summed in float32. Against a double product of the rounded operands it must agree to float32
   * rounding, on odd k (a half-filled last pair), partial panels, every block shape, offsets and strides.
   */
  @Test
  void nativeBf16KernelIsTheProductOfTheRoundedOperands() {
    Assumptions.assumeTrue(NativeGemm.bf16UnavailableReason() == null, "bf16: " + NativeGemm.bf16UnavailableReason());
    Random random = new Random(2026);
    int[][] shapes = {{1, 1, 1}, {15, 33, 5}, {15, 5, 12}, {3, 300, 7}, {9, 64, 31}, {16, 1024, 256}, {23, 768, 256},
        {2, 129, 33}, {40, 256, 256}};
    for (int[] shape : shapes) {
      int m = shape[0];
      int n = shape[1];
      int k = shape[2];
      Operands o = Operands.random(random, m, n, k);
      NativeGemm.multiplyBf16(m, o.a, o.aOff, o.lda, NativeGemm.packBf16(o.w, o.wOff, n, k), n, k, o.c, o.cOff, o.ldc,
          o.accumulate);
      o.checkEveryElement((i, j, at, where) -> {
        double rounded = 0;
        double exact = 0;
        double magnitude = 0;
        for (int p = 0; p < k; p++) {
          float av = o.a(i, p);
          float wv = o.w(j, p);
          rounded += (double) bf16(av) * bf16(wv);
          exact += (double) av * wv;
          magnitude += Math.abs((double) av * wv);
        }
        double base = o.accumulate ? o.before[at] : 0;
        assertEquals(base + rounded, o.c[at], 1e-6 * (1 + Math.sqrt(k)), where);
        // and two roundings to 8 significant bits away from the float32 product at most
        assertEquals(base + exact, o.c[at], 2 * 0x1p-8 * magnitude + 1e-6 * (1 + Math.sqrt(k)), where);
      });
    }
  }

  /** One element of a product's block: row i, column j, at {@code c[at]}, described for messages. */
  private interface ElementCheck {
    void check(int i, int j, int at, String where);
  }

  /**
   * Random operands of an {@code m × n × k} product at random offsets and strides, {@code C} with room past its
   * block; {@code before} is C before the product.
   */
  private record Operands(int m, int n, int k, boolean accumulate, int lda, int ldc, int aOff, int cOff, int wOff,
      float[] w, float[] a, float[] c, float[] before) {
    static Operands random(Random random, int m, int n, int k) {
      boolean accumulate = random.nextBoolean();
      int lda = k + random.nextInt(3);
      int ldc = n + random.nextInt(3);
      int aOff = random.nextInt(4);
      int cOff = random.nextInt(4);
      int wOff = random.nextInt(4);
      float[] w = randoms(random, wOff + n * k);
      float[] a = randoms(random, aOff + m * lda);
      float[] c = randoms(random, cOff + m * ldc + 3);
      return new Operands(m, n, k, accumulate, lda, ldc, aOff, cOff, wOff, w, a, c, c.clone());
    }

    float a(int i, int p) {
      return a[aOff + i * lda + p];
    }

    float w(int j, int p) {
      return w[wOff + j * k + p];
    }

    /** {@code check} on every element of the block; every float of C outside it must be untouched. */
    void checkEveryElement(ElementCheck check) {
      for (int at = 0; at < c.length; at++) {
        int i = (at - cOff) / ldc;
        int j = (at - cOff) % ldc;
        String where = "m=" + m + " n=" + n + " k=" + k + " accumulate=" + accumulate + " at " + i + "," + j;
        if (at < cOff || i >= m || j >= n) {
          assertEquals(before[at], c[at], "outside the block stays untouched: " + where);
        } else {
          check.check(i, j, at, where);
        }
      }
    }
  }

  /** A float rounded to bfloat16, nearest, ties to even, back as a float. */
  private static float bf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int rounded = (bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000;
    return Float.intBitsToFloat(rounded);
  }

  @Test
  void nativeKernelRejectsOperandsThatDoNotFit() {
    Assumptions.assumeTrue(NativeGemm.available(), "native kernel: " + NativeGemm.unavailableReason());
    float[] packed = NativeGemm.pack(new float[33 * 4], 0, 33, 4);
    assertThrows(IndexOutOfBoundsException.class,
        () -> NativeGemm.multiply(3, new float[11], 0, 4, packed, 33, 4, new float[99], 0, 33, false));
    assertThrows(IndexOutOfBoundsException.class,
        () -> NativeGemm.multiply(3, new float[12], 0, 4, packed, 33, 4, new float[98], 0, 33, false));
    assertThrows(IllegalArgumentException.class,
        () -> NativeGemm.multiply(3, new float[12], 0, 4, new float[64], 33, 4, new float[99], 0, 33, false));
  }

  @Test
  void gateKernelsFollowTheSimdSetting() {
    // the java-fallback-kernels execution of the pom runs the parity tests with -Dseqpack.simd=false
    boolean scalar = "false".equalsIgnoreCase(System.getProperty("seqpack.simd"));
    assertEquals(scalar, GateMath.backend().startsWith("scalar"), GateMath.backend());
    assertEquals(FastMath.FUSED, GateMath.backend().contains("fma"), GateMath.backend());
    assertEquals(!scalar, GateMath.SIMD);
  }

  /** The product against a naive double-precision triple loop, on random shapes, strides and offsets. */
  @Test
  void matchesNaiveTripleLoopOnRandomShapes() {
    matchesNaiveTripleLoop(Gemm::prepare);
  }

  /** The same for the time loop's weights ({@link Gemm#prepareRecurrent}: the native or Vector API panels where available). */
  @Test
  void recurrentWeightsMatchNaiveTripleLoopOnRandomShapes() {
    matchesNaiveTripleLoop(Gemm::prepareRecurrent);
  }

  private interface Preparation {
    Gemm.Weights prepare(float[] w, int wOff, int n, int k);
  }

  private static void matchesNaiveTripleLoop(Preparation preparation) {
    Random random = new Random(2024);
    int[][] shapes = { // m, n, k
        {1, 1, 1}, {1, 256, 256}, {1, 7, 13}, {2, 1024, 256}, {3, 5, 1}, {4, 768, 100}, {5, 33, 257},
        {16, 256, 256}, {17, 1, 9}, {63, 129, 65}, {256, 256, 256}, {300, 3, 511}};
    for (int[] shape : shapes) {
      for (boolean accumulate : new boolean[] {false, true}) {
        int m = shape[0];
        int n = shape[1];
        int k = shape[2];
        int lda = k + random.nextInt(3); // sometimes a column block of a wider matrix
        int ldc = n + random.nextInt(3);
        int aOff = random.nextInt(4);
        int cOff = random.nextInt(4);
        int wOff = random.nextInt(4);
        float[] w = randoms(random, wOff + n * k);
        float[] a = randoms(random, aOff + m * lda);
        float[] c = randoms(random, cOff + m * ldc + 2);
        float[] before = c.clone();
        Gemm.multiply(m, a, aOff, lda, preparation.prepare(w, wOff, n, k), c, cOff, ldc, accumulate);
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < ldc; j++) {
            int at = cOff + i * ldc + j;
            if (j >= n) {
              assertEquals(before[at], c[at], "outside the block stays untouched");
              continue;
            }
            double expected = accumulate ? before[at] : 0;
            for (int p = 0; p < k; p++) {
              expected += (double) a[aOff + i * lda + p] * w[wOff + j * k + p];
            }
            assertEquals(expected, c[at], 1e-6 * (1 + Math.sqrt(k)),
                "m=" + m + " n=" + n + " k=" + k + " accumulate=" + accumulate + " at " + i + "," + j);
          }
        }
        for (int at = 0; at < cOff; at++) {
          assertEquals(before[at], c[at], "before the block stays untouched");
        }
      }
    }
  }

  /**
   * Each output row depends only on its own input row. Not bit for bit: OpenBLAS's kernels for the last partial
   * block of rows accumulate in a different order, so a row's result moves by a few ulps of its magnitude with m
   * (measured up to ~2e-7 of sum |a·w| at k = 256). The engine-level bound (scores within 1e-6 whatever the batch)
   * is BatchIndependenceTest's.
   */
  @Test
  void rowResultDoesNotDependOnBatchSize() {
    Random random = new Random(3);
    int n = 1024;
    int k = 256;
    Gemm.Weights weights = Gemm.prepare(randoms(random, n * k), 0, n, k);
    float[] a = randoms(random, 256 * k);
    float[] all = new float[256 * n];
    Gemm.multiply(256, a, 0, k, weights, all, 0, n, false);
    float[] w = new float[n * k];
    random = new Random(3);
    System.arraycopy(randoms(random, n * k), 0, w, 0, n * k); // the same weights again, for the bound
    for (int m : new int[] {1, 2, 3, 4, 7, 16, 31, 64, 255}) {
      float[] part = new float[m * n];
      Gemm.multiply(m, a, 0, k, weights, part, 0, n, false);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double scale = 0;
          for (int p = 0; p < k; p++) {
            scale += Math.abs(a[i * k + p] * w[j * k + p]);
          }
          assertEquals(all[i * n + j], part[i * n + j], 1e-6 * scale, "m=" + m + " row " + i + " column " + j);
        }
      }
    }
  }

  /**
   * On the native kernel and the Vector API panels every output element is one fixed chain of fused multiply-adds,
   * whatever the block its row falls in: a row's product is bit for bit the same at every batch size.
   */
  @Test
  void recurrentRowResultIsExactlyTheSameAtEveryBatchSize() {
    Assumptions.assumeTrue(Set.of("native", "vector-api").contains(Gemm.recurrentBackend()),
        "recurrent products on " + Gemm.recurrentBackend());
    Random random = new Random(5);
    int n = 768 + 5; // a partial last panel too
    int k = 256;
    Gemm.Weights weights = Gemm.prepareRecurrent(randoms(random, n * k), 0, n, k);
    float[] a = randoms(random, 40 * k);
    float[] all = new float[40 * n];
    Gemm.multiply(40, a, 0, k, weights, all, 0, n, false);
    for (int m = 1; m < 40; m++) {
      float[] part = new float[m * n];
      Gemm.multiply(m, a, (40 - m) * k, k, weights, part, 0, n, false); // the last m rows, in other blocks
      assertArrayEquals(Arrays.copyOfRange(all, (40 - m) * n, 40 * n), part, "m=" + m);
    }
  }

  private static float[] randoms(Random random, int size) {
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      v[i] = random.nextFloat() * 2 - 1;
    }
    return v;
  }
}
