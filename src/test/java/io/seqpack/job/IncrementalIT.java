package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Incremental (nightly) runs: only new files, exactly once across failures; partitioned outputs; report data. */
class IncrementalIT {
  private static final Path MODEL = Path.of("src/test/resources/golden/lstm"); // tokens, vocab 20, 1 output
  private static final StructType SCHEMA = DataTypes.createStructType(List.of(
      DataTypes.createStructField("id", DataTypes.LongType, true),
      DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, true), true),
      DataTypes.createStructField("region", DataTypes.StringType, true)));
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

  /** {@code good} scorable rows and {@code bad} rows with an out-of-range token, ids from firstId. */
  private static List<Row> rows(long firstId, int good, int bad) {
    List<Row> rows = new ArrayList<>();
    String[] regions = {"eu", "us", "apac"};
    for (int i = 0; i < good + bad; i++) {
      List<Integer> seq = new ArrayList<>();
      for (int t = 0; t < 1 + (i * 13) % 40; t++) {
        seq.add((i + t * 7) % 20);
      }
      if (i >= good) {
        seq.add(99);
      }
      rows.add(RowFactory.create(firstId + i, seq, regions[(int) ((firstId + i) % 3)]));
    }
    return rows;
  }

  /** Lands one Parquet file {@code name.parquet} in {@code dir} the way an upstream job would: write, rename. */
  private void land(Path dir, String name, List<Row> rows) throws IOException {
    Path staging = tmp.resolve("staging-" + name);
    spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(staging.toString());
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(staging)) {
      Path part = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
      Files.move(part, dir.resolve(name + ".parquet"));
    }
  }

  private static ScoreJob.Options options(Path in, Path out, List<String> partitionBy) {
    return new ScoreJob.Options(in.toString(), MODEL, out.toString(), null, "id", "seq", List.of(), false, 0,
        new BatchPlan(200, 8, 2), false, false, 1.0, partitionBy, java.util.Map.of(), false);
  }

  /** id -> scores as Spark reads the output; fails on a duplicate id. */
  private static Map<Long, List<Object>> predictions(String output) {
    Map<Long, List<Object>> byId = new TreeMap<>();
    for (Row r : spark.read().parquet(output).select("id", "scores").collectAsList()) {
      assertFalse(byId.containsKey(r.getLong(0)), "id " + r.getLong(0) + " appears twice");
      byId.put(r.getLong(0), r.getList(1));
    }
    return byId;
  }

  @Test
  void eachRunScoresOnlyNewFilesAndMatchesTheBatchJob() throws Exception {
    Path in = tmp.resolve("landing");
    Path out = tmp.resolve("scores");
    String checkpoint = tmp.resolve("checkpoint").toString();
    land(in, "A", rows(0, 98, 2));
    land(in, "B", rows(1000, 50, 0));

    RunSummary r1 = IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint);
    land(in, "C", rows(2000, 29, 1));
    RunSummary r2 = IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint);
    long outputFiles = countFiles(out);
    String summary2 = Files.readString(out.resolve(RunSummary.FILE));
    String report2 = Files.readString(out.resolve(io.seqpack.report.RunReport.REPORT_FILE));
    RunSummary r3 = IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint);

    for (RunSummary s : List.of(r1, r2, r3)) {
      System.out.printf("IncrementalIT run %d: new_files=%d new_rows=%d scored=%d rejected=%d totals=%d/%d%n",
          s.run().id(), s.run().newFileCount(), s.run().newRows(), s.scoredRows(), s.rejectedRows(),
          s.run().totalScoredRows(), s.run().totalRejectedRows());
    }
    assertEquals(List.of(1L, 2L, 3L), List.of(r1.run().id(), r2.run().id(), r3.run().id()));
    assertEquals(2, r1.run().newFileCount());
    assertEquals(150, r1.run().newRows());
    assertEquals(148, r1.scoredRows());
    assertEquals(2, r1.rejectedRows());
    assertEquals(1, r2.run().newFileCount());
    assertTrue(r2.run().newFiles().get(0).endsWith("C.parquet"));
    assertEquals(30, r2.run().newRows());
    assertEquals(29, r2.scoredRows());
    assertEquals(Map.of("TOKEN_OUT_OF_RANGE", 1L), r2.rejectsByReason());
    assertEquals(0, r3.run().newRows());
    assertEquals(0, r3.run().newFileCount());
    assertEquals(0, r3.scoredRows() + r3.rejectedRows());
    assertEquals(outputFiles, countFiles(out), "a run with nothing new writes no data");
    assertEquals(177, r3.run().totalScoredRows());

    // nothing new: the summary and the report in the folder are still run 2's, together
    assertEquals(summary2, Files.readString(out.resolve(RunSummary.FILE)));
    assertEquals(report2, Files.readString(out.resolve(io.seqpack.report.RunReport.REPORT_FILE)));
    assertEquals(2, IncrementalScoreJob.lastCommittedRun(spark.sparkContext().hadoopConfiguration(), checkpoint).id());
    // the files the job wrote, read through the codec: the records run() returned
    RunSummary last = RunSummary.read(out.resolve(IncrementalScoreJob.RUNS_DIR).resolve("run-3.json"));
    assertEquals(r3, last);
    assertEquals(0, last.run().newRows());
    assertNull(last.scoring(), "nothing new: no scoring part");
    for (int n = 1; n <= 3; n++) {
      assertTrue(Files.exists(out.resolve(IncrementalScoreJob.RUNS_DIR).resolve("run-" + n + ".json")));
    }
    Path history2 = out.resolve(IncrementalScoreJob.RUNS_DIR).resolve("run-2.json");
    assertTrue(Files.readString(history2).startsWith("{\n  \"summary_format\": 2,\n"));
    RunSummary run2 = RunSummary.read(history2);
    assertEquals(r2, run2);
    assertEquals(30, run2.inputRows());
    assertEquals(run2.inputRows(), run2.scoredRows() + run2.rejectedRows());
    assertEquals(Map.of("TOKEN_OUT_OF_RANGE", 1L), run2.rejectsByReason());
    assertEquals(2, run2.run().id());
    assertEquals(List.of(148L + 29, 2L + 1), List.of(run2.run().totalScoredRows(), run2.run().totalRejectedRows()),
        "runs 1 and 2 together");
    assertReportData(run2, 29);

    Map<Long, List<Object>> incremental = predictions(out.toString());
    assertEquals(177, incremental.size());
    assertEquals(3, spark.read().parquet(out + "_rejects").count());
    Path batchOut = tmp.resolve("batch-scores");
    ScoreJob.run(spark, options(in, batchOut, List.of()));
    Map<Long, List<Object>> batch = predictions(batchOut.toString());
    assertEquals(batch.keySet(), incremental.keySet());
    for (Long id : batch.keySet()) {
      float a = (Float) batch.get(id).get(0);
      float b = (Float) incremental.get(id).get(0);
      assertEquals(a, b, 1e-6, "score of id " + id);
    }
    assertTrue(Files.exists(out.resolve("_seqpack_report.html")), "HTML report written");
  }

  private static void assertReportData(RunSummary summary, long scored) {
    RunSummary.Scoring scoring = summary.scoring();
    List<Long> edges = scoring.lengthHistogram().binEdges();
    List<Long> counts = scoring.lengthHistogram().counts();
    assertEquals(edges.size(), counts.size() + 1);
    assertEquals(scored, counts.stream().mapToLong(Long::longValue).sum());
    assertEquals(List.of(1L, 2L, 3L, 4L, 6L, 8L), edges.subList(0, 6));
    List<RunSummary.Bucket> buckets = scoring.buckets();
    assertEquals(scored, buckets.stream().mapToLong(RunSummary.Bucket::rows).sum());
    assertEquals(summary.batches(), buckets.stream().mapToLong(RunSummary.Bucket::batches).sum());
    assertEquals(summary.tokensScored(), buckets.stream().mapToLong(RunSummary.Bucket::tokens).sum());
    List<RunSummary.ThroughputPoint> throughput = scoring.throughput();
    assertTrue(throughput.size() >= 2);
    assertEquals(0L, throughput.get(0).rows());
    assertEquals(scored, throughput.get(throughput.size() - 1).rows());
    List<RunSummary.ScoreHistogram> scores = scoring.scoreHistograms();
    assertEquals(1, scores.size()); // the model has one output
    RunSummary.ScoreHistogram h = scores.get(0);
    assertEquals(21, h.binEdges().size());
    assertEquals(scored, h.counts().stream().mapToLong(Long::longValue).sum() + h.underflow() + h.overflow()
        + h.nan());
  }

  private static long countFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.toString().endsWith(".parquet")).count();
    }
  }

  /** Rows in every data file under {@code dir}, as a reader that lists the folder (DuckDB, pyarrow) sees them. */
  private static long rowsAnyReaderSees(Path dir) throws IOException {
    long rows = 0;
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".parquet")).toList()) {
        rows += spark.read().parquet(f.toString()).count();
      }
    }
    return rows;
  }

  @Test
  void aRunThatFailsOrIsKilledIsRerunWithEveryRowExactlyOnceForAnyReader() throws Exception {
    Path in = tmp.resolve("landing");
    Path out = tmp.resolve("scores");
    Path checkpoint = tmp.resolve("checkpoint");
    land(in, "A", rows(0, 40, 1));
    RunSummary r1 = IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint.toString());
    assertEquals(40, r1.scoredRows());
    land(in, "B", rows(1000, 60, 2));
    land(in, "C", rows(2000, 25, 0));

    // run 2 fails while writing: its staging folder cannot be created (a file is in the way)
    Path blocker = checkpoint.resolve("staging");
    Files.deleteIfExists(blocker); // the (empty) staging folder of run 1
    Files.writeString(blocker, "not a folder");
    JobFailedException e = assertThrows(JobFailedException.class,
        () -> IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint.toString()));
    System.out.println("IncrementalIT failed run: " + e.getMessage());
    assertTrue(e.getMessage().startsWith("incremental run 2 failed: "), e.getMessage());
    Files.delete(blocker);
    Map<String, Object> failed = TestJson.parseObject(
        Files.readString(out.resolve(IncrementalScoreJob.RUNS_DIR).resolve("run-2.json")));
    assertEquals("failed", ((Map<?, ?>) failed.get("run")).get("status"));
    assertEquals(40, rowsAnyReaderSees(out), "nothing of the failed run is in the output folder");

    // a run killed while moving its files into place: one of them made it, its manifest did not
    Path committedFile;
    try (Stream<Path> files = Files.list(out)) {
      committedFile = files.filter(p -> p.getFileName().toString().startsWith("part-r00001-")).findFirst()
          .orElseThrow();
    }
    Files.copy(committedFile, out.resolve("part-r00002-killed-mid-move.parquet"));
    assertEquals(80, rowsAnyReaderSees(out), "the half-moved run is visible until the next run");

    RunSummary r3 = IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint.toString());
    System.out.printf("IncrementalIT rerun %d: new_files=%d new_rows=%d scored=%d rejected=%d removed=%d%n",
        r3.run().id(), r3.run().newFileCount(), r3.run().newRows(), r3.scoredRows(), r3.rejectedRows(),
        r3.run().removedUncommittedFiles());
    assertEquals(3, r3.run().id());
    assertEquals(1, r3.run().removedUncommittedFiles());
    assertEquals(2, r3.run().newFileCount());
    assertEquals(87, r3.run().newRows());
    assertEquals(85, r3.scoredRows());
    assertEquals(2, r3.rejectedRows());
    Map<Long, List<Object>> all = predictions(out.toString()); // asserts no id twice
    assertEquals(125, all.size());
    assertEquals(125, rowsAnyReaderSees(out), "a reader that lists the folder sees each row once");
    assertEquals(3, spark.read().parquet(out + "_rejects").count());
    assertEquals(3, rowsAnyReaderSees(Path.of(out + "_rejects")));
    assertEquals(3, spark.read().parquet(out + "_rejects").select("id").distinct().count());
  }

  @Test
  void aDamagedManifestIsRefusedNamingTheFileAndTheKey() throws Exception {
    Path in = tmp.resolve("landing");
    Path out = tmp.resolve("scores");
    Path checkpoint = tmp.resolve("checkpoint");
    land(in, "A", rows(0, 5, 0));
    assertEquals(5, IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint.toString()).scoredRows());
    Path manifest = checkpoint.resolve("manifest").resolve("run-1.json");
    Files.deleteIfExists(manifest.resolveSibling(".run-1.json.crc")); // else Hadoop's checksum refuses it first
    Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"size\": \\d+", "\"size\": \"big\""));
    ConfigException e = assertThrows(ConfigException.class,
        () -> IncrementalScoreJob.run(spark, options(in, out, List.of()), checkpoint.toString()));
    assertTrue(e.getMessage().startsWith("Cannot read manifest file:"), e.getMessage());
    assertTrue(e.getMessage().endsWith(manifest + ": files[0].size: \"big\", expected an integer >= 0"),
        e.getMessage());
  }

  @Test
  void partitionedOutputsCarryTheColumnInBatchAndIncrementalRuns() throws Exception {
    Path in = tmp.resolve("landing");
    land(in, "A", rows(0, 60, 3));
    Map<Long, String> regionOf = new TreeMap<>();
    rows(0, 60, 3).forEach(r -> regionOf.put(r.getLong(0), r.getString(2)));

    Path batchOut = tmp.resolve("batch");
    RunSummary batch = ScoreJob.run(spark, options(in, batchOut, List.of("region")));
    Path incOut = tmp.resolve("incremental");
    RunSummary inc =
        IncrementalScoreJob.run(spark, options(in, incOut, List.of("region")), tmp.resolve("cp").toString());
    for (RunSummary s : List.of(batch, inc)) {
      assertEquals(60, s.scoredRows());
      assertEquals(3, s.rejectedRows());
    }
    for (Path out : List.of(batchOut, incOut)) {
      for (String region : List.of("eu", "us", "apac")) {
        assertTrue(Files.isDirectory(out.resolve("region=" + region)), out + " has region=" + region);
      }
      assertTrue(Files.isDirectory(Path.of(out + "_rejects").resolve("region=eu")));
      List<Row> read = spark.read().parquet(out.toString()).select("id", "region").collectAsList();
      assertEquals(60, read.size());
      for (Row r : read) {
        assertEquals(regionOf.get(r.getLong(0)), r.getString(1), "region of id " + r.getLong(0));
      }
      List<Row> rejects = spark.read().parquet(out + "_rejects").select("id", "region", "reason").collectAsList();
      assertEquals(3, rejects.size());
      for (Row r : rejects) {
        assertEquals(regionOf.get(r.getLong(0)), r.getString(1));
      }
    }

    InputSchemaException unknown = assertThrows(InputSchemaException.class,
        () -> ScoreJob.run(spark, options(in, tmp.resolve("x"), List.of("country"))));
    assertEquals("Cannot find column 'country' (--partition-by) in the input; available columns: id, seq, region",
        unknown.getMessage());
    ConfigException overwrite = assertThrows(ConfigException.class, () -> IncrementalScoreJob.run(spark,
        new ScoreJob.Options(in.toString(), MODEL, incOut.toString(), null, "id", "seq", List.of(), false, 0,
            BatchPlan.defaults(), true, false, 1.0), tmp.resolve("cp").toString()));
    assertTrue(overwrite.getMessage().startsWith("Cannot combine --mode overwrite with --incremental"));
    ConfigException other = assertThrows(ConfigException.class, () -> IncrementalScoreJob.run(spark,
        options(in, tmp.resolve("elsewhere"), List.of()), tmp.resolve("cp").toString()));
    assertTrue(other.getMessage().startsWith("Cannot use --checkpoint "), other.getMessage());
  }
}
