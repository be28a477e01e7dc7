package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ConfigException;
import io.seqpack.InputSchemaException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.spark.LocalSpark;
import io.seqpack.summary.RunSummary;
import io.seqpack.testing.TestJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What happens to scheduled runs at night, in local mode: overlapping runs on one checkpoint, stale locks of
 * killed runs, corrupt input files, schema drift across files, and a driver killed mid-job (a real {@code
 * scripts/seqpack} process, {@code kill -9}).
 */
class NightFaultsIT {
  private static final Path MODEL = Path.of("src/test/resources/golden/lstm"); // tokens, vocab 20, 1 output
  private static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void startSpark() {
    spark = LocalSpark.start();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private static StructType schema(DataType token, boolean extra) {
    List<StructField> fields = new ArrayList<>(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, true),
        DataTypes.createStructField("seq", DataTypes.createArrayType(token, true), true)));
    if (extra) {
      fields.add(DataTypes.createStructField("note", DataTypes.StringType, true));
    }
    return DataTypes.createStructType(fields);
  }

  /** {@code n} valid rows from {@code firstId}, tokens of the given type (int or long). */
  private static List<Row> rows(long firstId, int n, DataType token, boolean extra) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Object> seq = new ArrayList<>();
      for (int t = 0; t < 1 + (i * 7) % 30; t++) {
        int v = (int) ((firstId + i + t * 3) % 20);
        seq.add(token.equals(DataTypes.LongType) ? (Object) (long) v : (Object) v);
      }
      rows.add(extra ? RowFactory.create(firstId + i, seq, "n" + i) : RowFactory.create(firstId + i, seq));
    }
    return rows;
  }

  /** Writes one Parquet file {@code dir/name.parquet}. */
  private void land(Path dir, String name, List<Row> rows, StructType schema) throws IOException {
    Path staging = tmp.resolve("land-" + name + "-" + System.nanoTime());
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(staging.toString());
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(staging)) {
      Path part = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
      Files.move(part, dir.resolve(name + ".parquet"));
    }
  }

  private static ScoreJob.Options options(Path in, Path out, boolean skipCorrupt, int waitForLock) {
    return new ScoreJob.Options(in.toString(), MODEL, out.toString(), null, "id", "seq", List.of(), false, 0,
        new BatchPlan(400, 16, 2), false, false, 1.0, List.of(), Map.of(), false, skipCorrupt, waitForLock);
  }

  private static Map<Long, Float> scores(String output) {
    Map<Long, Float> byId = new TreeMap<>();
    for (Row r : spark.read().parquet(output).select("id", "scores").collectAsList()) {
      assertFalse(byId.containsKey(r.getLong(0)), "id " + r.getLong(0) + " twice");
      byId.put(r.getLong(0), (Float) r.getList(1).get(0));
    }
    return byId;
  }

  @Test
  void aSecondRunOnTheSameCheckpointRefusesAtOnceAndAStaleLockIsTakenOver() throws Exception {
    Path in = tmp.resolve("in");
    Path out = tmp.resolve("out");
    Path cp = tmp.resolve("cp");
    land(in, "A", rows(0, 20000, DataTypes.IntegerType, false), schema(DataTypes.IntegerType, false));

    // the night's run is still going when the next one starts
    CompletableFuture<RunSummary> first =
        CompletableFuture.supplyAsync(() -> IncrementalScoreJob.run(spark, options(in, out, false, 0), cp.toString()));
    Path lock = cp.resolve(CheckpointLock.FILE);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(lock) && !first.isDone() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(Files.exists(lock), "the first run holds the lock while it runs");
    long t0 = System.nanoTime();
    ConfigException refused = assertThrows(ConfigException.class,
        () -> IncrementalScoreJob.run(spark, options(in, out, false, 0), cp.toString()));
    System.out.println("NightFaultsIT overlapping run: " + refused.getMessage());
    assertTrue(refused.getMessage().startsWith("Cannot start an incremental run on checkpoint "), refused.getMessage());
    assertTrue(refused.getMessage().contains("another run holds it (host " + CheckpointLock.host() + ", pid "
        + ProcessHandle.current().pid() + ", started "), refused.getMessage());
    assertTrue(refused.getMessage().endsWith("; wait for it to finish, or pass --wait-for-lock SECONDS"));
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "refused at once");
    RunSummary r1 = first.get(120, TimeUnit.SECONDS);
    assertEquals(20000, r1.scoredRows());
    assertFalse(Files.exists(lock), "released when the run ends");

    // a lock that a live process holds: --wait-for-lock waits, then still refuses
    Files.writeString(lock, TestJson.writePretty(Map.of("host", CheckpointLock.host(), "pid",
        ProcessHandle.current().pid(), "started", "2026-12-01T02:15:00Z")));
    long t1 = System.nanoTime();
    assertThrows(ConfigException.class, () -> IncrementalScoreJob.run(spark, options(in, out, false, 2),
        cp.toString()));
    assertTrue(System.nanoTime() - t1 >= TimeUnit.SECONDS.toNanos(2), "waited --wait-for-lock seconds");

    // a killed run's lock: its process is gone, the next run takes it over and scores only what is new
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Files.writeString(lock, TestJson.writePretty(Map.of("host", CheckpointLock.host(), "pid", gone.pid(),
        "started", "2026-12-01T02:15:00Z")));
    land(in, "B", rows(100000, 300, DataTypes.IntegerType, false), schema(DataTypes.IntegerType, false));
    RunSummary r2 = IncrementalScoreJob.run(spark, options(in, out, false, 0), cp.toString());
    assertEquals(300, r2.scoredRows());
    assertEquals(20300, scores(out.toString()).size(), "every row once");
    assertFalse(Files.exists(lock));
  }

  @Test
  void corruptFilesAreNamedOrSkippedAndListed() throws Exception {
    Path in = tmp.resolve("in");
    land(in, "good", rows(0, 500, DataTypes.IntegerType, false), schema(DataTypes.IntegerType, false));
    byte[] good = Files.readAllBytes(in.resolve("good.parquet"));
    Files.write(in.resolve("truncated.parquet"), Arrays.copyOf(good, good.length / 2));
    Files.writeString(in.resolve("notes.parquet"), "this is not parquet\n");
    Files.write(in.resolve("empty.parquet"), new byte[0]);

    Path out = tmp.resolve("out");
    InputSchemaException e = assertThrows(InputSchemaException.class,
        () -> ScoreJob.run(spark, options(in, out, false, 0)));
    System.out.println("NightFaultsIT corrupt file: " + e.getMessage());
    assertTrue(e.getMessage().matches("Cannot read input file \\S+/(truncated|notes|empty)\\.parquet: .*"),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("(remove or replace it, or pass --skip-corrupt-files to score the other "
        + "files)"), e.getMessage());
    assertFalse(Files.exists(out), "nothing written");

    RunSummary s = ScoreJob.run(spark, options(in, out, true, 0));
    assertEquals(500, s.inputRows());
    assertEquals(500, s.scoredRows());
    Map<String, String> reasons = new TreeMap<>();
    s.skippedFiles().forEach(f -> reasons.put(Path.of(java.net.URI.create(f.path())).getFileName().toString(),
        f.reason()));
    assertEquals(List.of("empty.parquet", "notes.parquet", "truncated.parquet"), List.copyOf(reasons.keySet()));
    assertEquals("the file is empty (0 bytes)", reasons.get("empty.parquet"));
    assertTrue(reasons.get("notes.parquet").startsWith("not a readable Parquet file ("), reasons.toString());
    assertTrue(reasons.get("truncated.parquet").startsWith("not a readable Parquet file ("), reasons.toString());
    String file = Files.readString(out.resolve(RunSummary.FILE));
    assertEquals(s, RunSummary.read(out.resolve(RunSummary.FILE)), "the summary file lists them");
    assertEquals(3, file.split("\"rows\": \"not read\"", -1).length - 1, file);
  }

  @Test
  void filesThatDisagreeOnTypesAreReadTogetherAndAMissingColumnNamesTheFile() throws Exception {
    Path uniform = tmp.resolve("uniform");
    Path drift = tmp.resolve("drift");
    land(uniform, "a", rows(0, 300, DataTypes.IntegerType, false), schema(DataTypes.IntegerType, false));
    land(uniform, "b", rows(1000, 200, DataTypes.IntegerType, false), schema(DataTypes.IntegerType, false));
    land(drift, "a", rows(0, 300, DataTypes.IntegerType, false), schema(DataTypes.IntegerType, false));
    land(drift, "b", rows(1000, 200, DataTypes.LongType, true), schema(DataTypes.LongType, true));
    Map<Long, Float> expected = scores(ScoreJob.run(spark, options(uniform, tmp.resolve("o1"), false, 0)).output());
    RunSummary s = ScoreJob.run(spark, options(drift, tmp.resolve("o2"), false, 0));
    assertEquals(500, s.scoredRows());
    assertEquals(expected, scores(tmp.resolve("o2").toString()), "array<int> and array<bigint> files score alike");

    StructType noId = DataTypes.createStructType(List.of(
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, true), true)));
    List<Row> seqOnly = new ArrayList<>();
    for (Row r : rows(5000, 10, DataTypes.IntegerType, false)) {
      seqOnly.add(RowFactory.create(r.get(1)));
    }
    land(drift, "c", seqOnly, noId);
    InputSchemaException e = assertThrows(InputSchemaException.class,
        () -> ScoreJob.run(spark, options(drift, tmp.resolve("o3"), false, 0)));
    assertTrue(e.getMessage().matches("Cannot read input file \\S+/c\\.parquet: it has no column 'id', which other "
        + "files of the input have \\(the files of one input must have the same columns\\)"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("o3")));
  }

  @Test
  void aDriverKilledMidJobLeavesNoOutputAndTheRerunIsComplete() throws Exception {
    Path in = tmp.resolve("in");
    for (int f = 0; f < 4; f++) {
      land(in, "f" + f, rows(f * 1_000_000L, 40_000, DataTypes.IntegerType, false),
          schema(DataTypes.IntegerType, false));
    }
    Path out = tmp.resolve("scores");
    ProcessBuilder pb = new ProcessBuilder("scripts/seqpack", "score", "--input", in.toString(), "--model",
        MODEL.toString(), "--output", out.toString(), "--master", "local[1]")
        .redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile());
    pb.environment().put("SEQPACK_NO_BUILD", "1");
    pb.environment().put("SEQPACK_CDS", "0"); // the launcher then execs java: its pid is the driver's
    pb.environment().put("SEQPACK_JAVA_OPTS", "-Xmx1g");
    Process driver = pb.start();
    Path parent = out.getParent();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    boolean staging = false;
    while (!staging && driver.isAlive() && System.nanoTime() < deadline) {
      try (Stream<Path> s = Files.list(parent)) {
        staging = s.anyMatch(p -> p.getFileName().toString().startsWith(".scores.seqpack-staging-"));
      }
      Thread.sleep(20);
    }
    assertTrue(staging, "the driver started writing: " + Files.readString(tmp.resolve("killed.log")));
    Thread.sleep(300);
    driver.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
    driver.waitFor(30, TimeUnit.SECONDS);
    assertFalse(Files.exists(out), "a killed batch run leaves no output folder");
    assertFalse(Files.exists(Path.of(out + "_rejects")), "nor a rejects folder");

    RunSummary rerun = ScoreJob.run(spark, options(in, out, false, 0));
    assertEquals(160_000, rerun.scoredRows());
    assertEquals(160_000, scores(out.toString()).size());
    try (Stream<Path> s = Files.list(parent)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".seqpack-staging-")),
          "the rerun removed the killed run's staging folders");
    }
  }
}
