package io.seqpack.report;

import static io.seqpack.report.Html.esc;

import io.seqpack.SeqpackException;
import io.seqpack.summary.RunSummary;
import io.seqpack.util.JsonRecords;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run report: one self-contained HTML page ({@value #REPORT_FILE}) drawn from a run's {@value
 * RunSummary#FILE}. No scripts, fonts, stylesheets or images are loaded (a Content-Security-Policy of {@code
 * default-src 'none'} says so to the browser too); the charts are inline SVG. Every figure on the page is taken
 * from the summary; every string from it is HTML-escaped.
 *
 * <p>Charts, each an {@code <svg data-chart="NAME">}: {@code length-histogram} (bars = {@code
 * length_histogram.counts}, {@code line.boundary} at each bucket's upper end), {@code bucket-rows}, {@code
 * bucket-tokens}, {@code bucket-fill} (tokens / padded_slots), {@code throughput} ({@code circle.point} per
 * sample), {@code score-K} per entry of {@code score_histograms} and {@code rejects} (one bar per reason). Bars are
 * {@code rect.bar}. A chart with nothing to draw (no scoring part, no bins, an empty list) says "no data" and has
 * no marks.
 */
public final class RunReport {
  /** The report, written next to the summary. */
  public static final String REPORT_FILE = "_seqpack_report.html";

  private RunReport() {}

  // ------------------------------------------------------------------------------------------------ files

  /**
   * Reads {@code outputDir/_seqpack_summary.json} (a local folder) and writes {@code
   * outputDir/_seqpack_report.html} next to it, replacing an older report.
   *
   * @return the report file
   * @throws SeqpackException with a one-line {@code Cannot ...: reason} message if the summary is missing,
   *     unreadable or refused by {@link RunSummary#read}, or the report cannot be written
   */
  public static Path write(Path outputDir) {
    String page = html(RunSummary.read(outputDir.resolve(RunSummary.FILE)));
    Path report = outputDir.resolve(REPORT_FILE);
    Path tmp = outputDir.resolve(REPORT_FILE + ".tmp");
    try {
      Files.writeString(tmp, page, StandardCharsets.UTF_8);
      try {
        Files.move(tmp, report, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, report, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // the original error is the one to report
      }
      throw new SeqpackException("Cannot write run report " + report + ": " + e, e);
    }
    return report;
  }

  // ------------------------------------------------------------------------------------------------ page

  /** Renders the report page for a summary; parts the summary does not have show as "—" or "no data". */
  public static String html(RunSummary summary) {
    RunSummary.Run run = summary.run();
    String runId = run == null ? null : Html.number(run.id());
    StringBuilder sb = new StringBuilder(64 * 1024);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>seqpack run report").append(runId == null ? "" : " \u2013 run " + esc(runId))
        .append("</title>\n<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n");
    sb.append("<header><h1>seqpack run report</h1>");
    sb.append("<p class=\"sub\"><code>").append(esc(summary.output())).append("</code>");
    if (runId != null) {
      sb.append(" \u00b7 run <code>").append(esc(runId)).append("</code>");
    }
    sb.append("</p>");
    sb.append("</header>\n");

    RunSummary.Scoring scoring = summary.scoring();
    sb.append("<section class=\"tables\">\n");
    figuresTable(sb, summary, scoring, run);
    detailsTable(sb, summary, scoring, run);
    sb.append("</section>\n");

    sb.append("<section class=\"charts\">\n");
    lengthHistogram(sb, scoring);
    bucketCharts(sb, scoring == null ? List.of() : scoring.buckets());
    throughput(sb, scoring);
    rejects(sb, summary.rejectsByReason());
    scoreHistograms(sb, scoring == null ? List.of() : scoring.scoreHistograms());
    sb.append("</section>\n");

    sb.append("<footer>Drawn from <code>").append(RunSummary.FILE).append("</code>")
        .append(" by <code>seqpack report</code>; every figure comes from that file. Hover a bar or point for its "
            + "exact value.</footer>\n</body>\n</html>\n");
    return sb.toString();
  }

  private static final String STYLE = """
      :root { color-scheme: light; }
      body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
             color: #1f2933; background: #f5f7fa; margin: 0 auto; max-width: 1180px; padding: 16px 12px 32px; }
      h1 { font-size: 22px; margin: 0 0 2px; }
      h2 { font-size: 15px; margin: 0 0 6px; }
      .sub { margin: 0 0 12px; color: #52606d; overflow-wrap: anywhere; }
      code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
      .tables { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; margin-bottom: 16px; }
      .card { background: #fff; border: 1px solid #d9e2ec; border-radius: 6px; padding: 10px 8px 6px; margin: 0; }
      table { border-collapse: collapse; width: 100%; }
      th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eef2f6; vertical-align: top; }
      th { font-weight: 600; color: #52606d; white-space: nowrap; width: 40%; }
      td.num { font-variant-numeric: tabular-nums; }
      td.missing { color: #9aa5b1; }
      .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
      figcaption { font-weight: 600; margin: 0 0 4px 6px; }
      figcaption small { font-weight: 400; color: #52606d; }
      svg { display: block; max-width: 100%; height: auto; font-size: 11px; }
      svg text { fill: #3e4c59; }
      svg .label { font-size: 12px; fill: #52606d; }
      svg .value { font-size: 10px; }
      svg .empty { font-size: 14px; fill: #9aa5b1; }
      svg .frame { fill: none; stroke: #d9e2ec; stroke-dasharray: 4 3; }
      svg .grid { stroke: #eef2f6; }
      svg .axis, svg .tickmark { stroke: #7b8794; }
      svg .bar { fill: #4e79a7; }
      svg .bar:hover, svg .point:hover { fill: #f28e2b; }
      svg[data-chart="bucket-tokens"] .bar { fill: #59a14f; }
      svg[data-chart="bucket-fill"] .bar { fill: #76b7b2; }
      svg[data-chart="rejects"] .bar { fill: #e15759; }
      svg[data-chart^="score-"] .bar { fill: #b07aa1; }
      svg .boundary { stroke: #e15759; stroke-width: 1.5; stroke-dasharray: 5 3; }
      svg .boundary-label { fill: #e15759; font-size: 10px; }
      svg .series { fill: none; stroke: #f28e2b; stroke-width: 2; }
      svg .point { fill: #fff; stroke: #f28e2b; stroke-width: 2; }
      footer { margin-top: 16px; color: #7b8794; font-size: 12px; }
      """;

  private static void figuresTable(StringBuilder sb, RunSummary s, RunSummary.Scoring scoring, RunSummary.Run run) {
    sb.append("<div class=\"card\"><h2>Key figures</h2><table class=\"figures\">\n");
    numberRow(sb, "Input rows", "input_rows", s.inputRows(), "");
    numberRow(sb, "Scored rows", "scored_rows", s.scoredRows(), "");
    String share = s.inputRows() > 0
        ? " (" + Html.percent((double) s.rejectedRows() / s.inputRows()) + " of input)" : "";
    numberRow(sb, "Rejected rows", "rejected_rows", s.rejectedRows(), share);
    numberRow(sb, "Tokens scored", "tokens_scored", s.tokensScored(), "");
    numberRow(sb, "Batches", "batches", s.batches(), "");
    Double fill = scoring == null ? null : scoring.meanBatchFill();
    numberRow(sb, "Mean batch fill", "mean_batch_fill", fill,
        fill == null ? "" : " (" + Html.percent(fill) + ")");
    numberRow(sb, "Wall time", "wall_seconds", s.wallSeconds(), " s");
    numberRow(sb, "Tokens per second", "tokens_per_second", scoring == null ? null : scoring.tokensPerSecond(), "");
    textRow(sb, "Model hash", "model_hash", scoring == null ? null : scoring.modelHash());
    textRow(sb, "Model verified against its forward", "model_verification",
        scoring == null ? null : scoring.modelVerification());
    textRow(sb, "seqpack version", "seqpack_version", s.seqpackVersion());
    if (run != null) {
      textRow(sb, "Run id", "run.id", run.id());
      textRow(sb, "Incremental", "run.incremental", true);
      numberRow(sb, "New files", "run.new_files", run.newFileCount(), "");
      numberRow(sb, "New rows", "run.new_rows", run.newRows(), "");
    }
    sb.append("</table></div>\n");
  }

  private static void numberRow(StringBuilder sb, String label, String key, Number v, String suffix) {
    sb.append("<tr><th>").append(esc(label)).append("</th>");
    if (v == null) {
      sb.append("<td class=\"num missing\" data-key=\"").append(esc(key)).append("\">\u2014</td></tr>\n");
    } else {
      sb.append("<td class=\"num\" data-key=\"").append(esc(key)).append("\">").append(Html.number(v))
          .append(esc(suffix)).append("</td></tr>\n");
    }
  }

  private static void textRow(StringBuilder sb, String label, String key, Object v) {
    sb.append("<tr><th>").append(esc(label)).append("</th>");
    if (v == null) {
      sb.append("<td class=\"missing\" data-key=\"").append(esc(key)).append("\">\u2014</td></tr>\n");
    } else {
      sb.append("<td data-key=\"").append(esc(key)).append("\"><code>").append(esc(scalar(v)))
          .append("</code></td></tr>\n");
    }
  }

  /** Where the run read from and wrote to, and its settings (with the names the summary file gives them). */
  private static void detailsTable(StringBuilder sb, RunSummary s, RunSummary.Scoring scoring, RunSummary.Run run) {
    sb.append("<div class=\"card\"><h2>Run details</h2><table class=\"details\">\n");
    textRow(sb, "Model", "model_dir", s.modelDir());
    textRow(sb, "Input", "input", s.input());
    textRow(sb, "Output", "output", s.output());
    textRow(sb, "Rejects", "rejects", s.rejects());
    if (scoring != null) {
      textRow(sb, "Engine time (s)", "engine_seconds", scoring.engineSeconds());
      textRow(sb, "Executors", "executors", scoring.executors());
      for (int i = 0; i < scoring.executorMemory().size(); i++) {
        RunSummary.ExecutorMemory m = scoring.executorMemory().get(i);
        textRow(sb, "Peak memory " + m.executor(), "executor_memory[" + i + "]", String.format(Locale.ROOT,
            "heap %s of %s MiB, resident %s MiB, native buffers %s MiB", mib(m.heapPeakBytes()),
            mib(m.heapMaxBytes()), m.residentPeakBytes() == 0 ? "?" : mib(m.residentPeakBytes()),
            mib(m.nativeBuffersBytes())));
      }
    }
    if (run != null && !run.newFiles().isEmpty()) {
      textRow(sb, "New files", "run.new_files", run.newFiles());
    }
    if (scoring != null) {
      for (Map.Entry<String, Object> e : scoring.settings().toJson().entrySet()) {
        textRow(sb, e.getKey(), "settings." + e.getKey(), e.getValue() == null ? "null" : e.getValue());
      }
    }
    sb.append("</table></div>\n");
  }

  private static String mib(long bytes) {
    return Html.number(Math.round(bytes / 1048576.0));
  }

  private static void figure(StringBuilder sb, String caption, String note, String svg) {
    sb.append("<figure class=\"card\"><figcaption>").append(esc(caption));
    if (!note.isEmpty()) {
      sb.append(" <small>").append(esc(note)).append("</small>");
    }
    sb.append("</figcaption>\n").append(svg).append("\n</figure>\n");
  }

  private static void lengthHistogram(StringBuilder sb, RunSummary.Scoring scoring) {
    String name = "length-histogram";
    String caption = "Sequence lengths";
    if (scoring == null || scoring.lengthHistogram().counts().isEmpty()) {
      figure(sb, caption, "", Charts.empty(name, "Histogram of sequence lengths: no data", "no data"));
      return;
    }
    double[] edges = doubles(scoring.lengthHistogram().binEdges());
    double[] counts = doubles(scoring.lengthHistogram().counts());
    List<Double> bounds = new ArrayList<>();
    List<String> boundLabels = new ArrayList<>();
    List<String> boundTitles = new ArrayList<>();
    List<RunSummary.Bucket> buckets = scoring.buckets();
    for (int i = 0; i < buckets.size(); i++) {
      long max = buckets.get(i).maxLength();
      // bins are [e_i, e_i+1), so lengths <= max end at max + 1: the right edge of max's bin
      bounds.add(max + 1.0);
      boundLabels.add("\u2264" + Html.number(max));
      boundTitles.add("bucket " + (i + 1) + " ends at length " + Html.number(max));
    }
    String[] binLabels = new String[counts.length];
    for (int i = 0; i < binLabels.length; i++) {
      double lo = edges[i];
      double hi = edges[i + 1];
      binLabels[i] = hi - lo == 1 ? "length " + Html.number((long) lo)
          : "lengths " + Html.number((long) lo) + "\u2013" + Html.number((long) hi - 1);
    }
    figure(sb, caption, bounds.isEmpty() ? "" : "dashed: bucket upper bounds",
        Charts.histogram(name, "Histogram of sequence lengths with bucket boundaries", "sequence length", "rows",
            edges, counts, binLabels, "rows", bounds.stream().mapToDouble(Double::doubleValue).toArray(),
            boundLabels.toArray(String[]::new), boundTitles.toArray(String[]::new)));
  }

  private static void bucketCharts(StringBuilder sb, List<RunSummary.Bucket> buckets) {
    if (buckets.isEmpty()) {
      figure(sb, "Rows per bucket", "", Charts.empty("bucket-rows", "Rows per length bucket: no data", "no data"));
      figure(sb, "Tokens per bucket", "",
          Charts.empty("bucket-tokens", "Tokens per length bucket: no data", "no data"));
      figure(sb, "Batch fill per bucket", "",
          Charts.empty("bucket-fill", "Batch fill per length bucket: no data", "no data"));
      return;
    }
    int n = buckets.size();
    List<String> labels = new ArrayList<>();
    double[] rows = new double[n];
    double[] tokens = new double[n];
    double[] fill = new double[n];
    String[] rowText = new String[n];
    String[] tokenText = new String[n];
    String[] fillText = new String[n];
    String[] rowTitle = new String[n];
    String[] tokenTitle = new String[n];
    String[] fillTitle = new String[n];
    for (int i = 0; i < n; i++) {
      RunSummary.Bucket b = buckets.get(i);
      String range = Html.number(b.minLength()) + "\u2013" + Html.number(b.maxLength());
      labels.add(range);
      String name = "bucket " + (i + 1) + " (lengths " + range + ")";
      rows[i] = b.rows();
      tokens[i] = b.tokens();
      rowText[i] = Html.number(b.rows());
      tokenText[i] = Html.number(b.tokens());
      String batchNote = ", " + Html.number(b.batches()) + " batches";
      rowTitle[i] = name + ": " + rowText[i] + " rows" + batchNote;
      tokenTitle[i] = name + ": " + tokenText[i] + " tokens" + batchNote;
      if (b.paddedSlots() > 0) {
        fill[i] = (double) b.tokens() / b.paddedSlots();
        fillText[i] = Html.percent(fill[i]);
        fillTitle[i] = name + ": " + Html.number(b.tokens()) + " tokens / " + Html.number(b.paddedSlots())
            + " padded slots = " + fillText[i];
      } else {
        fill[i] = 0;
        fillText[i] = "n/a";
        fillTitle[i] = name + ": no padded slots";
      }
    }
    figure(sb, "Rows per bucket", "", Charts.bars("bucket-rows", "Rows per length bucket", "bucket (lengths)",
        "rows", labels, rows, rowText, rowTitle, null, false));
    figure(sb, "Tokens per bucket", "", Charts.bars("bucket-tokens", "Tokens per length bucket",
        "bucket (lengths)", "tokens", labels, tokens, tokenText, tokenTitle, null, false));
    figure(sb, "Batch fill per bucket", "tokens / padded slots", Charts.bars("bucket-fill",
        "Batch fill per length bucket", "bucket (lengths)", "fill", labels, fill, fillText, fillTitle, 1.0, true));
  }

  private static void throughput(StringBuilder sb, RunSummary.Scoring scoring) {
    String caption = "Throughput";
    if (scoring == null || scoring.throughput().isEmpty()) {
      figure(sb, caption, "", Charts.empty("throughput", "Cumulative tokens over time: no data", "no data"));
      return;
    }
    List<RunSummary.ThroughputPoint> points = scoring.throughput();
    int n = points.size();
    double[] xs = new double[n];
    double[] ys = new double[n];
    String[] titles = new String[n];
    for (int i = 0; i < n; i++) {
      RunSummary.ThroughputPoint p = points.get(i);
      xs[i] = p.seconds();
      ys[i] = p.tokens();
      titles[i] = Html.number(p.seconds()) + " s: " + Html.number(p.tokens()) + " tokens, " + Html.number(p.rows())
          + " rows";
    }
    figure(sb, caption, "cumulative tokens; " + Html.number(scoring.tokensPerSecond()) + " tokens/s",
        Charts.line("throughput", "Cumulative tokens scored over time", "seconds since start", "tokens", xs, ys,
            titles));
  }

  private static void rejects(StringBuilder sb, Map<String, Long> byReason) {
    String caption = "Rejects by reason";
    if (byReason.isEmpty()) {
      figure(sb, caption, "", Charts.empty("rejects", "Rejected rows by reason: no rejects", "no rejects"));
      return;
    }
    List<String> labels = new ArrayList<>(byReason.keySet());
    int n = labels.size();
    double[] values = new double[n];
    String[] texts = new String[n];
    String[] titles = new String[n];
    for (int i = 0; i < n; i++) {
      long v = byReason.get(labels.get(i));
      values[i] = v;
      texts[i] = Html.number(v);
      titles[i] = labels.get(i) + ": " + texts[i] + " rows";
    }
    figure(sb, caption, "", Charts.bars("rejects", "Rejected rows by reason", "reason", "rows", labels, values,
        texts, titles, null, false));
  }

  private static void scoreHistograms(StringBuilder sb, List<RunSummary.ScoreHistogram> hists) {
    if (hists.isEmpty()) {
      figure(sb, "Score distribution", "",
          Charts.empty("scores", "Histogram of output scores: no data", "no data"));
      return;
    }
    for (RunSummary.ScoreHistogram h : hists) {
      String name = "score-" + h.feature();
      String caption = "Scores of output feature " + h.feature();
      if (h.counts().isEmpty()) {
        figure(sb, caption, "", Charts.empty(name, caption + ": no data", "no data"));
        continue;
      }
      double[] edges = doubles(h.binEdges());
      String[] binLabels = new String[h.counts().size()];
      for (int j = 0; j < binLabels.length; j++) {
        binLabels[j] = "[" + Html.number(edges[j]) + ", " + Html.number(edges[j + 1]) + ")";
      }
      figure(sb, caption, "", Charts.histogram(name, "Histogram of " + caption.toLowerCase(java.util.Locale.ROOT),
          "score", "rows", edges, doubles(h.counts()), binLabels, "rows", new double[0], new String[0],
          new String[0]));
    }
  }

  private static double[] doubles(List<? extends Number> values) {
    return values.stream().mapToDouble(Number::doubleValue).toArray();
  }

  /** A value as one line of text (unescaped): numbers formatted, booleans yes/no, lists joined, maps as JSON. */
  private static String scalar(Object v) {
    if (v instanceof Number n) {
      return Html.number(n);
    }
    if (v instanceof Boolean b) {
      return b ? "yes" : "no";
    }
    if (v instanceof String str) {
      return str;
    }
    if (v instanceof List<?> items) {
      StringBuilder sb = new StringBuilder();
      for (Object item : items) {
        sb.append(sb.length() == 0 ? "" : ", ").append(scalar(item));
      }
      return sb.toString();
    }
    return JsonRecords.write(v);
  }
}
