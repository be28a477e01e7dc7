package io.seqpack.report;

import static io.seqpack.report.Html.esc;

import io.seqpack.SeqpackException;
import io.seqpack.summary.Drift;
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
 * <p>From the top: the run line ({@code data-key="status"}, {@code started_at}, {@code wall_seconds}, {@code
 * command_line}), key figures, the model card ({@code data-section="model"}), run details with the settings
 * collapsed, the rejects table ({@code data-section="rejects"}, a {@code tr[data-reason]} per reason with its
 * example ids as {@code code.example}), then the charts, each an {@code <svg data-chart="NAME">}: {@code
 * score-HEAD-K} per head and output (the first {@value #MAX_OUTPUTS_SHOWN}; {@code score-K} for summaries that did
 * not name heads) with the baseline as {@code path.baseline} when there is one, {@code length-histogram} (one bar
 * per length class, {@code line.boundary} at each bucket's upper end), {@code bucket-rows}, {@code bucket-tokens},
 * {@code bucket-fill} (tokens / padded_slots) and {@code throughput} ({@code circle.point} per sample; a sentence
 * instead when too few samples grew). Bars are {@code rect.bar}. A chart with nothing to draw says "no data" and
 * has no marks.
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
    header(sb, summary, runId);
    RunSummary.Scoring scoring = summary.scoring();
    sb.append("<section class=\"tables\">\n");
    figuresTable(sb, summary, scoring, run);
    modelCard(sb, scoring);
    detailsTable(sb, summary, scoring, run);
    tablesCard(sb, summary);
    sb.append("</section>\n");
    rejects(sb, summary);

    sb.append("<h2 class=\"section\">Scores per head</h2>\n");
    driftNote(sb, summary);
    sb.append("<section class=\"charts\">\n");
    scoreHistograms(sb, scoring);
    sb.append("</section>\n<h2 class=\"section\">Lengths, batches and throughput</h2>\n<section class=\"charts\">\n");
    lengthHistogram(sb, scoring);
    bucketCharts(sb, scoring == null ? List.of() : scoring.buckets());
    throughput(sb, scoring);
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
      .card.wide { grid-column: 1 / -1; }
      h2.section { font-size: 17px; margin: 20px 0 6px; }
      svg .baseline { fill: none; stroke: #1f2933; stroke-width: 2; }
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
      .run-line { margin: 0 0 8px; }
      .status { font-weight: 600; padding: 1px 8px; border-radius: 10px; }
      .status.ok { background: #e3f9e5; color: #1f7a35; }
      .status.bad { background: #ffe3e3; color: #a61b1b; }
      pre.command { background: #fff; border: 1px solid #d9e2ec; border-radius: 6px; padding: 6px 10px; margin: 0 0 16px;
                    white-space: pre-wrap; }
      .note { color: #52606d; margin: 4px 6px; }
      section.card { margin-bottom: 16px; }
      th.num { text-align: right; } td.num { text-align: right; }
      td.examples code { background: #f0f4f8; padding: 0 4px; border-radius: 3px; margin-right: 4px; }
      details.settings summary { cursor: pointer; color: #52606d; margin: 6px 8px 2px; }
      """;

  /** The title, then what a reader checks first: how the run ended, when, how long it took, and what ran. */
  private static void header(StringBuilder sb, RunSummary s, String runId) {
    sb.append("<header><h1>seqpack run report</h1>\n<p class=\"sub\"><code>").append(esc(s.output()))
        .append("</code>");
    if (runId != null) {
      sb.append(" \u00b7 run <code>").append(esc(runId)).append("</code>");
    }
    sb.append("</p>\n<p class=\"run-line\">");
    String status = s.status() == null ? null : STATUS_TEXT.get(s.status());
    sb.append("<span class=\"status ").append(s.status() == RunSummary.Status.OK ? "ok" : "bad")
        .append("\" data-key=\"status\">").append(esc(status == null ? "status not recorded" : status))
        .append("</span> \u00b7 started <span data-key=\"started_at\">")
        .append(esc(s.startedAt() == null ? "\u2014" : Html.dateTime(s.startedAt())))
        .append("</span> \u00b7 took <span data-key=\"wall_seconds\">").append(esc(Html.seconds(s.wallSeconds())))
        .append("</span></p>\n");
    if (!s.commandLine().isEmpty()) {
      sb.append("<pre class=\"command\" data-key=\"command_line\"><code>")
          .append(esc(Html.commandLine(s.commandLine()))).append("</code></pre>\n");
    }
    sb.append("</header>\n");
  }

  private static final Map<RunSummary.Status, String> STATUS_TEXT = Map.of(
      RunSummary.Status.OK, "\u2713 ok: outputs committed, every row accounted for",
      RunSummary.Status.TOO_MANY_REJECTS, "\u2717 too many rejects: outputs committed, the job exited 1",
      RunSummary.Status.REFUSED_DRIFT, "\u2717 refused: score drift above --max-drift, nothing was published");

  private static void figuresTable(StringBuilder sb, RunSummary s, RunSummary.Scoring scoring, RunSummary.Run run) {
    sb.append("<div class=\"card\"><h2>Key figures</h2><table class=\"figures\">\n");
    numberRow(sb, "Input rows", "input_rows", s.inputRows(), "");
    numberRow(sb, "Scored rows", "scored_rows", s.scoredRows(), "");
    String share = s.inputRows() > 0
        ? " (" + Html.percent((double) s.rejectedRows() / s.inputRows()) + " of input)" : "";
    numberRow(sb, "Rejected rows", "rejected_rows", s.rejectedRows(), share);
    numberRow(sb, "Tokens scored", "tokens_scored", s.tokensScored(), "");
    numberRow(sb, "Batches", "batches", s.batches(), "");
    figureRow(sb, "Throughput", "tokens_per_second",
        scoring == null ? null : Html.whole(scoring.tokensPerSecond()) + " tokens/s");
    figureRow(sb, "Mean batch fill", "mean_batch_fill",
        scoring == null ? null : Html.percent(scoring.meanBatchFill()) + " of padded slots hold tokens");
    figureRow(sb, "Engine time", "engine_seconds",
        scoring == null ? null : Html.seconds(scoring.engineSeconds()) + " (summed over tasks)");
    if (run != null) {
      numberRow(sb, "Run", "run.id", run.id(), " (incremental)");
      if (s.tables() == null) { // a table run reads snapshots, not files: its Tables card says which
        numberRow(sb, "New files", "run.new_files", run.newFileCount(), "");
      }
      numberRow(sb, "New rows", "run.new_rows", run.newRows(), "");
    }
    textRow(sb, "seqpack version", "seqpack_version", s.seqpackVersion());
    sb.append("</table></div>\n");
  }

  private static void numberRow(StringBuilder sb, String label, String key, Number v, String suffix) {
    figureRow(sb, label, key, v == null ? null : Html.number(v) + suffix);
  }

  /** A row whose value is already formatted for reading, or "—" when null. */
  private static void figureRow(StringBuilder sb, String label, String key, String text) {
    sb.append("<tr><th>").append(esc(label)).append("</th>");
    if (text == null) {
      sb.append("<td class=\"num missing\" data-key=\"").append(esc(key)).append("\">\u2014</td></tr>\n");
    } else {
      sb.append("<td class=\"num\" data-key=\"").append(esc(key)).append("\">").append(esc(text))
          .append("</td></tr>\n");
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

  /**
   * Where the run read from and wrote to, then its settings in a collapsed block (results first): only the
   * settings that were given or differ from nothing, with the names the summary file gives them.
   */
  private static void detailsTable(StringBuilder sb, RunSummary s, RunSummary.Scoring scoring, RunSummary.Run run) {
    sb.append("<div class=\"card wide\"><h2>Run details</h2><table class=\"details\">\n");
    textRow(sb, "Model", "model_dir", s.modelDir());
    textRow(sb, "Input", "input", s.input());
    textRow(sb, "Output", "output", s.output());
    textRow(sb, "Rejects", "rejects", s.rejects());
    if (scoring != null) {
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
    sb.append("</table>\n");
    if (scoring != null) {
      sb.append("<details class=\"settings\"><summary>Settings</summary><table>\n");
      for (Map.Entry<String, Object> e : scoring.settings().toJson().entrySet()) {
        Object v = e.getValue();
        if (v == null || v instanceof java.util.Collection<?> c && c.isEmpty() || v instanceof Map<?, ?> m
            && m.isEmpty()) {
          continue; // not given: nothing to read
        }
        textRow(sb, e.getKey(), "settings." + e.getKey(), v);
      }
      sb.append("</table></details>\n");
    }
    sb.append("</div>\n");
  }

  /**
   * A run into tables: what it read from the input table and where its commits are (positions are Iceberg
   * snapshot ids or Delta versions, as the summary has them); nothing for a run into folders.
   */
  private static void tablesCard(StringBuilder sb, RunSummary s) {
    RunSummary.Tables t = s.tables();
    if (t == null) {
      return;
    }
    sb.append("<div class=\"card wide\" data-section=\"tables\"><h2>Tables</h2><table class=\"lake\">\n");
    String read = t.readTo() == null ? "a folder, not a table"
        : t.readAfter() == null ? "the whole table at " + t.readTo()
        : "rows appended after " + t.readAfter() + " up to " + t.readTo();
    tableRow(sb, "Input", "tables.read_to", s.input(), read);
    tableRow(sb, "Predictions", "tables.predictions_at", s.output(), position(t.predictionsAt()));
    tableRow(sb, "Rejects", "tables.rejects_at", s.rejects(), position(t.rejectsAt()));
    textRow(sb, "Run id", "tables.run_id", t.runId());
    figureRow(sb, "Already committed", "tables.already_committed", t.alreadyCommitted()
        ? "yes: a rerun found this run's commits in the tables and did not make them again" : "no");
    numberRow(sb, "Removals not scored", "tables.removals_not_scored", t.removalsNotScored(),
        t.removalsNotScored() == 0 ? "" : " (rows deleted or rewritten in the input; only appended rows are scored)");
    sb.append("</table></div>\n");
  }

  private static String position(Long at) {
    return at == null ? "not committed" : "committed, now at " + at;
  }

  /** A table's name (as code) and what the run did with it. */
  private static void tableRow(StringBuilder sb, String label, String key, String table, String what) {
    sb.append("<tr><th>").append(esc(label)).append("</th><td data-key=\"").append(esc(key)).append("\"><code>")
        .append(esc(table == null ? "\u2014" : table)).append("</code> ").append(esc(what)).append("</td></tr>\n");
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

  /**
   * The summary's length classes side by side, one equal-width bar each, so long classes (lengths 1.5× apart) get
   * the same room as short ones and one very long row adds a bar on the right instead of squashing the others;
   * every class is labelled with its lengths. Leading empty classes are left out.
   */
  private static void lengthHistogram(StringBuilder sb, RunSummary.Scoring scoring) {
    String name = "length-histogram";
    String caption = "Sequence lengths";
    List<Long> counts = scoring == null ? List.of() : scoring.lengthHistogram().counts();
    int first = 0;
    while (first < counts.size() && counts.get(first) == 0) {
      first++;
    }
    if (first == counts.size()) {
      figure(sb, caption, "", Charts.empty(name, "Histogram of sequence lengths: no data", "no data"));
      return;
    }
    List<Long> edges = scoring.lengthHistogram().binEdges().subList(first, counts.size() + 1);
    int n = edges.size() - 1;
    List<String> labels = new ArrayList<>();
    double[] values = new double[n];
    String[] texts = new String[n];
    String[] titles = new String[n];
    for (int i = 0; i < n; i++) {
      labels.add(Html.lengths(edges.get(i), edges.get(i + 1) - 1));
      values[i] = counts.get(first + i);
      texts[i] = Html.number(counts.get(first + i));
      titles[i] = (edges.get(i + 1) - edges.get(i) == 1 ? "length " : "lengths ") + labels.get(i) + ": "
          + Html.count(counts.get(first + i), "row");
    }
    List<Double> positions = new ArrayList<>();
    List<String> boundLabels = new ArrayList<>();
    List<String> boundTitles = new ArrayList<>();
    List<RunSummary.Bucket> buckets = scoring.buckets();
    for (int b = 0; b < buckets.size(); b++) {
      long end = buckets.get(b).maxLength() + 1; // bins are [e_i, e_i+1): lengths <= max end at max + 1
      for (int i = 0; i < n; i++) {
        if (edges.get(i) < end && end <= edges.get(i + 1)) {
          positions.add(i + (double) (end - edges.get(i)) / (edges.get(i + 1) - edges.get(i)));
          boundLabels.add("\u2264" + Html.number(end - 1));
          boundTitles.add("bucket " + (b + 1) + " ends at length " + Html.number(end - 1));
        }
      }
    }
    figure(sb, caption, positions.isEmpty() ? "one bar per length class" : "one bar per length class; dashed: "
        + "bucket upper bounds", Charts.categories(name, "Histogram of sequence lengths with bucket boundaries",
            "sequence length", "rows", labels, values, texts, titles, null, false,
            new Charts.Boundaries(positions.stream().mapToDouble(Double::doubleValue).toArray(),
                boundLabels.toArray(String[]::new), boundTitles.toArray(String[]::new))));
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
      String range = Html.lengths(b.minLength(), b.maxLength());
      labels.add(range);
      String name = "bucket " + (i + 1) + " (lengths " + range + ")";
      rows[i] = b.rows();
      tokens[i] = b.tokens();
      rowText[i] = Html.number(b.rows());
      tokenText[i] = Html.number(b.tokens());
      String batchNote = ", " + Html.count(b.batches(), "batch", "batches");
      rowTitle[i] = name + ": " + Html.count(b.rows(), "row") + batchNote;
      tokenTitle[i] = name + ": " + Html.count(b.tokens(), "token") + batchNote;
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

  /** Throughput samples at which the token count grew that a chart needs to show a rate, not one step. */
  static final int MIN_THROUGHPUT_RISES = 4;

  private static void throughput(StringBuilder sb, RunSummary.Scoring scoring) {
    String caption = "Throughput";
    if (scoring == null || scoring.throughput().isEmpty()) {
      figure(sb, caption, "", Charts.empty("throughput", "Cumulative tokens over time: no data", "no data"));
      return;
    }
    List<RunSummary.ThroughputPoint> points = scoring.throughput();
    int rises = 0; // tokens are counted as tasks finish: a rise is a task (or several) ending
    for (int i = 1; i < points.size(); i++) {
      rises += points.get(i).tokens() > points.get(i - 1).tokens() ? 1 : 0;
    }
    if (rises < MIN_THROUGHPUT_RISES) {
      sb.append("<figure class=\"card\" data-note=\"throughput\"><figcaption>").append(caption)
          .append("</figcaption>\n<p class=\"note\">").append(esc(Html.whole(scoring.tokensPerSecond())))
          .append(" tokens/s over the run. Too few samples for a chart: the driver samples the tokens scored once a "
              + "second, and they grew at ").append(Html.count(rises, "sample"))
          .append(" of ").append(points.size()).append(" (they are counted as tasks finish; a chart needs ")
          .append(MIN_THROUGHPUT_RISES).append(").</p></figure>\n");
      return;
    }
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
    figure(sb, caption, "cumulative tokens; " + Html.whole(scoring.tokensPerSecond()) + " tokens/s overall",
        Charts.line("throughput", "Cumulative tokens scored over time", "seconds since start", "tokens", xs, ys,
            titles));
  }

  /** Every reject reason in full, with its rows and up to three example ids from the rejects output. */
  private static void rejects(StringBuilder sb, RunSummary s) {
    sb.append("<section class=\"card rejects\" data-section=\"rejects\"><h2>Rejects by reason</h2>\n");
    if (s.rejectsByReason().isEmpty()) {
      sb.append("<p class=\"note\">No rejects: every input row was scored.</p></section>\n");
      return;
    }
    sb.append("<table><tr><th>Reason</th><th class=\"num\">Rows</th><th class=\"num\">Share of input</th>"
        + "<th>Example ids (find them in <code>").append(esc(s.rejects())).append("</code>)</th></tr>\n");
    for (Map.Entry<String, Long> e : s.rejectsByReason().entrySet()) {
      List<String> ids = s.rejectExamples().getOrDefault(e.getKey(), List.of());
      sb.append("<tr data-reason=\"").append(esc(e.getKey())).append("\"><td><code>").append(esc(e.getKey()))
          .append("</code></td><td class=\"num\">").append(Html.number(e.getValue())).append("</td><td class=\"num\">")
          .append(s.inputRows() > 0 ? Html.percent((double) e.getValue() / s.inputRows()) : "\u2014")
          .append("</td><td class=\"examples\">");
      if (ids.isEmpty()) {
        sb.append("<span class=\"missing\">").append(e.getKey().equals("NULL_ID") ? "(their ids are null)"
            : "\u2014").append("</span>");
      }
      for (int i = 0; i < ids.size(); i++) {
        sb.append(i == 0 ? "" : " ").append("<code class=\"example\">").append(esc(ids.get(i))).append("</code>");
      }
      sb.append("</td></tr>\n");
    }
    sb.append("</table></section>\n");
  }

  /** What model scored, from the summary's model card: inputs and their columns, parts, heads, weights. */
  private static void modelCard(StringBuilder sb, RunSummary.Scoring scoring) {
    sb.append("<div class=\"card\" data-section=\"model\"><h2>Model</h2><table class=\"model\">\n");
    RunSummary.ModelCard card = scoring == null ? null : scoring.modelCard();
    if (card != null) {
      for (RunSummary.ModelCard.Input in : card.inputs()) {
        sb.append("<tr><th>Input <code>").append(esc(in.name())).append("</code></th><td data-input=\"")
            .append(esc(in.name())).append("\"><code>").append(esc(in.kind())).append("</code> from column <code>")
            .append(esc(in.column())).append("</code></td></tr>\n");
      }
      for (String part : card.parts()) {
        sb.append("<tr><th>Part</th><td><code>").append(esc(part)).append("</code></td></tr>\n");
      }
      for (RunSummary.ModelCard.Head h : card.heads()) {
        sb.append("<tr><th>Head <code>").append(esc(h.name())).append("</code></th><td data-head=\"")
            .append(esc(h.name())).append("\"><code>").append(esc(h.layers())).append("</code> \u2192 ")
            .append(esc(Html.count(h.outputs(), "output"))).append("</td></tr>\n");
      }
      sb.append("<tr><th>Weights</th><td data-key=\"model_card.dtypes\">")
          .append(esc(Html.count(card.parameters(), "parameter") + ", stored as " + String.join(", ", card.dtypes())
              + ", scored in float32")).append("</td></tr>\n");
    }
    textRow(sb, "Kernels", "kernels", scoring == null || scoring.kernels().isEmpty() ? null : scoring.kernels());
    textRow(sb, "Hash", "model_hash", scoring == null ? null : scoring.modelHash());
    textRow(sb, "Verified against its forward", "model_verification",
        scoring == null ? null : scoring.modelVerification());
    if (scoring != null && card == null) {
      sb.append("<tr><td colspan=\"2\" class=\"missing\">The summary has no model card (written by an older "
          + "seqpack); <code>seqpack inspect-model</code> describes the model.</td></tr>\n");
    }
    sb.append("</table></div>\n");
  }

  /** Whether this run was compared with a baseline, and if not why not (an incremental run's first has none). */
  private static void driftNote(StringBuilder sb, RunSummary s) {
    if (s.scoring() == null) {
      return;
    }
    sb.append("<p class=\"note\" data-note=\"drift\">");
    Map<String, RunSummary.HeadDrift> drift = s.scoring().drift();
    if (drift != null && !drift.isEmpty()) {
      String baseline = drift.values().iterator().next().baseline();
      sb.append("Compared with the baseline <code>").append(esc(baseline)).append("</code>: bars are this run, the "
          + "line is the baseline scaled to this run's rows. PSI reads below ").append(Drift.STABLE)
          .append(" stable, ").append(Drift.STABLE).append(" to ").append(Drift.SHIFTED).append(" moderate, above ")
          .append(Drift.SHIFTED).append(" shifted.");
    } else if (s.run() != null && s.run().id() == 1) {
      sb.append("No drift baseline: this is the first run of the checkpoint, so there is no earlier run to compare "
          + "with (the next run compares with this one).");
    } else if (s.run() != null) {
      sb.append("No drift baseline: the previous run of the checkpoint recorded no score deciles.");
    } else {
      sb.append("No drift baseline: pass <code>--drift-baseline</code> an earlier run's output folder to compare "
          + "this run's scores with it.");
    }
    sb.append("</p>\n");
  }

  /** The outputs of a head drawn at most; the summary keeps the first 32. */
  static final int MAX_OUTPUTS_SHOWN = 8;

  /**
   * One histogram per head and output (the first {@value #MAX_OUTPUTS_SHOWN} of a head), titled by the head's
   * name, with the baseline's histogram of the same output drawn over it and the PSI in the caption when the run
   * has a baseline.
   */
  private static void scoreHistograms(StringBuilder sb, RunSummary.Scoring scoring) {
    List<RunSummary.ScoreHistogram> hists = scoring == null ? List.of() : scoring.scoreHistograms();
    if (hists.isEmpty()) {
      figure(sb, "Scores", "", Charts.empty("scores", "Histogram of output scores: no data", "no data"));
      return;
    }
    Map<String, Integer> widths = new java.util.LinkedHashMap<>();
    hists.forEach(h -> widths.merge(String.valueOf(h.head()), 1, Integer::sum));
    if (scoring.modelCard() != null) {
      scoring.modelCard().heads().forEach(h -> widths.put(h.name(), h.outputs()));
    }
    Map<String, RunSummary.HeadDrift> drift = scoring.drift() == null ? Map.of() : scoring.drift();
    for (RunSummary.ScoreHistogram h : hists) {
      if (h.output() >= MAX_OUTPUTS_SHOWN) {
        continue;
      }
      int width = widths.getOrDefault(String.valueOf(h.head()), 1);
      String name = h.head() == null ? "score-" + h.output() : "score-" + h.head() + "-" + h.output();
      String caption = h.head() == null ? "Scores of output feature " + h.output()
          : width > 1 ? h.head() + " \u00b7 output " + h.output() : h.head();
      List<String> notes = new ArrayList<>();
      RunSummary.HeadDrift d = h.head() == null ? null : drift.get(h.head());
      RunSummary.ScoreHistogram base = null;
      if (d != null) {
        double psi = d.psi();
        if (d.perOutput() != null) {
          psi = d.perOutput().stream().filter(o -> o.output() == h.output()).mapToDouble(RunSummary.OutputDrift::psi)
              .findFirst().orElse(psi);
        }
        caption += String.format(Locale.ROOT, " \u2014 PSI %.3f, %s", psi, Drift.reading(psi));
        base = d.baselineHistograms().stream().filter(b -> b.output() == h.output()
            && b.binEdges().equals(h.binEdges())).findFirst().orElse(null);
        if (base == null) {
          notes.add("the baseline's histogram is not in its summary");
        }
      }
      if (h.output() == 0 && width > MAX_OUTPUTS_SHOWN) {
        notes.add("the first " + MAX_OUTPUTS_SHOWN + " of " + width + " outputs");
      }
      if (h.underflow() + h.overflow() + h.nan() > 0) {
        notes.add(Html.number(h.underflow()) + " below " + Html.number(h.binEdges().get(0)) + ", "
            + Html.number(h.overflow()) + " at or above " + Html.number(h.binEdges().get(h.binEdges().size() - 1))
            + ", " + Html.number(h.nan()) + " NaN");
      }
      double[] counts = doubles(h.counts());
      double[] baseCounts = null;
      if (base != null && base.rows() > 0) {
        double scale = (double) h.rows() / base.rows(); // shares, drawn in this run's rows
        baseCounts = base.counts().stream().mapToDouble(c -> c * scale).toArray();
      }
      // zoom to the occupied bins (and two either side): a narrow distribution over [0, 1] is not two thin bars
      int lo = counts.length;
      int hi = -1;
      for (int j = 0; j < counts.length; j++) {
        if (counts[j] > 0 || baseCounts != null && baseCounts[j] > 0) {
          lo = Math.min(lo, j);
          hi = j;
        }
      }
      lo = hi < 0 ? 0 : Math.max(0, lo - 2);
      hi = hi < 0 ? counts.length - 1 : Math.min(counts.length - 1, hi + 2);
      if (lo > 0 || hi < counts.length - 1) {
        notes.add("zoomed to the occupied bins");
      }
      double[] edges = java.util.Arrays.copyOfRange(doubles(h.binEdges()), lo, hi + 2);
      counts = java.util.Arrays.copyOfRange(counts, lo, hi + 1);
      String[] binLabels = new String[counts.length];
      for (int j = 0; j < binLabels.length; j++) {
        binLabels[j] = "[" + Html.number(edges[j]) + ", " + Html.number(edges[j + 1]) + ")";
      }
      Charts.Overlay overlay = baseCounts == null ? null : new Charts.Overlay(
          java.util.Arrays.copyOfRange(baseCounts, lo, hi + 1), "baseline: " + Html.count(base.rows(), "row")
              + ", scaled to the " + Html.count(h.rows(), "row") + " of this run");
      figure(sb, caption, String.join("; ", notes), Charts.histogram(name, "Histogram of the scores of " + caption,
          "score", "rows", edges, counts, binLabels, "rows", new double[0], new String[0], new String[0], overlay));
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
