package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
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
}
