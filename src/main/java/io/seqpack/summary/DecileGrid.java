package io.seqpack.summary;

import java.util.ArrayList;
import java.util.List;

/**
 * The fine grid every run counts each head's scores on, the same for every run and every head, so one run's
 * decile edges (which are grid lines) split a later run's counts exactly.
 *
 * <p>A score {@code x} falls in cell {@code floor((asinh(x · 10⁴) + 24) / 48 · }{@value #CELLS}{@code )}, clamped
 * to the first and last cell ({@code ±∞} included): cells are about 1.5e-7 wide near 0 and about 0.15% of the score
 * wide beyond ±1e-3, up to ±1e6, so a narrow distribution (sigmoid scores within 0.40..0.41) still spans enough
 * cells for ten bins. NaN scores are not counted. The grid was 2,048 cells before; its lines are every 16th line
 * of this one (the same doubles), so older summaries' edges still split this grid's counts exactly.
 */
public final class DecileGrid {
  /** Cells of the grid. */
  public static final int CELLS = 32768;
  /** Bins of a run's score deciles. */
  public static final int BINS = 10;
  private static final double SCALE = 1e4;
  private static final double HALF_RANGE = 24.0;

  private DecileGrid() {}

  /** The cell of {@code score}, or -1 for NaN. */
  public static int cell(float score) {
    if (Float.isNaN(score)) {
      return -1;
    }
    double t = asinh(score * SCALE);
    int cell = (int) Math.floor((t + HALF_RANGE) / (2 * HALF_RANGE) * CELLS);
    return Math.min(Math.max(cell, 0), CELLS - 1);
  }

  /** The score at the lower line of {@code cell} (1 ≤ cell < {@value #CELLS}). */
  public static double lowerEdge(int cell) {
    return Math.sinh(-HALF_RANGE + 2 * HALF_RANGE * cell / CELLS) / SCALE;
  }

  private static double asinh(double x) {
    return Double.isInfinite(x) ? x : Math.signum(x) * Math.log(Math.abs(x) + Math.sqrt(x * x + 1));
  }

  /**
   * The decile bins of one output's cell counts: up to {@value #BINS} - 1 edges on grid lines, strictly
   * increasing (deciles that fall on the same line merge), and one count per bin; bin 0 is everything below the
   * first edge, the last bin everything at or above the last edge.
   */
  public static RunSummary.Deciles deciles(String head, int output, long[] cells) {
    long total = 0;
    for (long c : cells) {
      total += c;
    }
    List<Integer> cuts = new ArrayList<>();
    long below = 0;
    int k = 1;
    for (int j = 1; j < CELLS && k < BINS; j++) {
      below += cells[j - 1];
      if (total > 0 && below * BINS >= k * total) {
        if (below < total) {
          cuts.add(j);
        }
        while (k < BINS && below * BINS >= k * total) {
          k++;
        }
      }
    }
    List<Double> edges = new ArrayList<>();
    for (int cut : cuts) {
      edges.add(lowerEdge(cut));
    }
    return new RunSummary.Deciles(head, output, edges, countsIn(cells, edges));
  }

  /** {@code cells} summed into the bins of {@code edges}: cell j goes to the bin of its lower line. */
  public static List<Long> countsIn(long[] cells, List<Double> edges) {
    long[] bins = new long[edges.size() + 1];
    int bin = 0;
    for (int j = 0; j < cells.length; j++) {
      double lower = j == 0 ? Double.NEGATIVE_INFINITY : lowerEdge(j);
      while (bin < edges.size() && edges.get(bin) <= lower) {
        bin++;
      }
      bins[bin] += cells[j];
    }
    List<Long> out = new ArrayList<>();
    for (long b : bins) {
      out.add(b);
    }
    return out;
  }
}
