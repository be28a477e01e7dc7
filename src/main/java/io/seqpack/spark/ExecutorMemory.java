package io.seqpack.spark;

import java.io.IOException;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;

/**
 * The memory an executor JVM had used at its peak, read by each scoring task as it ends (so the summary can say
 * what a job needed of {@code spark.executor.memory} and {@code spark.executor.memoryOverhead}):
 *
 * @param executor {@code executorId@pid}, as in the summary's {@code executors}
 * @param heapPeakBytes the heap's peak use: the sum of the heap pools' peaks since the JVM started (an upper bound,
 *     the pools peak at different times; it includes garbage not yet collected)
 * @param heapMaxBytes the heap's limit ({@code -Xmx}, {@code spark.executor.memory})
 * @param residentPeakBytes the process's peak resident memory ({@code VmHWM} in {@code /proc/self/status}; heap,
 *     native buffers, code, thread stacks, everything), -1 where there is no {@code /proc}
 * @param nativeBuffersBytes JavaCPP's native allocations (the engine's BLAS buffers and weights) when the task
 *     ended ({@code Pointer.totalBytes()})
 */
public record ExecutorMemory(String executor, long heapPeakBytes, long heapMaxBytes, long residentPeakBytes,
    long nativeBuffersBytes) implements Serializable {

  /** This JVM, now. */
  static ExecutorMemory sample(String executor) {
    long heapPeak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        heapPeak += pool.getPeakUsage().getUsed();
      }
    }
    long heapMax = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax();
    return new ExecutorMemory(executor, heapPeak, heapMax, residentPeak(), Pointer.totalBytes());
  }

  /** {@code VmHWM} in bytes, or -1. */
  private static long residentPeak() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: no figure rather than a wrong one
    }
    return -1;
  }

  /** The latest sample (largest figures) per executor, in executor order. */
  static List<ExecutorMemory> peaks(Collection<ExecutorMemory> samples) {
    Map<String, ExecutorMemory> byExecutor = new LinkedHashMap<>();
    for (ExecutorMemory s : samples) {
      byExecutor.merge(s.executor(), s, (a, b) -> new ExecutorMemory(a.executor(),
          Math.max(a.heapPeakBytes(), b.heapPeakBytes()), Math.max(a.heapMaxBytes(), b.heapMaxBytes()),
          Math.max(a.residentPeakBytes(), b.residentPeakBytes()),
          Math.max(a.nativeBuffersBytes(), b.nativeBuffersBytes())));
    }
    return byExecutor.values().stream().sorted(Comparator.comparing(ExecutorMemory::executor)).toList();
  }
}
