package io.seqpack.bench;

import io.seqpack.batching.BatchPlan;
import io.seqpack.cli.Sessions;
import io.seqpack.job.ScoreJob;
import io.seqpack.summary.RunSummary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The Spark end-to-end half of {@code scripts/bench}: the whole {@code seqpack score} job (read Parquet, validate,
 * bucket, score, write predictions and rejects, count the committed files, write the summary) on the same
 * sequences and models as {@link EngineBench} and PyTorch.
 *
 * <pre>
 * SparkBench parquet --data DIR --out DIR [--files 4] [--dists uniform,lognormal]
 *     DIR/{uniform,lognormal} (EngineBench data; --dists uniform,lognormal,heavy adds the heavy tail) as Parquet
 *     {@code id bigint, seq array<int>}, rows dealt round robin into FILES files (one partition each, so local[2]
 *     has work for both cores); DIR/tiny: the first 10 rows of the uniform data
 * SparkBench run --models DIR --data DIR --parquet DIR --work DIR [--masters local[1],local[2]]
 *     [--names rnn_tanh,lstm,gru] [--dists uniform,lognormal] [--runs 1] [--json OUT]
 *     per master (one SparkSession each, built like the CLI's): first the tiny input, twice (the job's fixed cost,
 *     cold and warm), then per model and distribution: ScoreJob.run timed from
 *     the call to its return (JVM and session start-up excluded), tokens/s, and the largest difference between the
 *     job's predictions and the engine's own scores (DATA/DIST/scores_NAME.f32, NaN where a time-boxed engine
 *     pass did not reach a sequence)
 * </pre>
 */
public final class SparkBench {
  private SparkBench() {}

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0 || !(argv[0].equals("parquet") || argv[0].equals("run"))) {
      System.err.println("usage: SparkBench parquet|run [--option value ...] (see the class javadoc)");
      System.exit(2);
    }
    Map<String, String> opts = EngineBench.options(Arrays.copyOfRange(argv, 1, argv.length));
    if (argv[0].equals("parquet")) {
      writeParquet(Path.of(EngineBench.need(opts, "data")), Path.of(EngineBench.need(opts, "out")),
          EngineBench.intOpt(opts, "files", 4),
          opts.getOrDefault("dists", String.join(",", EngineBench.PEER_DISTRIBUTIONS)).split(","));
    } else {
      run(opts);
    }
  }

  /** Ten rows of the uniform data, scored first in every session: the job's fixed cost. */
  static final String TINY = "tiny";

  /** The distribution the tiny input is cut from. */
  private static final String TINY_SOURCE = "uniform";

  private static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("seq", DataTypes.createArrayType(DataTypes.IntegerType, false), false);

  static void writeParquet(Path data, Path out, int files, String[] dists) throws IOException {
    SparkSession spark = Sessions.create("seqpack bench data", "local[2]",
        List.of("spark.ui.showConsoleProgress=false"));
    try {
      Set<String> todo = new LinkedHashSet<>(Arrays.asList(dists));
      todo.add(TINY_SOURCE);
      for (String dist : todo) {
        EngineBench.Dataset ds = EngineBench.readData(data.resolve(dist));
        List<Row> rows = new ArrayList<>(ds.size());
        for (int i = 0; i < ds.size(); i++) {
          int[] seq = Arrays.copyOfRange(ds.tokens(), ds.offsets()[i], ds.offsets()[i + 1]);
          rows.add(RowFactory.create((long) i, Arrays.stream(seq).boxed().toArray(Integer[]::new)));
        }
        if (Arrays.asList(dists).contains(dist)) {
          spark.createDataFrame(rows, SCHEMA).repartition(files).write().mode("overwrite")
              .parquet(out.resolve(dist).toString());
        }
        if (dist.equals(TINY_SOURCE)) { // the fixed-overhead probe: 10 rows, one file
          spark.createDataFrame(rows.subList(0, Math.min(10, rows.size())), SCHEMA).coalesce(1).write()
              .mode("overwrite").parquet(out.resolve(TINY).toString());
        }
        System.err.printf(Locale.ROOT, "bench parquet: %s: %d rows in %d files -> %s%n", dist, ds.size(), files,
            out.resolve(dist));
      }
    } finally {
      spark.stop();
    }
  }

  private static void run(Map<String, String> opts) throws IOException {
    Path models = Path.of(EngineBench.need(opts, "models"));
    Path data = Path.of(EngineBench.need(opts, "data"));
    Path parquet = Path.of(EngineBench.need(opts, "parquet"));
    Path work = Path.of(EngineBench.need(opts, "work"));
    String[] masters = opts.getOrDefault("masters", "local[1],local[2]").split(",");
    String[] names = opts.getOrDefault("names", "rnn_tanh,lstm,gru").split(",");
    String[] dists = opts.getOrDefault("dists", String.join(",", EngineBench.PEER_DISTRIBUTIONS)).split(",");
    int runs = Math.max(1, EngineBench.intOpt(opts, "runs", 1));
    StringBuilder json = new StringBuilder("{\n  \"results\": [\n");
    boolean first = true;
    for (String master : masters) {
      SparkSession spark = Sessions.create("seqpack bench " + master, master,
          List.of("spark.ui.showConsoleProgress=false"));
      try {
        double[] tiny = new double[2];
        for (int r = 0; r < 2; r++) {
          long t0 = System.nanoTime();
          ScoreJob.run(spark, options(parquet.resolve(TINY), models.resolve(names[0]), work.resolve("tiny")));
          tiny[r] = (System.nanoTime() - t0) / 1e9;
        }
        System.err.printf(Locale.ROOT, "spark %-10s tiny input (10 rows): %.2f s first job, %.2f s second%n", master,
            tiny[0], tiny[1]);
        json.append(first ? "" : ",\n").append(String.format(Locale.ROOT,
            "    {\"master\": \"%s\", \"model\": \"%s\", \"dist\": \"tiny\", \"rows\": 10, "
                + "\"first_job_seconds\": %.3f, \"second_job_seconds\": %.3f}", master, names[0], tiny[0], tiny[1]));
        first = false;
        for (String name : names) {
          for (String dist : dists) {
            double[] seconds = new double[runs];
            double[] cpuSeconds = new double[runs];
            RunSummary summary = null;
            Path output = work.resolve(master.replaceAll("[^A-Za-z0-9]", "") + "-" + name + "-" + dist);
            long allocated = 0;
            for (int r = 0; r < runs; r++) {
              long a0 = allocatedBytes();
              long c0 = processCpuNanos();
              long t0 = System.nanoTime();
              summary = ScoreJob.run(spark, options(parquet.resolve(dist), models.resolve(name), output));
              seconds[r] = (System.nanoTime() - t0) / 1e9;
              cpuSeconds[r] = (processCpuNanos() - c0) / 1e9;
              allocated = allocatedBytes() - a0;
            }
            long tokens = summary.tokensScored();
            double diff = maxDiffToEngine(spark, output.toString(), data.resolve(dist).resolve("scores_" + name + ".f32"));
            double[] sorted = seconds.clone();
            Arrays.sort(sorted);
            double cpuBest = Arrays.stream(cpuSeconds).min().orElse(Double.NaN);
            System.err.printf(Locale.ROOT,
                "spark %-10s %-9s %-9s %9.0f tok/s (best of %d; median %9.0f; %9.0f per process-CPU second) %d rows, "
                    + "%.0f bytes allocated per token, max|diff| vs engine %.1e, kernels %s%n",
                master, name, dist, tokens / sorted[0], runs, tokens / sorted[runs / 2], tokens / cpuBest,
                summary.scoredRows(), allocated / (double) tokens, diff, summary.scoring().kernels());
            json.append(first ? "" : ",\n").append(String.format(Locale.ROOT,
                "    {\"master\": \"%s\", \"model\": \"%s\", \"dist\": \"%s\", \"rows\": %d, \"tokens\": %d, "
                    + "\"runs\": %d, \"wall_seconds\": %s, \"tok_per_s_best\": %.1f, \"tok_per_s_median\": %.1f, "
                    + "\"seq_per_s_best\": %.1f, \"engine_seconds\": %s, \"max_abs_diff_vs_engine\": %.3e, "
                    + "\"process_cpu_seconds\": %s, \"tok_per_process_cpu_s_best\": %.1f}",
                master, name, dist, summary.scoredRows(), tokens, runs, Arrays.toString(seconds),
                tokens / sorted[0], tokens / sorted[runs / 2], summary.scoredRows() / sorted[0],
                summary.scoring().engineSeconds(), diff, Arrays.toString(cpuSeconds), tokens / cpuBest));
            first = false;
          }
        }
      } finally {
        spark.stop();
      }
    }
    json.append("\n  ]\n}\n");
    if (opts.containsKey("json")) {
      Files.writeString(Path.of(opts.get("json")), json.toString());
    } else {
      System.out.print(json);
    }
  }

  /**
   * Bytes allocated so far by the live threads (Spark's task threads are pooled, so a job's allocation is the
   * difference across it, give or take threads that ended): Vector API code running without C2's intrinsics shows
   * as megabytes per token (docs/performance.md).
   */
  private static long allocatedBytes() {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)
        java.lang.management.ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
      sum += Math.max(0, bytes);
    }
    return sum;
  }

  /**
   * CPU time of the whole JVM so far (every thread: Spark's, the task threads, GC and JIT): a job's difference is
   * what it cost the machine, which other processes' load does not inflate the way it does wall time.
   */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** What {@code seqpack score --input IN --model MODEL --output OUT --mode overwrite} runs. */
  private static ScoreJob.Options options(Path input, Path model, Path output) {
    return new ScoreJob.Options(input.toString(), model, output.toString(), null, "id", "seq", List.of(), false, 0,
        BatchPlan.defaults(), true, false, 1.0);
  }

  /** Largest |job score − engine score| over the sequences the engine scored (NaN if it scored none). */
  private static double maxDiffToEngine(SparkSession spark, String output, Path engineScores) throws IOException {
    if (!Files.exists(engineScores)) {
      return Double.NaN;
    }
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(engineScores)).order(ByteOrder.LITTLE_ENDIAN);
    float[] expected = new float[b.remaining() / 4];
    b.asFloatBuffer().get(expected);
    double worst = Double.NaN;
    for (Row row : spark.read().parquet(output).selectExpr("id", "scores[0]").collectAsList()) {
      float e = expected[(int) row.getLong(0)];
      if (!Float.isNaN(e)) {
        double d = Math.abs(e - row.getFloat(1));
        worst = Double.isNaN(worst) ? d : Math.max(worst, d);
      }
    }
    return worst;
  }
}
