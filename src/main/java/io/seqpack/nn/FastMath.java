package io.seqpack.nn;

/**
 * Elementwise nonlinearities over {@code float[]} ranges, written as plain branch-free loops that C2
 * auto-vectorizes.
 *
 * <p>{@code tanh} is the clamped rational approximation Eigen and XLA use for float32 ({@code
 * generic_fast_tanh_float}): the input is clamped to [-9, 9], where tanh is ±1 in float32, and tanh(x) ≈ x·p(x²)
 * / q(x²) with a degree-6 numerator and degree-3 denominator in x². Its absolute error against {@link Math#tanh}
 * stays below 1e-6 (see {@code FastMathTest}); it costs about 1 ns per element instead of 50 for {@code
 * Math.tanh}. {@code sigmoid(x) = 0.5·tanh(0.5·x) + 0.5}, so one kernel serves every gate.
 *
 * <p>On a CPU with FMA ({@link #FUSED}) the polynomials run as fused multiply-adds, here and in {@link
 * SimdGateMath} alike, so both paths keep giving the same bits: half the polynomials' instructions, and LSTM scoring
 * 13–17% faster (A/B on an AMD EPYC Zen 4, {@code docs/performance.md}). Without FMA, {@link Math#fma} is a slow software
 * routine, so the polynomials keep separate multiplies and adds.
 */
public final class FastMath {
  private FastMath() {}

  /** Whether the polynomials use fused multiply-adds: the CPU has FMA (see the class comment). */
  static final boolean FUSED = OpenBlasCore.CpuInfo.current().hasFma();

  static final float CLAMP = 9f;
  // numerator (odd polynomial, coefficients of x^1..x^13)
  static final float A1 = 4.89352455891786e-03f;
  static final float A3 = 6.37261928875436e-04f;
  static final float A5 = 1.48572235717979e-05f;
  static final float A7 = 5.12229709037114e-08f;
  static final float A9 = -8.60467152213735e-11f;
  static final float A11 = 2.00018790482477e-13f;
  static final float A13 = -2.76076847742355e-16f;
  // denominator (even polynomial, coefficients of x^0..x^6)
  static final float B0 = 4.89352518554385e-03f;
  static final float B2 = 2.26843463243900e-03f;
  static final float B4 = 1.18534705686654e-04f;
  static final float B6 = 1.19825839466702e-06f;

  /** Approximate tanh of one float (the same arithmetic as the array form). */
  public static float tanh(float v) {
    return ofClamped(Math.max(-CLAMP, Math.min(CLAMP, v)));
  }

  /** {@code x·p(x²) / q(x²)} for x already clamped to [-9, 9]: the one scalar form of the approximation. */
  private static float ofClamped(float x) {
    float x2 = x * x;
    float p;
    float q;
    if (FUSED) {
      p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(A13, x2, A11), x2, A9), x2, A7), x2, A5), x2, A3),
          x2, A1) * x;
      q = Math.fma(Math.fma(Math.fma(B6, x2, B4), x2, B2), x2, B0);
    } else {
      p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x;
      q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0;
    }
    return p / q;
  }

  /** Approximate sigmoid of one float, {@code 0.5·tanh(0.5·x) + 0.5} (the same arithmetic as the array form). */
  public static float sigmoid(float v) {
    return 0.5f * tanh(0.5f * v) + 0.5f;
  }

  /** {@code a[off .. off+len) = tanh(a[off .. off+len))} in place. */
  public static void tanh(float[] a, int off, int len) {
    for (int i = off, end = off + len; i < end; i++) {
      a[i] = ofClamped(Math.max(-CLAMP, Math.min(CLAMP, a[i])));
    }
  }

  /** {@code a[off .. off+len) = sigmoid(a[..])} in place, as {@code 0.5·tanh(0.5·x) + 0.5}. */
  public static void sigmoid(float[] a, int off, int len) {
    for (int i = off, end = off + len; i < end; i++) {
      a[i] = 0.5f * ofClamped(Math.max(-CLAMP, Math.min(CLAMP, 0.5f * a[i]))) + 0.5f;
    }
  }

  /** {@code a[off .. off+len) = max(a, 0)} in place (PyTorch's relu; NaN stays NaN). */
  public static void relu(float[] a, int off, int len) {
    for (int i = off, end = off + len; i < end; i++) {
      float x = a[i];
      a[i] = x < 0f ? 0f : x;
    }
  }

  /**
   * The error function in double precision (about 1e-15 absolute), for GELU's exact form {@code 0.5·x·(1 +
   * erf(x/√2))}; Java has none. Its Maclaurin series for |x| &lt; 2.5 (terms peak near 10, so little is lost to
   * cancellation), the continued fraction of erfc beyond, and ±1 past 6 where erfc underflows double's precision.
   */
  public static double erf(double x) {
    double a = Math.abs(x);
    if (Double.isNaN(x)) {
      return x;
    }
    if (a >= 6) {
      return Math.signum(x);
    }
    if (a < 2.5) {
      double term = x;
      double sum = x;
      double x2 = x * x;
      for (int n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
        term *= -x2 / n;
        sum += term / (2 * n + 1);
      }
      return 2 / Math.sqrt(Math.PI) * sum;
    }
    // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated from its tail
    double f = a;
    for (int n = 80; n >= 1; n--) {
      f = a + (n / 2.0) / f;
    }
    double erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
    return Math.signum(x) * (1 - erfc);
  }
}
