package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqpack.ConfigException;
import io.seqpack.InputSchemaException;
import io.seqpack.SeqpackException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.summary.RunSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopTables;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scoring from and into Iceberg (a Hadoop catalog on the local file system) and Delta (path tables): three
 * incremental rounds with a compaction of the input between rounds 2 and 3, read back by Spark and by a reader
 * that is not Spark (Iceberg's own Java API; a replay of {@code _delta_log}), compared with the Parquet job's
 * scores; a driver killed between its table commits and its checkpoint; and the setup mistakes.
 */
class LakehouseIT {
  private static final Path MODEL = Path.of("src/test/resources/golden/lstm"); // tokens, vocab 20, 1 output
  private static final StructType EVENTS = DataTypes.createStructType(List.of(
      DataTypes.createStructField("id", DataTypes.LongType, true),
      DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, true), true)));
  private static final int ROUND = 300;

  @TempDir static Path tmp;
  private static Path warehouse;
  private static SparkSession spark;

  /** A format's tables and its SQL for creating the source and compacting it. */
  private record Lake(String name, String events, String scores, String createEvents, String compact) {
    String rejects() {
      return LakeTable.withSuffix(scores, "_rejects");
    }
  }

  private static Lake iceberg(String tag) {
    String events = "lake.db." + tag + "_events";
    return new Lake("iceberg", events, "lake.db." + tag + "_scores",
        "CREATE TABLE " + events + " (id BIGINT, seq ARRAY<INT>) USING iceberg",
        "CALL lake.system.rewrite_data_files(table => 'db." + tag + "_events', options => map('min-input-files','2'))");
  }

  private static Lake delta(String tag) {
    String events = "delta.`" + tmp.resolve("delta/" + tag + "_events") + "`";
    return new Lake("delta", events, "delta.`" + tmp.resolve("delta/" + tag + "_scores") + "`",
        "CREATE TABLE " + events + " (id BIGINT, seq ARRAY<INT>) USING delta "
            + "TBLPROPERTIES (delta.enableChangeDataFeed = true)",
        "OPTIMIZE " + events);
  }

  /** The settings a user passes with --conf (README, Scoring into tables). */
  private static Map<String, String> lakeConf() {
    return Map.of(
        "spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions,"
            + "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.lake.type", "hadoop",
        "spark.sql.catalog.lake.cache-enabled", "false", // the kill test's driver commits from another JVM
        "spark.databricks.delta.snapshotPartitions", "2", // Delta's log replay: 50 tasks by default
        "spark.sql.catalog.lake.warehouse", warehouse.toString());
  }

  @BeforeAll
  static void startSpark() {
    warehouse = tmp.resolve("warehouse");
    SparkSession.Builder b = SparkSession.builder().master("local[2]").appName("seqpack-lakehouse-test")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "2");
    lakeConf().forEach(b::config);
    spark = b.getOrCreate();
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.db");
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  /** {@code n} rows from {@code firstId}; every 25th has token 99 (out of the vocabulary: a reject). */
  private static List<Row> rows(long firstId, int n) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Integer> seq = new ArrayList<>();
      long id = firstId + i;
      for (int t = 0; t < 1 + (id * 7) % 23; t++) {
        seq.add(id % 25 == 7 && t == 0 ? 99 : (int) ((id + t * 3) % 20));
      }
      rows.add(RowFactory.create(id, seq));
    }
    return rows;
  }

  private static void append(String table, List<Row> rows) {
    try {
      spark.createDataFrame(rows, EVENTS).repartition(2).writeTo(table).append();
    } catch (org.apache.spark.sql.catalyst.analysis.NoSuchTableException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ScoreJob.Options options(String input, String output, String rejects) {
    return new ScoreJob.Options(input, MODEL, output, rejects, "id", "seq", List.of(), false, 0,
        new BatchPlan(400, 16, 2), false, false, 1.0);
  }

  private static RunSummary score(Lake lake, String checkpoint, String where) {
    TableScoreJob.Tables tables = new TableScoreJob.Tables(lake.events(), where, lake.scores(), null, null);
    try (CheckedRun checked = CheckedRun.checkTables(options(lake.events(), lake.scores(), tables.rejectsTable()),
        tables, checkpoint, spark.sparkContext()::hadoopConfiguration)) {
      return checked.run(spark);
    }
  }

  @Test
  void icebergThreeRoundsWithACompactionScoreEveryRowOnce() throws IOException {
    Lake lake = iceberg("rounds");
    threeRounds(lake);
    // Iceberg's own reader, no Spark: every id once, and every seqpack snapshot carries its run id
    Table scores = new HadoopTables(new Configuration()).load(warehouse.resolve("db/rounds_scores").toString());
    List<Long> ids = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(scores).build()) {
      records.forEach(r -> ids.add((Long) r.getField("id")));
    }
    assertExactlyOnce(ids, expectedScoredIds());
    List<String> runIds = new ArrayList<>();
    for (Snapshot s : scores.snapshots()) {
      if (s.summary().containsKey(LakeTable.RUN_ID_KEY)) {
        runIds.add(s.summary().get(LakeTable.RUN_ID_KEY));
      }
    }
    // the three rounds and the run that read only the source's delete (an empty commit, still with its run id)
    assertEquals(4, runIds.size(), "one commit per run that read a new snapshot, each with its run id: " + runIds);
    assertEquals(4, new LinkedHashSet<>(runIds).size());
  }

  @Test
  void deltaThreeRoundsWithACompactionScoreEveryRowOnce() throws IOException {
    Lake lake = delta("rounds");
    threeRounds(lake);
    // a replay of _delta_log to its live Parquet files, read with parquet-java: every id once
    Path table = tmp.resolve("delta/rounds_scores");
    List<Long> ids = new ArrayList<>();
    for (String file : deltaLiveFiles(table)) {
      try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
          new org.apache.hadoop.fs.Path(table.resolve(file).toString())).build()) {
        for (Group g = reader.read(); g != null; g = reader.read()) {
          ids.add(g.getLong("id", 0));
        }
      }
    }
    assertExactlyOnce(ids, expectedScoredIds());
  }

  /** Rounds 1-3 of {@link #ROUND} rows each, with a compaction before round 3 and a fourth run with nothing new. */
  private void threeRounds(Lake lake) {
    spark.sql(lake.createEvents());
    String checkpoint = tmp.resolve(lake.name() + "-checkpoint").toString();
    long scored = 0;
    long rejected = 0;
    Long previousTo = null;
    for (int round = 0; round < 3; round++) {
      if (round == 2) {
        append(lake.events(), rows(10_000, 50)); // more small files, then the compaction rewrites them all
        spark.sql(lake.compact());
        append(lake.events(), rows(2 * ROUND, ROUND - 50));
      } else {
        append(lake.events(), rows(round * ROUND, ROUND));
      }
      RunSummary run = score(lake, checkpoint, null);
      assertEquals(ROUND, run.inputRows(), "round " + (round + 1) + " reads only its new rows");
      assertEquals(run.inputRows(), run.scoredRows() + run.rejectedRows());
      assertEquals(round == 0 ? null : previousTo, run.tables().readAfter(), "each run reads after the last one");
      previousTo = run.tables().readTo();
      assertTrue(run.tables().predictionsAt() != null && run.tables().rejectsAt() != null, run.tables().toString());
      assertFalse(run.tables().alreadyCommitted());
      assertRunFiles(lake, checkpoint, run);
      scored += run.scoredRows();
      rejected += run.rejectedRows();
      assertEquals(List.of(scored, rejected), List.of(run.run().totalScoredRows(), run.run().totalRejectedRows()),
          "the checkpoint's totals so far");
    }
    RunSummary nothing = score(lake, checkpoint, null);
    assertEquals(0, nothing.inputRows(), "a fourth run with nothing new scores nothing");

    // Spark's reader: every input id in exactly one table, exactly once
    Dataset<Row> predictions = spark.table(lake.scores());
    Dataset<Row> rejects = spark.table(lake.rejects());
    assertEquals(scored, predictions.count());
    assertEquals(rejected, rejects.count());
    List<Long> all = new ArrayList<>(predictions.select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList());
    all.addAll(rejects.select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList());
    assertExactlyOnce(all, spark.table(lake.events()).select("id").as(org.apache.spark.sql.Encoders.LONG())
        .collectAsList());

    // the same scores, to the bit, as seqpack score on the same rows as Parquet
    Path parquetIn = tmp.resolve(lake.name() + "-events-parquet");
    spark.table(lake.events()).write().parquet(parquetIn.toString());
    Path parquetOut = tmp.resolve(lake.name() + "-scores-parquet");
    ScoreJob.run(spark, options(parquetIn.toString(), parquetOut.toString(), null));
    Dataset<Row> reference = spark.read().parquet(parquetOut.toString());
    assertEquals(0, reference.exceptAll(predictions.select(reference.columns()[0],
        Arrays.copyOfRange(reference.columns(), 1, reference.columns().length))).count());
    assertEquals(0, predictions.select(reference.columns()[0], Arrays.copyOfRange(reference.columns(), 1,
        reference.columns().length)).exceptAll(reference).count());

    // a delete in the source is reported, not scored
    spark.sql("DELETE FROM " + lake.events() + " WHERE id = 3");
    RunSummary afterDelete = score(lake, checkpoint, null);
    assertEquals(0, afterDelete.inputRows());
    assertEquals(1, afterDelete.tables().removalsNotScored());
    assertRunFiles(lake, checkpoint, afterDelete);
    assertEquals(scored, spark.table(lake.scores()).count(), "the scores table keeps its rows");
  }

  /** The run's summary and report in the checkpoint's {@code table-state/run-<n>/}, naming the tables. */
  private static void assertRunFiles(Lake lake, String checkpoint, RunSummary run) {
    Path dir = Path.of(TableScoreJob.runFolder(new org.apache.hadoop.fs.Path(checkpoint), run.run().id())
        .toUri().getPath());
    RunSummary written = RunSummary.read(dir.resolve(RunSummary.FILE));
    assertEquals(run.tables(), written.tables());
    assertEquals(List.of(lake.events(), lake.scores(), lake.rejects()),
        List.of(written.input(), written.output(), written.rejects()));
    assertEquals(run.inputRows(), written.scoredRows() + written.rejectedRows());
    String report;
    try {
      report = Files.readString(dir.resolve(io.seqpack.report.RunReport.REPORT_FILE));
    } catch (IOException e) {
      throw new AssertionError("no run report in " + dir, e);
    }
    for (String table : List.of(lake.events(), lake.scores(), lake.rejects())) {
      assertTrue(report.contains("<code>" + table + "</code>"), table); // no characters HTML escapes
    }
    assertTrue(report.contains("committed, now at " + run.tables().predictionsAt()), "the predictions' position");
  }

  private static List<Long> expectedScoredIds() {
    List<Long> ids = new ArrayList<>();
    for (long id = 0; id < 3 * ROUND - 50; id++) {
      ids.add(id);
    }
    for (long id = 10_000; id < 10_050; id++) {
      ids.add(id);
    }
    ids.removeIf(id -> id % 25 == 7);
    return ids;
  }

  private static void assertExactlyOnce(List<Long> actual, List<Long> expected) {
    Set<Long> distinct = new LinkedHashSet<>(actual);
    assertEquals(actual.size(), distinct.size(), "no id twice");
    assertEquals(new java.util.TreeSet<>(expected), new java.util.TreeSet<>(distinct));
  }

  /** The data files a Delta table's log says are live: its add actions minus its remove actions, in order. */
  private static List<String> deltaLiveFiles(Path table) throws IOException {
    Path log = table.resolve("_delta_log");
    assertFalse(Files.exists(log.resolve("_last_checkpoint")), "a log without a Parquet checkpoint (< 10 commits)");
    ObjectMapper json = new ObjectMapper();
    Set<String> live = new LinkedHashSet<>();
    List<Path> commits;
    try (Stream<Path> s = Files.list(log)) {
      commits = s.filter(p -> p.getFileName().toString().matches("\\d{20}\\.json")).sorted().toList();
    }
    for (Path commit : commits) {
      for (String line : Files.readAllLines(commit)) {
        JsonNode action = json.readTree(line);
        if (action.has("add")) {
          live.add(java.net.URLDecoder.decode(action.get("add").get("path").asText(), "UTF-8"));
        } else if (action.has("remove")) {
          live.remove(java.net.URLDecoder.decode(action.get("remove").get("path").asText(), "UTF-8"));
        }
      }
    }
    return List.copyOf(live);
  }

  @Test
  void twoRunsFromDifferentCheckpointsIntoOneTableBothCommit() throws Exception {
    for (Lake lake : List.of(iceberg("together"), delta("together"))) {
      spark.sql(lake.createEvents());
      // two incremental jobs over disjoint halves of one source, each with its own checkpoint, into one table
      String[] wheres = {"id % 2 = 0", "id % 2 = 1"};
      String[] checkpoints = {tmp.resolve(lake.name() + "-together-even").toString(),
          tmp.resolve(lake.name() + "-together-odd").toString()};
      Set<String> runIds = new LinkedHashSet<>();
      long scored = 0;
      for (int round = 0; round < 2; round++) { // round 1 also races to create the two tables
        append(lake.events(), rows(round * ROUND, ROUND));
        List<RunSummary> runs = together(lake, checkpoints, wheres);
        for (RunSummary run : runs) {
          assertEquals(ROUND / 2, run.inputRows(), "each run reads its half of the new rows");
          assertEquals(run.inputRows(), run.scoredRows() + run.rejectedRows());
          assertFalse(run.tables().alreadyCommitted());
          runIds.add(run.tables().runId());
          scored += run.scoredRows();
        }
      }
      List<Long> all = new ArrayList<>(spark.table(lake.scores()).select("id")
          .as(org.apache.spark.sql.Encoders.LONG()).collectAsList());
      long predictions = all.size();
      all.addAll(spark.table(lake.rejects()).select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList());
      assertExactlyOnce(all, spark.table(lake.events()).select("id").as(org.apache.spark.sql.Encoders.LONG())
          .collectAsList());
      assertEquals(scored, predictions, "the predictions table has the rows both runs' summaries scored");
      assertEquals(runIds, committedRunIds(lake.scores()), "each run's commit, none lost, none twice");
      assertEquals(runIds, committedRunIds(lake.rejects()));
    }
  }

  /** Starts one incremental run per checkpoint at the same moment, each in its own thread; their summaries. */
  private static List<RunSummary> together(Lake lake, String[] checkpoints, String[] wheres) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(checkpoints.length);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<RunSummary>> runs = new ArrayList<>();
      for (int i = 0; i < checkpoints.length; i++) {
        String checkpoint = checkpoints[i];
        String where = wheres[i];
        runs.add(threads.submit(() -> {
          go.await();
          return score(lake, checkpoint, where);
        }));
      }
      go.countDown();
      List<RunSummary> summaries = new ArrayList<>();
      for (Future<RunSummary> run : runs) {
        summaries.add(run.get(300, TimeUnit.SECONDS));
      }
      return summaries;
    } finally {
      threads.shutdownNow();
    }
  }

  /** The run ids of a table's seqpack commits, in commit order (Iceberg's snapshots, Delta's history). */
  private static Set<String> committedRunIds(String table) {
    List<String> tags = table.startsWith("delta.")
        ? spark.sql("DESCRIBE HISTORY " + table).orderBy("version").where("userMetadata IS NOT NULL")
            .selectExpr("substring(userMetadata, " + (LakeTable.RUN_ID_KEY.length() + 2) + ")")
            .as(org.apache.spark.sql.Encoders.STRING()).collectAsList()
        : spark.sql("SELECT summary['" + LakeTable.RUN_ID_KEY + "'] FROM " + table + ".snapshots "
            + "WHERE summary['" + LakeTable.RUN_ID_KEY + "'] IS NOT NULL ORDER BY committed_at")
            .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertEquals(tags.size(), new LinkedHashSet<>(tags).size(), "no run committed twice: " + tags);
    return new java.util.TreeSet<>(tags);
  }

  @Test
  void setupMistakesAreOneLineAndWriteNothing() {
    Lake lake = iceberg("bad");
    SeqpackException missing = assertThrows(InputSchemaException.class, () -> score(lake, null, null));
    assertEquals("Cannot read --input-table lake.db.bad_events: no such table", missing.getMessage());
    assertFalse(spark.catalog().tableExists(lake.scores()), "nothing written");

    spark.sql(lake.createEvents());
    append(lake.events(), rows(0, 20));
    SeqpackException where = assertThrows(ConfigException.class, () -> score(lake, null, "id >>> 3"));
    assertTrue(where.getMessage().startsWith("Invalid --where 'id >>> 3': "), where.getMessage());
    assertEquals(1, where.getMessage().lines().count());
    assertFalse(spark.catalog().tableExists(lake.scores()), "nothing written");

    spark.sql("CREATE TABLE " + lake.scores() + " (id BIGINT, length INT, scores STRING) USING iceberg");
    SeqpackException schema = assertThrows(InputSchemaException.class, () -> score(lake, null, null));
    assertTrue(schema.getMessage().startsWith("Cannot write --output-table lake.db.bad_scores: column 'scores' is "
        + "string there but array<float> in seqpack's output"), schema.getMessage());
    assertEquals(0, spark.table(lake.scores()).count(), "nothing written");

    Lake nowhere = new Lake("iceberg", "nocat.db.events", "nocat.db.scores", "", "");
    SeqpackException catalog = assertThrows(ConfigException.class, () -> score(nowhere, null, null));
    assertTrue(catalog.getMessage().startsWith("Cannot use --output-table nocat.db.scores: catalog 'nocat' is not "
        + "configured (add --conf spark.sql.catalog.nocat="), catalog.getMessage());

    spark.sql("DROP TABLE " + lake.scores());
    RunSummary filtered = score(lake, null, "id < 10");
    assertEquals(10, filtered.inputRows(), "--where filters the input rows");
  }

  @Test
  void theLauncherPutsTheFormatsOnTheClassPathForTableRuns() throws Exception {
    Path in = tmp.resolve("launcher-in");
    spark.createDataFrame(rows(0, 40), EVENTS).coalesce(1).write().parquet(in.toString());
    // an Iceberg table (its commits are the cheaper ones here); the session's Delta settings need Delta's jars too
    List<String> command = new ArrayList<>(List.of("scripts/seqpack", "score", "--input", in.toString(), "--model",
        MODEL.toString(), "--output-table", "lake.db.launcher_scores", "--master", "local[1]"));
    lakeConf().forEach((k, v) -> command.addAll(List.of("--conf", k + "=" + v)));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("launcher.log").toFile());
    pb.environment().put("SEQPACK_NO_BUILD", "1");
    pb.environment().put("SEQPACK_CDS", "0");
    pb.environment().put("SEQPACK_JAVA_OPTS", "-Xmx1g");
    Process p = pb.start();
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), "scripts/seqpack finished");
    String log = Files.readString(tmp.resolve("launcher.log"));
    assertEquals(0, p.exitValue(), log);
    assertEquals(40, spark.table("lake.db.launcher_scores").count()
        + spark.table("lake.db.launcher_scores_rejects").count(), log);
    // the one warning allowed is about the user's own OpenBLAS environment (OPENBLAS_CORETYPE set on some machines)
    assertFalse(log.lines().anyMatch(line -> line.contains("WARN") && !line.contains("WARN OpenBlasCore:")),
        "no warning on a healthy table run:\n" + log);
  }

  @Test
  void aDriverKilledBetweenItsCommitsAndItsCheckpointDoesNotAppendAgain() throws Exception {
    for (Lake lake : List.of(iceberg("killed"), delta("killed"))) {
      spark.sql(lake.createEvents());
      append(lake.events(), rows(0, ROUND));
      Path checkpoint = tmp.resolve(lake.name() + "-killed-checkpoint");
      Path marker = tmp.resolve(lake.name() + "-paused");
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
          .toString()));
      command.addAll(List.of(System.getProperty("seqpack.jvmOpens", "").trim().split("\\s+")));
      command.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), "io.seqpack.cli.Main", "score",
          "--input-table", lake.events(), "--output-table", lake.scores(), "--model", MODEL.toString(),
          "--incremental", "--checkpoint", checkpoint.toString(), "--master", "local[1]",
          "--conf", "spark.hadoop.fs.file.impl=" + PausingLocalFileSystem.class.getName(),
          "--conf", "spark.hadoop.fs.file.impl.disable.cache=true",
          "--conf", "spark.hadoop.seqpack.test.pause-marker=" + marker));
      lakeConf().forEach((k, v) -> command.addAll(List.of("--conf", k + "=" + v)));
      Process driver = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(tmp.resolve(lake.name() + "-killed.log").toFile()).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
      while (!Files.exists(marker) && driver.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(Files.exists(marker), "the driver reached its checkpoint write: "
          + Files.readString(tmp.resolve(lake.name() + "-killed.log")));
      driver.destroyForcibly(); // SIGKILL: after both table commits, before the checkpoint records them
      driver.waitFor(30, TimeUnit.SECONDS);
      long committed = spark.table(lake.scores()).count() + spark.table(lake.rejects()).count();
      assertEquals(ROUND, committed, "the killed run committed its rows");

      RunSummary rerun = score(lake, checkpoint.toString(), null);
      assertEquals(ROUND, rerun.inputRows(), "the rerun scores the killed run's range again");
      assertTrue(rerun.tables().alreadyCommitted(), "and finds the killed run's commits");
      assertEquals(ROUND, spark.table(lake.scores()).count() + spark.table(lake.rejects()).count(),
          "and does not append it again");
      append(lake.events(), rows(ROUND, 40));
      assertEquals(40, score(lake, checkpoint.toString(), null).inputRows(), "the next run goes on from there");
      assertEquals(ROUND + 40, spark.table(lake.scores()).count() + spark.table(lake.rejects()).count());
    }
  }
}
