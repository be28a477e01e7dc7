package io.seqpack.nn;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The recurrent step's product {@code [m × k] · [n × k]ᵀ} in GFLOP/s on every kernel seqpack can run it on: the
 * bare {@code cblas_sgemm} (off-heap operands), {@link Gemm#multiply} through OpenBLAS (with its copies), and
 * {@link PanelGemm} and {@link NativeGemm} (when it loads here; its bf16 kernel too where the CPU has AVX512_BF16)
 * on heap arrays. Each shape's kernels are timed in alternation, {@code rounds} times; prints
 * the best and the spread (worst / best) of each. In package {@code io.seqpack.nn} to reach the kernels directly.
 *
 * <pre>{@code java ... io.seqpack.nn.KernelProbe [rounds] [m,m,...] [n,n,...]}</pre>
 */
public final class KernelProbe {
  private KernelProbe() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int[] ms = ints(args.length > 1 ? args[1] : "1,2,4,8,16,32,64,128,256");
    int[] ns = ints(args.length > 2 ? args[2] : "256,768,1024");
    int k = 256;
    System.out.println("cpu: " + OpenBlasCore.CpuInfo.current().describe() + "; gemm " + Gemm.describe()
        + "; OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE"));
    boolean nativeRuns = NativeGemm.available();
    boolean bf16Runs = nativeRuns && NativeGemm.bf16UnavailableReason() == null;
    System.out.println("    n    m   sgemm (spread)  Gemm (spread)   " + PanelGemm.describe() + " (spread)   "
        + (nativeRuns ? NativeGemm.describe() : "native: " + NativeGemm.unavailableReason())
        + " (spread)   " + (bf16Runs ? NativeGemm.describeBf16() + " (spread)   " : "")
        + "GFLOP/s best of rounds (worst/best)");
    for (int n : ns) {
      for (int m : ms) {
        SplittableRandom random = new SplittableRandom(m * 31L + n);
        float[] a = fill(new float[m * k], random, 1);
        float[] w = fill(new float[n * k], random, 0.1);
        float[] c = new float[m * n];
        float[] packed = PanelGemm.pack(w, 0, n, k);
        float[] nativePacked = NativeGemm.pack(w, 0, n, k);
        short[] bf16Packed = bf16Runs ? NativeGemm.packBf16(w, 0, n, k) : null;
        Gemm.Weights weights = Gemm.prepare(w, 0, n, k);
        double flops = 2.0 * m * n * k;
        double[][] rates = new double[bf16Runs ? 5 : nativeRuns ? 4 : 3][rounds];
        try (FloatPointer pa = new FloatPointer(a); FloatPointer pw = new FloatPointer(w);
            FloatPointer pc = new FloatPointer(c.length)) {
          Runnable[] kernels = {
              () -> openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                  openblas_nolapack.CblasTrans, m, n, k, 1f, pa, k, pw, k, 0f, pc, n),
              () -> Gemm.multiply(m, a, 0, k, weights, c, 0, n, false),
              () -> PanelGemm.multiply(m, a, 0, k, packed, n, k, c, 0, n, false),
              () -> NativeGemm.multiply(m, a, 0, k, nativePacked, n, k, c, 0, n, false),
              () -> NativeGemm.multiplyBf16(m, a, 0, k, bf16Packed, n, k, c, 0, n, false)};
          kernels = java.util.Arrays.copyOf(kernels, rates.length);
          if (n == ns[0]) { // JIT warm-up of every kernel before the first timing
            for (Runnable kernel : kernels) {
              long t0 = System.nanoTime();
              while (System.nanoTime() - t0 < 300_000_000L) {
                kernel.run();
              }
            }
          }
          for (int r = 0; r < rounds; r++) {
            for (int q = 0; q < kernels.length; q++) {
              rates[q][r] = flops / seconds(kernels[q]) / 1e9;
            }
          }
        }
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%5d %4d", n, m));
        for (double[] r : rates) {
          line.append(String.format(Locale.ROOT, "  %6.1f (%4.2f)", best(r), spread(r)));
        }
        System.out.println(line);
      }
    }
  }

  private static float[] fill(float[] v, SplittableRandom random, double bound) {
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) random.nextDouble(-bound, bound);
    }
    return v;
  }

  private static int[] ints(String csv) {
    return java.util.Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  private static double best(double[] v) {
    return java.util.Arrays.stream(v).max().orElse(0);
  }

  private static double spread(double[] v) {
    return best(v) / java.util.Arrays.stream(v).min().orElse(1);
  }

  /** Best thread-CPU seconds per call over 5 batches of about 20 ms, after a warm-up of about 0.2 s. */
  private static double seconds(Runnable call) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long w0 = System.nanoTime();
    int warm = 0;
    while (System.nanoTime() - w0 < 200_000_000L) {
      call.run();
      warm++;
    }
    int reps = Math.max(1, warm / 10);
    double best = Double.MAX_VALUE;
    for (int b = 0; b < 5; b++) {
      long t0 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < reps; i++) {
        call.run();
      }
      best = Math.min(best, (mx.getCurrentThreadCpuTime() - t0) / 1e9 / reps);
    }
    return best;
  }
}
