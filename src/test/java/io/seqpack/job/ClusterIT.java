package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.seqpack.cli.Main;
import io.seqpack.ml.PipelineScoreMain;
import io.seqpack.ml.SequenceScorerTransformer;
import io.seqpack.testing.TestJson;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code seqpack score} on a real Spark standalone cluster: a master and two workers started with {@code
 * scripts/cluster.sh}, the shaded jar submitted through {@code scripts/cluster.sh submit} (SparkSubmit, client
 * mode), executors in their own JVMs. The result must equal a local-mode run of the same input row for row, and
 * the summary must show that at least two executor JVMs other than this one did the scoring. A second test
 * submits a small Spark application that loads a saved {@code PipelineModel} with the seqpack stage (the model
 * folder deleted after saving) and scores on the same cluster, with the shaded jar in {@code --jars}, as a user's
 * own application would: PyTorch's numbers on the golden rows, {@code seqpack score}'s on the others. A third
 * writes an Iceberg table (Hadoop catalog, the runtime in {@code --jars}) and reads it back with Iceberg's Java API.
 *
 * <p>Runs under failsafe after {@code package} ({@code mvn verify}), which passes the shaded jar as the system
 * property {@code seqpack.shadedJar}; skipped when that jar does not exist. The cluster uses free ports and its
 * own run directory, {@code target/cluster-it/cluster}, so it does not touch a cluster the user started.
 */
class ClusterIT {
  private static final Path BASEDIR = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  private static final Path SCRIPT = BASEDIR.resolve("scripts/cluster.sh");
  private static final Path MODEL = BASEDIR.resolve("src/test/resources/golden/gru_bi3");
  private static final Path WORK = BASEDIR.resolve("target/cluster-it");
  private static final Path RUN_DIR = WORK.resolve("cluster");
  private static final Path INPUT = WORK.resolve("input");
  private static final Path OUT_CLUSTER = WORK.resolve("out-cluster");
  private static final Path OUT_LOCAL = WORK.resolve("out-local");
  /** Golden rows get ids from here up in the pipeline test's input (the cluster input's ids are below). */
  private static final long GOLDEN_ID_BASE = 1_000_000L;

  private static final long START_TIMEOUT_S = 180;
  private static final long SUBMIT_TIMEOUT_S = 300; // 40-140 s observed on 2 busy cores
  private static final long STOP_TIMEOUT_S = 90;
  private static final int VALID_ROWS = 2000;
  private static final int MAX_LENGTH = 60;

  private static Path shadedJar;
  private static Map<String, String> clusterEnv;
  private static boolean clusterStarted;
  private static Thread stopOnExit;
  /** id → reason of the bad rows written into the input. */
  private static final Map<Long, String> EXPECTED_REJECTS = new TreeMap<>();

  @BeforeAll
  static void startClusterAndWriteInput() throws Exception {
    shadedJar = findShadedJar();
    Assumptions.assumeTrue(
        shadedJar != null && Files.isRegularFile(shadedJar),
        "ClusterIT needs the shaded jar target/seqpack-*-all.jar (built by `mvn package`); run it with `mvn verify`");
    assertTrue(Files.isRegularFile(BASEDIR.resolve("target/classpath.txt")), "target/classpath.txt is missing");

    clusterEnv = new HashMap<>();
    int[] ports = freePorts(2);
    clusterEnv.put("SEQPACK_CLUSTER_PORT", String.valueOf(ports[0]));
    clusterEnv.put("SEQPACK_CLUSTER_UI_PORT", String.valueOf(ports[1]));
    clusterEnv.put("SEQPACK_CLUSTER_DIR", RUN_DIR.toString());
    clusterEnv.put("SEQPACK_CLUSTER_TIMEOUT", "120");
    clusterEnv.put("SEQPACK_JAR", shadedJar.toString());

    // A cluster left behind by a killed earlier run would hold on to the run directory: stop it first.
    if (Files.exists(RUN_DIR.resolve("pids"))) {
      script(List.of("stop"), WORK.resolve("stop-leftover.log"), STOP_TIMEOUT_S);
    }
    deleteRecursively(WORK);
    Files.createDirectories(WORK);

    // The cluster comes up (15-50 s) while this JVM writes the input.
    Process start = startScript(List.of("start", "2"), WORK.resolve("start.log"));
    clusterStarted = true;
    stopOnExit = new Thread(ClusterIT::stopQuietly, "ClusterIT-stop");
    Runtime.getRuntime().addShutdownHook(stopOnExit);
    writeInput();
    int status = await(start, START_TIMEOUT_S, WORK.resolve("start.log"));
    assertEquals(0, status, "scripts/cluster.sh start failed:\n" + tail(WORK.resolve("start.log")));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (!clusterStarted) {
      return;
    }
    int status = script(List.of("stop"), WORK.resolve("stop.log"), STOP_TIMEOUT_S);
    clusterStarted = false;
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway; stop is idempotent
    }
    System.out.println("ClusterIT: " + read(WORK.resolve("stop.log")).strip());
    assertEquals(0, status, "scripts/cluster.sh stop failed:\n" + read(WORK.resolve("stop.log")));
  }

  @Test
  void clusterRunMatchesLocalRunAndUsesSeparateExecutorJvms() throws Exception {
    // 1. seqpack score on the cluster, through the script a user would run. The scheduler waits until both
    //    executors (2 cores) have registered before it starts, so both get tasks.
    Path submitLog = WORK.resolve("submit.log");
    long t0 = System.nanoTime();
    Process submit =
        startScript(
            List.of(
                "submit", "score",
                "--input", INPUT.toString(),
                "--model", MODEL.toString(),
                "--output", OUT_CLUSTER.toString(),
                "--conf", "spark.default.parallelism=4",
                "--conf", "spark.cores.max=2",
                "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.ui.showConsoleProgress=false"),
            submitLog);
    long driverPid = submit.pid(); // the script execs the driver JVM
    int submitStatus = await(submit, SUBMIT_TIMEOUT_S, submitLog);
    assertEquals(0, submitStatus, "scripts/cluster.sh submit failed; the end of its output:\n" + tail(submitLog));
    System.out.printf("ClusterIT: cluster run took %.1f s%n", (System.nanoTime() - t0) / 1e9);

    // 2. The same job in local mode, in this JVM.
    scoreLocally();

    // 3. Identical outputs and rejects.
    Map<Long, float[]> clusterScores;
    Map<Long, float[]> localScores;
    Set<String> clusterRejects;
    Set<String> localRejects;
    try (SparkSession spark = localSession()) {
      clusterScores = scores(spark, OUT_CLUSTER);
      localScores = scores(spark, OUT_LOCAL);
      clusterRejects = rejects(spark, Path.of(OUT_CLUSTER + "_rejects"));
      localRejects = rejects(spark, Path.of(OUT_LOCAL + "_rejects"));
    }
    assertEquals(VALID_ROWS, clusterScores.size(), "predictions of the cluster run");
    assertEquals(localScores.keySet(), clusterScores.keySet(), "ids of the cluster and local predictions");
    for (Map.Entry<Long, float[]> e : localScores.entrySet()) {
      float[] local = e.getValue();
      float[] cluster = clusterScores.get(e.getKey());
      assertEquals(local.length, cluster.length, "number of scores of id " + e.getKey());
      for (int j = 0; j < local.length; j++) {
        assertEquals(local[j], cluster[j], 1e-6, "score " + j + " of id " + e.getKey());
      }
    }
    Set<String> expectedRejects =
        EXPECTED_REJECTS.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue()).collect(Collectors.toSet());
    assertEquals(expectedRejects, clusterRejects, "rejects (id:reason) of the cluster run");
    assertEquals(localRejects, clusterRejects, "rejects (id:reason) of the cluster and local runs");

    Map<String, Object> summary =
        TestJson.parseObject(read(OUT_CLUSTER.resolve(ScoreJob.SUMMARY_FILE)));
    long inputRows = ((Number) summary.get("input_rows")).longValue();
    long scoredRows = ((Number) summary.get("scored_rows")).longValue();
    long rejectedRows = ((Number) summary.get("rejected_rows")).longValue();
    assertEquals(inputRows, scoredRows + rejectedRows, "input_rows == scored_rows + rejected_rows: " + summary);
    assertEquals(VALID_ROWS + EXPECTED_REJECTS.size(), inputRows, "input_rows");
    assertEquals(VALID_ROWS, scoredRows, "scored_rows");
    assertTrue(
        String.valueOf(((Map<?, ?>) summary.get("settings")).get("master")).startsWith("spark://127.0.0.1:"),
        "the cluster run's master: " + summary.get("settings"));

    // 4. The scoring ran in at least two executor JVMs, neither this JVM nor the driver.
    Object executorsField = summary.get("executors");
    assertTrue(executorsField instanceof List<?>, "summary key 'executors' (list of \"<id>@<pid>\"): " + summary);
    Set<String> executorIds = new TreeSet<>();
    Set<Long> executorPids = new TreeSet<>();
    for (Object entry : (List<?>) executorsField) {
      String s = String.valueOf(entry);
      int at = s.lastIndexOf('@');
      assertTrue(at > 0, "executor entry '" + s + "' is not <executorId>@<pid>");
      executorIds.add(s.substring(0, at));
      executorPids.add(Long.parseLong(s.substring(at + 1)));
    }
    System.out.println("ClusterIT: executors that scored rows: " + executorsField + "; driver pid " + driverPid
        + ", test JVM pid " + ProcessHandle.current().pid());
    assertTrue(executorIds.size() >= 2, "at least 2 executor ids scored rows: " + executorsField);
    // Each of them reported its peak memory: a heap within the executor's 768m, the process larger than that
    // peak heap's committed part, and the engine's native buffers.
    List<?> memory = (List<?>) summary.get("executor_memory");
    Set<String> measured = new TreeSet<>();
    for (Object o : memory) {
      Map<?, ?> m = (Map<?, ?>) o;
      measured.add(String.valueOf(m.get("executor")));
      long heapPeak = ((Number) m.get("heap_peak_bytes")).longValue();
      long heapMax = ((Number) m.get("heap_max_bytes")).longValue();
      long resident = ((Number) m.get("resident_peak_bytes")).longValue();
      long nativeBuffers = ((Number) m.get("native_buffers_bytes")).longValue();
      assertTrue(heapMax > 512L << 20 && heapMax <= 768L << 20, "heap limit of " + m);
      assertTrue(heapPeak > 16L << 20, "peak heap of " + m);
      assertTrue(resident > 128L << 20, "peak resident memory of " + m);
      assertTrue(nativeBuffers > 0, "native buffers of " + m);
    }
    assertEquals(new TreeSet<>((List<?>) executorsField).toString(), measured.toString(),
        "executor_memory has one entry per executor that scored");
    assertTrue(executorPids.size() >= 2, "at least 2 executor JVMs scored rows: " + executorsField);
    assertFalse(executorIds.contains("driver"), "no scoring on the driver: " + executorsField);
    assertFalse(executorPids.contains(ProcessHandle.current().pid()), "no scoring in the test JVM: " + executorsField);
    assertFalse(executorPids.contains(driverPid), "no scoring in the driver JVM: " + executorsField);
    // Spark adds --add-modules=jdk.incubator.vector to executors it launches, so they run the Vector API gate
    // kernels and OpenBLAS from the shaded jar, on the same OpenBLAS core, as the tests in this JVM do.
    String kernelsHere = io.seqpack.nn.SequenceModel.kernels();
    assertTrue(kernelsHere.contains(", gates vector-api (" + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length()
        + " floats"), kernelsHere);
    assertEquals(List.of(kernelsHere), summary.get("kernels"), "kernels the executors scored with");

    // The workers launched those executors: one folder per executor under the application's work folder.
    Set<Path> apps = applications();
    List<List<String>> executorDirs = new ArrayList<>();
    for (Path app : apps) {
      try (Stream<Path> s = Files.list(app)) {
        executorDirs.add(s.filter(p -> Files.isRegularFile(p.resolve("stderr"))).map(p -> p.getFileName().toString())
            .sorted().toList());
      }
    }
    assertTrue(executorDirs.stream().anyMatch(dirs -> dirs.containsAll(executorIds)), "executor log folders "
        + executorDirs + " of the applications " + apps + " for executors " + executorIds);
  }

  @Test
  void anIcebergTableWrittenOnTheClusterHoldsTheLocalRunsScores() throws Exception {
    // the Iceberg runtime reaches driver and executors as a spark-submit user adds it: --jars (README, Scoring into
    // tables); a Hadoop catalog on the local file system, which the workers share on this machine
    Path warehouse = WORK.resolve("warehouse");
    Path icebergJar;
    try (Stream<Path> s = Files.list(BASEDIR.resolve("target/lakehouse"))) {
      icebergJar = s.filter(p -> p.getFileName().toString().startsWith("iceberg-spark-runtime")).findFirst()
          .orElseThrow();
    }
    Map<String, String> env = new HashMap<>(clusterEnv);
    env.put("SEQPACK_SUBMIT_ARGS", "--jars " + icebergJar + " --conf spark.cores.max=2"
        + " --conf spark.scheduler.minRegisteredResourcesRatio=1.0"
        + " --conf spark.scheduler.maxRegisteredResourcesWaitingTime=120s --conf spark.ui.showConsoleProgress=false");
    Path submitLog = WORK.resolve("submit-iceberg.log");
    Process submit = startScript(List.of("submit", "score", "--input", INPUT.toString(), "--model",
        MODEL.toString(), "--output-table", "lake.db.scores",
        "--conf", "spark.sql.catalog.lake=org.apache.iceberg.spark.SparkCatalog",
        "--conf", "spark.sql.catalog.lake.type=hadoop",
        "--conf", "spark.sql.catalog.lake.warehouse=" + warehouse), submitLog, env);
    assertEquals(0, await(submit, SUBMIT_TIMEOUT_S, submitLog),
        "the Iceberg run failed on the cluster; the end of its output:\n" + tail(submitLog));

    // read back with Iceberg's own Java API, no Spark: the local Parquet run's ids and scores, exactly
    Map<Long, float[]> reference = scoreLocally();
    org.apache.iceberg.Table table = new org.apache.iceberg.hadoop.HadoopTables(new org.apache.hadoop.conf
        .Configuration()).load(warehouse.resolve("db/scores").toString());
    Map<Long, float[]> fromTable = new TreeMap<>();
    try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> records =
        org.apache.iceberg.data.IcebergGenerics.read(table).build()) {
      for (org.apache.iceberg.data.Record r : records) {
        List<?> values = (List<?>) r.getField("scores");
        float[] scores = new float[values.size()];
        for (int j = 0; j < scores.length; j++) {
          scores[j] = (Float) values.get(j);
        }
        assertNull(fromTable.put((Long) r.getField("id"), scores), "id " + r.getField("id") + " twice");
      }
    }
    assertEquals(reference.keySet(), fromTable.keySet(), "ids of the table and of the local run");
    for (Map.Entry<Long, float[]> e : reference.entrySet()) {
      assertArrayEquals(e.getValue(), fromTable.get(e.getKey()), "scores of id " + e.getKey());
    }
    assertTrue(table.currentSnapshot().summary().containsKey(LakeTable.RUN_ID_KEY), "the commit carries the run id");
  }

  @Test
  void aSavedPipelineLoadedByAUsersApplicationScoresOnTheClusterWithPyTorchsNumbers() throws Exception {
    GoldenInputs golden = new GoldenInputs(MODEL.getFileName().toString());
    Path pipelineInput = WORK.resolve("pipeline-input");
    Path modelCopy = WORK.resolve("model-copy");
    Path saved = WORK.resolve("pipeline");
    Path out = WORK.resolve("out-pipeline");
    long inputRows;
    try (SparkSession spark = localSession()) {
      Dataset<Row> goldenRows = golden.dataset(spark, DataTypes.IntegerType, 1)
          .withColumn("id", functions.col("id").plus(GOLDEN_ID_BASE));
      Dataset<Row> input = spark.read().parquet(INPUT.toString()).unionByName(goldenRows);
      input.repartition(4).write().parquet(pipelineInput.toString());
      inputRows = spark.read().parquet(pipelineInput.toString()).count();

      Files.createDirectories(modelCopy);
      for (String f : List.of("model.json", "model.safetensors")) {
        Files.copy(MODEL.resolve(f), modelCopy.resolve(f));
      }
      SQLTransformer shard = new SQLTransformer().setStatement("SELECT *, id % 7 AS shard FROM __THIS__");
      SequenceScorerTransformer seqpack = new SequenceScorerTransformer().setModelPath(modelCopy.toUri().toString())
          .setInputCol("seq").setIdCol("id").setHandleInvalid("keep");
      PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {shard, seqpack})
          .fit(spark.read().parquet(pipelineInput.toString()));
      fitted.write().save(saved.toString());
    }
    deleteRecursively(modelCopy); // the saved pipeline holds the model files itself

    // The user's application: one class in its own jar, seqpack's shaded jar beside it in --jars.
    Path appJar = WORK.resolve("pipeline-app.jar");
    String entry = PipelineScoreMain.class.getName().replace('.', '/') + ".class";
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(appJar))) {
      jar.putNextEntry(new JarEntry(entry));
      jar.write(Files.readAllBytes(BASEDIR.resolve("target/test-classes").resolve(entry)));
      jar.closeEntry();
    }
    Map<String, String> env = new HashMap<>(clusterEnv);
    env.put("SEQPACK_JAR", appJar.toString());
    env.put("SEQPACK_MAIN_CLASS", PipelineScoreMain.class.getName());
    env.put("SEQPACK_SUBMIT_ARGS", "--jars " + shadedJar + " --conf spark.cores.max=2"
        + " --conf spark.scheduler.minRegisteredResourcesRatio=1.0"
        + " --conf spark.scheduler.maxRegisteredResourcesWaitingTime=120s --conf spark.ui.showConsoleProgress=false");
    Path submitLog = WORK.resolve("submit-pipeline.log");
    Set<Path> appsBefore = applications();
    Process submit = startScript(List.of("submit", saved.toString(), pipelineInput.toString(), out.toString()),
        submitLog, env);
    assertEquals(0, await(submit, SUBMIT_TIMEOUT_S, submitLog),
        "the pipeline application failed on the cluster; the end of its output:\n" + tail(submitLog));

    // It ran on the cluster: a new application whose two executors the workers launched.
    Set<Path> newApps = new TreeSet<>(applications());
    newApps.removeAll(appsBefore);
    assertEquals(1, newApps.size(), "one new application under the workers' work folder: " + newApps);
    try (Stream<Path> s = Files.list(newApps.iterator().next())) {
      assertEquals(2, s.filter(p -> Files.isRegularFile(p.resolve("stderr"))).count(),
          "executor folders of the pipeline application " + newApps);
    }

    Map<Long, float[]> reference = scoreLocally();
    float[][] pytorch = golden.rows("scores");
    try (SparkSession spark = localSession()) {
      Dataset<Row> scored = spark.read().parquet(out.toString());
      assertEquals(List.of("id", "seq", "shard", "length", "scores", "reject_reason"),
          List.of(scored.schema().fieldNames()), "the stage appends its columns to every input column");
      List<Row> rows = scored.collectAsList();
      assertEquals(inputRows, rows.size(), "one output row per input row (handleInvalid=keep)");
      Set<Long> ids = new HashSet<>();
      double worstTorch = 0;
      double worstCli = 0;
      for (Row r : rows) {
        long id = r.getLong(0);
        assertTrue(ids.add(id), "id " + id + " appears twice");
        assertEquals(id % 7, r.getLong(2), "shard of id " + id);
        String expectedReason = EXPECTED_REJECTS.get(id);
        if (expectedReason != null) {
          assertTrue(r.isNullAt(4), "a rejected row has null scores: " + r);
          assertTrue(r.getString(5).startsWith(expectedReason + ": "), "reason of id " + id + ": " + r.getString(5));
          continue;
        }
        assertTrue(r.isNullAt(5), "no reject reason on a scored row: " + r);
        assertEquals(r.getList(1).size(), r.getInt(3), "length of id " + id);
        List<Float> got = r.getList(4);
        float[] want = id >= GOLDEN_ID_BASE ? pytorch[(int) (id - GOLDEN_ID_BASE)] : reference.get(id);
        assertEquals(want.length, got.size(), "scores of id " + id);
        for (int k = 0; k < want.length; k++) {
          double err = Math.abs(want[k] - got.get(k));
          if (id >= GOLDEN_ID_BASE) {
            worstTorch = Math.max(worstTorch, err);
          } else {
            worstCli = Math.max(worstCli, err);
          }
        }
      }
      System.out.printf("ClusterIT: pipeline on the cluster, %d rows: worst %.2e vs PyTorch (%d golden rows), "
          + "%.2e vs seqpack score%n", rows.size(), worstTorch, pytorch.length, worstCli);
      assertTrue(worstTorch <= 1e-5, "worst error against PyTorch " + worstTorch);
      assertTrue(worstCli <= 1e-6, "worst difference to seqpack score " + worstCli);
    }
  }

  /** The application folders the workers made, one per job submitted to this cluster. */
  private static Set<Path> applications() throws IOException {
    Path appsDir = RUN_DIR.resolve("spark-home/work");
    if (!Files.isDirectory(appsDir)) {
      return Set.of();
    }
    try (Stream<Path> s = Files.list(appsDir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("app-")).collect(Collectors.toSet());
    }
  }

  private static Map<Long, float[]> localReference;

  /** {@code seqpack score} of the cluster input in local mode, in this JVM, once; its scores by id. */
  private static synchronized Map<Long, float[]> scoreLocally() throws IOException {
    if (localReference != null) {
      return localReference;
    }
    ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    int localStatus;
    try (PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8)) {
      localStatus =
          Main.run(
              new String[] {
                "score", "--input", INPUT.toString(), "--model", MODEL.toString(), "--output", OUT_LOCAL.toString(),
                "--master", "local[2]"
              },
              out,
              err);
    }
    assertEquals(
        0, localStatus, "local run failed:\n" + outBytes.toString(StandardCharsets.UTF_8) + errBytes.toString(
            StandardCharsets.UTF_8));
    try (SparkSession spark = localSession()) {
      localReference = scores(spark, OUT_LOCAL);
    }
    return localReference;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Input

  /** ~2,000 valid token rows of lengths 1..60 in 4 Parquet files, plus rows each reject reason must catch. */
  private static void writeInput() throws IOException {
    Map<String, Object> model = TestJson.parseObject(read(MODEL.resolve("model.json")));
    int vocab = ((Number) ((Map<?, ?>) model.get("input")).get("vocab_size")).intValue();
    Random random = new Random(20240607L);
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < VALID_ROWS; id++) {
      int length = 1 + random.nextInt(MAX_LENGTH);
      List<Integer> seq = new ArrayList<>(length);
      for (int t = 0; t < length; t++) {
        seq.add(random.nextInt(vocab));
      }
      rows.add(RowFactory.create(id, seq));
    }
    badRow(rows, 100_000L, null, "NULL_SEQUENCE");
    badRow(rows, 100_001L, List.of(), "EMPTY_SEQUENCE");
    badRow(rows, 100_002L, List.of(1, 2, vocab), "TOKEN_OUT_OF_RANGE");
    badRow(rows, 100_003L, List.of(-1), "TOKEN_OUT_OF_RANGE");
    badRow(rows, 100_004L, Arrays.asList(3, null, 4), "TOKEN_OUT_OF_RANGE");
    badRow(rows, 100_005L, null, "NULL_SEQUENCE");
    StructType schema =
        DataTypes.createStructType(
            List.of(
                DataTypes.createStructField("id", DataTypes.LongType, false),
                DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, true), true)));
    try (SparkSession spark = localSession()) {
      spark.createDataFrame(rows, schema).repartition(4).write().parquet(INPUT.toString());
    }
    try (Stream<Path> files = Files.list(INPUT)) {
      assertEquals(4, files.filter(p -> p.getFileName().toString().endsWith(".parquet")).count(), "input files");
    }
  }

  private static void badRow(List<Row> rows, long id, List<Integer> seq, String reason) {
    rows.add(RowFactory.create(id, seq));
    EXPECTED_REJECTS.put(id, reason);
  }

  private static SparkSession localSession() {
    return SparkSession.builder()
        .master("local[2]")
        .appName("ClusterIT")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate();
  }

  private static Map<Long, float[]> scores(SparkSession spark, Path output) {
    Map<Long, float[]> scores = new HashMap<>();
    for (Row row : spark.read().parquet(output.toString()).select("id", "scores").collectAsList()) {
      List<Float> values = row.getList(1);
      float[] array = new float[values.size()];
      for (int j = 0; j < array.length; j++) {
        array[j] = values.get(j);
      }
      float[] previous = scores.put(row.getLong(0), array);
      assertTrue(previous == null, "id " + row.getLong(0) + " appears twice in " + output);
    }
    return scores;
  }

  private static Set<String> rejects(SparkSession spark, Path rejects) {
    Set<String> set = new HashSet<>();
    for (Row row : spark.read().parquet(rejects.toString()).select("id", "reason").collectAsList()) {
      assertTrue(set.add(row.get(0) + ":" + row.getString(1)), "reject " + row + " appears twice in " + rejects);
    }
    return set;
  }

  // ---------------------------------------------------------------------------------------------------------
  // scripts/cluster.sh

  private static Path findShadedJar() throws IOException {
    String property = System.getProperty("seqpack.shadedJar");
    if (property != null && !property.isBlank()) {
      return Path.of(property);
    }
    Path target = BASEDIR.resolve("target");
    if (!Files.isDirectory(target)) {
      return null;
    }
    try (Stream<Path> s = Files.list(target)) {
      return s.filter(p -> p.getFileName().toString().matches("seqpack-.*-all\\.jar"))
          .max(Comparator.comparingLong(p -> p.toFile().lastModified()))
          .orElse(null);
    }
  }

  private static Process startScript(List<String> args, Path log) throws IOException {
    return startScript(args, log, clusterEnv);
  }

  private static Process startScript(List<String> args, Path log, Map<String, String> env) throws IOException {
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).directory(BASEDIR.toFile()).redirectErrorStream(true);
    pb.redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().remove("SEQPACK_SUBMIT_ARGS");
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Runs the script to completion (bounded), returns its exit status. */
  private static int script(List<String> args, Path log, long timeoutSeconds) throws Exception {
    Files.createDirectories(log.getParent());
    return await(startScript(args, log), timeoutSeconds, log);
  }

  /** Waits for a script; on timeout kills it and everything it started, and fails with its output. */
  private static int await(Process process, long timeoutSeconds, Path log) throws Exception {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      fail("timed out after " + timeoutSeconds + " s: " + process.info().commandLine().orElse("scripts/cluster.sh")
          + "\n" + tail(log));
    }
    return process.exitValue();
  }

  private static void stopQuietly() {
    if (!clusterStarted) {
      return;
    }
    try {
      script(List.of("stop"), WORK.resolve("stop-on-exit.log"), STOP_TIMEOUT_S);
    } catch (Exception | AssertionError e) {
      System.err.println("ClusterIT: could not stop the cluster: " + e);
    }
  }

  private static int[] freePorts(int n) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        ServerSocket socket = new ServerSocket(0);
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "(no " + file + ")";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last lines of a log, for failure messages (a Spark stack trace repeats itself at length). */
  private static String tail(Path file) {
    List<String> lines = read(file).lines().toList();
    int from = Math.max(0, lines.size() - 120);
    return (from > 0 ? "[... " + from + " lines, see " + file + "]\n" : "")
        + String.join("\n", lines.subList(from, lines.size()));
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
