package io.seqpack.report;

import static io.seqpack.report.Html.esc;

import io.seqpack.SeqpackException;
import io.seqpack.util.Json;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The run report: one self-contained HTML page ({@value #REPORT_FILE}) drawn from a run's {@value
 * #SUMMARY_FILE}. No scripts, fonts, stylesheets or images are loaded (a Content-Security-Policy of {@code
 * default-src 'none'} says so to the browser too); the charts are inline SVG. Every figure on the page is taken
 * from the summary; every string from it is HTML-escaped.
 *
 * <p>Charts, each an {@code <svg data-chart="NAME">}: {@code length-histogram} (bars = {@code
 * length_histogram.counts}, {@code line.boundary} at each bucket's upper end), {@code bucket-rows}, {@code
 * bucket-tokens}, {@code bucket-fill} (tokens / padded_slots), {@code throughput} ({@code circle.point} per
 * sample), {@code score-K} per entry of {@code score_histograms} and {@code rejects} (one bar per reason). Bars are
 * {@code rect.bar}. A chart whose key is absent or empty says "no data" and has no marks.
 */
public final class RunReport {
  /** The summary a run writes into its output folder (same name as {@code ScoreJob.SUMMARY_FILE}). */
  public static final String SUMMARY_FILE = "_seqpack_summary.json";
  /** The report, written next to the summary. */
  public static final String REPORT_FILE = "_seqpack_report.html";

  private RunReport() {}

  /** A summary value of the wrong type or shape; {@code reason} names the key. */
  private static final class BadSummary extends SeqpackException {
    final String reason;

    BadSummary(String reason) {
      super("Cannot render run report: " + reason);
      this.reason = reason;
    }
  }

  // ------------------------------------------------------------------------------------------------ files

  /**
   * Reads {@code outputDir/_seqpack_summary.json} (a local folder) and writes {@code
   * outputDir/_seqpack_report.html} next to it, replacing an older report.
   *
   * @return the report file
   * @throws SeqpackException with a one-line {@code Cannot ...: reason} message if the summary is missing,
   *     unreadable, not JSON or has a key of the wrong type, or the report cannot be written
   */
  public static Path write(Path outputDir) {
    Path summaryFile = outputDir.resolve(SUMMARY_FILE);
    Map<String, Object> summary = readSummary(summaryFile);
    String page;
    try {
      page = html(summary);
    } catch (BadSummary e) {
      throw new SeqpackException("Cannot render run report from " + summaryFile + ": " + e.reason, e);
    }
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

  /** Reads and parses a summary file, with one-line {@code Cannot read summary FILE: reason} errors. */
  public static Map<String, Object> readSummary(Path summaryFile) {
    Path dir = summaryFile.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new SeqpackException("Cannot read summary " + summaryFile + ": " + dir
          + (Files.exists(dir) ? " is not a folder" : " does not exist"));
    }
    String text;
    try {
      text = Files.readString(summaryFile, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new SeqpackException("Cannot read summary " + summaryFile
          + ": no such file (a run writes it last, after its outputs are committed; did the run finish?)", e);
    } catch (IOException e) {
      throw new SeqpackException("Cannot read summary " + summaryFile + ": " + e, e);
    }
    try {
      return Json.parseObject(text);
    } catch (Json.JsonException e) {
      throw new SeqpackException("Cannot read summary " + summaryFile + ": malformed JSON: " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------------------------------------ page

  /**
   * Renders the report page for a summary (the map {@link Json#parseObject} gives, or the one the job builds).
   * Absent keys show as "—" or "no data"; keys of the wrong type are an error.
   *
   * @throws SeqpackException {@code Cannot render run report: KEY is not ...}
   */
  public static String html(Map<String, Object> summary) {
    Map<String, Object> run = map(summary, "run");
    String runId = run == null || run.get("id") == null ? null : scalar(run.get("id"));
    StringBuilder sb = new StringBuilder(64 * 1024);
    sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>seqpack run report").append(runId == null ? "" : " \u2013 run " + esc(runId))
        .append("</title>\n<style>\n").append(STYLE).append("</style>\n</head>\n<body>\n");
    sb.append("<header><h1>seqpack run report</h1>");
    Object output = summary.get("output");
    if (output instanceof String s || runId != null) {
      sb.append("<p class=\"sub\">");
      if (output instanceof String s) {
        sb.append("<code>").append(esc(s)).append("</code>");
      }
      if (runId != null) {
        sb.append(output instanceof String ? " \u00b7 " : "").append("run <code>").append(esc(runId))
            .append("</code>");
      }
      sb.append("</p>");
    }
    sb.append("</header>\n");

    sb.append("<section class=\"tables\">\n");
    figuresTable(sb, summary, run);
    detailsTable(sb, summary);
    sb.append("</section>\n");

    sb.append("<section class=\"charts\">\n");
    lengthHistogram(sb, summary);
    bucketCharts(sb, summary);
    throughput(sb, summary);
    rejects(sb, summary);
    scoreHistograms(sb, summary);
    sb.append("</section>\n");

    sb.append("<footer>Drawn from <code>").append(SUMMARY_FILE).append("</code>")
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

  private static void figuresTable(StringBuilder sb, Map<String, Object> s, Map<String, Object> run) {
    sb.append("<div class=\"card\"><h2>Key figures</h2><table class=\"figures\">\n");
    numberRow(sb, "Input rows", "input_rows", num(s, "input_rows"), "");
    numberRow(sb, "Scored rows", "scored_rows", num(s, "scored_rows"), "");
    Number rejected = num(s, "rejected_rows");
    Number input = num(s, "input_rows");
    String share = rejected != null && input != null && input.doubleValue() > 0
        ? " (" + Html.percent(rejected.doubleValue() / input.doubleValue()) + " of input)" : "";
    numberRow(sb, "Rejected rows", "rejected_rows", rejected, share);
    numberRow(sb, "Tokens scored", "tokens_scored", num(s, "tokens_scored"), "");
    numberRow(sb, "Batches", "batches", num(s, "batches"), "");
    Number fill = num(s, "mean_batch_fill");
    numberRow(sb, "Mean batch fill", "mean_batch_fill", fill,
        fill == null ? "" : " (" + Html.percent(fill.doubleValue()) + ")");
    numberRow(sb, "Wall time", "wall_seconds", num(s, "wall_seconds"), " s");
    numberRow(sb, "Tokens per second", "tokens_per_second", num(s, "tokens_per_second"), "");
    textRow(sb, "Model hash", "model_hash", s.get("model_hash"));
    textRow(sb, "seqpack version", "seqpack_version", s.get("seqpack_version"));
    if (run != null) {
      textRow(sb, "Run id", "run.id", run.get("id"));
      Object incremental = run.get("incremental");
      if (incremental != null) {
        textRow(sb, "Incremental", "run.incremental", incremental);
      }
      Object newFiles = run.get("new_files");
      if (newFiles instanceof List<?> files) {
        numberRow(sb, "New files", "run.new_files", files.size(), "");
      } else {
        valueRow(sb, "New files", "run.new_files", newFiles, "run.new_files");
      }
      valueRow(sb, "New rows", "run.new_rows", run.get("new_rows"), "run.new_rows");
    }
    sb.append("</table></div>\n");
  }

  private static void valueRow(StringBuilder sb, String label, String key, Object v, String path) {
    if (v == null || v instanceof Number) {
      numberRow(sb, label, key, finite((Number) v, path), "");
    } else {
      textRow(sb, label, key, v);
    }
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

  /** Where the run read from and wrote to, and its settings: whatever of these keys the summary has. */
  private static void detailsTable(StringBuilder sb, Map<String, Object> s) {
    sb.append("<div class=\"card\"><h2>Run details</h2><table class=\"details\">\n");
    int rows = 0;
    for (String[] kv : new String[][] {{"Model", "model_dir"}, {"Input", "input"}, {"Output", "output"},
        {"Rejects", "rejects"}, {"Engine time (s)", "engine_seconds"}, {"Executors", "executors"}}) {
      Object v = s.get(kv[1]);
      if (v != null) {
        textRow(sb, kv[0], kv[1], v);
        rows++;
      }
    }
    Map<String, Object> run = map(s, "run");
    if (run != null && run.get("new_files") instanceof List<?> files && !files.isEmpty()) {
      textRow(sb, "New files", "run.new_files", files);
      rows++;
    }
    Map<String, Object> settings = map(s, "settings");
    if (settings != null) {
      for (Map.Entry<String, Object> e : settings.entrySet()) {
        textRow(sb, e.getKey(), "settings." + e.getKey(), e.getValue() == null ? "null" : e.getValue());
        rows++;
      }
    }
    if (rows == 0) {
      sb.append("<tr><td class=\"missing\">no details in the summary</td></tr>\n");
    }
    sb.append("</table></div>\n");
  }

  private static void figure(StringBuilder sb, String caption, String note, String svg) {
    sb.append("<figure class=\"card\"><figcaption>").append(esc(caption));
    if (!note.isEmpty()) {
      sb.append(" <small>").append(esc(note)).append("</small>");
    }
    sb.append("</figcaption>\n").append(svg).append("\n</figure>\n");
  }

  private static void lengthHistogram(StringBuilder sb, Map<String, Object> s) {
    String name = "length-histogram";
    String caption = "Sequence lengths";
    Map<String, Object> h = map(s, "length_histogram");
    Histogram hist = h == null ? null : histogram(h, "length_histogram");
    if (hist == null) {
      figure(sb, caption, "", Charts.empty(name, "Histogram of sequence lengths: no data", "no data"));
      return;
    }
    List<Map<String, Object>> buckets = objects(s, "buckets");
    List<Double> bounds = new ArrayList<>();
    List<String> boundLabels = new ArrayList<>();
    List<String> boundTitles = new ArrayList<>();
    if (buckets != null) {
      for (int i = 0; i < buckets.size(); i++) {
        Number max = num(buckets.get(i), "max_length", "buckets[" + i + "].max_length");
        if (max != null) {
          // bins are [e_i, e_i+1), so lengths <= max end at max + 1: the right edge of max's bin
          bounds.add(max.doubleValue() + 1);
          boundLabels.add("\u2264" + Html.number(max));
          boundTitles.add("bucket " + (i + 1) + " ends at length " + Html.number(max));
        }
      }
    }
    String[] binLabels = new String[hist.counts.length];
    for (int i = 0; i < binLabels.length; i++) {
      double lo = hist.edges[i];
      double hi = hist.edges[i + 1];
      if (lo == Math.rint(lo) && hi == Math.rint(hi)) {
        binLabels[i] = hi - lo == 1 ? "length " + Html.number((long) lo)
            : "lengths " + Html.number((long) lo) + "\u2013" + Html.number((long) hi - 1);
      } else {
        binLabels[i] = "[" + Html.number(lo) + ", " + Html.number(hi) + ")";
      }
    }
    figure(sb, caption, bounds.isEmpty() ? "" : "dashed: bucket upper bounds",
        Charts.histogram(name, "Histogram of sequence lengths with bucket boundaries", "sequence length", "rows",
            hist.edges, hist.counts, binLabels, "rows", bounds.stream().mapToDouble(Double::doubleValue).toArray(),
            boundLabels.toArray(String[]::new), boundTitles.toArray(String[]::new)));
  }

  private static void bucketCharts(StringBuilder sb, Map<String, Object> s) {
    List<Map<String, Object>> buckets = objects(s, "buckets");
    if (buckets == null || buckets.isEmpty()) {
      figure(sb, "Rows per bucket", "", Charts.empty("bucket-rows", "Rows per length bucket: no data", "no data"));
      figure(sb, "Tokens per bucket", "",
          Charts.empty("bucket-tokens", "Tokens per length bucket: no data", "no data"));
      figure(sb, "Batch fill per bucket", "",
          Charts.empty("bucket-fill", "Batch fill per length bucket: no data", "no data"));
      return;
    }
    int n = buckets.size();
    List<String> labels = new ArrayList<>();
    String[] names = new String[n];
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
      Map<String, Object> b = buckets.get(i);
      String p = "buckets[" + i + "].";
      Number min = num(b, "min_length", p + "min_length");
      Number max = num(b, "max_length", p + "max_length");
      Number r = num(b, "rows", p + "rows");
      Number t = num(b, "tokens", p + "tokens");
      Number slots = num(b, "padded_slots", p + "padded_slots");
      Number batches = num(b, "batches", p + "batches");
      String range = min != null && max != null ? Html.number(min) + "\u2013" + Html.number(max)
          : max != null ? "\u2264" + Html.number(max) : min != null ? "\u2265" + Html.number(min) : "#" + (i + 1);
      labels.add(range);
      names[i] = "bucket " + (i + 1) + " (lengths " + range + ")";
      rows[i] = r == null ? 0 : r.doubleValue();
      tokens[i] = t == null ? 0 : t.doubleValue();
      rowText[i] = r == null ? "\u2014" : Html.number(r);
      tokenText[i] = t == null ? "\u2014" : Html.number(t);
      String batchNote = batches == null ? "" : ", " + Html.number(batches) + " batches";
      rowTitle[i] = names[i] + ": " + rowText[i] + " rows" + batchNote;
      tokenTitle[i] = names[i] + ": " + tokenText[i] + " tokens" + batchNote;
      if (t != null && slots != null && slots.doubleValue() > 0) {
        fill[i] = t.doubleValue() / slots.doubleValue();
        fillText[i] = Html.percent(fill[i]);
        fillTitle[i] = names[i] + ": " + Html.number(t) + " tokens / " + Html.number(slots) + " padded slots = "
            + fillText[i];
      } else {
        fill[i] = 0;
        fillText[i] = "n/a";
        fillTitle[i] = names[i] + ": no padded slots";
      }
    }
    figure(sb, "Rows per bucket", "", Charts.bars("bucket-rows", "Rows per length bucket", "bucket (lengths)",
        "rows", labels, rows, rowText, rowTitle, null, false));
    figure(sb, "Tokens per bucket", "", Charts.bars("bucket-tokens", "Tokens per length bucket",
        "bucket (lengths)", "tokens", labels, tokens, tokenText, tokenTitle, null, false));
    figure(sb, "Batch fill per bucket", "tokens / padded slots", Charts.bars("bucket-fill",
        "Batch fill per length bucket", "bucket (lengths)", "fill", labels, fill, fillText, fillTitle, 1.0, true));
  }

  private static void throughput(StringBuilder sb, Map<String, Object> s) {
    String caption = "Throughput";
    List<Map<String, Object>> points = objects(s, "throughput");
    if (points == null || points.isEmpty()) {
      figure(sb, caption, "", Charts.empty("throughput", "Cumulative tokens over time: no data", "no data"));
      return;
    }
    int n = points.size();
    double[] xs = new double[n];
    double[] ys = new double[n];
    String[] titles = new String[n];
    for (int i = 0; i < n; i++) {
      String p = "throughput[" + i + "].";
      Number sec = num(points.get(i), "seconds", p + "seconds");
      Number tok = num(points.get(i), "tokens", p + "tokens");
      Number rows = num(points.get(i), "rows", p + "rows");
      if (sec == null || tok == null) {
        throw new BadSummary(p + (sec == null ? "seconds" : "tokens") + " is missing");
      }
      xs[i] = sec.doubleValue();
      ys[i] = tok.doubleValue();
      titles[i] = Html.number(sec) + " s: " + Html.number(tok) + " tokens"
          + (rows == null ? "" : ", " + Html.number(rows) + " rows");
    }
    Number tps = num(s, "tokens_per_second");
    figure(sb, caption, tps == null ? "cumulative tokens" : "cumulative tokens; " + Html.number(tps) + " tokens/s",
        Charts.line("throughput", "Cumulative tokens scored over time", "seconds since start", "tokens", xs, ys,
            titles));
  }

  private static void rejects(StringBuilder sb, Map<String, Object> s) {
    String caption = "Rejects by reason";
    Map<String, Object> byReason = map(s, "rejects_by_reason");
    if (byReason == null) {
      figure(sb, caption, "", Charts.empty("rejects", "Rejected rows by reason: no data", "no data"));
      return;
    }
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
      Number v = num(byReason, labels.get(i), "rejects_by_reason[\"" + labels.get(i) + "\"]");
      values[i] = v == null ? 0 : v.doubleValue();
      texts[i] = v == null ? "\u2014" : Html.number(v);
      titles[i] = labels.get(i) + ": " + texts[i] + " rows";
    }
    figure(sb, caption, "", Charts.bars("rejects", "Rejected rows by reason", "reason", "rows", labels, values,
        texts, titles, null, false));
  }

  private static void scoreHistograms(StringBuilder sb, Map<String, Object> s) {
    List<Map<String, Object>> hists = objects(s, "score_histograms");
    if (hists == null || hists.isEmpty()) {
      figure(sb, "Score distribution", "",
          Charts.empty("scores", "Histogram of output scores: no data", "no data"));
      return;
    }
    for (int i = 0; i < hists.size(); i++) {
      Map<String, Object> h = hists.get(i);
      String path = "score_histograms[" + i + "]";
      Object f = h.get("feature");
      String feature = f == null ? String.valueOf(i)
          : f instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && !(f instanceof BigInteger)
              ? String.valueOf(n.longValue()) : scalar(f);
      String name = "score-" + feature;
      String caption = "Scores of output feature " + feature;
      Histogram hist = histogram(h, path);
      if (hist == null) {
        figure(sb, caption, "", Charts.empty(name, caption + ": no data", "no data"));
        continue;
      }
      String[] binLabels = new String[hist.counts.length];
      for (int j = 0; j < binLabels.length; j++) {
        binLabels[j] = "[" + Html.number(hist.edges[j]) + ", " + Html.number(hist.edges[j + 1]) + ")";
      }
      figure(sb, caption, "", Charts.histogram(name, "Histogram of " + caption.toLowerCase(java.util.Locale.ROOT),
          "score", "rows", hist.edges, hist.counts, binLabels, "rows", new double[0], new String[0], new String[0]));
    }
  }

  // ------------------------------------------------------------------------------------------------ reading

  private record Histogram(double[] edges, double[] counts) {}

  /** Null when there are no bins; a BadSummary when edges and counts do not fit together. */
  private static Histogram histogram(Map<String, Object> h, String path) {
    List<Object> edges = list(h, "bin_edges", path + ".bin_edges");
    List<Object> counts = list(h, "counts", path + ".counts");
    if (edges == null || counts == null || counts.isEmpty()) {
      return null;
    }
    if (edges.size() != counts.size() + 1) {
      throw new BadSummary(path + " has " + edges.size() + " bin_edges for " + counts.size()
          + " counts; expected one more edge than counts");
    }
    double[] e = new double[edges.size()];
    double[] c = new double[counts.size()];
    for (int i = 0; i < e.length; i++) {
      e[i] = element(edges.get(i), path + ".bin_edges[" + i + "]");
      if (i > 0 && !(e[i] > e[i - 1])) {
        throw new BadSummary(path + ".bin_edges is not increasing at index " + i);
      }
    }
    for (int i = 0; i < c.length; i++) {
      c[i] = element(counts.get(i), path + ".counts[" + i + "]");
    }
    return new Histogram(e, c);
  }

  private static double element(Object v, String path) {
    if (!(v instanceof Number n)) {
      throw new BadSummary(path + " is " + kind(v) + ", expected a number");
    }
    return finite(n, path).doubleValue();
  }

  private static Number num(Map<String, Object> m, String key) {
    return num(m, key, key);
  }

  private static Number num(Map<String, Object> m, String key, String path) {
    Object v = m.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Number n)) {
      throw new BadSummary(path + " is " + kind(v) + ", expected a number");
    }
    return finite(n, path);
  }

  private static Number finite(Number n, String path) {
    if (n != null && !(n instanceof BigInteger) && !Double.isFinite(n.doubleValue())) {
      throw new BadSummary(path + " is not a finite number");
    }
    return n;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> m, String key) {
    Object v = m.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Map)) {
      throw new BadSummary(key + " is " + kind(v) + ", expected an object");
    }
    return (Map<String, Object>) v;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Map<String, Object> m, String key, String path) {
    Object v = m.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof List)) {
      throw new BadSummary(path + " is " + kind(v) + ", expected an array");
    }
    return (List<Object>) v;
  }

  /** A list of objects, e.g. {@code buckets}; null when absent. */
  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> objects(Map<String, Object> m, String key) {
    List<Object> items = list(m, key, key);
    if (items == null) {
      return null;
    }
    List<Map<String, Object>> out = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      Object item = items.get(i);
      if (!(item instanceof Map)) {
        throw new BadSummary(key + "[" + i + "] is " + kind(item) + ", expected an object");
      }
      out.add((Map<String, Object>) item);
    }
    return out;
  }

  private static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof Number) {
      return "a number";
    }
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof List) {
      return "an array";
    }
    return "a " + v.getClass().getSimpleName();
  }

  /** A value as one line of text (unescaped): numbers formatted, lists joined, objects as JSON. */
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
        sb.append(sb.length() == 0 ? "" : ", ").append(item == null ? "null" : scalar(item));
      }
      return sb.toString();
    }
    try {
      return Json.write(v);
    } catch (IllegalArgumentException e) {
      return String.valueOf(v);
    }
  }
}
