import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The fixed cost a JNI route to a native (e.g. bf16) kernel would add to every time step: one static native call
 * that pins the state h and the gate buffer with GetPrimitiveArrayCritical and releases them, doing no work
 * (jni_call_probe.c). Thread-CPU ns per call, best of 7 batches, after a warm-up; docs/performance.md, "bf16".
 *
 * <pre>
 * gcc -O2 -shared -fPIC -I$JAVA_HOME/include -I$JAVA_HOME/include/linux -o /tmp/libjniprobe.so src/bench/c/jni_call_probe.c
 * java -Djava.library.path=/tmp src/bench/c/JniCallProbe.java
 * </pre>
 */
public final class JniCallProbe {
  static native float pin(float[] h, float[] gates); // pins both, reads h[0], writes gates[0]
  static native void empty();

  public static void main(String[] args) {
    System.loadLibrary("jniprobe");
    float[] h = new float[256 * 256];
    float[] g = new float[256 * 1024];
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (int round = 0; round < 3; round++) {
      for (int which = 0; which < 2; which++) {
        double best = Double.MAX_VALUE;
        for (int b = 0; b < 7; b++) {
          int reps = 2_000_000;
          long t0 = mx.getCurrentThreadCpuTime();
          for (int i = 0; i < reps; i++) {
            if (which == 0) {
              empty();
            } else {
              h[0] = pin(h, g);
            }
          }
          best = Math.min(best, (mx.getCurrentThreadCpuTime() - t0) / (double) reps);
        }
        System.out.printf("%s: %.1f ns per call%n", which == 0 ? "empty static native" : "2 x critical array pin", best);
      }
    }
  }
}
