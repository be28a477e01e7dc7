package io.seqpack.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.SeqpackException;
import io.seqpack.util.Json;
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

  private static String fmt(Object n) {
    return String.format(Locale.ROOT, "%,d", ((Number) n).longValue());
  }

  @Test
  void keyFiguresComeFromTheSummary() {
    Map<String, Object> s = ExampleSummary.build();
    String html = RunReport.html(s);
    for (String key : List.of("input_rows", "scored_rows", "rejected_rows", "tokens_scored", "batches")) {
      assertTrue(html.contains("data-key=\"" + key + "\">" + fmt(s.get(key))), key + " = " + fmt(s.get(key)));
    }
    assertTrue(html.contains("data-key=\"mean_batch_fill\">" + s.get("mean_batch_fill")), html);
    assertTrue(html.contains("data-key=\"wall_seconds\">93.418 s"));
    String tps = String.format(Locale.ROOT, "%,.3f", (Double) s.get("tokens_per_second")).replaceAll("0+$", "");
    assertTrue(html.contains("data-key=\"tokens_per_second\">" + tps), tps);
    assertTrue(html.contains("data-key=\"model_hash\"><code>" + s.get("model_hash") + "</code>"));
    assertTrue(html.contains("data-key=\"seqpack_version\"><code>0.1.0</code>"));
    @SuppressWarnings("unchecked")
    Map<String, Object> run = (Map<String, Object>) s.get("run");
    assertTrue(html.contains("data-key=\"run.id\"><code>nightly-2025-03-14T02:00:00Z</code>"));
    assertTrue(html.contains("data-key=\"run.new_files\">3<"));
    assertTrue(html.contains("data-key=\"run.new_rows\">" + fmt(run.get("new_rows"))));
    assertTrue(html.contains("data-key=\"run.incremental\"><code>yes</code>"));
    assertTrue(html.contains("<code>hdfs:///data/events/2025-03-14</code>"), "input path in the details");
    assertTrue(html.contains("data-key=\"settings.batch_tokens\"><code>16,384</code>"));
  }

  @Test
  void eachChartHasOneMarkPerDatum() {
    String html = RunReport.html(ExampleSummary.build());
    Map<String, String> charts = charts(html);
    assertEquals(List.of("length-histogram", "bucket-rows", "bucket-tokens", "bucket-fill", "throughput", "rejects",
        "score-0", "score-1"), List.copyOf(charts.keySet()));
    int buckets = ExampleSummary.BUCKET_RANGES.length;
    assertEquals(ExampleSummary.LENGTH_BINS, bars(charts.get("length-histogram")));
    assertEquals(buckets, count(charts.get("length-histogram"), "<line class=\"boundary\""));
    assertEquals(buckets, bars(charts.get("bucket-rows")));
    assertEquals(buckets, bars(charts.get("bucket-tokens")));
    assertEquals(buckets, bars(charts.get("bucket-fill")));
    assertEquals(ExampleSummary.THROUGHPUT_POINTS, count(charts.get("throughput"), "<circle class=\"point\""));
    assertEquals(1, count(charts.get("throughput"), "<polyline class=\"series\""));
    assertEquals(0, bars(charts.get("throughput")));
    assertEquals(4, bars(charts.get("rejects")));
    assertEquals(ExampleSummary.SCORE_BINS, bars(charts.get("score-0")));
    assertEquals(ExampleSummary.SCORE_BINS, bars(charts.get("score-1")));
    // exact values in the marks' tooltips; fill is tokens / padded_slots
    assertTrue(charts.get("rejects").contains("<title>TOO_LONG: 120 rows</title>"));
    assertTrue(charts.get("length-histogram").contains("<title>bucket 1 ends at length 16</title>"));
    assertTrue(charts.get("length-histogram").contains(">\u226416</text>"));
    @SuppressWarnings("unchecked")
    Map<String, Object> b0 = (Map<String, Object>) ((List<?>) ExampleSummary.build().get("buckets")).get(0);
    double fill = ((Number) b0.get("tokens")).doubleValue() / ((Number) b0.get("padded_slots")).doubleValue();
    assertTrue(charts.get("bucket-fill").contains(String.format(Locale.ROOT, "= %.1f%%</title>", fill * 100)));
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

  static Map<String, Object> hostile() {
    Map<String, Object> s = ExampleSummary.build();
    s.put("model_hash", "<script>alert('hash')</script>");
    s.put("model_dir", "/models/\"><img src=x onerror=alert(1)>");
    s.put("output", "</title><script>alert(2)</script>");
    s.put("seqpack_version", "0.1.0' onmouseover='alert(3)");
    Map<String, Object> rejects = new TreeMap<>();
    rejects.put("<b>bold</b>", 3L);
    rejects.put("&amp;", 1L);
    s.put("rejects_by_reason", rejects);
    @SuppressWarnings("unchecked")
    Map<String, Object> run = (Map<String, Object>) s.get("run");
    run.put("id", "</code><script>alert(4)</script>");
    @SuppressWarnings("unchecked")
    Map<String, Object> h = (Map<String, Object>) ((List<?>) s.get("score_histograms")).get(1);
    h.put("feature", "\"><svg onload=alert(5)>");
    @SuppressWarnings("unchecked")
    Map<String, Object> settings = (Map<String, Object>) s.get("settings");
    settings.put("<i>key</i>", "<u>value</u>");
    return s;
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
        - count(lower, "</title></circle>"), "only the page's own <title> closes outside marks");
    assertTrue(html.contains("&lt;script&gt;alert(&#39;hash&#39;)&lt;/script&gt;"));
    assertTrue(html.contains("/models/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assertTrue(html.contains("&lt;b&gt;bold&lt;/b&gt;: 3 rows"));
    assertTrue(html.contains("data-chart=\"score-&quot;&gt;&lt;svg onload=alert(5)&gt;\""));
    assertTrue(html.contains("&amp;amp;"));
    // the hostile feature name is still its own chart with its bars
    assertEquals(ExampleSummary.SCORE_BINS, bars(charts(html).get("score-&quot;&gt;&lt;svg onload=alert(5)&gt;")));
  }

  @Test
  void selfContainedNoNetworkReferences() {
    for (Map<String, Object> s : List.of(ExampleSummary.build(), hostile(), new LinkedHashMap<String, Object>())) {
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
  void absentKeysShowNoDataAndEmptyRejectsSayNoRejects() {
    String html = RunReport.html(new LinkedHashMap<>());
    Map<String, String> charts = charts(html);
    assertEquals(List.of("length-histogram", "bucket-rows", "bucket-tokens", "bucket-fill", "throughput", "rejects",
        "scores"), List.copyOf(charts.keySet()));
    for (String svg : charts.values()) {
      assertEquals(0, bars(svg));
      assertEquals(0, count(svg, "<circle class=\"point\""));
      assertTrue(svg.contains(">no data</text>"), svg);
    }
    assertTrue(html.contains("data-key=\"input_rows\">\u2014"));

    Map<String, Object> s = ExampleSummary.build();
    s.put("rejects_by_reason", new TreeMap<String, Object>());
    s.put("rejected_rows", 0L);
    s.remove("length_histogram");
    s.remove("run");
    String page = RunReport.html(s);
    String rejects = charts(page).get("rejects");
    assertEquals(0, bars(rejects));
    assertTrue(rejects.contains(">no rejects</text>"));
    assertTrue(charts(page).get("length-histogram").contains(">no data</text>"));
    assertFalse(page.contains("data-key=\"run.id\""), "no run rows for a non-incremental run");
    assertEquals(ExampleSummary.BUCKET_RANGES.length, bars(charts(page).get("bucket-rows")));
  }

  @Test
  void boundariesOutsideTheHistogramAreLeftOut() {
    Map<String, Object> s = ExampleSummary.build();
    @SuppressWarnings("unchecked")
    Map<String, Object> last = (Map<String, Object>) ((List<?>) s.get("buckets")).get(4);
    last.put("max_length", 100_000L); // the catch-all bucket up to --max-length
    String svg = charts(RunReport.html(s)).get("length-histogram");
    assertEquals(ExampleSummary.BUCKET_RANGES.length - 1, count(svg, "<line class=\"boundary\""));
  }

  @Test
  void malformedSummaryIsAOneLineError() {
    Map<String, Object> s = ExampleSummary.build();
    s.put("buckets", "five");
    SeqpackException e = assertThrows(SeqpackException.class, () -> RunReport.html(s));
    assertEquals("Cannot render run report: buckets is a string, expected an array", e.getMessage());

    Map<String, Object> s2 = ExampleSummary.build();
    @SuppressWarnings("unchecked")
    Map<String, Object> h = (Map<String, Object>) s2.get("length_histogram");
    ((List<?>) h.get("bin_edges")).remove(0);
    e = assertThrows(SeqpackException.class, () -> RunReport.html(s2));
    assertEquals("Cannot render run report: length_histogram has 32 bin_edges for 32 counts; expected one more "
        + "edge than counts", e.getMessage());

    Map<String, Object> s3 = ExampleSummary.build();
    @SuppressWarnings("unchecked")
    Map<String, Object> b = (Map<String, Object>) ((List<?>) s3.get("buckets")).get(2);
    b.put("rows", "many");
    e = assertThrows(SeqpackException.class, () -> RunReport.html(s3));
    assertEquals("Cannot render run report: buckets[2].rows is a string, expected a number", e.getMessage());

    Map<String, Object> s4 = ExampleSummary.build();
    s4.put("wall_seconds", Double.POSITIVE_INFINITY);
    e = assertThrows(SeqpackException.class, () -> RunReport.html(s4));
    assertEquals("Cannot render run report: wall_seconds is not a finite number", e.getMessage());
  }

  @Test
  void writeReadsTheSummaryAndWritesTheReportNextToIt() throws Exception {
    Map<String, Object> s = ExampleSummary.build();
    Files.writeString(tmp.resolve(RunReport.SUMMARY_FILE), Json.writePretty(s));
    Path report = RunReport.write(tmp);
    assertEquals(tmp.resolve("_seqpack_report.html"), report);
    // parsed back from JSON, the page is the same as from the job's own map
    assertEquals(RunReport.html(s), Files.readString(report));
    assertFalse(Files.exists(tmp.resolve(RunReport.REPORT_FILE + ".tmp")));
    // rewriting replaces it
    s.put("batches", 1L);
    Files.writeString(tmp.resolve(RunReport.SUMMARY_FILE), Json.writePretty(s));
    RunReport.write(tmp);
    assertTrue(Files.readString(report).contains("data-key=\"batches\">1<"));
  }

  @Test
  void writeErrorsAreOneLine() throws Exception {
    Path missingDir = tmp.resolve("nope");
    SeqpackException e = assertThrows(SeqpackException.class, () -> RunReport.write(missingDir));
    assertEquals("Cannot read summary " + missingDir.resolve(RunReport.SUMMARY_FILE) + ": " + missingDir
        + " does not exist", e.getMessage());

    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + tmp.resolve(RunReport.SUMMARY_FILE)
        + ": no such file"), e.getMessage());

    Files.writeString(tmp.resolve(RunReport.SUMMARY_FILE), "{\"input_rows\": 12,}");
    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertTrue(e.getMessage().startsWith("Cannot read summary " + tmp.resolve(RunReport.SUMMARY_FILE)
        + ": malformed JSON: "), e.getMessage());

    Files.writeString(tmp.resolve(RunReport.SUMMARY_FILE), "[1, 2]");
    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertEquals("Cannot read summary " + tmp.resolve(RunReport.SUMMARY_FILE)
        + ": malformed JSON: expected a JSON object at the top level", e.getMessage());

    Files.writeString(tmp.resolve(RunReport.SUMMARY_FILE), "{\"throughput\": [{\"seconds\": 1}]}");
    e = assertThrows(SeqpackException.class, () -> RunReport.write(tmp));
    assertEquals("Cannot render run report from " + tmp.resolve(RunReport.SUMMARY_FILE)
        + ": throughput[0].tokens is missing", e.getMessage());
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

    Files.writeString(tmp.resolve(RunReport.SUMMARY_FILE), Json.writePretty(ExampleSummary.build()));
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
