package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mistakes that need no cluster (the model folder, a local input or output path, the checkpoint) exit 2 with
 * one line, before a SparkSession exists; the usual three within 1.5 s of the command.
 */
class ErrorsBeforeSparkTest {
  private static final Path MODEL = Path.of("src/test/resources/golden/gru");
  private static final long MAX_MILLIS = 1500;

  @TempDir Path tmp;

  record Result(int status, String err, long millis) {}

  private static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long start = System.nanoTime();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(status, err.toString(StandardCharsets.UTF_8), (System.nanoTime() - start) / 1_000_000);
  }

  /** {@code seqpack score --input IN --model MODEL --output OUT} and {@code more}. */
  private static String[] score(Object in, Object model, Object out, String... more) {
    List<String> args = new ArrayList<>(List.of("score", "--input", in.toString(), "--model", model.toString(),
        "--output", out.toString(), "--master", "local[1]"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  private static Result assertRefused(String expected, String... args) {
    Result r = run(args);
    assertEquals(2, r.status(), r.err());
    assertEquals("seqpack: error: " + expected + "\n", r.err());
    return r;
  }

  private static void assertFast(Result r) {
    assertTrue(r.millis() < MAX_MILLIS, "took " + r.millis() + " ms, expected under " + MAX_MILLIS);
  }

  @AfterEach
  void noSparkSessionWasStarted() {
    assertTrue(SparkSession.getActiveSession().isEmpty(), "an active SparkSession");
    assertTrue(SparkSession.getDefaultSession().isEmpty(), "a default SparkSession");
  }

  @Test
  void aMissingModelFolderIsRefusedAtOnce() {
    Path model = tmp.resolve("no-such-model");
    assertFast(assertRefused("Cannot read model directory " + model + ": it does not exist",
        score(MODEL, model, tmp.resolve("out"))));
  }

  @Test
  void aMissingInputIsRefusedAtOnce() {
    Path input = tmp.resolve("no-such-input");
    assertFast(assertRefused("Cannot read input " + input + ": Path does not exist: file:" + input,
        score(input, MODEL, tmp.resolve("out"))));
  }

  @Test
  void anExistingOutputIsRefusedAtOnce() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    assertFast(assertRefused("Cannot write --output " + out + ": it already exists (use --mode overwrite to "
        + "replace it)", score(MODEL, MODEL, out)));
    Path rejects = Files.createDirectories(tmp.resolve("out2_rejects"));
    assertRefused("Cannot write --rejects " + rejects + ": it already exists (use --mode overwrite to replace it)",
        score(MODEL, MODEL, tmp.resolve("out2")));
  }

  /** A CSV file given as the input: the advice fits one file (--skip-corrupt-files would leave nothing). */
  @Test
  void aMissingModelFileAndANonParquetInputAreRefusedBeforeSpark() throws Exception {
    Path model = Files.createDirectories(tmp.resolve("model"));
    Files.copy(MODEL.resolve("model.json"), model.resolve("model.json"));
    assertRefused("Cannot read model directory " + model + ": model.safetensors is missing",
        score(MODEL, model, tmp.resolve("out")));
    Path notParquet = Files.writeString(tmp.resolve("rows.parquet"), "id,seq\n1,2\n");
    assertRefused("Cannot read input file file:" + notParquet + ": not a readable Parquet file (file:" + notParquet
        + " is not a Parquet file (length is too low: 11)) (replace it with a readable Parquet file)", score(notParquet, MODEL, tmp.resolve("out")));
  }

  @Test
  void aCheckpointForOtherFoldersOrHeldByAnotherRunIsRefusedBeforeSpark() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Path checkpoint = tmp.resolve("cp");
    assertRefused("Cannot start incremental scoring into --output " + out + ": it already exists but --checkpoint "
        + checkpoint + " is new; use the checkpoint that wrote it, or new folders",
        score(MODEL, MODEL, out, "--incremental", "--checkpoint", checkpoint.toString()));
    String host = InetAddress.getLocalHost().getHostName();
    long pid = ProcessHandle.current().pid();
    Files.writeString(checkpoint.resolve("seqpack.lock"),
        "{\"host\": \"" + host + "\", \"pid\": " + pid + ", \"started\": \"2026-01-01T00:00:00Z\"}");
    assertRefused("Cannot start an incremental run on checkpoint " + checkpoint + ": another run holds it (host "
        + host + ", pid " + pid + ", started 2026-01-01T00:00:00Z); wait for it to finish, or pass --wait-for-lock "
        + "SECONDS", score(MODEL, MODEL, tmp.resolve("new-out"), "--incremental", "--checkpoint",
        checkpoint.toString()));
  }
}
