package io.seqpack.spark;

import io.seqpack.model.ModelSpec;
import io.seqpack.nn.SequenceModel;
import io.seqpack.summary.RunSummary;
import io.seqpack.summary.DecileGrid;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  /** Run report: score histogram slots, {@link ReportBins#SCORE_SLOTS} per tracked output of each head. */
  final BinCounts scoreBins;
  final ReportBins bins;
  /** Score deciles: {@link DecileGrid#CELLS} cells per tracked output of each head, heads one after another. */
  final BinCounts decileCells;
  /** The heads' names, in model order. */
  private final String[] heads;
  /** Per head, its tracked outputs (its width, or k for top k, at most {@link ReportBins#MAX_SCORE_FEATURES}). */
  private final int[] tracked;
  /** Per head, how many outputs of the heads before it are tracked: where its cells and slots start. */
  private final int[] firstOutput;

  /**
   * @param heads the heads' names in model order
   * @param activations per head, its activation (it picks the range of the score histograms)
   * @param widths per head, the scores it writes per row (its width, or k for top k)
   */
  ScoreMetrics(SparkContext sc, List<String> heads, List<ModelSpec.Activation> activations, int[] widths) {
    bins = new ReportBins(activations);
    this.heads = heads.toArray(new String[0]);
    this.tracked = new int[widths.length];
    this.firstOutput = new int[widths.length];
    int outputs = 0;
    for (int h = 0; h < widths.length; h++) {
      tracked[h] = Math.min(widths[h], ReportBins.MAX_SCORE_FEATURES);
      firstOutput[h] = outputs;
      outputs += tracked[h];
    }
    decileCells = register(sc, new BinCounts(outputs * DecileGrid.CELLS), "seqpack.decileCells");
    int classes = ReportBins.LENGTH_EDGES.length;
    lengths = register(sc, new BinCounts(classes), "seqpack.lengths");
    buckets = register(sc, new BinCounts(4 * classes), "seqpack.buckets");
    scoreBins = register(sc, new BinCounts(outputs * ReportBins.SCORE_SLOTS), "seqpack.scoreBins");
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

  /** Executor side: the scores of one row of head {@code head}, for its histograms and deciles. */
  void addHeadScores(int head, float[] scores) {
    for (int k = 0; k < tracked[head]; k++) {
      int output = firstOutput[head] + k;
      scoreBins.addAt(output * ReportBins.SCORE_SLOTS + bins.scoreSlot(head, scores[k]), 1);
      int cell = DecileGrid.cell(scores[k]);
      if (cell >= 0) {
        decileCells.addAt(output * DecileGrid.CELLS + cell, 1);
      }
    }
  }

  /** Per head (in model order), the grid cells of each tracked output. */
  public Map<String, List<long[]>> decileCells() {
    long[] all = decileCells.value();
    Map<String, List<long[]>> out = new LinkedHashMap<>();
    for (int h = 0; h < heads.length; h++) {
      List<long[]> outputs = new ArrayList<>();
      for (int k = 0; k < tracked[h]; k++) {
        int from = (firstOutput[h] + k) * DecileGrid.CELLS;
        outputs.add(Arrays.copyOfRange(all, from, from + DecileGrid.CELLS));
      }
      out.put(heads[h], outputs);
    }
    return out;
  }

  /** Per head and tracked output, the decile bins a later run compares with. */
  public List<RunSummary.Deciles> scoreDeciles() {
    List<RunSummary.Deciles> out = new ArrayList<>();
    decileCells().forEach((head, outputs) -> {
      for (int k = 0; k < outputs.size(); k++) {
        out.add(DecileGrid.deciles(head, k, outputs.get(k)));
      }
    });
    return out;
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

  /** Per head (in model order), the score histograms of its tracked outputs. */
  public List<RunSummary.ScoreHistogram> scoreHistograms() {
    long[] slots = scoreBins.value();
    List<RunSummary.ScoreHistogram> out = new ArrayList<>();
    for (int h = 0; h < heads.length; h++) {
      out.addAll(bins.scoreHistograms(h, heads[h], tracked[h], slots, firstOutput[h] * ReportBins.SCORE_SLOTS));
    }
    return out;
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
