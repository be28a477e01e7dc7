package io.seqpack.spark;

import io.seqpack.model.ModelSpec;
import io.seqpack.nn.SequenceModel;
import io.seqpack.summary.RunSummary;
import java.io.Serializable;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.SparkContext;
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
  /** {@link SequenceModel#kernels()} of every task: which matrix product and gate kernels scored. */
  final CollectionAccumulator<String> kernels;
  /** What each executor JVM had used at its peak, sampled as each scoring task ends. */
  final CollectionAccumulator<RunSummary.ExecutorMemory> memory;
  /** Run report: scored rows per length class ({@link ReportBins}). */
  final BinCounts lengths;
  /** Run report: [rows, tokens, batches, paddedSlots] per length class of the batch's longest row. */
  final BinCounts buckets;
  /** Run report: score histogram slots, {@link ReportBins#SCORE_SLOTS} per tracked feature. */
  final BinCounts scoreBins;
  final ReportBins bins;

  ScoreMetrics(SparkContext sc, ModelSpec.Activation activation, int outFeatures) {
    bins = new ReportBins(activation, outFeatures);
    int classes = ReportBins.LENGTH_EDGES.length;
    lengths = register(sc, new BinCounts(classes), "seqpack.lengths");
    buckets = register(sc, new BinCounts(4 * classes), "seqpack.buckets");
    scoreBins = register(sc, new BinCounts(bins.scoreFeatures * ReportBins.SCORE_SLOTS), "seqpack.scoreBins");
    rowsSeen = sc.longAccumulator("seqpack.rowsSeen");
    rowsScored = sc.longAccumulator("seqpack.rowsScored");
    tokens = sc.longAccumulator("seqpack.tokens");
    batches = sc.longAccumulator("seqpack.batches");
    paddedSlots = sc.longAccumulator("seqpack.paddedSlots");
    engineNanos = sc.longAccumulator("seqpack.engineNanos");
    executors = sc.collectionAccumulator("seqpack.executors");
    kernels = sc.collectionAccumulator("seqpack.kernels");
    memory = sc.collectionAccumulator("seqpack.memory");
  }

  private static BinCounts register(SparkContext sc, BinCounts acc, String name) {
    sc.register(acc, name);
    return acc;
  }

  /** Executor side: one scored batch (its longest row picks the bucket). */
  void addBatch(int[] lengths, int longest, long tokens) {
    int classes = ReportBins.LENGTH_EDGES.length;
    int bucket = ReportBins.lengthClass(longest);
    for (int length : lengths) {
      this.lengths.addAt(ReportBins.lengthClass(length), 1);
    }
    buckets.addAt(bucket, lengths.length);
    buckets.addAt(classes + bucket, tokens);
    buckets.addAt(2 * classes + bucket, 1);
    buckets.addAt(3 * classes + bucket, (long) lengths.length * longest);
  }

  /** Executor side: the scores of one row. */
  void addScores(float[] scores) {
    for (int k = 0; k < bins.scoreFeatures; k++) {
      scoreBins.addAt(k * ReportBins.SCORE_SLOTS + bins.scoreSlot(scores[k]), 1);
    }
  }

  // The run-report parts of the summary (throughput is sampled on the driver, see ThroughputSampler).

  /** Scored rows per length class. */
  public RunSummary.LengthHistogram lengthHistogram() {
    return ReportBins.lengthHistogram(lengths.value());
  }

  /** Rows, tokens, batches and padded slots per length class of the batches' longest rows. */
  public List<RunSummary.Bucket> buckets() {
    return ReportBins.buckets(buckets.value());
  }

  /** The score histograms of the first output features. */
  public List<RunSummary.ScoreHistogram> scoreHistograms() {
    return bins.scoreHistograms(scoreBins.value());
  }

  /** Rows the scoring tasks have read so far (a retried task counts twice: for progress, not accounting). */
  public long rowsSeen() {
    return rowsSeen.value();
  }

  public long rowsScored() {
    return rowsScored.value();
  }

  /** Peak memory per executor JVM that scored ({@link ExecutorMemoryProbe#peaks}). */
  public List<RunSummary.ExecutorMemory> executorMemory() {
    return ExecutorMemoryProbe.peaks(memory.value());
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

  /** Distinct {@link SequenceModel#kernels()} descriptions reported by the tasks. */
  public List<String> kernels() {
    return List.copyOf(new TreeSet<>(kernels.value()));
  }

  /** Seconds spent inside the engine, summed over tasks. */
  public double engineSeconds() {
    return engineNanos.value() / 1e9;
  }
}
