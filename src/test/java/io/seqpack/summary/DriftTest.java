package io.seqpack.summary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.SeqpackException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DriftTest {
  @Test
  void psiOfTwoBinsByHand() {
    // (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    assertEquals(0.2746530722, Drift.psi(List.of(50L, 50L), List.of(25L, 75L)), 1e-9);
  }

  @Test
  void psiFloorsEmptyBinsAtOneInTenThousand() {
    // p = [1, 1e-4] (the empty bin floored), q = [0.5, 0.5]
    assertEquals(4.6043184667, Drift.psi(List.of(100L, 0L), List.of(50L, 50L)), 1e-9);
  }

  @Test
  void psiOfTheSameSharesIsZero() {
    assertEquals(0.0, Drift.psi(List.of(10L, 20L, 30L), List.of(20L, 40L, 60L)), 1e-12);
  }

  @Test
  void decilesSplitScoresIntoTenEqualBins() {
    long[] cells = cells(new Random(1), 10_000, 0.0);
    RunSummary.Deciles d = DecileGrid.deciles("fraud", 0, cells);
    assertEquals(9, d.edges().size());
    assertEquals(10_000, d.rows());
    for (long c : d.counts()) {
      // a decile edge lies on a grid line, so bins differ from 10% by up to a cell's share
      assertTrue(c > 750 && c < 1250, "bin of " + c + " rows in " + d.counts());
    }
    assertEquals(d.counts(), DecileGrid.countsIn(cells, d.edges()));
  }

  @Test
  void aNarrowDistributionStillGetsTenBins() {
    long[] cells = new long[DecileGrid.CELLS];
    Random random = new Random(3);
    for (int i = 0; i < 10_000; i++) {
      cells[DecileGrid.cell(0.40f + 0.01f * random.nextFloat())]++; // sigmoid scores within 0.40..0.41
    }
    RunSummary.Deciles d = DecileGrid.deciles("churn", 0, cells);
    assertEquals(9, d.edges().size(), d.edges().toString());
    for (long c : d.counts()) {
      assertTrue(c > 400 && c < 1600, "bin of " + c + " rows in " + d.counts());
    }
  }

  @Test
  void theOlderGridsLinesAreLinesOfThisOne() {
    for (int oldCell = 1; oldCell < 2048; oldCell++) { // 2,048 cells, as summaries before this grid were counted
      double old = Math.sinh(-24.0 + 2 * 24.0 * oldCell / 2048) / 1e4;
      assertEquals(old, DecileGrid.lowerEdge(oldCell * (DecileGrid.CELLS / 2048)), 0.0, "line " + oldCell);
    }
  }

  @Test
  void decilesOfOneRepeatedScoreAreOneBin() {
    long[] cells = new long[DecileGrid.CELLS];
    cells[DecileGrid.cell(0.5f)] = 100;
    RunSummary.Deciles d = DecileGrid.deciles("fraud", 0, cells);
    assertEquals(List.of(), d.edges());
    assertEquals(List.of(100L), d.counts());
  }

  @Test
  void driftOfTheSameDistributionIsSmallAndOfAShiftedOneLarge() {
    RunSummary baseline = baseline(Map.of("fraud", List.of(cells(new Random(1), 20_000, 0.0))));
    Map<String, RunSummary.HeadDrift> same = Drift.of(baseline, "runs/a",
        Map.of("fraud", List.of(cells(new Random(2), 20_000, 0.0))));
    Map<String, RunSummary.HeadDrift> shifted = Drift.of(baseline, "runs/a",
        Map.of("fraud", List.of(cells(new Random(2), 20_000, 1.0))));
    RunSummary.HeadDrift s = same.get("fraud");
    assertTrue(s.psi() < 0.01, "PSI " + s.psi());
    assertEquals(20_000, s.baselineRows());
    assertEquals(20_000, s.rows());
    assertEquals(10, s.bins());
    assertEquals("runs/a", s.baseline());
    assertNull(s.perOutput());
    assertTrue(shifted.get("fraud").psi() > 0.25, "PSI " + shifted.get("fraud").psi());
  }

  @Test
  void aWideHeadReportsItsLargestPsiAndEachOutput() {
    Map<String, List<long[]>> base = Map.of("next", List.of(cells(new Random(1), 5000, 0), cells(new Random(3), 5000, 0)));
    Map<String, List<long[]>> now = Map.of("next", List.of(cells(new Random(2), 5000, 0), cells(new Random(4), 5000, 1)));
    RunSummary.HeadDrift d = Drift.of(baseline(base), "b", now).get("next");
    assertEquals(2, d.perOutput().size());
    assertEquals(d.perOutput().get(1).psi(), d.psi());
    assertTrue(d.perOutput().get(0).psi() < d.psi());
  }

  @Test
  void refusesABaselineOfOtherHeads() {
    RunSummary baseline = baseline(Map.of("fraud", List.of(cells(new Random(1), 100, 0))));
    SeqpackException e = assertThrows(SeqpackException.class,
        () -> Drift.checkHeads(baseline, "runs/a", List.of("churn")));
    assertEquals("Cannot compare with baseline runs/a: its heads are [fraud], this model's are [churn]; pass the "
        + "output folder or summary of a run of this model", e.getMessage());
  }

  @Test
  void refusesABaselineWithoutDeciles() {
    RunSummary old = ExampleSummary.builder().summary();
    SeqpackException e = assertThrows(SeqpackException.class, () -> Drift.checkHeads(old, "old", List.of("a")));
    assertTrue(e.getMessage().startsWith("Cannot compare with baseline old: it has no score deciles (written by an "
        + "older seqpack)"), e.getMessage());
  }

  @Test
  void exceedingPicksTheLargestPsiOverTheLimit() {
    Map<String, RunSummary.HeadDrift> drift = new LinkedHashMap<>();
    drift.put("a", new RunSummary.HeadDrift(0.3, 1, 1, 10, "b", null, List.of()));
    drift.put("b", new RunSummary.HeadDrift(0.41, 1, 1, 10, "b", null, List.of()));
    drift.put("c", new RunSummary.HeadDrift(0.05, 1, 1, 10, "b", null, List.of()));
    assertEquals("b", Drift.exceeding(drift, 0.2).getKey());
    assertNull(Drift.exceeding(drift, 0.5));
  }

  @Test
  void driftBetweenTwoSummariesUsesTheirHistogramsWhenBothHaveThem() {
    long[] baseCells = cells(new Random(1), 20_000, 0.0);
    RunSummary a = summary(baseCells, histogram(new Random(1), 20_000, 0.0));
    RunSummary same = summary(cells(new Random(2), 20_000, 0.0), histogram(new Random(2), 20_000, 0.0));
    RunSummary shifted = summary(cells(new Random(3), 20_000, 1.0), histogram(new Random(3), 20_000, 1.0));
    RunSummary.HeadDrift stable = Drift.between(a, "runs/a", same).get("fraud");
    assertEquals(22, stable.bins(), "20 bins, underflow and overflow");
    assertTrue(stable.psi() < 0.01, stable.toString());
    RunSummary.HeadDrift moved = Drift.between(a, "runs/a", shifted).get("fraud");
    assertTrue(moved.psi() > 0.25, moved.toString());
    // the histograms' PSI by hand: the same figure
    assertEquals(Drift.psi(binned(a), binned(shifted)), moved.psi(), 1e-4);
    assertEquals(0.0, Drift.between(a, "runs/a", a).get("fraud").psi(), 1e-12);
  }

  @Test
  void withoutHistogramsDriftBetweenSummariesCountsOverTheDecileEdgesTheyShare() {
    RunSummary a = baseline(Map.of("fraud", List.of(cells(new Random(1), 20_000, 0.0))));
    RunSummary.HeadDrift self = Drift.between(a, "runs/a", a).get("fraud");
    assertEquals(10, self.bins(), "a summary against itself shares every edge");
    assertEquals(0.0, self.psi(), 1e-12);
    for (double shift : new double[] {0.0, 0.3}) {
      long[] current = cells(new Random(2), 20_000, shift);
      RunSummary b = baseline(Map.of("fraud", List.of(current)));
      RunSummary.HeadDrift fromSummaries = Drift.between(a, "runs/a", b).get("fraud");
      RunSummary.HeadDrift fromScores = Drift.of(a, "runs/a", Map.of("fraud", List.of(current))).get("fraud");
      List<Double> shared = new java.util.ArrayList<>(a.scoring().scoreDeciles().get(0).edges());
      shared.retainAll(b.scoring().scoreDeciles().get(0).edges());
      assertEquals(shared.size() + 1, fromSummaries.bins());
      assertEquals(20_000, fromSummaries.rows());
      assertEquals(20_000, fromSummaries.baselineRows());
      // coarser bins: never more than the PSI over the baseline's own bins (what the job computes)
      assertTrue(fromSummaries.psi() <= fromScores.psi() + 1e-9, fromSummaries + " vs " + fromScores);
    }
    RunSummary other = baseline(Map.of("churn", List.of(cells(new Random(2), 100, 0.0))));
    SeqpackException e = assertThrows(SeqpackException.class, () -> Drift.between(a, "runs/a", other));
    assertTrue(e.getMessage().startsWith("Cannot compare with baseline runs/a: its heads are [fraud], this model's "
        + "are [churn]"), e.getMessage());
  }

  private static List<Long> binned(RunSummary s) {
    RunSummary.ScoreHistogram h = s.scoring().scoreHistograms().get(0);
    List<Long> out = new java.util.ArrayList<>(List.of(h.underflow()));
    out.addAll(h.counts());
    out.add(h.overflow());
    return out;
  }

  /** The [0, 1] histogram of n sigmoid scores of logits N(shift, 1), as the job bins a sigmoid head. */
  private static RunSummary.ScoreHistogram histogram(Random random, int n, double shift) {
    long[] counts = new long[20];
    for (int i = 0; i < n; i++) {
      double score = 1 / (1 + Math.exp(-(random.nextGaussian() + shift)));
      counts[Math.min((int) (score * 20), 19)]++;
    }
    List<Double> edges = java.util.stream.IntStream.rangeClosed(0, 20).mapToObj(i -> i / 20.0).toList();
    return new RunSummary.ScoreHistogram("fraud", 0, edges, java.util.Arrays.stream(counts).boxed().toList(), 0, 0,
        0);
  }

  private static RunSummary summary(long[] cells, RunSummary.ScoreHistogram histogram) {
    ExampleSummary b = ExampleSummary.builder();
    b.scoreDeciles = List.of(DecileGrid.deciles("fraud", 0, cells));
    b.scoreHistograms = List.of(histogram);
    return b.summary();
  }

  @Test
  void summaryWithDecilesAndDriftReadsBack() {
    ExampleSummary b = ExampleSummary.builder();
    b.scoreDeciles = List.of(DecileGrid.deciles("fraud", 0, cells(new Random(1), 1000, 0)));
    b.drift = Map.of("fraud", new RunSummary.HeadDrift(0.12, 1000, 900, 10, "runs/a", null, List.of()));
    RunSummary s = b.summary();
    String json = s.toJson();
    assertTrue(json.contains("\"score_deciles\"") && json.contains("\"drift\""), json);
    assertEquals(s, RunSummary.fromJson(json, "f"));
  }

  @Test
  void summaryWithoutDriftHasNoDriftKey() {
    String json = ExampleSummary.builder().summary().toJson();
    assertTrue(!json.contains("\"drift\""), json);
    assertNull(RunSummary.fromJson(json, "f").scoring().drift());
  }

  /** Cells of n sigmoid scores of logits N(shift, 1). */
  private static long[] cells(Random random, int n, double shift) {
    long[] cells = new long[DecileGrid.CELLS];
    for (int i = 0; i < n; i++) {
      cells[DecileGrid.cell((float) (1 / (1 + Math.exp(-(random.nextGaussian() + shift)))))]++;
    }
    return cells;
  }

  private static RunSummary baseline(Map<String, List<long[]>> cells) {
    ExampleSummary b = ExampleSummary.builder();
    b.scoreDeciles = cells.entrySet().stream().flatMap(e -> java.util.stream.IntStream.range(0, e.getValue().size())
        .mapToObj(k -> DecileGrid.deciles(e.getKey(), k, e.getValue().get(k)))).toList();
    return b.summary();
  }
}
