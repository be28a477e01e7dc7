package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as users meet it: exit statuses, one-line errors, and the demo. Runs Main in-process. */
class MainIT {
  private static final Path MODEL = Path.of("src/test/resources/golden/gru");
  @TempDir static Path tmp;
  private static String tokensInput;

  record Result(int status, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @BeforeAll
  static void writeInputs() {
    tokensInput = tmp.resolve("tokens").toString();
    Result r = run("demo", "--dir", tmp.resolve("demo-for-input").toString(), "--master", "local[1]");
    assertEquals(0, r.status(), r.err());
    tokensInput = tmp.resolve("demo-for-input/input.parquet").toString();
  }

  private static void assertOneLineError(Result r, int status, String expected) {
    assertEquals(status, r.status(), "stdout: " + r.out() + "\nstderr: " + r.err());
    String lastLine = r.err().strip().lines().reduce((a, b) -> b).orElse("");
    assertEquals(expected, lastLine);
  }

  @Test
  void demoPrintsShapeAndMatchesPyTorch() {
    Result r = run("demo", "--dir", tmp.resolve("demo").toString(), "--master", "local[2]");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("predictions: shape [4, 1]"), r.out());
    // id, sequence, length, seqpack, PyTorch h_n, tutorial value
    Pattern row = Pattern.compile("(?m)^(\\d)\\s+\\[[0-9, ]+\\]\\s+(\\d)\\s+(-?[0-9.]+)\\s+(-?[0-9.]+)\\s+(-?[0-9.]+)\\s+(.*)$");
    Matcher m = row.matcher(r.out());
    int rows = 0;
    int wrongInTutorial = 0;
    while (m.find()) {
      rows++;
      double seqpack = Double.parseDouble(m.group(3));
      double torch = Double.parseDouble(m.group(4));
      assertEquals(torch, seqpack, 1e-5, "row " + m.group(1));
      if (m.group(6).startsWith("<- padding")) {
        wrongInTutorial++;
        assertTrue(Math.abs(Double.parseDouble(m.group(5)) - torch) > 1e-3, "the pitfall value differs");
      }
    }
    assertEquals(4, rows, r.out());
    assertEquals(3, wrongInTutorial, r.out());
  }

  @Test
  void wrongSchemaIsOneLineAndExitTwo() {
    Result r = run("score", "--input", tokensInput, "--model", MODEL.toString(), "--output",
        tmp.resolve("o-schema").toString(), "--seq-col", "id", "--master", "local[1]");
    assertOneLineError(r, 2, "seqpack: error: Cannot score column 'id': its type is bigint, but the model takes "
        + "token ids, so expected array<int> or array<bigint> (use --seq-col or --col to pick another column)");
  }

  @Test
  void missingColumnListsAvailableOnes() {
    Result r = run("score", "--input", tokensInput, "--model", MODEL.toString(), "--output",
        tmp.resolve("o-col").toString(), "--seq-col", "tokens", "--master", "local[1]");
    assertOneLineError(r, 2, "seqpack: error: Cannot find column 'tokens' (--seq-col) in the input; available "
        + "columns: id, seq");
  }

  @Test
  void missingModelNamesTheDirectory() {
    Path missing = tmp.resolve("no-such-model");
    Result r = run("score", "--input", tokensInput, "--model", missing.toString(), "--output",
        tmp.resolve("o-model").toString(), "--master", "local[1]");
    assertEquals(2, r.status());
    assertTrue(r.err().startsWith("seqpack: error: ") && r.err().contains(missing.toString()), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  @Test
  void malformedModelJsonIsOneLine() throws Exception {
    Path model = Files.createDirectories(tmp.resolve("bad-model"));
    Files.copy(MODEL.resolve("model.safetensors"), model.resolve("model.safetensors"));
    Files.writeString(model.resolve("model.json"), "{\"format\": \"seqpack-model/1\", ");
    Result r = run("score", "--input", tokensInput, "--model", model.toString(), "--output",
        tmp.resolve("o-bad").toString(), "--master", "local[1]");
    assertEquals(2, r.status());
    assertTrue(r.err().startsWith("seqpack: error: Cannot read model.json"), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }

  @Test
  void existingOutputIsRefusedUnlessOverwrite() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("existing"));
    Result r = run("score", "--input", tokensInput, "--model", MODEL.toString(), "--output", out.toString(),
        "--master", "local[1]");
    assertOneLineError(r, 2, "seqpack: error: Cannot write --output " + out
        + ": it already exists (use --mode overwrite to replace it)");
    Result ok = run("score", "--input", tokensInput, "--model", MODEL.toString(), "--output", out.toString(),
        "--mode", "overwrite", "--master", "local[1]");
    assertEquals(0, ok.status(), ok.err());
    assertTrue(ok.out().contains("\"scored_rows\": 4"), ok.out());
  }

  @Test
  void missingInputAndBadFlagsAreOneLine() {
    Result r = run("score", "--input", tmp.resolve("nope").toString(), "--model", MODEL.toString(), "--output",
        tmp.resolve("o-in").toString(), "--master", "local[1]");
    assertEquals(2, r.status());
    assertTrue(r.err().startsWith("seqpack: error: Cannot read input " + tmp.resolve("nope")), r.err());
    assertOneLineError(run("score", "--input", "x", "--frobnicate", "1"), 2,
        "seqpack: error: Unknown flag --frobnicate for seqpack score (see seqpack score --help)");
    assertOneLineError(run("score", "--input", "x", "--model", "m", "--output", "o", "--batch-tokens", "zero"), 2,
        "seqpack: error: Invalid --batch-tokens 'zero': expected an integer");
    assertOneLineError(run("score", "--model", "m"), 2,
        "seqpack: error: Missing required flag --input (see seqpack score --help)");
  }

  /** --top-k refusals: one line, exit 2, before any task runs. */
  @Test
  void topKRefusalsAreOneLine() {
    String softmax3 = "src/test/resources/golden/lstm_max_softmax";
    assertOneLineError(run("score", "--input", tokensInput, "--model", softmax3, "--output",
        tmp.resolve("o-top0").toString(), "--top-k", "0", "--master", "local[1]"), 2,
        "seqpack: error: Invalid --top-k 0: expected K >= 1");
    assertOneLineError(run("score", "--input", tokensInput, "--model", softmax3, "--output",
        tmp.resolve("o-top4").toString(), "--top-k", "4", "--master", "local[1]"), 2,
        "seqpack: error: Cannot take the top 4 of head 'scores' (--top-k): it has 3 outputs");
    assertOneLineError(run("score", "--input", tokensInput, "--model", MODEL.toString(), "--output",
        tmp.resolve("o-top-w1").toString(), "--top-k", "scores=1", "--master", "local[1]"), 2,
        "seqpack: error: Cannot take the top 1 of head 'scores' (--top-k): it has 1 output; top-k needs a head of 2 "
            + "or more outputs");
    assertOneLineError(run("score", "--input", tokensInput, "--model", "src/test/resources/golden/graph/c_sensor_gru",
        "--output", tmp.resolve("o-top-seen").toString(), "--top-k", "1", "--top-k-exclude-seen", "vib",
        "--master", "local[1]"), 2,
        "seqpack: error: Invalid --top-k-exclude-seen vib: it is a features input; the items a row has seen are the "
            + "ids of a tokens input");
  }

  @Test
  void helpAndInspectModel() {
    for (String command : new String[] {"score", "demo", "inspect-model", "report"}) {
      Result r = run(command, "--help");
      assertEquals(0, r.status());
      assertTrue(r.out().startsWith("Usage: seqpack " + command), r.out());
    }
    Result inspect = run("inspect-model", MODEL.toString());
    assertEquals(0, inspect.status(), inspect.err());
    assertTrue(inspect.out().contains("rnn.weight_hh_l0"), inspect.out());
    assertTrue(inspect.out().contains("OK: the model is valid"), inspect.out());
  }

  @Test
  void incrementalRunsSayWhatTheyDidAndBadCombinationsAreOneLine() throws Exception {
    Path landing = Files.createDirectories(tmp.resolve("landing"));
    try (var files = Files.list(Path.of(tokensInput))) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList()) {
        Files.copy(f, landing.resolve(f.getFileName()));
      }
    }
    String out = tmp.resolve("nightly").toString();
    String[] nightly = {"score", "--incremental", "--checkpoint", tmp.resolve("nightly-cp").toString(), "--input",
        landing.toString(), "--model", MODEL.toString(), "--output", out, "--master", "local[1]"};
    Result first = run(nightly);
    assertEquals(0, first.status(), first.err());
    assertTrue(Pattern.compile("(?m)^seqpack: run 1: \\d+ new files?, 4 new rows: scored 4, rejected 0 "
        + "\\(accounting check ok\\)$").matcher(first.out()).find(), first.out());
    String summary = Files.readString(Path.of(out, "_seqpack_summary.json"));
    String reportHtml = Files.readString(Path.of(out, "_seqpack_report.html"));
    Result second = run(nightly);
    assertEquals(0, second.status(), second.err());
    assertTrue(Pattern.compile("seqpack: nothing new since run 1 of \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d; outputs "
        + "unchanged\n").matcher(second.out()).matches(), second.out());
    assertEquals(summary, Files.readString(Path.of(out, "_seqpack_summary.json")), "run 1's summary, untouched");
    assertEquals(reportHtml, Files.readString(Path.of(out, "_seqpack_report.html")), "run 1's report, untouched");
    Result report = run("report", out);
    assertEquals(0, report.status(), report.err());

    assertOneLineError(run("score", "--incremental", "--input", "i", "--model", "m", "--output", "o"), 2,
        "seqpack: error: Missing --checkpoint DIR: --incremental needs a folder that records which input files "
            + "earlier runs scored (see seqpack score --help)");
    assertOneLineError(run("score", "--incremental", "--checkpoint", "c", "--mode", "overwrite", "--input", "i",
        "--model", "m", "--output", "o"), 2, "seqpack: error: Cannot combine --mode overwrite with --incremental: to "
        + "rescore everything, use a new --checkpoint with new --output and --rejects folders (or delete all three)");
    assertOneLineError(run("score", "--checkpoint", "c", "--input", "i", "--model", "m", "--output", "o"), 2,
        "seqpack: error: Invalid --checkpoint without --incremental: a batch run scores the whole input (add "
            + "--incremental to score only new files)");
    Result partition = run("score", "--input", tokensInput, "--model", MODEL.toString(), "--output",
        tmp.resolve("o-part").toString(), "--partition-by", "day", "--master", "local[1]");
    assertOneLineError(partition, 2,
        "seqpack: error: Cannot find column 'day' (--partition-by) in the input; available columns: id, seq");
  }
}
