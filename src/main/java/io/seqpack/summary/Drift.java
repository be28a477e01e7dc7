package io.seqpack.summary;

import io.seqpack.SeqpackException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Score drift of a run against a baseline run: the population stability index of each head's scores over the
 * baseline's decile bins, {@code PSI = Σ (q − p) · ln(q / p)} with {@code p} the baseline's share of rows in a bin
 * and {@code q} this run's, both floored at {@value #FLOOR} so an empty bin counts as nearly empty. Read it as
 * below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 shifted.
 */
public final class Drift {
  /** The share an empty bin counts as. */
  public static final double FLOOR = 1e-4;
  /** Below this PSI a distribution reads as stable. */
  public static final double STABLE = 0.1;
  /** Above this PSI a distribution reads as shifted; between the two, a moderate shift. */
  public static final double SHIFTED = 0.25;

  /** The usual reading of a PSI: {@code stable}, {@code moderate shift} or {@code shifted}. */
  public static String reading(double psi) {
    return psi < STABLE ? "stable" : psi <= SHIFTED ? "moderate shift" : "shifted";
  }

  private Drift() {}

  /** PSI of {@code actual} against {@code expected}, counts of the same bins; 0 when either has no rows. */
  public static double psi(List<Long> expected, List<Long> actual) {
    if (expected.size() != actual.size()) {
      throw new IllegalArgumentException(actual.size() + " bins against " + expected.size());
    }
    double p0 = expected.stream().mapToLong(Long::longValue).sum();
    double q0 = actual.stream().mapToLong(Long::longValue).sum();
    if (p0 == 0 || q0 == 0) {
      return 0.0;
    }
    double psi = 0;
    for (int i = 0; i < expected.size(); i++) {
      double p = Math.max(expected.get(i) / p0, FLOOR);
      double q = Math.max(actual.get(i) / q0, FLOOR);
      psi += (q - p) * Math.log(q / p);
    }
    return psi;
  }

  /**
   * Each head's drift: {@code current} gives, per head, the grid cells ({@link DecileGrid}) of each output this
   * run counted, in output order.
   *
   * @param baselinePath how the entries name the baseline
   * @throws SeqpackException {@code Cannot compare with baseline PATH: ...} when the baseline has no deciles or
   *     its heads differ from this run's
   */
  public static Map<String, RunSummary.HeadDrift> of(RunSummary baseline, String baselinePath,
      Map<String, List<long[]>> current) {
    Map<String, List<RunSummary.Deciles>> base = byHead(baseline, baselinePath);
    checkHeads(baseline, baselinePath, List.copyOf(current.keySet()));
    Map<String, RunSummary.HeadDrift> out = new LinkedHashMap<>();
    current.forEach((head, cells) -> {
      List<RunSummary.Deciles> deciles = base.get(head);
      int outputs = Math.min(deciles.size(), cells.size());
      List<RunSummary.OutputDrift> perOutput = new ArrayList<>();
      for (int k = 0; k < outputs; k++) {
        RunSummary.Deciles d = deciles.get(k);
        perOutput.add(outputDrift(k, d.counts(), DecileGrid.countsIn(cells.get(k), d.edges())));
      }
      out.put(head, headDrift(head, perOutput, baseline, baselinePath));
    });
    return out;
  }

  /**
   * Each head's drift of {@code current} against {@code baseline} from the two summaries alone (what a library
   * user has; the job itself counts this run's scores in the baseline's decile bins, {@link #of}).
   *
   * <p>A summary keeps bins, not scores, so the PSI is computed over bins both summaries counted exactly:
   * <ul>
   *   <li>the score histograms, when both summaries have the output's with the same bins (summaries of this
   *       version, same head activation): the 20 equal bins plus the underflow and overflow counts;
   *   <li>else the decile bins, merged to the edges both summaries' deciles share (edges are lines of one {@link
   *       DecileGrid}, so deciles of similar distributions often coincide): fewer, coarser bins, so a PSI that is at
   *       most the PSI over the baseline's own bins (empty-bin floors aside); with 1 bin it is 0 and says nothing.
   * </ul>
   * The bins differ from the job's (equal-mass deciles of the baseline), so the figures differ from {@code
   * --drift-baseline}'s while reading the same way; {@code bins} says how many were used.
   *
   * @throws SeqpackException {@code Cannot compare with baseline PATH: ...} when either summary has no deciles
   *     or their heads differ
   */
  public static Map<String, RunSummary.HeadDrift> between(RunSummary baseline, String baselinePath,
      RunSummary current) {
    Map<String, List<RunSummary.Deciles>> base = byHead(baseline, baselinePath);
    Map<String, List<RunSummary.Deciles>> now = byHead(current, "(the current run)");
    checkHeads(baseline, baselinePath, List.copyOf(now.keySet()));
    Map<String, RunSummary.HeadDrift> out = new LinkedHashMap<>();
    now.forEach((head, deciles) -> {
      List<RunSummary.OutputDrift> perOutput = new ArrayList<>();
      for (int k = 0; k < Math.min(deciles.size(), base.get(head).size()); k++) {
        RunSummary.ScoreHistogram p = histogram(baseline, head, k);
        RunSummary.ScoreHistogram q = histogram(current, head, k);
        if (p != null && q != null && p.binEdges().equals(q.binEdges())) {
          perOutput.add(outputDrift(k, binned(p), binned(q)));
          continue;
        }
        List<Double> shared = new ArrayList<>(base.get(head).get(k).edges());
        shared.retainAll(deciles.get(k).edges());
        perOutput.add(outputDrift(k, merged(base.get(head).get(k), shared), merged(deciles.get(k), shared)));
      }
      out.put(head, headDrift(head, perOutput, baseline, baselinePath));
    });
    return out;
  }

  private static RunSummary.ScoreHistogram histogram(RunSummary s, String head, int output) {
    return s.scoring().scoreHistograms().stream().filter(h -> head.equals(h.head()) && h.output() == output)
        .findFirst().orElse(null);
  }

  /** Underflow, the bins, overflow: every non-NaN score in one bin. */
  private static List<Long> binned(RunSummary.ScoreHistogram h) {
    List<Long> out = new ArrayList<>();
    out.add(h.underflow());
    out.addAll(h.counts());
    out.add(h.overflow());
    return out;
  }

  /** {@code d}'s counts summed into the bins of {@code edges}, a subset of its own edges. */
  private static List<Long> merged(RunSummary.Deciles d, List<Double> edges) {
    Long[] bins = new Long[edges.size() + 1];
    java.util.Arrays.fill(bins, 0L);
    for (int i = 0; i < d.counts().size(); i++) {
      double lower = i == 0 ? Double.NEGATIVE_INFINITY : d.edges().get(i - 1);
      int bin = (int) edges.stream().filter(e -> e <= lower).count();
      bins[bin] += d.counts().get(i);
    }
    return List.of(bins);
  }

  private static RunSummary.OutputDrift outputDrift(int output, List<Long> baseline, List<Long> current) {
    return new RunSummary.OutputDrift(output, round(psi(baseline, current)),
        baseline.stream().mapToLong(Long::longValue).sum(), current.stream().mapToLong(Long::longValue).sum(),
        baseline.size());
  }

  /** A head's entry: its worst output's figures, every output's for wide heads, the baseline's histograms. */
  private static RunSummary.HeadDrift headDrift(String head, List<RunSummary.OutputDrift> perOutput,
      RunSummary baseline, String baselinePath) {
    RunSummary.OutputDrift worst = perOutput.stream()
        .max((a, b) -> Double.compare(a.psi(), b.psi())).orElseThrow();
    List<RunSummary.ScoreHistogram> baselineHistograms = baseline.scoring().scoreHistograms().stream()
        .filter(h -> head.equals(h.head())).toList();
    return new RunSummary.HeadDrift(worst.psi(), worst.baselineRows(), worst.rows(), worst.bins(), baselinePath,
        perOutput.size() > 1 ? perOutput : null, baselineHistograms);
  }

  /**
   * Checks that {@code baseline} has score deciles of exactly {@code heads}, in any order.
   *
   * @throws SeqpackException {@code Cannot compare with baseline PATH: ...}, naming both sets of heads
   */
  public static void checkHeads(RunSummary baseline, String baselinePath, List<String> heads) {
    java.util.Set<String> base = byHead(baseline, baselinePath).keySet();
    if (!base.equals(new java.util.LinkedHashSet<>(heads))) {
      throw new SeqpackException("Cannot compare with baseline " + baselinePath + ": its heads are " + base
          + ", this model's are " + heads + "; pass the output folder or summary of a run of this model");
    }
  }

  /** The head with the largest PSI above {@code maxDrift}, or null when none exceeds it. */
  public static Map.Entry<String, RunSummary.HeadDrift> exceeding(Map<String, RunSummary.HeadDrift> drift,
      double maxDrift) {
    return drift.entrySet().stream().filter(e -> e.getValue().psi() > maxDrift)
        .max((a, b) -> Double.compare(a.getValue().psi(), b.getValue().psi())).orElse(null);
  }

  private static Map<String, List<RunSummary.Deciles>> byHead(RunSummary baseline, String baselinePath) {
    if (baseline.scoring() == null || baseline.scoring().scoreDeciles().isEmpty()) {
      throw new SeqpackException("Cannot compare with baseline " + baselinePath + ": it has no score deciles ("
          + (baseline.scoring() == null ? "that run scored nothing" : "written by an older seqpack")
          + "); pass the summary of a run of this seqpack version that scored rows");
    }
    Map<String, List<RunSummary.Deciles>> out = new LinkedHashMap<>();
    for (RunSummary.Deciles d : baseline.scoring().scoreDeciles()) {
      out.computeIfAbsent(d.head(), h -> new ArrayList<>()).add(d);
    }
    return out;
  }

  private static double round(double v) {
    return Math.round(v * 1e4) / 1e4;
  }
}
