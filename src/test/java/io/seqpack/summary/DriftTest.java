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
      // a decile edge lies on a grid line, so bins differ from 10% by up to a cell's share (about 2% here)
      assertTrue(c > 750 && c < 1250, "bin of " + c + " rows in " + d.counts());
    }
    assertEquals(d.counts(), DecileGrid.countsIn(cells, d.edges()));
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
