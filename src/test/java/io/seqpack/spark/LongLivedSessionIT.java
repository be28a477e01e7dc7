package io.seqpack.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.batching.BatchPlan;
import io.seqpack.job.ScoreJob;
import io.seqpack.summary.RunSummary;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A long-lived driver (local mode, one SparkSession) scoring {@value #JOBS} jobs in a row while rotating through
 * {@value #MODEL_COUNT} golden models, the way a scheduler process or a notebook would: through the library API
 * ({@code SequenceScorer.builder(dir).build().score(df)}, predictions and rejects written to Parquet or collected)
 * and every fifth job through {@code ScoreJob.run}. After each job, with a GC first: heap in use, the process's
 * physical memory and JavaCPP's native allocations ({@code Pointer.physicalBytes()}, {@code Pointer.totalBytes()}),
 * NIO direct and mapped buffers, open file descriptors and live threads. After two rounds of the models (the
 * caches and pools warm) each must stay within a generous bound of its value then; the series is printed, with the
 * threads and the classes that grew. Threads of Spark's own pools grow with the job rate (AQE runs each query stage on
 * a pool that adds a thread per submission up to its size and drops threads idle for 60 s): after the last job the
 * test idles until they are gone.
 *
 * <p>Every job's counts are checked and its scores must equal that model's first job's. About two minutes (up to
 * 90 s more if Spark's pool threads need their idle timeout to get back under the bound).
 */
class LongLivedSessionIT {
  private static final List<String> MODELS = List.of("tutorial", "lstm", "gru", "gru_bi3", "lstm_proj_bi2",
      "rnn_relu_bi2", "lstm_max_softmax", "rnn_tanh_nobias"); // token models, vocabularies of 11 or more
  private static final int MODEL_COUNT = 8;
  private static final int JOBS = 50;
  /** Jobs after which the series must be flat: two rounds of the models. */
  private static final int WARMUP = 2 * MODEL_COUNT;
  private static final int VALID_ROWS = 4000;
  private static final int VOCAB = 11; // the smallest vocabulary of the models (tutorial)
  private static final long MIB = 1 << 20;

  private static SparkSession spark;
  @TempDir static Path tmp;
  private static Path input;
  private static final List<Long> BAD_IDS = List.of(1_000_000L, 1_000_001L, 1_000_002L, 1_000_003L);

  @BeforeAll
  static void startSpark() throws IOException {
    spark = LocalSpark.start();
    spark.sparkContext().setLogLevel("WARN");
    input = tmp.resolve("input");
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, true), true)));
    List<Row> bad = List.of(RowFactory.create(BAD_IDS.get(0), null), RowFactory.create(BAD_IDS.get(1), List.of()),
        RowFactory.create(BAD_IDS.get(2), List.of(-1)), RowFactory.create(BAD_IDS.get(3), Arrays.asList(1, null)));
    SyntheticInputs.tokens(spark, VALID_ROWS, VOCAB, "uniform:60", 5).union(spark.createDataFrame(bad, schema))
        .repartition(2).write().parquet(input.toString());
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  /** One sample after a job. */
  private record Sample(int job, String model, String how, double seconds, long heap, long physical, long javacpp,
      long direct, long mapped, long fds, int threads, long ownThreads, long taskThreads) {
    static String header() {
      return "job  model             how      job s   heap MiB  rss MiB  javacpp MiB  direct MiB  mapped MiB  fds  threads"
          + "  (not in Spark's pools)  task threads";
    }

    String line() {
      return String.format(Locale.ROOT, "%3d  %-16s  %-7s  %5.2f  %9.1f  %7.1f  %11.2f  %10.2f  %10.2f  %4d  %7d  %22d  %12d",
          job, model, how, seconds, heap / (double) MIB, physical / (double) MIB, javacpp / (double) MIB,
          direct / (double) MIB, mapped / (double) MIB, fds, threads, ownThreads, taskThreads);
    }
  }

  @Test
  void fiftyJobsWithRotatingModelsKeepMemoryFilesAndThreadsFlat() throws Exception {
    Dataset<Row> df = spark.read().parquet(input.toString());
    Map<String, Map<Long, float[]>> firstScores = new HashMap<>();
    List<Sample> samples = new ArrayList<>();
    System.out.println("LongLivedSessionIT: JavaCPP maxBytes " + Pointer.maxBytes() / MIB + " MiB, maxPhysicalBytes "
        + Pointer.maxPhysicalBytes() / MIB + " MiB");
    System.out.println(Sample.header());
    for (int job = 0; job < JOBS; job++) {
      String name = MODELS.get(job % MODEL_COUNT);
      Path model = Path.of("src/test/resources/golden", name);
      String how = job % 5 == 4 ? "job" : job % 2 == 0 ? "write" : "collect";
      long t0 = System.nanoTime();
      Map<Long, float[]> scores;
      switch (how) {
        case "job" -> {
          String out = tmp.resolve("out-job").toString();
          RunSummary summary = ScoreJob.run(spark, new ScoreJob.Options(input.toString(), model, out, null,
              "id", "seq", List.of(), false, 0, BatchPlan.defaults(), true, false, 1.0));
          assertEquals(VALID_ROWS + BAD_IDS.size(), summary.inputRows(), "job " + job + " input rows");
          assertEquals(VALID_ROWS, summary.scoredRows(), "job " + job + " scored rows");
          assertEquals(BAD_IDS.size(), summary.rejectedRows(), "job " + job + " rejected rows");
          scores = scores(spark.read().parquet(out).collectAsList());
        }
        case "write" -> {
          String out = tmp.resolve("out-write").toString();
          try (ScoreResult result = SequenceScorer.builder(model).build().score(df)) {
            result.predictions().write().mode("overwrite").parquet(out);
            result.rejects().write().mode("overwrite").parquet(out + "_rejects");
          }
          assertEquals(BAD_IDS.size(), spark.read().parquet(out + "_rejects").count(), "job " + job + " rejects");
          scores = scores(spark.read().parquet(out).collectAsList());
        }
        default -> {
          try (ScoreResult result = SequenceScorer.builder(model).build().score(df)) {
            assertEquals(BAD_IDS.size(), result.rejects().collectAsList().size(), "job " + job + " rejects");
            scores = scores(result.predictions().collectAsList());
          }
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertEquals(VALID_ROWS, scores.size(), "job " + job + " (" + name + ", " + how + ") predictions");
      Map<Long, float[]> first = firstScores.putIfAbsent(name, scores);
      if (first != null) {
        for (Map.Entry<Long, float[]> e : first.entrySet()) {
          float[] now = scores.get(e.getKey());
          for (int j = 0; j < now.length; j++) {
            assertEquals(e.getValue()[j], now[j], 1e-6, "job " + job + " (" + name + ") id " + e.getKey()
                + " against the model's first job");
          }
        }
      }
      Sample s = sample(job, name, how, seconds);
      samples.add(s);
      System.out.println(s.line());
      if (job == WARMUP - 1) {
        threadsAtBase = threadNames();
        classesAtBase = classHistogram();
      }
    }
    System.out.println("LongLivedSessionIT: threads that are new since job " + (WARMUP - 1) + " (name, digits as #: "
        + "count): " + difference(threadsAtBase, threadNames()));
    System.out.println("LongLivedSessionIT: classes whose heap bytes grew most since job " + (WARMUP - 1) + ": "
        + topGrowth(classesAtBase, classHistogram(), 12));

    Sample base = samples.get(WARMUP - 1);
    List<Sample> after = samples.subList(WARMUP, JOBS);
    String series = "\n" + Sample.header() + "\n" + String.join("\n", samples.stream().map(Sample::line).toList());
    System.out.println("LongLivedSessionIT: growth from job " + base.job() + " to the largest value after it: heap "
        + mib(max(after, Sample::heap) - base.heap()) + ", rss " + mib(max(after, Sample::physical) - base.physical())
        + ", javacpp " + mib(max(after, Sample::javacpp) - base.javacpp()) + ", direct "
        + mib(max(after, Sample::direct) - base.direct()) + ", fds " + (max(after, Sample::fds) - base.fds())
        + ", threads " + (max(after, s -> (long) s.threads()) - base.threads()));
    // Bounds: generous against noise (GC timing, Spark's status store keeping its last 1000 jobs, pooled task
    // threads coming and going), far below what a per-job leak of a model, a broadcast or a batch would add.
    // heap: Spark's status store (below) and task threads that come and go, each with a workspace per model (up to about
    // 30 MiB for tutorial's hidden 256 at this input's batch sizes), on top of the job-15 figure
    assertBelow("heap after GC", after, Sample::heap, base.heap() + 128 * MIB, series);
    assertBelow("JavaCPP native bytes", after, Sample::javacpp, base.javacpp() + 8 * MIB, series);
    assertBelow("physical memory (RSS)", after, Sample::physical, base.physical() + 384 * MIB, series);
    assertBelow("direct buffers", after, Sample::direct, base.direct() + 64 * MIB, series);
    assertBelow("mapped buffers", after, Sample::mapped, base.mapped() + 64 * MIB, series);
    assertBelow("open file descriptors", after, Sample::fds, base.fds() + 64, series);
    // Per job after the warm-up, the median heap step: below 1 MiB. Spark's status store keeps its last 1000 jobs and
    // SQL executions (a few hundred KiB a job here); a task thread that runs a model for the first time adds that
    // model's workspace once (up to about 30 MiB for tutorial here), a step, not a slope. A leaked batch, model or workspace
    // per job would move the median.
    long[] steps = new long[JOBS - WARMUP];
    for (int j = WARMUP; j < JOBS; j++) {
      steps[j - WARMUP] = samples.get(j).heap() - samples.get(j - 1).heap();
    }
    Arrays.sort(steps);
    long median = steps[steps.length / 2];
    System.out.println("LongLivedSessionIT: median heap step per job after job " + base.job() + ": " + mib(median));
    assertTrue(median < MIB, "the heap after GC grows by a median " + mib(median) + " per job" + series);
    // Threads of Spark's own pools (AQE's shuffle-exchange and ResultQueryStageExecution, the block manager's, the
    // task threads) grow with the job rate and expire after 60 s idle; the rest must not grow at all.
    assertBelow("live threads outside Spark's pools", after, Sample::ownThreads, base.ownThreads() + 8, series);
    long idleFrom = System.nanoTime();
    int threads = ManagementFactory.getThreadMXBean().getThreadCount();
    while (threads > base.threads() + 24 && System.nanoTime() - idleFrom < 90_000_000_000L) {
      Thread.sleep(1000);
      threads = ManagementFactory.getThreadMXBean().getThreadCount();
    }
    System.out.printf(Locale.ROOT, "LongLivedSessionIT: %d live threads after %.0f s idle (%d after job %d)%n", threads,
        (System.nanoTime() - idleFrom) / 1e9, base.threads(), base.job());
    assertTrue(threads <= base.threads() + 24, "live threads did not come back to " + base.threads() + " + 24 within"
        + " 90 s of idling: " + threads + "; new since job " + base.job() + ": " + difference(threadsAtBase,
        threadNames()));
  }

  /** Spark's thread pools whose threads expire after 60 s idle (and the pooled task threads of local mode). */
  private static final java.util.regex.Pattern SPARK_POOLS = java.util.regex.Pattern.compile(
      "shuffle-exchange|ResultQueryStageExecution|QueryStageCreator|block-manager-|Executor task |process reaper");
  /**
   * A session that sees a new model every job (new versions, per-customer models): each model may add its weights
   * and its vocabulary table, not a workspace per task thread (the engine now shares one workspace per thread
   * across models; before, with a workspace per model per thread, each new
   * tutorial-shaped model (hidden 256, 0.36 MiB of weights, a 11-token table) added 62 MiB of heap after GC in
   * local[2], and the executor model cache, which budgets weights only (1 GiB), keeps thousands of them).
   */
  @Test
  void newModelEveryJobAddsItsWeightsNotAWorkspacePerThread() throws Exception {
    Dataset<Row> df = spark.read().parquet(input.toString());
    long[] heap = new long[12];
    for (int i = 0; i < heap.length; i++) {
      Path model = tmp.resolve("distinct-" + i);
      SyntheticInputs.writeModel(model, "RNN_TANH", 256, VOCAB, 100, 1000 + i);
      try (ScoreResult result = SequenceScorer.builder(model).build().score(df)) {
        assertEquals(VALID_ROWS, result.predictions().count(), "predictions with model " + i);
      }
      heap[i] = sample(i, "distinct-" + i, "count", 0).heap();
      System.out.printf(Locale.ROOT, "LongLivedSessionIT: new model %d: heap after GC %.1f MiB%n", i,
          heap[i] / (double) MIB);
    }
    double perModel = (heap[heap.length - 1] - heap[3]) / (double) (heap.length - 4);
    assertTrue(perModel < 8 * MIB, String.format(Locale.ROOT, "each new model kept %.1f MiB of heap", perModel / MIB));
  }

  private static Map<String, Long> threadsAtBase;
  private static Map<String, long[]> classesAtBase;

  /** Live threads by name with digits replaced by #: how many of each. */
  private static Map<String, Long> threadNames() {
    Map<String, Long> names = new java.util.TreeMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      names.merge(t.getName().replaceAll("[0-9]+", "#"), 1L, Long::sum);
    }
    return names;
  }

  private static Map<String, Long> difference(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> grown = new java.util.TreeMap<>();
    for (Map.Entry<String, Long> e : after.entrySet()) {
      long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
      if (d != 0) {
        grown.put(e.getKey(), d);
      }
    }
    for (Map.Entry<String, Long> e : before.entrySet()) {
      if (!after.containsKey(e.getKey())) {
        grown.put(e.getKey(), -e.getValue());
      }
    }
    return grown;
  }

  /** class → {instances, bytes} from the JVM's class histogram (a full GC first: live objects only). */
  private static Map<String, long[]> classHistogram() {
    Map<String, long[]> histogram = new HashMap<>();
    try {
      Object text = ManagementFactory.getPlatformMBeanServer().invoke(
          new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
          new Object[] {null}, new String[] {String[].class.getName()});
      for (String line : String.valueOf(text).lines().toList()) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 4 && f[0].endsWith(":")) {
          histogram.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
      }
    } catch (Exception e) {
      System.out.println("LongLivedSessionIT: no class histogram: " + e);
    }
    return histogram;
  }

  private static String topGrowth(Map<String, long[]> before, Map<String, long[]> after, int n) {
    return after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), new long[] {
            e.getValue()[0] - before.getOrDefault(e.getKey(), new long[2])[0],
            e.getValue()[1] - before.getOrDefault(e.getKey(), new long[2])[1]}))
        .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1])).limit(n)
        .map(e -> e.getKey() + " +" + e.getValue()[0] + " objects, +" + e.getValue()[1] / 1024 + " KiB")
        .toList().toString();
  }

  private interface Value {
    long of(Sample s);
  }

  private static long max(List<Sample> samples, Value v) {
    return samples.stream().mapToLong(v::of).max().orElseThrow();
  }

  private static void assertBelow(String what, List<Sample> samples, Value v, long bound, String series) {
    for (Sample s : samples) {
      assertTrue(v.of(s) <= bound, what + " after job " + s.job() + " is " + v.of(s) + ", above the bound " + bound
          + series);
    }
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%+.1f MiB", bytes / (double) MIB);
  }

  static Sample sample(int job, String model, String how, double seconds) throws IOException, InterruptedException {
    for (int i = 0; i < 2; i++) { // the first GC queues Spark's and JavaCPP's cleaners, the second collects after them
      System.gc();
      Thread.sleep(50);
    }
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long direct = 0;
    long mapped = 0;
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) {
        direct = pool.getMemoryUsed();
      } else if (pool.getName().startsWith("mapped")) {
        mapped += pool.getMemoryUsed();
      }
    }
    long fds;
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      fds = s.count();
    }
    java.util.Set<Thread> live = Thread.getAllStackTraces().keySet();
    long own = live.stream().filter(t -> !SPARK_POOLS.matcher(t.getName()).lookingAt()).count();
    long tasks = live.stream().filter(t -> t.getName().startsWith("Executor task ")).count();
    return new Sample(job, model, how, seconds, heap, Pointer.physicalBytes(), Pointer.totalBytes(), direct, mapped,
        fds, ManagementFactory.getThreadMXBean().getThreadCount(), own, tasks);
  }

  private static Map<Long, float[]> scores(List<Row> rows) {
    Map<Long, float[]> map = new HashMap<>();
    for (Row r : rows) {
      List<Float> values = r.getList(r.fieldIndex("scores"));
      float[] v = new float[values.size()];
      for (int j = 0; j < v.length; j++) {
        v[j] = values.get(j);
      }
      assertTrue(map.put(r.getLong(0), v) == null, "id " + r.getLong(0) + " twice");
    }
    return map;
  }
}
