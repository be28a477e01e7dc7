package io.seqpack.spark;

import io.seqpack.summary.RunSummary;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.Pointer;

/** Reads this JVM's peak memory for the summary's {@code executor_memory} ({@link RunSummary.ExecutorMemory}). */
final class ExecutorMemoryProbe {
  private ExecutorMemoryProbe() {}

  /** This JVM, now. */
  static RunSummary.ExecutorMemory sample(String executor) {
    long heapPeak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        heapPeak += pool.getPeakUsage().getUsed();
      }
    }
    long heapMax = Math.max(0, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax());
    return new RunSummary.ExecutorMemory(executor, heapPeak, heapMax, residentPeak(), Pointer.totalBytes());
  }

  /** {@code VmHWM} in bytes, or 0. */
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
    return 0;
  }

  /** The largest figures per executor, in executor order. */
  static List<RunSummary.ExecutorMemory> peaks(Collection<RunSummary.ExecutorMemory> samples) {
    Map<String, RunSummary.ExecutorMemory> byExecutor = new TreeMap<>();
    for (RunSummary.ExecutorMemory s : samples) {
      byExecutor.merge(s.executor(), s, RunSummary.ExecutorMemory::max);
    }
    return List.copyOf(byExecutor.values());
  }
}
