package io.seqpack.bench;

import io.seqpack.nn.Gemm;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Measures the time loop's product {@code [m × k] · [n × k]ᵀ} in GFLOP/s: the kernel the engine runs it on (its own
 * Vector API kernel on weights from {@link Gemm#prepareRecurrent}, or the bare {@code cblas_sgemm} call, row-major,
 * {@code CblasTrans} on a PyTorch-layout weight, all operands off-heap) and {@link Gemm#multiply} on heap arrays
 * (the kernel plus the engine's copies, if any). Best of several timed batches (thread CPU time) after warm-up, one
 * thread.
 */
final class GemmProbe {
  private GemmProbe() {}

  /**
   * {@code {kernel GFLOP/s, Gemm.multiply GFLOP/s}} of the recurrent product; the kernel figure is Gemm's unless the
   * recurrent products run on OpenBLAS.
   */
  static double[] measure(int m, int n, int k) {
    SplittableRandom random = new SplittableRandom(m * 31L + n);
    float[] a = new float[m * k];
    float[] w = new float[n * k];
    float[] c = new float[m * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) random.nextDouble(-1, 1);
    }
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextDouble(-0.1, 0.1);
    }
    double flops = 2.0 * m * n * k;
    Gemm.Weights weights = Gemm.prepareRecurrent(w, 0, n, k);
    double viaGemm = flops / best(() -> Gemm.multiply(m, a, 0, k, weights, c, 0, n, false), flops) / 1e9;
    if (!"openblas".equals(Gemm.recurrentBackend())) {
      return new double[] {viaGemm, viaGemm};
    }
    try (FloatPointer pa = new FloatPointer(a); FloatPointer pw = new FloatPointer(w);
        FloatPointer pc = new FloatPointer(c.length)) {
      double kernel = flops / best(() -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
          openblas_nolapack.CblasNoTrans, openblas_nolapack.CblasTrans, m, n, k, 1f, pa, k, pw, k, 0f, pc, n),
          flops) / 1e9;
      return new double[] {kernel, viaGemm};
    }
  }

  /** Best seconds per call over 7 timed batches of calls, each batch about 10 ms, after a warm-up. */
  private static double best(Runnable call, double flops) {
    long c0 = System.nanoTime();
    call.run();
    call.run();
    double once = Math.max(1e-7, (System.nanoTime() - c0) / 2e9);
    int reps = (int) Math.max(1, Math.min(100_000, 0.01 / once)); // batches of ~10 ms
    for (int i = 0; i < reps * 2; i++) {
      call.run();
    }
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    double best = Double.MAX_VALUE;
    for (int b = 0; b < 7; b++) {
      long t0 = mx.getCurrentThreadCpuTime(); // CPU time: robust to other load on the machine
      for (int i = 0; i < reps; i++) {
        call.run();
      }
      best = Math.min(best, (mx.getCurrentThreadCpuTime() - t0) / 1e9 / reps);
    }
    return best;
  }
}
