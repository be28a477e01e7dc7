package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FastMathTest {

  /** Dense grid over [-12, 12] (beyond the ±9 clamp on both sides) in steps of 1e-4: 240k points. */
  private static float[] grid() {
    int n = 240_001;
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = -12f + i * 1e-4f;
    }
    return x;
  }

  @Test
  void tanhIsWithin1e6OfMathTanh() {
    float[] x = grid();
    float[] y = x.clone();
    FastMath.tanh(y, 0, y.length);
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      worst = Math.max(worst, Math.abs(y[i] - Math.tanh(x[i])));
      assertEquals(FastMath.tanh(x[i]), y[i], 0f, "scalar and array forms agree");
    }
    assertTrue(worst < 1e-6, "max abs error " + worst);
  }

  @Test
  void sigmoidIsWithin1e6OfExactSigmoid() {
    float[] x = grid();
    float[] y = x.clone();
    FastMath.sigmoid(y, 0, y.length);
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      worst = Math.max(worst, Math.abs(y[i] - 1 / (1 + Math.exp(-x[i]))));
    }
    assertTrue(worst < 1e-6, "max abs error " + worst);
  }

  @Test
  void tanhIsOddAndSaturates() {
    assertEquals(0f, FastMath.tanh(0f), 0f);
    assertEquals(-FastMath.tanh(0.37f), FastMath.tanh(-0.37f), 0f);
    assertEquals(1f, FastMath.tanh(1e30f), 1e-6f);
    assertEquals(-1f, FastMath.tanh(Float.NEGATIVE_INFINITY), 1e-6f);
    assertTrue(Float.isNaN(FastMath.tanh(Float.NaN)));
  }

  @Test
  void reluOnlyTouchesItsRange() {
    float[] a = {-1f, -2f, 3f, -4f};
    FastMath.relu(a, 1, 2);
    assertEquals(-1f, a[0]);
    assertEquals(0f, a[1]);
    assertEquals(3f, a[2]);
    assertEquals(-4f, a[3]);
  }
}
