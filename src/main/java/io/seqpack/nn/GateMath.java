package io.seqpack.nn;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fused per-row gate kernels of the cells: each reads its operands once and writes its result once, so a
 * time step costs one pass over the gates instead of a sum pass plus in-place nonlinearity passes.
 *
 * <p>Two implementations with the same arithmetic, operation for operation (adds and multiplies unfused, the
 * same grouping, {@link FastMath}'s tanh, fused multiply-adds in its polynomials on both or on neither), so they
 * give identical bits:
 * <ul>
 *   <li>{@link SimdGateMath}: the JDK's Vector API ({@code jdk.incubator.vector}), used when the JVM was started
 *       with {@code --add-modules=jdk.incubator.vector} (Spark 4 adds it to every driver and executor; {@code
 *       scripts/seqpack} and the tests do too). C2 does not vectorize a nonlinearity applied to a sum of several
 *       arrays, so without it scoring runs 10–35% slower (see {@code docs/performance.md}).
 *   <li>scalar loops: the fallback, or forced with {@code -Dseqpack.simd=false}.
 * </ul>
 * Sums keep PyTorch's grouping {@code (x·W_ihᵀ + b_ih) + (h·W_hhᵀ + b_hh)}; biases are never folded.
 */
final class GateMath {
  private GateMath() {}

  private static final Logger LOG = Logger.getLogger(GateMath.class.getName());

  /** Whether the Vector API kernels are in use. */
  static final boolean SIMD = loadSimd();

  private static boolean loadSimd() {
    if (!Boolean.parseBoolean(System.getProperty("seqpack.simd", "true"))) {
      return false;
    }
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      LOG.log(Level.INFO, "jdk.incubator.vector is not enabled (--add-modules=jdk.incubator.vector); gate math "
          + "runs as scalar loops");
      return false;
    }
    try {
      return SimdGateMath.selfTest();
    } catch (Throwable t) { // NoClassDefFoundError, a JVM without the intrinsics, ...
      LOG.log(Level.WARNING, "Vector API gate kernels unavailable; using scalar loops (" + t + ")");
      return false;
    }
  }

  /** {@code "vector-api (N floats[, fma])"} or {@code "scalar[ (fma)]"}: how the gate math runs. */
  static String backend() {
    return SIMD ? SimdGateMath.describe() : FastMath.FUSED ? "scalar (fma)" : "scalar";
  }

  /** How many rows ahead a cell touches the next rows' input projection ({@link #touch}). */
  static final int TOUCH_AHEAD = 2;

  /**
   * Reads one float per 64-byte cache line of {@code a[off .. off+len)} and returns their sum: issued a couple of
   * rows ahead, the cache misses of a vocabulary-table row (random rows of a table larger than the cache) overlap
   * with the work on the current row instead of stalling it. Callers feed the result to {@link #keep}.
   */
  static float touch(float[] a, int off, int len) {
    float sum = 0f;
    for (int j = 0; j < len; j += 16) {
      sum += a[off + j];
    }
    return sum;
  }

  /** Makes the JIT keep the loads of {@link #touch}: the comparison is never true for a sum of table entries. */
  static void keep(float touched, Workspace ws) {
    if (touched == Float.MIN_VALUE) {
      ws.touched++;
    }
  }

  /** {@code dst[d+j] = pre[p+j] + (gates[g+j] + b[bo+j])} for j in [0, len): the scalar sum every kernel uses. */
  static void sum(float[] pre, int p, float[] gates, int g, float[] b, int bo, float[] dst, int d, int len) {
    for (int j = 0; j < len; j++) {
      dst[d + j] = pre[p + j] + (gates[g + j] + b[bo + j]);
    }
  }

  /** {@code dst[d+j] += src[s+j]} for j in [0, len): summing the token inputs' vocabulary-table rows. */
  static void addTo(float[] dst, int d, float[] src, int s, int len) {
    int done = SIMD ? SimdGateMath.addTo(dst, d, src, s, len) : 0;
    for (int j = done; j < len; j++) {
      dst[d + j] += src[s + j];
    }
  }

  /** {@code dst[d+j] = tanh(pre[p+j] + (gates[g+j] + b[bo+j]))} for j in [0, len). */
  static void tanhOfSum(float[] pre, int p, float[] gates, int g, float[] b, int bo, float[] dst, int d, int len) {
    int done = SIMD ? SimdGateMath.tanhOfSum(pre, p, gates, g, b, bo, dst, d, len) : 0;
    sum(pre, p + done, gates, g + done, b, bo + done, dst, d + done, len - done);
    FastMath.tanh(dst, d + done, len - done);
  }

  /** {@code dst[d+j] = sigmoid(pre[p+j] + (gates[g+j] + b[bo+j]))} for j in [0, len). */
  static void sigmoidOfSum(float[] pre, int p, float[] gates, int g, float[] b, int bo, float[] dst, int d, int len) {
    int done = SIMD ? SimdGateMath.sigmoidOfSum(pre, p, gates, g, b, bo, dst, d, len) : 0;
    sum(pre, p + done, gates, g + done, b, bo + done, dst, d + done, len - done);
    FastMath.sigmoid(dst, d + done, len - done);
  }

  /**
   * LSTM state update from activated gates {@code a[i..], a[f..], a[g..], a[o..]}: {@code c' = f⊙c + i⊙g} in place
   * in {@code c[cr..]}, and {@code h[d..] = o ⊙ tanh(c')}.
   */
  static void lstmState(float[] a, int i, int f, int g, int o, float[] c, int cr, float[] h, int d, int len) {
    int done = SIMD ? SimdGateMath.lstmState(a, i, f, g, o, c, cr, h, d, len) : 0;
    for (int j = done; j < len; j++) {
      c[cr + j] = a[f + j] * c[cr + j] + a[i + j] * a[g + j];
      h[d + j] = FastMath.tanh(c[cr + j]) * a[o + j];
    }
  }

  /**
   * GRU candidate and state: {@code n = tanh(pre[pn..] + r ⊙ (gates[n..] + b[bn..]))}, then {@code h[d..] = (prev −
   * n) ⊙ z + n} with {@code prev} = {@code hp[po..]} (the previous step's row, or a trainable initial state) or
   * zero when {@code fresh}.
   */
  static void gruState(float[] pre, int pn, float[] a, int r, int z, int n, float[] b, int bn, float[] hp, int po,
      boolean fresh, float[] h, int d, int len) {
    int done = SIMD ? SimdGateMath.gruState(pre, pn, a, r, z, n, b, bn, hp, po, fresh, h, d, len) : 0;
    for (int j = done; j < len; j++) {
      float cand = FastMath.tanh(pre[pn + j] + a[r + j] * (a[n + j] + b[bn + j]));
      float prev = fresh ? 0f : hp[po + j];
      h[d + j] = (prev - cand) * a[z + j] + cand;
    }
  }
}
