package io.seqpack.job;

import static io.seqpack.job.StandaloneCluster.await;
import static io.seqpack.job.StandaloneCluster.read;
import static io.seqpack.job.StandaloneCluster.tail;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.seqpack.cli.Main;
import io.seqpack.spark.LocalSpark;
import io.seqpack.spark.SyntheticInputs;
import io.seqpack.testing.TestJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What happens at night on a standalone cluster: {@code kill -9} of an executor JVM, then of a whole worker, while
 * the job is scoring. Each time {@code seqpack score} must exit 0, every input row must be in the predictions or the
 * rejects exactly once (checked by id, not only by the job's own counts), and the scores must equal a clean run's.
 *
 * <p>The victims are found the way an operator would find them: the driver's task lines say which executor runs a
 * scoring task; the worker's work folder {@code work/<app>/<executor id>/} and the {@code CoarseGrainedExecutorBackend}
 * process whose command line names that app and executor id (and whose working directory is that folder) give the
 * pid; a worker's pid is the one {@code scripts/cluster.sh} recorded. Never from seqpack's own metrics.
 *
 * <p>The job is an LSTM with hidden size 256 on about 2.6M tokens in {@value #PARTITIONS} input files (one scoring
 * task each, 3-6 s per task on this machine), so a kill lands mid-stage with tasks still to run. The victim is the
 * scoring task that started last: with tasks of seconds, the kill lands while it runs on an idle machine too (an
 * earlier version picked a task that had run half a second, which on an idle machine could finish first). Under failsafe
 * ({@code mvn verify}); skipped without the shaded jar. About 4 minutes on the busy 2-core build machine (mostly
 * JVM and Spark start-up: each job starts two executor JVMs that fetch the 128 MB application jar).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFaultIT {
  private static final Path WORK = StandaloneCluster.BASEDIR.resolve("target/cluster-fault-it");
  private static final Path INPUT = WORK.resolve("input");
  private static final Path MODEL = WORK.resolve("model-lstm256");
  private static final Path OUT_CLEAN = WORK.resolve("out-clean");

  private static final int PARTITIONS = 8;
  private static final int VALID_ROWS = 64_000;
  private static final int MAX_LENGTH = 80;
  private static final int VOCAB = 1000;
  private static final long SUBMIT_TIMEOUT_S = 300;
  /** The kill waits for this many finished scoring tasks (so the stage is under way) ... */
  private static final int FINISHED_BEFORE_KILL = 2;
  /** ... and needs at least this many still to finish (so the stage goes on without the victim). */
  private static final int UNFINISHED_AT_KILL = 3;

  /** Spark settings of both the cluster runs and the clean run: one input file per scoring task. */
  private static final List<String> SPLIT_CONF = List.of(
      "--conf", "spark.sql.files.maxPartitionBytes=1g",
      "--conf", "spark.sql.files.openCostInBytes=1g");

  private static StandaloneCluster cluster;
  private static SparkSession reader;
  private static final Map<Long, String> EXPECTED_REJECTS = new TreeMap<>();
  private static final Set<Long> INPUT_IDS = new TreeSet<>();
  private static Map<Long, float[]> cleanScores;
  private static Map<Long, String> cleanRejects;

  @BeforeAll
  static void startClusterAndRunCleanJob() throws Exception {
    Path jar = StandaloneCluster.shadedJar();
    Assumptions.assumeTrue(jar != null && Files.isRegularFile(jar),
        "ClusterFaultIT needs the shaded jar target/seqpack-*-all.jar (built by `mvn package`); run it with `mvn verify`");
    Path cp = StandaloneCluster.BASEDIR.resolve("target/classpath.txt");
    assertTrue(Files.isRegularFile(cp), "target/classpath.txt is missing");

    // A private copy of the jar: other builds in this checkout may rewrite target/ while the cluster runs.
    StandaloneCluster probe = new StandaloneCluster(WORK, jar, Map.of());
    probe.stopLeftover();
    StandaloneCluster.deleteRecursively(WORK);
    Files.createDirectories(WORK);
    Path jarCopy = WORK.resolve("seqpack-all.jar");
    Files.copy(jar, jarCopy, StandardCopyOption.REPLACE_EXISTING);
    try (ZipFile zip = new ZipFile(jarCopy.toFile())) {
      assertTrue(zip.getEntry("io/seqpack/cli/Main.class") != null, "no io/seqpack/cli/Main.class in " + jar);
    }

    cluster = new StandaloneCluster(WORK, jarCopy, Map.of("SEQPACK_CLUSTER_LOG_TASKS", "1"));
    Process start = cluster.start(2);
    SyntheticInputs.writeModel(MODEL, "LSTM", 256, VOCAB, 32, 7);
    writeInput();

    // The clean run (while the cluster comes up): the same job in local mode in this JVM, the same input splits.
    List<String> args = new ArrayList<>(List.of("score", "--input", INPUT.toString(), "--model", MODEL.toString(),
        "--output", OUT_CLEAN.toString(), "--master", "local[2]"));
    args.addAll(SPLIT_CONF);
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    int local;
    try (PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8)) {
      local = Main.run(args.toArray(String[]::new), out, err);
    }
    assertEquals(0, local, "clean local run failed:\n" + outBytes.toString(StandardCharsets.UTF_8)
        + errBytes.toString(StandardCharsets.UTF_8));
    System.out.printf("ClusterFaultIT: clean local[2] run took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    reader = LocalSpark.start(); // Main.run stopped its own session: one for reading the outputs from here on
    cleanScores = scores(reader, OUT_CLEAN);
    cleanRejects = rejects(reader, Path.of(OUT_CLEAN + "_rejects"));
    checkExactlyOnce("clean run", cleanScores, cleanRejects);
    int status = cluster.awaitStart(start);
    assertEquals(0, status, "scripts/cluster.sh start failed:\n" + tail(WORK.resolve("start.log"), 60));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (reader != null) {
      reader.stop();
    }
    if (cluster != null) {
      System.out.println("ClusterFaultIT: " + cluster.stop());
    }
  }

  @Test
  @Order(1)
  void executorKilledWhileScoringJobFinishesOnTheOthersWithEveryRowOnce() throws Exception {
    Set<String> appsBefore = new HashSet<>(cluster.applications());
    Path output = WORK.resolve("out-executor-kill");
    Path log = WORK.resolve("submit-executor-kill.log");
    Process submit = cluster.submit(jobArgs(output), log);

    Victim victim = awaitScoringTask(submit, log, appsBefore);
    Optional<ProcessHandle> process = cluster.executorProcess(victim.app, victim.task.executor);
    assertTrue(process.isPresent(), "no CoarseGrainedExecutorBackend process for " + victim.app + " executor "
        + victim.task.executor + " (work folder " + cluster.workDir().resolve(victim.app) + ")");
    long pid = process.get().pid();
    long parent = process.get().parent().map(ProcessHandle::pid).orElse(-1L);
    assertTrue(cluster.daemons().entrySet().stream().anyMatch(e -> e.getKey().startsWith("worker")
        && e.getValue() == parent), "executor pid " + pid + " is not a child of a recorded worker: " + cluster.daemons());
    List<String> executorsAtKill = cluster.executorDirs(victim.app);
    StandaloneCluster.kill9(pid);
    System.out.println("ClusterFaultIT: kill -9 " + pid + " (executor " + victim.task.executor + " of " + victim.app
        + ", worker pid " + parent + ") while it ran " + victim.task + "; " + victim.finished + "/" + victim.stageTasks
        + " scoring tasks had finished");
    assertTrue(StandaloneCluster.awaitGone(pid, 10), "executor pid " + pid + " still alive after kill -9");

    int exit = await(submit, SUBMIT_TIMEOUT_S, log);
    assertEquals(0, exit, "seqpack score on the cluster after an executor was killed; the end of its output:\n"
        + tail(log, 150));

    // The victim's task attempt was lost with its executor and run again elsewhere.
    DriverTaskLog tasks = DriverTaskLog.parse(log);
    DriverTaskLog.Attempt killed = tasks.attempts.get(victim.task.tid);
    assertTrue(killed != null && killed.lost != null && killed.lost.contains("ExecutorLostFailure"),
        "the killed executor's task attempt should be lost (ExecutorLostFailure): " + killed);
    List<DriverTaskLog.Attempt> retries = tasks.inStage(victim.stage).stream()
        .filter(a -> a.partition == victim.task.partition && a.attempt > victim.task.attempt && a.finished).toList();
    assertFalse(retries.isEmpty(), "partition " + victim.task.partition + " was not scored again after the kill: "
        + tasks.inStage(victim.stage));

    // The worker replaced its executor (a new executor folder in the application's work folder).
    List<String> executorsAfter = cluster.executorDirs(victim.app);
    List<String> replacements = executorsAfter.stream().filter(e -> !executorsAtKill.contains(e)).toList();
    assertFalse(replacements.isEmpty(), "no replacement executor in " + cluster.workDir().resolve(victim.app)
        + ": " + executorsAfter);
    for (String r : replacements) {
      long ran = read(cluster.executorStderr(victim.app, r)).lines().filter(l -> l.contains("Running task")).count();
      System.out.println("ClusterFaultIT: replacement executor " + r + " ran " + ran + " task(s)");
    }
    System.out.println("ClusterFaultIT: retried " + retries + "; summary executors "
        + summary(output).get("executors"));

    checkAgainstCleanRun(output);
  }

  @Test
  @Order(2)
  void workerKilledWhileScoringAppContinuesOnTheOtherWorkerWithEveryRowOnce() throws Exception {
    Set<String> appsBefore = new HashSet<>(cluster.applications());
    Map<String, Long> workers = new TreeMap<>(cluster.daemons());
    workers.remove("master");
    assertEquals(2, workers.size(), "two workers before the worker kill: " + workers);
    for (Map.Entry<String, Long> w : workers.entrySet()) {
      assertTrue(ProcessHandle.of(w.getValue()).map(ProcessHandle::isAlive).orElse(false), w + " is not running");
    }
    Path output = WORK.resolve("out-worker-kill");
    Path log = WORK.resolve("submit-worker-kill.log");
    Process submit = cluster.submit(jobArgs(output), log);

    Victim victim = awaitScoringTask(submit, log, appsBefore);
    ProcessHandle executor = cluster.executorProcess(victim.app, victim.task.executor).orElseThrow(
        () -> new AssertionError("no process for " + victim.app + " executor " + victim.task.executor));
    long workerPid = executor.parent().map(ProcessHandle::pid).orElse(-1L);
    String workerName = workers.entrySet().stream().filter(e -> e.getValue() == workerPid).map(Map.Entry::getKey)
        .findFirst().orElseThrow(() -> new AssertionError("executor " + executor.pid() + " has parent " + workerPid
            + ", not a recorded worker: " + workers));
    StandaloneCluster.kill9(workerPid);
    long killedAt = System.nanoTime();
    System.out.println("ClusterFaultIT: kill -9 " + workerPid + " (" + workerName + ") while its executor "
        + victim.task.executor + " (pid " + executor.pid() + ") ran " + victim.task + "; " + victim.finished + "/"
        + victim.stageTasks + " scoring tasks had finished");
    boolean executorGone = StandaloneCluster.awaitGone(executor.pid(), 60);
    System.out.printf("ClusterFaultIT: the dead worker's executor pid %d %s%n", executor.pid(), executorGone
        ? String.format("exited by itself %.1f s after the worker", (System.nanoTime() - killedAt) / 1e9)
        : "was still running 60 s after its worker");

    int exit = await(submit, SUBMIT_TIMEOUT_S, log);
    assertEquals(0, exit, "seqpack score on the cluster after a worker was killed; the end of its output:\n"
        + tail(log, 150));

    String masterLog = read(cluster.runDir.resolve("master.log"));
    assertTrue(masterLog.lines().anyMatch(l -> l.contains("Removing worker") || l.contains("has been removed")
            || (l.contains("worker") && l.contains("lost"))),
        "the master should log that it removed the dead worker:\n" + tail(cluster.runDir.resolve("master.log"), 40));
    DriverTaskLog tasks = DriverTaskLog.parse(log);
    DriverTaskLog.Attempt killed = tasks.attempts.get(victim.task.tid);
    assertTrue(killed != null && killed.lost != null, "the dead worker's task attempt should be lost: " + killed);
    List<DriverTaskLog.Attempt> retries = tasks.inStage(victim.stage).stream()
        .filter(a -> a.partition == victim.task.partition && a.attempt > victim.task.attempt && a.finished).toList();
    assertFalse(retries.isEmpty(), "partition " + victim.task.partition + " was not scored again after the kill: "
        + tasks.inStage(victim.stage));
    assertFalse(retries.stream().anyMatch(a -> a.executor.equals(victim.task.executor)), "retried on the dead "
        + "worker's executor: " + retries);
    Set<String> afterKill = new TreeSet<>();
    for (DriverTaskLog.Attempt a : tasks.inStage(victim.stage)) {
      if (a.finished && !a.executor.equals(victim.task.executor)) {
        afterKill.add(a.executor);
      }
    }
    assertFalse(afterKill.isEmpty(), "no scoring task finished on another executor: " + tasks.inStage(victim.stage));
    System.out.println("ClusterFaultIT: scoring tasks finished on executors " + afterKill + " besides the victim "
        + victim.task.executor + "; summary executors " + summary(output).get("executors"));
    assertTrue(ProcessHandle.of(workers.entrySet().stream().filter(e -> !e.getKey().equals(workerName)).findFirst()
        .orElseThrow().getValue()).map(ProcessHandle::isAlive).orElse(false), "the other worker is still running");

    checkAgainstCleanRun(output);
  }

  // ------------------------------------------------------------------------------------------------ the victim

  private record Victim(String app, int stage, DriverTaskLog.Attempt task, long finished, int stageTasks) {}

  /**
   * Waits until the scoring stage is under way ({@value #FINISHED_BEFORE_KILL} tasks finished) with {@value
   * #UNFINISHED_AT_KILL} or more tasks still to finish, and returns the running scoring task that started last
   * (most of its seconds still ahead), once the executor's own log (in the worker's work folder) shows it runs it.
   */
  private static Victim awaitScoringTask(Process submit, Path log, Set<String> appsBefore) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SUBMIT_TIMEOUT_S);
    Map<Long, Long> firstSeen = new HashMap<>();
    while (System.nanoTime() < deadline) {
      if (!submit.isAlive()) {
        fail("the job ended (exit " + submit.exitValue() + ") before a scoring task could be killed; make it longer."
            + "\n" + tail(log, 80));
      }
      DriverTaskLog tasks = DriverTaskLog.parse(log);
      int stage = tasks.firstStageWithAtLeast(PARTITIONS);
      if (stage >= 0) {
        List<DriverTaskLog.Attempt> attempts = tasks.inStage(stage);
        long finished = attempts.stream().filter(a -> a.finished).count();
        int total = tasks.taskSets.get(stage);
        long now = System.nanoTime();
        for (DriverTaskLog.Attempt a : attempts) {
          firstSeen.putIfAbsent(a.tid, now);
        }
        if (total - finished < UNFINISHED_AT_KILL) {
          fail("the scoring stage is nearly done (" + finished + "/" + total + ") and no task was killed; "
              + "the job is too short for this machine.\n" + tail(log, 80));
        }
        List<String> apps = cluster.applications().stream().filter(a -> !appsBefore.contains(a)).toList();
        if (finished >= FINISHED_BEFORE_KILL && apps.size() == 1) {
          Optional<DriverTaskLog.Attempt> youngest = attempts.stream().filter(DriverTaskLog.Attempt::running)
              .max(java.util.Comparator.comparingLong(a -> firstSeen.get(a.tid)));
          if (youngest.isPresent()
              && read(cluster.executorStderr(apps.get(0), youngest.get().executor)).contains(
                  "(TID " + youngest.get().tid + ")")) {
            return new Victim(apps.get(0), stage, youngest.get(), finished, total);
          }
        }
      }
      Thread.sleep(50);
    }
    fail("no scoring task to kill within " + SUBMIT_TIMEOUT_S + " s:\n" + tail(log, 80));
    return null;
  }

  private static List<String> jobArgs(Path output) {
    List<String> args = new ArrayList<>(List.of("score", "--input", INPUT.toString(), "--model", MODEL.toString(),
        "--output", output.toString(),
        "--conf", "spark.cores.max=2",
        "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
        "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.ui.showConsoleProgress=false"));
    args.addAll(SPLIT_CONF);
    return args;
  }

  // ------------------------------------------------------------------------------------------------ checks

  /** Every input id exactly once in predictions + rejects, the same rejects, and the clean run's scores. */
  private static void checkAgainstCleanRun(Path output) {
    Map<Long, float[]> scores = scores(reader, output);
    Map<Long, String> rejects = rejects(reader, Path.of(output + "_rejects"));
    checkExactlyOnce(output.getFileName().toString(), scores, rejects);
    assertEquals(cleanRejects, rejects, "rejects (id → reason) of " + output + " and of the clean run");
    double maxDiff = 0;
    for (Map.Entry<Long, float[]> e : cleanScores.entrySet()) {
      float[] clean = e.getValue();
      float[] got = scores.get(e.getKey());
      assertEquals(clean.length, got.length, "number of scores of id " + e.getKey());
      for (int j = 0; j < clean.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(clean[j] - got[j]));
        assertEquals(clean[j], got[j], 1e-6, "score " + j + " of id " + e.getKey() + " against the clean run");
      }
    }
    Map<String, Object> summary = summary(output);
    long in = ((Number) summary.get("input_rows")).longValue();
    long scored = ((Number) summary.get("scored_rows")).longValue();
    long rejected = ((Number) summary.get("rejected_rows")).longValue();
    assertEquals(INPUT_IDS.size(), in, "summary input_rows");
    assertEquals(VALID_ROWS, scored, "summary scored_rows");
    assertEquals(EXPECTED_REJECTS.size(), rejected, "summary rejected_rows");
    System.out.printf("ClusterFaultIT: %s: %d input ids = %d predictions + %d rejects, each once; summary input %d,"
        + " scored %d, rejected %d; max |score - clean| = %.2g%n", output.getFileName(), INPUT_IDS.size(),
        scores.size(), rejects.size(), in, scored, rejected, maxDiff);
  }

  private static void checkExactlyOnce(String what, Map<Long, float[]> scores, Map<Long, String> rejects) {
    Set<Long> both = new TreeSet<>(scores.keySet());
    both.retainAll(rejects.keySet());
    assertTrue(both.isEmpty(), what + ": ids both scored and rejected: " + both);
    Set<Long> union = new TreeSet<>(scores.keySet());
    union.addAll(rejects.keySet());
    if (!union.equals(INPUT_IDS)) {
      Set<Long> missing = new TreeSet<>(INPUT_IDS);
      missing.removeAll(union);
      Set<Long> extra = new TreeSet<>(union);
      extra.removeAll(INPUT_IDS);
      fail(what + ": predictions + rejects do not cover the input ids exactly: " + missing.size() + " missing (e.g. "
          + missing.stream().limit(10).toList() + "), " + extra.size() + " unknown (e.g. "
          + extra.stream().limit(10).toList() + ")");
    }
    Map<Long, String> expected = new TreeMap<>(EXPECTED_REJECTS);
    assertEquals(expected, new TreeMap<>(rejects), what + ": rejects (id → reason)");
  }

  private static Map<String, Object> summary(Path output) {
    return TestJson.parseObject(read(output.resolve(ScoreJob.SUMMARY_FILE)));
  }

  /** id → scores; fails on a duplicate id. */
  private static Map<Long, float[]> scores(SparkSession spark, Path output) {
    Map<Long, float[]> scores = new HashMap<>();
    for (Row row : spark.read().parquet(output.toString()).select("id", "scores").collectAsList()) {
      List<Float> values = row.getList(1);
      float[] array = new float[values.size()];
      for (int j = 0; j < array.length; j++) {
        array[j] = values.get(j);
      }
      assertTrue(scores.put(row.getLong(0), array) == null, "id " + row.getLong(0) + " appears twice in " + output);
    }
    return scores;
  }

  /** id → reason; fails on a duplicate id. */
  private static Map<Long, String> rejects(SparkSession spark, Path rejects) {
    Map<Long, String> map = new HashMap<>();
    for (Row row : spark.read().parquet(rejects.toString()).select("id", "reason").collectAsList()) {
      assertTrue(map.put(row.getLong(0), row.getString(1)) == null, "reject id " + row.get(0) + " appears twice in "
          + rejects);
    }
    return map;
  }

  // ------------------------------------------------------------------------------------------------ input

  /** {@value #VALID_ROWS} rows of lengths 1..{@value #MAX_LENGTH} plus bad rows, in {@value #PARTITIONS} files. */
  private static void writeInput() throws Exception {
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, true), true)));
    List<Row> bad = new ArrayList<>();
    long id = 10_000_000L;
    for (int k = 0; k < PARTITIONS; k++) { // a few in every file
      bad.add(badRow(id++, null, "NULL_SEQUENCE"));
      bad.add(badRow(id++, List.of(), "EMPTY_SEQUENCE"));
      bad.add(badRow(id++, List.of(1, 2, VOCAB), "TOKEN_OUT_OF_RANGE"));
      bad.add(badRow(id++, Arrays.asList(3, null, 4), "TOKEN_OUT_OF_RANGE"));
    }
    for (long i = 0; i < VALID_ROWS; i++) {
      INPUT_IDS.add(i);
    }
    INPUT_IDS.addAll(EXPECTED_REJECTS.keySet());
    try (SparkSession spark = LocalSpark.start()) {
      Dataset<Row> valid = SyntheticInputs.tokens(spark, VALID_ROWS, VOCAB, "uniform:" + MAX_LENGTH, 11);
      Dataset<Row> all = valid.union(spark.createDataFrame(bad, schema));
      all.repartition(PARTITIONS).write().parquet(INPUT.toString());
      Row stats = spark.read().parquet(INPUT.toString()).selectExpr("count(*)", "sum(size(seq))").first();
      System.out.println("ClusterFaultIT: input " + stats.getLong(0) + " rows, " + stats.getLong(1) + " tokens in "
          + PARTITIONS + " files");
    }
  }

  private static Row badRow(long id, List<Integer> seq, String reason) {
    EXPECTED_REJECTS.put(id, reason);
    return RowFactory.create(id, seq);
  }
}
