package io.seqpack.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GateMath}'s kernels on the Vector API, lane for lane the same operations as the scalar loops. Each
 * method handles the leading multiple of the vector length and returns how many elements it did; the caller
 * finishes the tail with the scalar loop. Only loaded when {@code jdk.incubator.vector} is in the boot layer.
 */
final class SimdGateMath {
  private SimdGateMath() {}

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  static String describe() {
    return "vector-api (" + S.length() + " floats" + (FastMath.FUSED ? ", fma" : "") + ")";
  }

  /** One vector's worth through every kernel, compared with the scalar formulas. */
  static boolean selfTest() {
    int n = S.length();
    float[] x = new float[n];
    float[] y = new float[n];
    float[] z = new float[n];
    for (int j = 0; j < n; j++) {
      x[j] = 0.25f * j - 1f;
      y[j] = 0.5f;
    }
    tanhOfSum(x, 0, y, 0, y, 0, z, 0, n);
    for (int j = 0; j < n; j++) {
      if (z[j] != FastMath.tanh(x[j] + (y[j] + y[j]))) {
        throw new IllegalStateException("Vector API tanh differs from the scalar one at lane " + j);
      }
    }
    return true;
  }

  private static FloatVector tanh(FloatVector v) {
    FloatVector x = v.min(FastMath.CLAMP).max(-FastMath.CLAMP);
    FloatVector x2 = x.mul(x);
    FloatVector p;
    FloatVector q;
    if (FastMath.FUSED) { // the same operations as FastMath's scalar form, lane for lane
      p = x2.fma(FastMath.A13, FastMath.A11).fma(x2, FloatVector.broadcast(S, FastMath.A9))
          .fma(x2, FloatVector.broadcast(S, FastMath.A7)).fma(x2, FloatVector.broadcast(S, FastMath.A5))
          .fma(x2, FloatVector.broadcast(S, FastMath.A3)).fma(x2, FloatVector.broadcast(S, FastMath.A1)).mul(x);
      q = x2.fma(FastMath.B6, FastMath.B4).fma(x2, FloatVector.broadcast(S, FastMath.B2))
          .fma(x2, FloatVector.broadcast(S, FastMath.B0));
    } else {
      p = x2.mul(FastMath.A13).add(FastMath.A11).mul(x2).add(FastMath.A9).mul(x2).add(FastMath.A7)
          .mul(x2).add(FastMath.A5).mul(x2).add(FastMath.A3).mul(x2).add(FastMath.A1).mul(x);
      q = x2.mul(FastMath.B6).add(FastMath.B4).mul(x2).add(FastMath.B2).mul(x2).add(FastMath.B0);
    }
    return p.div(q);
  }

  private static FloatVector sigmoid(FloatVector v) {
    return tanh(v.mul(0.5f)).mul(0.5f).add(0.5f);
  }

  private static FloatVector sum(float[] pre, int p, float[] gates, int g, float[] b, int bo) {
    return FloatVector.fromArray(S, pre, p).add(FloatVector.fromArray(S, gates, g).add(FloatVector.fromArray(S, b, bo)));
  }

  static int tanhOfSum(float[] pre, int p, float[] gates, int g, float[] b, int bo, float[] dst, int d, int len) {
    int bound = S.loopBound(len);
    for (int j = 0; j < bound; j += S.length()) {
      tanh(sum(pre, p + j, gates, g + j, b, bo + j)).intoArray(dst, d + j);
    }
    return bound;
  }

  static int sigmoidOfSum(float[] pre, int p, float[] gates, int g, float[] b, int bo, float[] dst, int d, int len) {
    int bound = S.loopBound(len);
    for (int j = 0; j < bound; j += S.length()) {
      sigmoid(sum(pre, p + j, gates, g + j, b, bo + j)).intoArray(dst, d + j);
    }
    return bound;
  }

  static int lstmState(float[] a, int i, int f, int g, int o, float[] c, int cr, float[] h, int d, int len) {
    int bound = S.loopBound(len);
    for (int j = 0; j < bound; j += S.length()) {
      FloatVector cNew = FloatVector.fromArray(S, a, f + j).mul(FloatVector.fromArray(S, c, cr + j))
          .add(FloatVector.fromArray(S, a, i + j).mul(FloatVector.fromArray(S, a, g + j)));
      cNew.intoArray(c, cr + j);
      tanh(cNew).mul(FloatVector.fromArray(S, a, o + j)).intoArray(h, d + j);
    }
    return bound;
  }

  static int gruState(float[] pre, int pn, float[] a, int r, int z, int n, float[] b, int bn, float[] hp, int po,
      boolean fresh, float[] h, int d, int len) {
    int bound = S.loopBound(len);
    FloatVector zero = FloatVector.zero(S);
    for (int j = 0; j < bound; j += S.length()) {
      FloatVector cand = tanh(FloatVector.fromArray(S, pre, pn + j).add(FloatVector.fromArray(S, a, r + j)
          .mul(FloatVector.fromArray(S, a, n + j).add(FloatVector.fromArray(S, b, bn + j)))));
      FloatVector prev = fresh ? zero : FloatVector.fromArray(S, hp, po + j);
      prev.sub(cand).mul(FloatVector.fromArray(S, a, z + j)).add(cand).intoArray(h, d + j);
    }
    return bound;
  }

  /** {@code dst[d+j] += src[s+j]} for the whole vectors of [0, len); returns how many were done. */
  static int addTo(float[] dst, int d, float[] src, int s, int len) {
    int bound = S.loopBound(len);
    for (int j = 0; j < bound; j += S.length()) {
      FloatVector.fromArray(S, dst, d + j).add(FloatVector.fromArray(S, src, s + j)).intoArray(dst, d + j);
    }
    return bound;
  }
}
