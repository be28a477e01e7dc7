package io.seqpack.spark;

import io.seqpack.model.ModelSpec;
import io.seqpack.summary.RunSummary;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The fixed bins of the run report, the same for every run so reports can be compared.
 *
 * <p>Lengths: classes with edges {@code 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, ...} (powers of two and 1.5×
 * powers of two); class i holds lengths in {@code [e_i, e_{i+1})}. The same classes group batches by the length
 * of their longest row.
 *
 * <p>Scores: {@value #SCORE_BINS} equal bins per output feature over {@code [0, 1]} for sigmoid and softmax heads,
 * otherwise over {@code [-10, 10]} with an {@code underflow} (below the range, including -∞) and an {@code
 * overflow} (at or above the top, including +∞) count next to them; NaN scores count as {@code nan}. Only the
 * first {@value #MAX_SCORE_FEATURES} output features get a histogram.
 */
final class ReportBins implements Serializable {
  static final int SCORE_BINS = 20;
  static final int MAX_SCORE_FEATURES = 32;
  /** Per feature: SCORE_BINS bins, then underflow, overflow, nan. */
  static final int SCORE_SLOTS = SCORE_BINS + 3;
  static final long[] LENGTH_EDGES = lengthEdges();

  final double scoreLow;
  final double scoreHigh;
  final int scoreFeatures;

  /** Bins for the scores of a head with this activation and width (the first head of the model). */
  ReportBins(ModelSpec.Activation activation, int outFeatures) {
    boolean bounded = activation.inUnitInterval();
    this.scoreLow = bounded ? 0.0 : -10.0;
    this.scoreHigh = bounded ? 1.0 : 10.0;
    this.scoreFeatures = Math.min(outFeatures, MAX_SCORE_FEATURES);
  }

  private static long[] lengthEdges() {
    List<Long> edges = new ArrayList<>(List.of(1L, 2L, 3L));
    for (long p = 4; p <= (1L << 31); p *= 2) {
      edges.add(p);
      edges.add(p + p / 2);
    }
    return edges.stream().mapToLong(Long::longValue).toArray();
  }

  /** Index of the length class of {@code length} (≥ 1). */
  static int lengthClass(int length) {
    int lo = 0;
    int hi = LENGTH_EDGES.length - 1;
    while (lo < hi) { // largest i with LENGTH_EDGES[i] <= length
      int mid = (lo + hi + 1) >>> 1;
      if (LENGTH_EDGES[mid] <= length) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** Slot of a score within its feature's {@value #SCORE_SLOTS} slots. */
  int scoreSlot(float score) {
    if (Float.isNaN(score)) {
      return SCORE_BINS + 2;
    }
    if (score < scoreLow) {
      return SCORE_BINS;
    }
    if (score > scoreHigh || (score == scoreHigh && scoreLow != 0.0)) {
      return SCORE_BINS + 1; // [0, 1] heads: 1.0 is in the last bin; [-10, 10]: 10 is overflow
    }
    int bin = (int) ((score - scoreLow) / (scoreHigh - scoreLow) * SCORE_BINS);
    return Math.min(Math.max(bin, 0), SCORE_BINS - 1);
  }

  /** The length classes cut after the last non-empty one (at least one bin). */
  static RunSummary.LengthHistogram lengthHistogram(long[] counts) {
    int last = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        last = i;
      }
    }
    List<Long> edges = new ArrayList<>();
    List<Long> kept = new ArrayList<>();
    for (int i = 0; i <= last; i++) {
      edges.add(LENGTH_EDGES[i]);
      kept.add(counts[i]);
    }
    edges.add(upperEdge(last));
    return new RunSummary.LengthHistogram(edges, kept);
  }

  private static long upperEdge(int lengthClass) {
    return lengthClass + 1 < LENGTH_EDGES.length ? LENGTH_EDGES[lengthClass + 1] : Integer.MAX_VALUE + 1L;
  }

  /** Bucket rows: stats laid out as {@code [rows, tokens, batches, paddedSlots] × lengthClasses}. */
  static List<RunSummary.Bucket> buckets(long[] stats) {
    int classes = LENGTH_EDGES.length;
    List<RunSummary.Bucket> out = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      long batches = stats[2 * classes + c];
      if (batches != 0) {
        out.add(new RunSummary.Bucket(LENGTH_EDGES[c], upperEdge(c) - 1, stats[c], stats[classes + c], batches,
            stats[3 * classes + c]));
      }
    }
    return out;
  }

  List<RunSummary.ScoreHistogram> scoreHistograms(long[] slots) {
    List<RunSummary.ScoreHistogram> out = new ArrayList<>();
    for (int k = 0; k < scoreFeatures; k++) {
      List<Double> edges = new ArrayList<>();
      for (int i = 0; i <= SCORE_BINS; i++) {
        edges.add(Math.round((scoreLow + (scoreHigh - scoreLow) * i / SCORE_BINS) * 1e6) / 1e6);
      }
      List<Long> counts = new ArrayList<>();
      for (int i = 0; i < SCORE_BINS; i++) {
        counts.add(slots[k * SCORE_SLOTS + i]);
      }
      out.add(new RunSummary.ScoreHistogram(k, edges, counts, slots[k * SCORE_SLOTS + SCORE_BINS],
          slots[k * SCORE_SLOTS + SCORE_BINS + 1], slots[k * SCORE_SLOTS + SCORE_BINS + 2]));
    }
    return out;
  }
}
