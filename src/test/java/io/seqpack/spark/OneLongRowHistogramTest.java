package io.seqpack.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.report.RunReport;
import io.seqpack.summary.ExampleSummary;
import io.seqpack.summary.RunSummary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Golden check of the report's length histogram when one row is far longer than the rest (issue 28, contract 7):
 * the run's length classes as {@link ReportBins} counts them, drawn by the report, give every class one labelled
 * bar of the same width, so the 1,000 short rows are not squashed into the first bar by the one long row.
 */
class OneLongRowHistogramTest {
  static final Path GOLDEN = Path.of("src/test/resources/golden/report/one_long_row_histogram.txt");
  private static final Pattern BAR =
      Pattern.compile("<rect class=\"bar\" x=\"([^\"]*)\" y=\"[^\"]*\" width=\"([^\"]*)\"[^>]*><title>([^<]*)</title>");
  private static final Pattern TICK = Pattern.compile("<text class=\"tick\" transform=\"[^\"]*\"[^>]*>([^<]*)</text>");

  /** 1,000 rows of lengths 5 to 40 and one of 100,000, counted into the report's length classes. */
  static RunSummary oneLongRow() {
    long[] classes = new long[ReportBins.LENGTH_EDGES.length];
    for (int i = 0; i < 1000; i++) {
      classes[ReportBins.lengthClass(5 + i * 7 % 36)]++;
    }
    classes[ReportBins.lengthClass(100_000)]++;
    ExampleSummary b = ExampleSummary.builder();
    b.lengthHistogram = ReportBins.lengthHistogram(classes);
    b.buckets = List.of();
    return b.summary();
  }

  @Test
  void everyLengthClassIsOneLabelledBarOfTheSameWidth() throws Exception {
    String html = RunReport.html(oneLongRow());
    Matcher svg = Pattern.compile("<svg data-chart=\"length-histogram\".*?</svg>", Pattern.DOTALL).matcher(html);
    assertTrue(svg.find());
    List<String> bars = new ArrayList<>();
    List<String> widths = new ArrayList<>();
    for (Matcher m = BAR.matcher(svg.group()); m.find(); ) {
      bars.add(m.group(3));
      widths.add(m.group(2));
    }
    List<String> ticks = TICK.matcher(svg.group()).results().map(m -> m.group(1)).toList();
    List<String> golden = Files.readAllLines(GOLDEN, StandardCharsets.UTF_8).stream()
        .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
    assertEquals(golden, bars, "bar tooltips (class: rows) against " + GOLDEN);
    assertEquals(bars.size(), ticks.size(), "every bar has its label: " + ticks);
    for (int i = 0; i < bars.size(); i++) {
      assertTrue(bars.get(i).startsWith("length " + ticks.get(i) + ":") || bars.get(i).startsWith("lengths "
          + ticks.get(i) + ":"), ticks.get(i) + " labels " + bars.get(i));
    }
    assertEquals(1, widths.stream().distinct().count(), "bars of one width: " + widths);
    assertTrue(Double.parseDouble(widths.get(0)) > 6, "bars wide enough to see: " + widths.get(0));
  }
}
