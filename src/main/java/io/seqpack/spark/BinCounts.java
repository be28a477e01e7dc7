package io.seqpack.spark;

import java.util.Arrays;
import org.apache.spark.util.AccumulatorV2;

/**
 * A fixed-size array of counters that executors add to element by element (histogram bins). The size is set on
 * the driver and never grows, so what travels back with every task is small and bounded.
 */
final class BinCounts extends AccumulatorV2<long[], long[]> {
  private final long[] counts;

  BinCounts(int size) {
    this.counts = new long[size];
  }

  void addAt(int index, long n) {
    counts[index] += n;
  }

  @Override
  public boolean isZero() {
    for (long c : counts) {
      if (c != 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public BinCounts copy() {
    BinCounts c = new BinCounts(counts.length);
    synchronized (this) {
      System.arraycopy(counts, 0, c.counts, 0, counts.length);
    }
    return c;
  }

  @Override
  public void reset() {
    Arrays.fill(counts, 0);
  }

  @Override
  public void add(long[] v) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += v[i];
    }
  }

  @Override
  public synchronized void merge(AccumulatorV2<long[], long[]> other) {
    add(((BinCounts) other).counts);
  }

  /** A snapshot (the driver reads it while tasks are still merging in). */
  @Override
  public synchronized long[] value() {
    return counts.clone();
  }
}
