package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The fused gate kernels give exactly the bits of the plain scalar formulas ({@link FastMath}'s scalar tanh and
 * sigmoid, PyTorch's grouping of sums), for every length (vector body plus scalar tail) and for values beyond the
 * clamp, infinities and NaN. With the Vector API on (as in this test JVM), so the golden tests cover both.
 */
class GateMathTest {
  private static final int[] LENGTHS = {1, 3, 15, 16, 17, 20, 33, 64, 100, 256, 257};

  @Test
  void vectorApiKernelsAreInUseInTheTestJvm() {
    // surefire passes --add-modules=jdk.incubator.vector (pom spark.jvm.opens), as Spark does for executors
    assertTrue(GateMath.SIMD, "gate math backend: " + GateMath.backend());
    assertTrue(GateMath.backend().startsWith("vector-api"), GateMath.backend());
  }

  /** Offsets that are not multiples of the vector length, values over a wide range plus special values. */
  private static float[] values(SplittableRandom random, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * 4);
    }
    float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 9f, -9f, 30f, -1e30f, 0f, -0f};
    for (int i = 0; i < special.length && i * 7 < n; i++) {
      v[i * 7] = special[i];
    }
    return v;
  }

  @Test
  void tanhAndSigmoidOfSumEqualTheScalarFormula() {
    SplittableRandom random = new SplittableRandom(1);
    for (int len : LENGTHS) {
      float[] pre = values(random, len + 5);
      float[] gates = values(random, len + 3);
      float[] bias = values(random, len + 2);
      float[] t = new float[len + 4];
      float[] s = new float[len + 4];
      GateMath.tanhOfSum(pre, 5, gates, 3, bias, 2, t, 4, len);
      GateMath.sigmoidOfSum(pre, 5, gates, 3, bias, 2, s, 4, len);
      for (int j = 0; j < len; j++) {
        float sum = pre[5 + j] + (gates[3 + j] + bias[2 + j]);
        assertEquals(FastMath.tanh(sum), t[4 + j], 0f, "tanh len " + len + " j " + j + " of " + sum);
        assertEquals(FastMath.sigmoid(sum), s[4 + j], 0f, "sigmoid len " + len + " j " + j + " of " + sum);
      }
    }
  }

  @Test
  void lstmStateEqualsTheScalarFormula() {
    SplittableRandom random = new SplittableRandom(2);
    for (int len : LENGTHS) {
      float[] a = values(random, 4 * len + 1); // i, f, g, o blocks starting at 1
      float[] c = values(random, len + 3);
      float[] c0 = c.clone();
      float[] h = new float[len + 2];
      GateMath.lstmState(a, 1, 1 + len, 1 + 2 * len, 1 + 3 * len, c, 3, h, 2, len);
      for (int j = 0; j < len; j++) {
        float cNew = a[1 + len + j] * c0[3 + j] + a[1 + j] * a[1 + 2 * len + j];
        assertEquals(cNew, c[3 + j], 0f, "c' len " + len + " j " + j);
        assertEquals(FastMath.tanh(cNew) * a[1 + 3 * len + j], h[2 + j], 0f, "h' len " + len + " j " + j);
      }
    }
  }

  @Test
  void gruStateEqualsTheScalarFormulaWithAndWithoutPreviousState() {
    SplittableRandom random = new SplittableRandom(3);
    for (int len : LENGTHS) {
      for (boolean fresh : new boolean[] {false, true}) {
        float[] pre = values(random, len + 1);
        float[] a = values(random, 3 * len); // r, z, n
        float[] b = values(random, len + 6);
        float[] h = values(random, 2 * len + 8); // previous row at 1, new row at len + 5
        float[] prev = h.clone();
        GateMath.gruState(pre, 1, a, 0, len, 2 * len, b, 6, h, 1, fresh, h, len + 5, len);
        for (int j = 0; j < len; j++) {
          float cand = FastMath.tanh(pre[1 + j] + a[j] * (a[2 * len + j] + b[6 + j]));
          float p = fresh ? 0f : prev[1 + j];
          assertEquals((p - cand) * a[len + j] + cand, h[len + 5 + j], 0f,
              "h' len " + len + " j " + j + " fresh " + fresh);
        }
      }
    }
  }
}
