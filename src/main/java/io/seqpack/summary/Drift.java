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
        List<Long> counts = DecileGrid.countsIn(cells.get(k), d.edges());
        perOutput.add(new RunSummary.OutputDrift(k, round(psi(d.counts(), counts)), d.rows(),
            counts.stream().mapToLong(Long::longValue).sum(), d.counts().size()));
      }
      RunSummary.OutputDrift worst = perOutput.stream()
          .max((a, b) -> Double.compare(a.psi(), b.psi())).orElseThrow();
      List<RunSummary.ScoreHistogram> baselineHistograms = baseline.scoring().scoreHistograms().stream()
          .filter(h -> head.equals(h.head())).toList();
      out.put(head, new RunSummary.HeadDrift(worst.psi(), worst.baselineRows(), worst.rows(), worst.bins(),
          baselinePath, perOutput.size() > 1 ? perOutput : null, baselineHistograms));
    });
    return out;
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
