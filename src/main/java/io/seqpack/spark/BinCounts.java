package io.seqpack.spark;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import org.apache.spark.util.AccumulatorV2;

/**
 * A fixed-size array of counters that executors add to element by element (histogram bins, decile grid cells).
 * The size is set on the driver and never grows. Most counters stay zero (a head's scores occupy a few hundred of
 * its grid's cells), so an accumulator travels as its nonzero counters only, and holds no array until one is
 * added to: what goes back with every task is bounded by what the task counted, not by the size.
 */
final class BinCounts extends AccumulatorV2<long[], long[]> {
  private final int size;
  private transient long[] counts; // null while every counter is zero

  BinCounts(int size) {
    this.size = size;
  }

  synchronized void addAt(int index, long n) {
    dense()[index] += n;
  }

  private long[] dense() {
    if (counts == null) {
      counts = new long[size];
    }
    return counts;
  }

  @Override
  public synchronized boolean isZero() {
    return counts == null || Arrays.stream(counts).allMatch(c -> c == 0);
  }

  @Override
  public synchronized BinCounts copy() {
    BinCounts c = new BinCounts(size);
    c.counts = counts == null ? null : counts.clone();
    return c;
  }

  @Override
  public synchronized void reset() {
    counts = null;
  }

  @Override
  public synchronized void add(long[] v) {
    long[] into = dense();
    for (int i = 0; i < size; i++) {
      into[i] += v[i];
    }
  }

  @Override
  public void merge(AccumulatorV2<long[], long[]> other) {
    long[] theirs;
    synchronized (other) {
      theirs = ((BinCounts) other).counts;
    }
    if (theirs != null) {
      add(theirs);
    }
  }

  /** A snapshot (the driver reads it while tasks are still merging in). */
  @Override
  public synchronized long[] value() {
    return counts == null ? new long[size] : counts.clone();
  }

  private synchronized void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    int nonzero = counts == null ? 0 : (int) Arrays.stream(counts).filter(c -> c != 0).count();
    out.writeInt(nonzero);
    for (int i = 0; nonzero > 0 && i < size; i++) {
      if (counts[i] != 0) {
        out.writeInt(i);
        out.writeLong(counts[i]);
      }
    }
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    int nonzero = in.readInt();
    for (int k = 0; k < nonzero; k++) {
      addAt(in.readInt(), in.readLong());
    }
  }
}
