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
 * <p>Scores: {@value #SCORE_BINS} equal bins per output of every head over {@code [0, 1]} for sigmoid and softmax
 * heads, otherwise over {@code [-10, 10]} with an {@code underflow} (below the range, including -∞) and an {@code
 * overflow} (at or above the top, including +∞) count next to them; NaN scores count as {@code nan}. Only the
 * first {@value #MAX_SCORE_FEATURES} outputs of a head get a histogram. The bins depend only on the head's
 * activation, so a run's histograms and a baseline run's share their bins and can be drawn over each other.
 */
final class ReportBins implements Serializable {
  static final int SCORE_BINS = 20;
  static final int MAX_SCORE_FEATURES = 32;
  /** Per feature: SCORE_BINS bins, then underflow, overflow, nan. */
  static final int SCORE_SLOTS = SCORE_BINS + 3;
  static final long[] LENGTH_EDGES = lengthEdges();

  /** Per head: the score range its bins cover. */
  private final double[] scoreLow;
  private final double[] scoreHigh;

  /** Bins for the scores of heads with these activations, in model order. */
  ReportBins(List<ModelSpec.Activation> activations) {
    scoreLow = new double[activations.size()];
    scoreHigh = new double[activations.size()];
    for (int h = 0; h < scoreLow.length; h++) {
      boolean bounded = activations.get(h).inUnitInterval();
      scoreLow[h] = bounded ? 0.0 : -10.0;
      scoreHigh[h] = bounded ? 1.0 : 10.0;
    }
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

  /** Slot of a score of head {@code head} within its output's {@value #SCORE_SLOTS} slots. */
  int scoreSlot(int head, float score) {
    double low = scoreLow[head];
    double high = scoreHigh[head];
    if (Float.isNaN(score)) {
      return SCORE_BINS + 2;
    }
    if (score < low) {
      return SCORE_BINS;
    }
    if (score > high || (score == high && low != 0.0)) {
      return SCORE_BINS + 1; // [0, 1] heads: 1.0 is in the last bin; [-10, 10]: 10 is overflow
    }
    int bin = (int) ((score - low) / (high - low) * SCORE_BINS);
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

  /**
   * The histograms of head {@code head}'s first {@code outputs} outputs, whose slots start at {@code first} in
   * {@code slots}.
   */
  List<RunSummary.ScoreHistogram> scoreHistograms(int head, String name, int outputs, long[] slots, int first) {
    List<Double> edges = new ArrayList<>();
    for (int i = 0; i <= SCORE_BINS; i++) {
      edges.add(Math.round((scoreLow[head] + (scoreHigh[head] - scoreLow[head]) * i / SCORE_BINS) * 1e6) / 1e6);
    }
    List<RunSummary.ScoreHistogram> out = new ArrayList<>();
    for (int k = 0; k < outputs; k++) {
      int at = first + k * SCORE_SLOTS;
      List<Long> counts = new ArrayList<>();
      for (int i = 0; i < SCORE_BINS; i++) {
        counts.add(slots[at + i]);
      }
      out.add(new RunSummary.ScoreHistogram(name, k, edges, counts, slots[at + SCORE_BINS],
          slots[at + SCORE_BINS + 1], slots[at + SCORE_BINS + 2]));
    }
    return out;
  }
}
