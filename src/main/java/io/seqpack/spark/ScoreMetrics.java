package io.seqpack.spark;

import java.io.Serializable;
import org.apache.spark.SparkContext;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

/**
 * Counters the executors add to while scoring. They feed the summary and the progress log; the row-count
 * check that nothing was lost uses the committed outputs instead, because accumulators updated inside
 * transformations may count a retried task twice.
 */
public final class ScoreMetrics implements Serializable {
  final LongAccumulator rowsSeen;
  final LongAccumulator rowsScored;
  final LongAccumulator tokens;
  final LongAccumulator batches;
  final LongAccumulator paddedSlots;
  final LongAccumulator engineNanos;
  /** {@code executorId@pid} of every task of the scoring pass; shows which JVMs did the work. */
  final CollectionAccumulator<String> executors;

  ScoreMetrics(SparkContext sc) {
    rowsSeen = sc.longAccumulator("seqpack.rowsSeen");
    rowsScored = sc.longAccumulator("seqpack.rowsScored");
    tokens = sc.longAccumulator("seqpack.tokens");
    batches = sc.longAccumulator("seqpack.batches");
    paddedSlots = sc.longAccumulator("seqpack.paddedSlots");
    engineNanos = sc.longAccumulator("seqpack.engineNanos");
    executors = sc.collectionAccumulator("seqpack.executors");
  }

  public long rowsScored() {
    return rowsScored.value();
  }

  public long tokens() {
    return tokens.value();
  }

  public long batches() {
    return batches.value();
  }

  /** Real tokens / (rows × longest) summed over batches: 1.0 means no padding would have been needed. */
  public double meanBatchFill() {
    long slots = paddedSlots.value();
    return slots == 0 ? 0.0 : (double) tokens.value() / slots;
  }

  /** Distinct {@code executorId@pid} values of the JVMs that ran scoring tasks, sorted. */
  public List<String> executors() {
    return List.copyOf(new TreeSet<>(executors.value()));
  }

  /** Seconds spent inside the engine, summed over tasks. */
  public double engineSeconds() {
    return engineNanos.value() / 1e9;
  }
}
