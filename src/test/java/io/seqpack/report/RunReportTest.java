package io.seqpack.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.SeqpackException;
import io.seqpack.summary.ExampleSummary;
import io.seqpack.summary.RunSummary;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunReportTest {
  @TempDir Path tmp;

  private static final Pattern SVG = Pattern.compile("<svg data-chart=\"([^\"]*)\".*?</svg>", Pattern.DOTALL);

  /** data-chart name → that chart's markup, in page order. */
  static Map<String, String> charts(String html) {
    Map<String, String> out = new LinkedHashMap<>();
    Matcher m = SVG.matcher(html);
    while (m.find()) {
      String previous = out.put(m.group(1), m.group());
      assertEquals(null, previous, "two charts named " + m.group(1));
    }
    return out;
  }

  static int count(String markup, String needle) {
    int n = 0;
    for (int i = markup.indexOf(needle); i >= 0; i = markup.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  static int bars(String svg) {
    return count(svg, "<rect class=\"bar\"");
  }

  private static String fmt(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  @Test
  void aRunIntoTablesNamesThemWithTheSnapshotsReadAndCommitted() {
    RunSummary s = ExampleSummary.intoTables();
    String html = RunReport.html(s);
    String tables = html.substring(html.indexOf("<div class=\"card wide\" data-section=\"tables\">"));
    tables = tables.substring(0, tables.indexOf("</div>"));
    // ids as they are, not grouped like counts: they are looked up, not read as magnitudes
    assertTrue(tables.contains("data-key=\"tables.read_to\"><code>lake.db.events</code> rows appended after "
        + "4412100233871552001 up to 7301993412655080112<"), tables);
    assertTrue(tables.contains("data-key=\"tables.predictions_at\"><code>lake.db.churn_scores</code> committed, "
        + "now at 2915447108332761409<"), tables);
    assertTrue(tables.contains("data-key=\"tables.rejects_at\"><code>lake.db.churn_scores_rejects</code> "
        + "committed, now at 5508123990417263775<"), tables);
    assertTrue(tables.contains("data-key=\"tables.run_id\"><code>6f1c2d9e-3b7a-4e21-9c55-0a8d4f7b21e3</code>"));
    assertTrue(tables.contains("data-key=\"tables.already_committed\">no<"));
    assertTrue(tables.contains("data-key=\"tables.removals_not_scored\">3 (rows deleted or rewritten in the "
        + "input; only appended rows are scored)<"), tables);
    assertFalse(html.contains("data-key=\"run.new_files\""), "a table run reads no files");
    assertFalse(RunReport.html(ExampleSummary.build()).contains("data-section=\"tables\""), "none for folders");
  }

  @Test
  void keyFiguresComeFromTheSummary() {
    RunSummary s = ExampleSummary.build();
    String html = RunReport.html(s);
    Map<String, Long> figures = Map.of("input_rows", s.inputRows(), "scored_rows", s.scoredRows(), "rejected_rows",
        s.rejectedRows(), "tokens_scored", s.tokensScored(), "batches", s.batches());
    for (Map.Entry<String, Long> f : figures.entrySet()) {
      assertTrue(html.contains("data-key=\"" + f.getKey() + "\">" + fmt(f.getValue())),
          f.getKey() + " = " + fmt(f.getValue()));
    }
    // figures for reading: rounded, with their units
    assertTrue(html.contains("data-key=\"mean_batch_fill\">" + String.format(Locale.ROOT, "%.1f%%",
        s.scoring().meanBatchFill() * 100)), html);
    assertTrue(html.contains("data-key=\"wall_seconds\">1 min 33 s<"));
    assertTrue(html.contains("data-key=\"engine_seconds\">2 min 31 s (summed over tasks)<"));
    String tps = String.format(Locale.ROOT, "%,d tokens/s<", Math.round(s.scoring().tokensPerSecond()));
    assertTrue(html.contains("data-key=\"tokens_per_second\">" + tps), tps);
    assertFalse(html.contains(String.valueOf(s.scoring().tokensPerSecond())), "no raw tokens/s figure");
    // the run line: status, start, duration, command
    assertTrue(html.contains("data-key=\"status\">\u2713 ok: outputs committed"), html);
    assertTrue(html.contains("data-key=\"started_at\">2025-03-15 02:00:04 UTC<"));
    assertTrue(html.contains("data-key=\"command_line\"><code>seqpack score --incremental --checkpoint "
        + "hdfs:///checkpoints/churn --model /models/churn-gru/v7"));
    assertTrue(html.contains("data-key=\"model_hash\"><code>" + s.scoring().modelHash() + "</code>"));
    assertTrue(html.contains("data-key=\"seqpack_version\"><code>0.1.0</code>"));
    assertTrue(html.contains("data-key=\"run.id\">" + ExampleSummary.RUN_ID + " (incremental)<"));
    assertTrue(html.contains("<title>seqpack run report \u2013 run " + ExampleSummary.RUN_ID + "</title>"));
    assertTrue(html.contains("data-key=\"run.new_files\">3<"));
    assertTrue(html.contains("data-key=\"run.new_rows\">" + fmt(s.run().newRows())));
    assertTrue(html.contains("<code>hdfs:///data/events/2025-03-14</code>"), "input path in the details");
    assertTrue(html.contains("data-key=\"settings.batch_tokens\"><code>16,384</code>"));
    assertTrue(html.contains("data-key=\"settings.keep_cols\"><code>customer, day</code>"));
  }

  @Test
  void eachChartHasOneMarkPerDatum() {
    String html = RunReport.html(ExampleSummary.build());
    Map<String, String> charts = charts(html);
    assertEquals(List.of("score-churn-0", "score-value-0", "length-histogram", "bucket-rows", "bucket-tokens",
        "bucket-fill", "throughput"), List.copyOf(charts.keySet()));
    int buckets = ExampleSummary.BUCKET_RANGES.length;
    assertEquals(ExampleSummary.LENGTH_BINS, bars(charts.get("length-histogram")));
    assertEquals(buckets, count(charts.get("length-histogram"), "<line class=\"boundary\""));
    assertEquals(buckets, bars(charts.get("bucket-rows")));
    assertEquals(buckets, bars(charts.get("bucket-tokens")));
    assertEquals(buckets, bars(charts.get("bucket-fill")));
    assertEquals(ExampleSummary.THROUGHPUT_POINTS, count(charts.get("throughput"), "<circle class=\"point\""));
    assertEquals(1, count(charts.get("throughput"), "<polyline class=\"series\""));
    assertEquals(0, bars(charts.get("throughput")));
    assertEquals(ExampleSummary.SCORE_BINS, bars(charts.get("score-churn-0")));
    assertEquals(ExampleSummary.SCORE_BINS, bars(charts.get("score-value-0")));
    // exact values in the marks' tooltips; fill is tokens / padded_slots
    long first = ExampleSummary.build().scoring().lengthHistogram().counts().get(0);
    assertTrue(charts.get("length-histogram").contains("<title>lengths 1\u20138: " + fmt(first) + " rows</title>"),
        charts.get("length-histogram"));
    assertTrue(charts.get("length-histogram").contains(">1\u20138</text>"), "the class's label under its bar");
    assertTrue(charts.get("length-histogram").contains("<title>bucket 1 ends at length 16</title>"));
    assertTrue(charts.get("length-histogram").contains(">\u226416</text>"));
    RunSummary.Bucket b0 = ExampleSummary.build().scoring().buckets().get(0);
    double fill = (double) b0.tokens() / b0.paddedSlots();
    assertTrue(charts.get("bucket-fill").contains(String.format(Locale.ROOT, "= %.1f%%</title>", fill * 100)));
  }

  @Test
  void everyRejectReasonIsListedWithItsRowsAndExampleIds() {
    RunSummary s = ExampleSummary.build();
    String html = RunReport.html(s);
    for (Map.Entry<String, Long> reason : s.rejectsByReason().entrySet()) {
      Matcher row = Pattern.compile("<tr data-reason=\"" + reason.getKey() + "\">(.*?)</tr>").matcher(html);
      assertTrue(row.find(), reason.getKey());
      assertTrue(row.group(1).contains("<td class=\"num\">" + fmt(reason.getValue()) + "</td>"), row.group(1));
      List<String> ids = s.rejectExamples().get(reason.getKey());
      assertEquals(ids, Pattern.compile("<code class=\"example\">([^<]*)</code>").matcher(row.group(1)).results()
          .map(m -> m.group(1)).toList());
    }
    assertEquals(List.of("c-300007", "c-300952"), s.rejectExamples().get("TOKEN_OUT_OF_RANGE"), "fewer than three");
  }

  @Test
  void aRunTooShortForAThroughputChartSaysSoInstead() {
    ExampleSummary b = ExampleSummary.builder();
    b.wallSeconds = 2.9;
    b.throughput = List.of(new RunSummary.ThroughputPoint(0, 0, 0), new RunSummary.ThroughputPoint(1.0, 0, 0),
        new RunSummary.ThroughputPoint(2.0, 600, 9000), new RunSummary.ThroughputPoint(2.9, 1200, 18000));
    String html = RunReport.html(b.summary());
    assertFalse(charts(html).containsKey("throughput"));
    assertTrue(html.contains("Too few samples for a chart: the driver samples the tokens scored once a second, and "
        + "they grew at 2 samples of 4"), html);
  }

  private static final Pattern CAPTION = Pattern.compile("<figcaption>([^<]*)");

  @Test
  void eachHeadHasItsChartTitledByItsNameWithTheBaselineOverlaidAndItsPsi() {
    String html = RunReport.html(ExampleSummary.withBaseline());
    Map<String, String> charts = charts(html);
    for (String head : ExampleSummary.HEADS) {
      String svg = charts.get("score-" + head + "-0");
      assertEquals(ExampleSummary.SCORE_BINS, bars(svg), head);
      assertEquals(1, count(svg, "<path class=\"baseline\""), "the baseline drawn over " + head);
    }
    List<String> captions = CAPTION.matcher(html).results().map(m -> m.group(1)).toList();
    assertTrue(captions.contains("churn \u2014 PSI 0.313, shifted"), captions.toString());
    assertTrue(captions.contains("value \u2014 PSI 0.021, stable"), captions.toString());
    assertTrue(html.contains("Compared with the baseline <code>hdfs:///scores/churn/2025-03-13</code>"));
    RunSummary.ScoreHistogram churn = ExampleSummary.build().scoring().scoreHistograms().get(0);
    assertTrue(charts.get("score-churn-0").contains("<title>baseline: " + fmt(churn.rows()) + " rows, scaled to the "
        + fmt(churn.rows()) + " rows of this run</title>"));
  }

  @Test
  void aNarrowDistributionIsDrawnOverItsOccupiedBins() {
    ExampleSummary b = ExampleSummary.builder();
    RunSummary.ScoreHistogram churn = b.scoreHistograms.get(0);
    List<Long> counts = new java.util.ArrayList<>(java.util.Collections.nCopies(20, 0L));
    counts.set(7, 2000L); // scores in [0.35, 0.45)
    counts.set(8, 900L);
    b.scoreHistograms = List.of(new RunSummary.ScoreHistogram("churn", 0, churn.binEdges(), counts, 0, 0, 0));
    String html = RunReport.html(b.summary());
    String svg = charts(html).get("score-churn-0");
    assertEquals(6, bars(svg), "the two occupied bins and two either side");
    assertTrue(svg.contains("<title>[0.25, 0.3): 0 rows</title>") && svg.contains("<title>[0.35, 0.4): 2,000 rows"));
    assertTrue(html.contains("<figcaption>churn <small>zoomed to the occupied bins</small>"), html);
  }

  @Test
  void withoutABaselineThePageSaysWhy() {
    ExampleSummary first = ExampleSummary.builder();
    first.run = new RunSummary.Run(1, "hdfs:///checkpoints/churn", 3, List.of(), 10, 0, 10, 0);
    String html = RunReport.html(first.summary());
    assertTrue(html.contains("No drift baseline: this is the first run of the checkpoint"), html);
    assertEquals(0, count(html, "<path class=\"baseline\""));
    assertTrue(CAPTION.matcher(html).results().map(m -> m.group(1)).toList().containsAll(ExampleSummary.HEADS));
    ExampleSummary batch = ExampleSummary.builder();
    batch.run = null;
    assertTrue(RunReport.html(batch.summary()).contains("No drift baseline: pass <code>--drift-baseline</code>"));
  }

  @Test
  void aWideHeadShowsItsFirstEightOutputsAndSaysSo() {
    ExampleSummary b = ExampleSummary.builder();
    RunSummary.ScoreHistogram one = b.scoreHistograms.get(0);
    List<RunSummary.ScoreHistogram> wide = new java.util.ArrayList<>();
    for (int k = 0; k < 20; k++) {
      wide.add(new RunSummary.ScoreHistogram("next_item", k, one.binEdges(), one.counts(), 0, 0, 0));
    }
    b.scoreHistograms = wide;
    b.modelCard = new RunSummary.ModelCard(b.modelCard.inputs(), b.modelCard.parts(),
        List.of(new RunSummary.ModelCard.Head("next_item", "Linear(128\u219220) \u2192 softmax", 20)),
        b.modelCard.dtypes(), b.modelCard.parameters());
    String html = RunReport.html(b.summary());
    List<String> names = List.copyOf(charts(html).keySet()).subList(0, RunReport.MAX_OUTPUTS_SHOWN + 1);
    assertEquals("score-next_item-7", names.get(RunReport.MAX_OUTPUTS_SHOWN - 1));
    assertEquals("length-histogram", names.get(RunReport.MAX_OUTPUTS_SHOWN));
    assertTrue(html.contains("<figcaption>next_item \u00b7 output 0 <small>the first 8 of 20 outputs</small>"), html);
  }

  @Test
  void theModelCardSaysWhatRan() {
    String html = RunReport.html(ExampleSummary.build());
    assertTrue(html.contains("<td data-input=\"events\"><code>tokens(vocab=5000, dim=64, padding_idx=0)</code> from "
        + "column <code>tokens</code>"), html);
    assertTrue(html.contains("<td data-input=\"tenure\"><code>static(size=1, after_pooling)</code> from column "
        + "<code>tenure_days</code>"));
    assertTrue(html.contains("<code>GRU(hidden=128, layers=2, unidirectional, bias)</code>"));
    assertTrue(html.contains("<td data-head=\"churn\"><code>Linear(129\u21921) \u2192 sigmoid</code> \u2192 1 output"));
    assertTrue(html.contains("data-key=\"model_card.dtypes\">487,234 parameters, stored as F32, scored in float32<"));
    assertTrue(html.contains("data-key=\"kernels\"><code>gemm openblas SkylakeX"));
  }

  @Test
  void chartsAreWellFormedXml() throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    for (Map.Entry<String, String> c : charts(RunReport.html(hostile())).entrySet()) {
      f.newDocumentBuilder().parse(new ByteArrayInputStream(c.getValue().getBytes(StandardCharsets.UTF_8)));
    }
    for (Map.Entry<String, String> c : charts(RunReport.html(ExampleSummary.build())).entrySet()) {
      f.newDocumentBuilder().parse(new ByteArrayInputStream(c.getValue().getBytes(StandardCharsets.UTF_8)));
    }
  }

  /** Hostile strings wherever the summary holds text that the page shows. */
  static RunSummary hostile() {
    ExampleSummary b = ExampleSummary.builder();
    b.modelHash = "<script>alert('hash')</script>";
    b.modelDir = "/models/\"><img src=x onerror=alert(1)>";
    b.output = "</title><script>alert(2)</script>";
    b.seqpackVersion = "0.1.0' onmouseover='alert(3)";
    Map<String, Long> rejects = new TreeMap<>();
    rejects.put("<b>bold</b>", 3L);
    rejects.put("&amp;", 1L);
    b.rejectsByReason = rejects;
    b.rejectedRows = 4;
    RunSummary.Run run = b.run;
    b.run = new RunSummary.Run(run.id(), run.checkpoint(), 1, List.of("</code><script>alert(4)</script>"),
        run.newRows(), 0, run.totalScoredRows(), run.totalRejectedRows());
    b.settings = new RunSummary.Settings("id", "\"><svg onload=alert(5)>", Map.of("<i>in</i>", "<i>col</i>"),
        List.of("<i>key</i>"), List.of(), false, false, 256, 16384, 1024, "<u>value</u>", 0.01, false,
        Map.of("<b>head</b>", 20), "<i>seen</i>");
    return b.summary();
  }

  @Test
  void stringsFromTheSummaryAreEscaped() {
    String html = RunReport.html(hostile());
    String lower = html.toLowerCase(Locale.ROOT);
    assertFalse(lower.contains("<script"), "no script element at all");
    assertFalse(lower.contains("<img"));
    assertFalse(lower.contains("<b>"));
    assertFalse(lower.contains("<i>"));
    assertFalse(lower.contains("<u>"));
    assertFalse(lower.contains("<svg onload"));
    assertFalse(lower.contains("' onmouseover"));
    assertEquals(1, count(lower, "</title>") - count(lower, "</title></rect>") - count(lower, "</title></line>")
        - count(lower, "</title></circle>") - count(lower, "</title></path>"), "only the page's own <title> closes outside marks");
    assertTrue(html.contains("&lt;script&gt;alert(&#39;hash&#39;)&lt;/script&gt;"));
    assertTrue(html.contains("/models/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assertTrue(html.contains("<tr data-reason=\"&lt;b&gt;bold&lt;/b&gt;\"><td><code>&lt;b&gt;bold&lt;/b&gt;</code></td>"
        + "<td class=\"num\">3</td>"));
    assertTrue(html.contains("data-key=\"settings.seq_col\"><code>&quot;&gt;&lt;svg onload=alert(5)&gt;</code>"));
    assertTrue(html.contains("data-key=\"run.new_files\"><code>&lt;/code&gt;&lt;script&gt;alert(4)"));
    assertTrue(html.contains("&amp;amp;"));
    // the hostile reasons are still their own rows
    assertEquals(2, count(html, "<tr data-reason="));
  }

  @Test
  void selfContainedNoNetworkReferences() {
    for (RunSummary s : List.of(ExampleSummary.build(), hostile(), ExampleSummary.nothingNew())) {
      String lower = RunReport.html(s).toLowerCase(Locale.ROOT);
      assertFalse(lower.contains("http://"), "http:// reference");
      assertFalse(lower.contains("https://"), "https:// reference");
      assertFalse(lower.contains("//cdn"));
      assertFalse(lower.contains("<link"));
      assertFalse(lower.contains("<script"));
      assertFalse(lower.contains("@import"));
      assertFalse(lower.contains("url("));
      assertFalse(lower.contains("<img"));
      assertFalse(lower.contains("<iframe"));
      assertFalse(lower.contains("href="));
      assertTrue(lower.contains("content-security-policy\" content=\"default-src 'none'"));
    }
  }

  @Test
  void absentPartsShowNoDataAndEmptyRejectsSayNoRejects() {
    String html = RunReport.html(ExampleSummary.nothingNew());
    Map<String, String> charts = charts(html);
    assertEquals(List.of("scores", "length-histogram", "bucket-rows", "bucket-tokens", "bucket-fill",
        "throughput"), List.copyOf(charts.keySet()));
    for (Map.Entry<String, String> c : charts.entrySet()) {
      assertEquals(0, bars(c.getValue()));
      assertEquals(0, count(c.getValue(), "<circle class=\"point\""));
      assertTrue(c.getValue().contains(">no data</text>"), c.getValue());
    }
    assertTrue(html.contains("No rejects: every input row was scored."));
    assertTrue(html.contains("data-key=\"mean_batch_fill\">\u2014"));
    assertTrue(html.contains("data-key=\"model_hash\">\u2014"));
    assertTrue(html.contains("data-key=\"input_rows\">0<"));

    ExampleSummary b = ExampleSummary.builder();
    b.rejectsByReason = Map.of();
    b.rejectedRows = 0;
    b.lengthHistogram = new RunSummary.LengthHistogram(List.of(1L), List.of()); // no bins
    b.run = null;
    b.settings = new RunSummary.Settings("id", null, Map.of(), List.of(), List.of(), false, false, 0, 16384, 256,
        "local[2]", 1.0, false, Map.of(), null); // no --seq-col
    String page = RunReport.html(b.summary());
    assertTrue(page.contains("No rejects: every input row was scored."));
    assertTrue(charts(page).get("length-histogram").contains(">no data</text>"));
    assertFalse(page.contains("data-key=\"run.id\""), "no run rows for a non-incremental run");
    assertEquals(ExampleSummary.BUCKET_RANGES.length, bars(charts(page).get("bucket-rows")));
    assertFalse(page.contains("settings.seq_col"), "a setting not given is not listed");
    assertFalse(page.contains("settings.columns"), "nor an empty one");
  }

  @Test
  void boundariesOutsideTheHistogramAreLeftOut() {
    ExampleSummary b = ExampleSummary.builder();
    List<RunSummary.Bucket> buckets = new java.util.ArrayList<>(b.buckets);
    RunSummary.Bucket last = buckets.get(4);
    // the catch-all bucket up to --max-length
    buckets.set(4, new RunSummary.Bucket(last.minLength(), 100_000L, last.rows(), last.tokens(), last.batches(),
        last.paddedSlots()));
    b.buckets = buckets;
    String svg = charts(RunReport.html(b.summary())).get("length-histogram");
    assertEquals(ExampleSummary.BUCKET_RANGES.length - 1, count(svg, "<line class=\"boundary\""));
  }

  @Test
  void writeReadsTheSummaryAndWritesTheReportNextToIt() throws Exception {
    RunSummary s = ExampleSummary.build();
    Files.writeString(tmp.resolve(RunSummary.FILE), s.toJson());
    Path report = RunReport.write(tmp);
    assertEquals(tmp.resolve("_seqpack_report.html"), report);
    // read back from the file, the page is the same as from the job's own record
    assertEquals(RunReport.html(s), Files.readString(report));
    assertFalse(Files.exists(tmp.resolve(RunReport.REPORT_FILE + ".tmp")));
    // rewriting replaces it
    ExampleSummary b = ExampleSummary.builder();
    b.batches = 1;
    Files.writeString(tmp.resolve(RunSummary.FILE), b.summary().toJson());
    RunReport.write(tmp);
    assertTrue(Files.readString(report).contains("data-key=\"batches\">1<"));
  }

  @Test
  void writeErrorsAreOneLine() throws Exception {
    Path summary = tmp.resolve(RunSummary.FILE);
    Path missingDir = tmp.resolve("nope");
    SeqpackException e = assertThrows(SeqpackException.class, () -> RunReport.write(missingDir));
    assertEquals("Cannot read summary " + missingDir.resolve(RunSummary.FILE) + ": " + missingDir
        + " does not exist", e.getMessage());

    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + summary + ": no such file"), e.getMessage());

    Files.writeString(summary, "{\"input_rows\": 12,}");
    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + summary + ": malformed JSON (line 1, column 19): "),
        e.getMessage());

    Files.writeString(summary, "[1, 2]");
    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertEquals("Cannot read summary " + summary + ": the top level: [1,2], expected an object",
        e.getMessage());

    // a missing value: the codec names it (RunSummaryTest has the others)
    Files.writeString(summary, ExampleSummary.build().toJson()
        .replaceFirst("(\"throughput\": \\[\\{[^}]*\"rows\": \\d+),\\s*\"tokens\": \\d+", "$1"));
    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertEquals("Cannot read summary " + summary + ": throughput[0].tokens: missing",
        e.getMessage());
    assertFalse(Files.exists(tmp.resolve(RunReport.REPORT_FILE)));
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertEquals(1, t.getMessage().lines().count());
    }
  }

  /** ReportCommand is package-private in io.seqpack.cli; Main wires it in. */
  @Test
  void reportCommandPrintsThePath() throws Exception {
    Class<?> cmd = Class.forName("io.seqpack.cli.ReportCommand");
    Method run = cmd.getDeclaredMethod("run", String[].class, PrintStream.class);
    run.setAccessible(true);
    java.lang.reflect.Field help = cmd.getDeclaredField("HELP");
    help.setAccessible(true);
    assertTrue(((String) help.get(null)).startsWith("Usage: seqpack report OUTPUT_DIR"));

    Files.writeString(tmp.resolve(RunSummary.FILE), ExampleSummary.build().toJson());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    run.invoke(null, new String[] {tmp.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8));
    assertEquals(tmp.resolve(RunReport.REPORT_FILE).toString(), out.toString(StandardCharsets.UTF_8).strip());
    assertTrue(Files.size(tmp.resolve(RunReport.REPORT_FILE)) > 10_000);

    out.reset();
    run.invoke(null, new String[] {tmp.toUri().toString()}, new PrintStream(out, true, StandardCharsets.UTF_8));
    assertEquals(tmp.resolve(RunReport.REPORT_FILE).toString(), out.toString(StandardCharsets.UTF_8).strip());

    for (String[] argv : new String[][] {{}, {"a", "b"}, {"hdfs:///scores/x"}, {"--nope", "x"}}) {
      InvocationTargetException ite =
          assertThrows(InvocationTargetException.class, () -> run.invoke(null, argv, System.out));
      assertTrue(ite.getCause() instanceof SeqpackException, String.valueOf(ite.getCause()));
    }
    InvocationTargetException ite = assertThrows(InvocationTargetException.class,
        () -> run.invoke(null, new String[] {"hdfs:///scores/x"}, System.out));
    assertEquals("Cannot read output folder hdfs:///scores/x: seqpack report reads local folders only; copy "
        + "_seqpack_summary.json to a local folder first", ite.getCause().getMessage());
  }
}
