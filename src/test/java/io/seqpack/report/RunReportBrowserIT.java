package io.seqpack.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.seqpack.summary.ExampleSummary;
import io.seqpack.summary.RunSummary;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report as a browser shows it: headless Chromium renders the example page, the DOM it built has the
 * expected marks, nothing is logged to the page's console (no script errors, no blocked loads), and a
 * screenshot is a real picture. Skipped when Chromium is not installed.
 *
 * <p>{@code -Dseqpack.report.example=docs/report-example.png} also saves the screenshot there (how the
 * picture in docs/ is made).
 */
class RunReportBrowserIT {
  static final Path CHROMIUM = Path.of(System.getProperty("seqpack.chromium", "/usr/bin/chromium"));
  static final long TIMEOUT_SECONDS = 120;
  static final int WIDTH = 1200;
  static final int HEIGHT = 3000;

  @TempDir Path tmp;

  /** Per test (not @BeforeAll) so that each test is reported as skipped, with this message. */
  @BeforeEach
  void needChromium() {
    assumeTrue(Files.isExecutable(CHROMIUM), "SKIPPED: " + CHROMIUM + " is absent, so the report is not rendered "
        + "in a browser (install it with: apt-get install -y chromium)");
  }

  record Run(String stdout, List<String> stderr) {
    /** Lines Chromium logs for the page's console: script errors, CSP violations, console.* calls. */
    List<String> consoleLines() {
      List<String> out = new ArrayList<>();
      for (String line : stderr) {
        if (line.contains(":CONSOLE") || line.contains("Uncaught")) {
          out.add(line);
        }
      }
      return out;
    }
  }

  /** Runs headless Chromium on a local file with a fresh profile and a time limit. */
  Run chromium(Path page, String... mode) throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory(tmp, "profile");
    Path out = Files.createTempFile(tmp, "chromium", ".out");
    Path err = Files.createTempFile(tmp, "chromium", ".err");
    List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
        "--window-size=" + WIDTH + "," + HEIGHT, "--enable-logging=stderr", "--v=0"));
    cmd.addAll(List.of(mode));
    cmd.add(page.toUri().toString());
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail("chromium did not finish within " + TIMEOUT_SECONDS + " s: " + String.join(" ", cmd));
    }
    List<String> stderr = Files.readAllLines(err, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "chromium failed: " + String.join(" ", cmd) + "\n" + String.join("\n", stderr));
    return new Run(Files.readString(out, StandardCharsets.UTF_8), stderr);
  }

  private Path page(String html) throws IOException {
    Path dir = Files.createTempDirectory(tmp, "page");
    Path file = dir.resolve(RunReport.REPORT_FILE);
    Files.writeString(file, html, StandardCharsets.UTF_8);
    return file;
  }

  /** The console check must be able to fail: a page with a script error is caught. */
  @Test
  void consoleCheckSeesScriptErrors() throws Exception {
    Run run = chromium(page("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>x</title></head><body>"
        + "<p>x</p><script>nosuchFunction();</script></body></html>"), "--dump-dom");
    assertTrue(run.consoleLines().stream().anyMatch(l -> l.contains("Uncaught ReferenceError")),
        "chromium did not log the page's script error to stderr; the console check would be blind:\n"
            + String.join("\n", run.stderr()));
  }

  @Test
  void domHasTheChartsAndTheConsoleStaysQuiet() throws Exception {
    Run run = chromium(page(RunReport.html(RunReportTest.hostile())), "--dump-dom");
    assertEquals(List.of(), run.consoleLines(), "console output of the report page");
    String dom = run.stdout();
    assertTrue(dom.contains("<svg data-chart=\"length-histogram\""), dom.length() > 2000 ? "no chart" : dom);
    Map<String, String> charts = RunReportTest.charts(dom);
    assertEquals(ExampleSummary.LENGTH_BINS, RunReportTest.bars(charts.get("length-histogram")));
    assertEquals(ExampleSummary.BUCKET_RANGES.length,
        RunReportTest.count(charts.get("length-histogram"), "<line class=\"boundary\""));
    for (String c : List.of("bucket-rows", "bucket-tokens", "bucket-fill")) {
      assertEquals(ExampleSummary.BUCKET_RANGES.length, RunReportTest.bars(charts.get(c)), c);
    }
    assertEquals(ExampleSummary.THROUGHPUT_POINTS,
        RunReportTest.count(charts.get("throughput"), "<circle class=\"point\""));
    assertEquals(2, RunReportTest.count(dom, "<tr data-reason="), "the hostile reasons are rows of the rejects table");
    assertEquals(ExampleSummary.SCORE_BINS, RunReportTest.bars(charts.get("score-churn-0")));
    assertEquals(ExampleSummary.SCORE_BINS, RunReportTest.bars(charts.get("score-value-0")));
    assertEquals(7, charts.size(), charts.keySet().toString());
    // the hostile strings stayed text
    assertTrue(dom.contains("&lt;svg onload=alert(5)&gt;"), "hostile setting shown as text");
    assertFalse(dom.toLowerCase(java.util.Locale.ROOT).contains("<script"));
    assertFalse(dom.contains("<img"));
    assertTrue(dom.contains("&lt;script&gt;alert('hash')&lt;/script&gt;"), "model hash shown as text");
  }

  /** A two-head model with rejects and a drift baseline, as the browser built the page. */
  @Test
  void headsRejectsAndBaselineAreOnThePage() throws Exception {
    RunSummary summary = ExampleSummary.withBaseline();
    Run run = chromium(page(RunReport.html(summary)), "--dump-dom");
    assertEquals(List.of(), run.consoleLines());
    String dom = run.stdout();
    Map<String, String> charts = RunReportTest.charts(dom);
    for (String head : ExampleSummary.HEADS) {
      assertTrue(dom.contains("<figcaption>" + head + " \u2014 PSI "), head + " titled by its name");
      assertEquals(1, RunReportTest.count(charts.get("score-" + head + "-0"), "<path class=\"baseline\""));
    }
    for (Map.Entry<String, List<String>> e : summary.rejectExamples().entrySet()) {
      int row = dom.indexOf("<tr data-reason=\"" + e.getKey() + "\">");
      assertTrue(row >= 0, e.getKey());
      String tr = dom.substring(row, dom.indexOf("</tr>", row));
      assertTrue(tr.contains(String.format(java.util.Locale.ROOT, "%,d", summary.rejectsByReason().get(e.getKey()))));
      e.getValue().forEach(id -> assertTrue(tr.contains("<code class=\"example\">" + id + "</code>"), id + " in " + tr));
    }
    assertTrue(dom.contains("data-key=\"status\">\u2713 ok"));
    assertTrue(dom.contains("data-key=\"command_line\"><code>seqpack score --incremental"));
  }

  @Test
  void emptySummaryRendersQuietly() throws Exception {
    Run run = chromium(page(RunReport.html(ExampleSummary.nothingNew())), "--dump-dom");
    assertEquals(List.of(), run.consoleLines());
    Map<String, String> charts = RunReportTest.charts(run.stdout());
    assertEquals(6, charts.size(), charts.keySet().toString());
    charts.values().forEach(svg -> assertEquals(0, RunReportTest.bars(svg)));
  }

  @Test
  void screenshotIsARealPicture() throws Exception {
    Path png = tmp.resolve("report.png");
    Run run = chromium(page(RunReport.html(ExampleSummary.withBaseline())), "--screenshot=" + png);
    assertEquals(List.of(), run.consoleLines(), "console output of the report page");
    assertTrue(Files.isRegularFile(png), "no screenshot written:\n" + String.join("\n", run.stderr()));
    assertTrue(Files.size(png) > 50_000, "screenshot is only " + Files.size(png) + " bytes");
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(WIDTH, image.getWidth());
    assertEquals(HEIGHT, image.getHeight());
    Set<Integer> colors = new HashSet<>();
    int background = image.getRGB(WIDTH - 1, HEIGHT - 1);
    long differ = 0;
    for (int y = 0; y < HEIGHT; y += 2) {
      for (int x = 0; x < WIDTH; x += 2) {
        int rgb = image.getRGB(x, y);
        colors.add(rgb);
        if (rgb != background) {
          differ++;
        }
      }
    }
    assertTrue(colors.size() > 50, "only " + colors.size() + " colors");
    double share = differ / (WIDTH / 2.0 * HEIGHT / 2.0);
    assertTrue(share > 0.2, "only " + share + " of the pixels differ from the background");
    // the bar colours of the charts are there (blue bars, green token bars, red bucket bounds)
    assertTrue(colors.contains(0xFF4E79A7) && colors.contains(0xFF59A14F) && colors.contains(0xFFE15759),
        "bar colours missing from the screenshot");

    String example = System.getProperty("seqpack.report.example", "");
    if (!example.isBlank()) {
      Path target = Path.of(example);
      if (target.getParent() != null) {
        Files.createDirectories(target.getParent());
      }
      Files.copy(png, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
