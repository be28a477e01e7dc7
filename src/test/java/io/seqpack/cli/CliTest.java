package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.job.ScoreJob;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.OptionSpec;

/** Parsing, --config, --help and the one-line errors of every command; nothing here starts Spark. */
class CliTest {
  @TempDir Path tmp;

  record Result(int status, String out, String err) {}

  static Result main(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static void assertError(String expected, String... args) {
    Result r = main(args);
    assertEquals(2, r.status(), "stdout: " + r.out() + "\nstderr: " + r.err());
    assertEquals("seqpack: error: " + expected + "\n", r.err());
    assertEquals("", r.out());
  }

  private static ScoreCommand score(String... args) {
    ScoreCommand command = new ScoreCommand();
    Cli.Parsed parsed = Cli.parse(command, args);
    if (parsed.error() != null) {
      throw parsed.error();
    }
    return command;
  }

  private static final String[] REQUIRED = {"--input", "in", "--model", "m", "--output", "out"};

  /** The required flags and {@code more}. */
  private static String[] with(String... more) {
    String[] all = new String[REQUIRED.length + more.length];
    System.arraycopy(REQUIRED, 0, all, 0, REQUIRED.length);
    System.arraycopy(more, 0, all, REQUIRED.length, more.length);
    return all;
  }

  /** {@code score}, the required flags and {@code more}: argv for Main. */
  private static String[] scoreWith(String... more) {
    String[] flags = with(more);
    String[] all = new String[flags.length + 1];
    all[0] = "score";
    System.arraycopy(flags, 0, all, 1, flags.length);
    return all;
  }

  @Test
  void flagsBecomeTheJobsOptions() {
    ScoreCommand c = score(with("--rejects", "rej", "--id-col", "key", "--seq-col", "events", "--col", "a=x, b=y",
        "--keep-cols", "d, e,d", "--partition-by=day", "--per-step", "--emit-embedding", "--max-length", "100",
        "--batch-tokens", "8_192", "--max-batch-rows", "64", "--mode", "overwrite", "--max-reject-fraction", "0.25",
        "--allow-non-finite-weights", "--master", "local[1]", "--conf", "a.b=1", "--conf=c.d=2"));
    ScoreJob.Options o = c.options();
    assertEquals("in", o.input());
    assertEquals(Path.of("m"), o.modelDir());
    assertEquals("out", o.output());
    assertEquals("rej", o.rejects());
    assertEquals("key", o.idCol());
    assertEquals("events", o.seqCol());
    assertEquals(Map.of("a", "x", "b", "y"), o.columns());
    assertEquals(List.of("d", "e"), o.keepCols());
    assertEquals(List.of("day"), o.partitionBy());
    assertTrue(o.perStep() && o.emitEmbedding() && o.overwrite() && o.allowNonFiniteWeights());
    assertEquals(100, o.maxLength());
    assertEquals(8192, o.plan().batchTokens());
    assertEquals(64, o.plan().maxBatchRows());
    assertEquals(0.25, o.maxRejectFraction());
    assertEquals("local[1]", c.spark.master);
    assertEquals(List.of("a.b=1", "c.d=2"), c.spark.conf);
    assertNull(c.checkpoint(o));
    assertEquals(0.0, score(with("--fail-on-reject")).options().maxRejectFraction());
  }

  @Test
  void theRecordedCommandLineHidesCredentialsGivenWithConf() {
    assertEquals(List.of("--input", "in", "--conf", "spark.hadoop.fs.s3a.secret.key=***", "--conf",
        "spark.executor.memory=4g", "--conf=spark.hadoop.fs.s3a.access.key=***", "--id-col", "token"),
        Cli.redacted(List.of("--input", "in", "--conf", "spark.hadoop.fs.s3a.secret.key=abc/123", "--conf",
            "spark.executor.memory=4g", "--conf=spark.hadoop.fs.s3a.access.key=AKIA", "--id-col", "token")));
  }

  @Test
  void defaultsAreTheDeclaredOnes() {
    ScoreCommand c = score(REQUIRED);
    ScoreJob.Options o = c.options();
    assertEquals(new ScoreJob.Options("in", Path.of("m"), "out", null, "id", null, List.of(), false, 0,
        io.seqpack.batching.BatchPlan.defaults(), false, false, 1.0), o);
    assertNull(c.spark.master);
    assertEquals(List.of(), c.spark.conf);
  }

  @Test
  void verboseAndHelpInsideAnotherFlagsValueAreThatValue() {
    ScoreCommand c = new ScoreCommand();
    Cli.Parsed parsed = Cli.parse(c, with("--rejects", "--help", "--keep-cols", "--verbose", "--seq-col", "-h"));
    assertNull(parsed.error());
    assertFalse(parsed.help());
    assertFalse(parsed.verbose());
    assertEquals("--help", c.rejects);
    assertEquals(List.of("--verbose"), c.keepCols);
    assertEquals("-h", c.seqCol);
    // through Main: no help, no stack trace, the job's own check of the flags
    Result r = main("score", "--output", "--verbose", "--rejects", "--help", "--model", "m");
    assertEquals(2, r.status());
    assertEquals("seqpack: error: Missing required flag --input (see seqpack score --help)\n", r.err());
    assertEquals("", r.out());
  }

  @Test
  void verboseAnywhereAddsTheStackTrace() {
    for (String[] args : new String[][] {{"score", "--model", "m", "--verbose"}, {"score", "--verbose", "--model", "m"},
        {"--verbose", "score", "--model", "m"}, {"score", "--batch-tokens", "zero", "--verbose"}}) {
      Result r = main(args);
      assertEquals(2, r.status());
      List<String> lines = r.err().lines().toList();
      assertTrue(lines.get(0).startsWith("seqpack: error: "), r.err());
      assertTrue(lines.size() > 3 && lines.get(1).startsWith("io.seqpack.ConfigException: "), r.err());
    }
  }

  @Test
  void badFlagsAreOneLineErrors() {
    assertError("Unknown flag --frobnicate for seqpack score (see seqpack score --help)",
        "score", "--input", "x", "--frobnicate", "1");
    assertError("Unknown flag --frobnicate for seqpack score (see seqpack score --help)",
        "score", "--frobnicate=1");
    assertError("Unexpected argument 'extra' (flags start with --)", scoreWith("extra"));
    assertError("Missing value for --output (see seqpack score --help)", "score", "--input", "i", "--output");
    assertError("Missing required flag --input (see seqpack score --help)", "score", "--model", "m");
    assertError("Missing required flag --output (see seqpack score --help)", "score", "--input", "i", "--model", "m");
    assertError("Missing required flag --input (see seqpack score --help)",
        "score", "--input", " ", "--model", "m", "--output", "o");
    assertError("Invalid --batch-tokens 'zero': expected an integer",
        "score", "--input", "x", "--model", "m", "--output", "o", "--batch-tokens", "zero");
    assertError("Invalid --batch-tokens 0: must be at least 1", scoreWith("--batch-tokens", "0"));
    assertError("Invalid --max-batch-rows -1: must be at least 1", scoreWith("--max-batch-rows", "-1"));
    assertError("Invalid --max-length -1: must be at least 0", scoreWith("--max-length", "-1"));
    assertError("Invalid --mode 'replace': expected error or overwrite (folders), append, overwrite or "
        + "overwrite-partitions (tables)", scoreWith("--mode", "replace"));
    assertError("Invalid --mode append for --output out: folders take error or overwrite", scoreWith("--mode", "append"));
    assertError("Missing --output-table: --input-table, --where and --rejects-table go with it (see README, Scoring "
        + "into tables)", "score", "--input-table", "lake.db.events", "--model", "m", "--output", "o");
    assertError("Invalid --input with --input-table: score either a folder or a table", "score", "--input", "i",
        "--input-table", "lake.db.events", "--model", "m", "--output-table", "lake.db.scores");
    assertError("Invalid --max-reject-fraction 'many': expected a number in [0, 1]",
        scoreWith("--max-reject-fraction", "many"));
    assertError("Invalid --max-reject-fraction 2.0: expected a number in [0, 1]", scoreWith("--max-reject-fraction", "2"));
    assertError("Invalid --conf spark.x: expected key=value", scoreWith("--conf", "spark.x"));
    assertError("Invalid --per-step 'yes': expected true or false", scoreWith("--per-step=yes"));
    assertError("Invalid --col 'a': expected INPUT=COLUMN, e.g. --col event=event_ids", scoreWith("--col", "a"));
    assertError("Invalid --col: input 'a' is mapped twice", scoreWith("--col", "a=x,a=y"));
    assertError("Missing --checkpoint DIR: --incremental needs a folder that records which input files earlier runs "
        + "scored (see seqpack score --help)", scoreWith("--incremental"));
    assertError("Invalid --checkpoint without --incremental: a batch run scores the whole input (add --incremental "
        + "to score only new files)", scoreWith("--checkpoint", "c"));
    assertError("Unknown command 'scroe'; expected demo, score, inspect-model, report", "scroe");
    assertError("Unknown flag --input for seqpack demo (see seqpack demo --help)", "demo", "--input", "x");
    assertError("Expected exactly one model directory (seqpack inspect-model DIR)", "inspect-model");
    assertError("Expected exactly one model directory (seqpack inspect-model DIR)", "inspect-model", "a", "b");
    assertError("Expected exactly one output folder (seqpack report OUTPUT_DIR)", "report");
    assertError("Unknown flag --nope for seqpack report (see seqpack report --help)", "report", "--nope", "x");
  }

  @Test
  void topKIsKOrHeadEqualsKAndAccumulates() {
    assertEquals(Map.of("*", 10, "next_item", 20),
        score(with("--top-k", "10", "--top-k", "next_item=20")).options().topK());
    assertEquals("items", score(with("--top-k-exclude-seen", "items")).options().topKExcludeSeen());
    assertError("Invalid --top-k 'ten': expected K or HEAD=K, e.g. --top-k 10 or --top-k next_item=20",
        scoreWith("--top-k", "ten"));
    assertError("Invalid --top-k: head 'a' is given twice", scoreWith("--top-k", "a=1,a=2"));
  }

  @Test
  void switchesTakeTrueOrFalseAndARepeatedSingleValuedFlagIsAnError() {
    ScoreCommand c = score(with("--per-step=false", "--emit-embedding=true"));
    assertFalse(c.perStep);
    assertTrue(c.emitEmbedding);
    assertError("--id-col is given more than once; it takes one value (the list flags --col, --keep-cols, "
        + "--partition-by and --conf may repeat) (see seqpack score --help)", scoreWith("--id-col", "a", "--id-col", "b"));
    assertError("--max-length is given more than once; it takes one value (the list flags --col, --keep-cols, "
        + "--partition-by and --conf may repeat) (see seqpack score --help)",
        scoreWith("--max-length", "5", "--max-length=6"));
    assertEquals("@args.txt", score(with("--rejects", "@args.txt")).rejects); // not an @-file of arguments
  }

  @Test
  void listFlagsAccumulateWhenRepeatedInOrder() {
    ScoreJob.Options o = score(with("--col", "amt_delta=amount_change", "--col", "country=country_code,b=y",
        "--keep-cols", "d", "--keep-cols=e,f", "--partition-by", "day", "--partition-by", "hour")).options();
    assertEquals(Map.of("amt_delta", "amount_change", "country", "country_code", "b", "y"), o.columns());
    assertEquals(List.of("d", "e", "f"), o.keepCols());
    assertEquals(List.of("day", "hour"), o.partitionBy());
    assertError("Invalid --col: input 'a' is mapped twice", scoreWith("--col", "a=x", "--col", "a=y"));
  }

  @Test
  void anUnknownFlagGetsTheClosestOne() {
    assertError("Unknown flag --max-lenght for seqpack score; did you mean --max-length? (see seqpack score --help)",
        scoreWith("--max-lenght", "5"));
    assertError("Unknown flag --emit-embeding for seqpack score; did you mean --emit-embedding? (see seqpack score "
        + "--help)", scoreWith("--emit-embeding"));
  }

  @Test
  void configFileFillsInWhatTheCommandLineDoesNotGive() throws IOException {
    Path file = tmp.resolve("job.properties");
    Files.writeString(file, """
        input = data/in
        model = models/m
        output = out/scores
        id-col = customer
        batch-tokens = 4_096
        per-step = true
        mode = overwrite
        master = local[3]
        conf.spark.a = 1
        conf.spark.b = from-file
        """);
    ScoreCommand c = score("--config", file.toString(), "--output", "elsewhere", "--conf", "spark.b=flag");
    ScoreJob.Options o = c.options();
    assertEquals("data/in", o.input());
    assertEquals("elsewhere", o.output()); // flags win
    assertEquals("customer", o.idCol());
    assertEquals(4096, o.plan().batchTokens());
    assertTrue(o.perStep());
    assertTrue(o.overwrite());
    assertEquals("local[3]", c.spark.master);
    // the file's Spark settings first, so the command line's --conf win when Sessions applies them in order
    assertEquals(List.of("spark.a=1", "spark.b=from-file", "spark.b=flag"), c.spark.conf);
  }

  @Test
  void configFileErrorsAreOneLine() throws IOException {
    Path file = tmp.resolve("bad.properties");
    Files.writeString(file, "input = i\nmodel = m\noutput = o\nbatch_tokens = 4\n");
    Result r = main("score", "--config", file.toString());
    assertEquals(2, r.status());
    assertTrue(r.err().startsWith("seqpack: error: Unknown key 'batch_tokens' in --config " + file
        + "; allowed keys: input, input-table, where, model, output, rejects, output-table, rejects-table, id-col, "),
        r.err());
    assertTrue(r.err().endsWith(", master, conf.<spark key>\n"), r.err());
    for (String key : List.of("conf", "config", "verbose", "help")) {
      Files.writeString(file, key + " = x\n");
      assertTrue(main("score", "--config", file.toString()).err().startsWith("seqpack: error: Unknown key '" + key
          + "'"));
    }

    Files.writeString(file, "input = i\nmodel = m\noutput = o\nbatch-tokens = zero\n");
    assertError("Invalid --batch-tokens 'zero': expected an integer", "score", "--config", file.toString());
    Files.writeString(file, "input = i\nmodel = m\noutput = o\nper-step = yes\n");
    assertError("Invalid --per-step 'yes': expected true or false", "score", "--config", file.toString());
    Files.writeString(file, "model = m\noutput = o\n");
    assertError("Missing required flag --input (see seqpack score --help)", "score", "--config", file.toString());

    Path missing = tmp.resolve("missing.properties");
    r = main("score", "--config", missing.toString());
    assertEquals(2, r.status());
    assertTrue(r.err().startsWith("seqpack: error: Cannot read --config " + missing + ": "), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertError("Missing value for --config (see seqpack score --help)", "score", "--config");
  }

  @Test
  void helpOnEveryCommandIsGeneratedFromTheDeclaration() {
    Map<String, Object> commands = Map.of("score", new ScoreCommand(), "demo", new DemoCommand(), "inspect-model",
        new InspectModelCommand(), "report", new ReportCommand());
    for (Map.Entry<String, Object> c : commands.entrySet()) {
      for (String flag : List.of("--help", "-h")) {
        Result r = main(c.getKey(), "--input", "x", flag, "--frobnicate");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("Usage: seqpack " + c.getKey()), r.out());
        assertEquals(Cli.help(c.getValue()), r.out());
        assertTrue(!r.out().contains("\n\n\n"), "a doubled blank line in\n" + r.out());
        for (OptionSpec option : Cli.spec(c.getValue()).options()) {
          assertTrue(r.out().contains(option.longestName()), option.longestName() + " in\n" + r.out());
        }
      }
    }
    String help = main("score", "--help").out();
    assertTrue(help.startsWith("Usage: seqpack score --input PATH|--input-table TABLE --model DIR --output "
        + "DIR|--output-table TABLE [flags]\n"), help);
    assertTrue(help.contains("--batch-tokens N"), help);
    assertTrue(help.contains("(default: 16384)"), help);
    assertTrue(ReportCommand.HELP.startsWith("Usage: seqpack report OUTPUT_DIR"), ReportCommand.HELP);
    assertTrue(main("inspect-model", "--help").out().startsWith("Usage: seqpack inspect-model DIR [flags]\n"));
  }

  @Test
  void topLevelUsageAndVersion() {
    Result none = main();
    assertEquals(2, none.status());
    for (String arg : List.of("--help", "-h", "help")) {
      Result r = main(arg);
      assertEquals(0, r.status());
      assertEquals(none.out(), r.out());
    }
    assertTrue(none.out().startsWith("seqpack " + io.seqpack.Version.VERSION + ": "), none.out());
    for (String command : List.of("demo", "score", "inspect-model", "report")) {
      assertTrue(none.out().contains("\n  " + command + " "), none.out());
    }
    assertEquals("seqpack " + io.seqpack.Version.VERSION + "\n", main("--version").out());
  }
}
