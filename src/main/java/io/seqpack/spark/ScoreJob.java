package io.seqpack.spark;

import io.seqpack.ConfigException;
import io.seqpack.InputSchemaException;
import io.seqpack.SeqpackException;
import io.seqpack.batching.BatchPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch job behind {@code seqpack score}: read Parquet, score, write predictions and rejects, check that
 * every input row is in exactly one of them, and write {@code _seqpack_summary.json} after both are
 * committed.
 */
public final class ScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);
  public static final String SUMMARY_FILE = "_seqpack_summary.json";

  /** Everything the job needs, resolved and validated by the CLI (or by a caller of the library). */
  public record Options(
      String input,
      Path modelDir,
      String output,
      String rejects,
      String idCol,
      String seqCol,
      List<String> keepCols,
      boolean perStep,
      int maxLength,
      BatchPlan plan,
      boolean overwrite,
      boolean allowNonFiniteWeights,
      double maxRejectFraction,
      List<String> partitionBy,
      Map<String, String> columns,
      boolean emitEmbedding) {
    public Options {
      if (!(maxRejectFraction >= 0 && maxRejectFraction <= 1)) {
        throw new ConfigException("Invalid --max-reject-fraction " + maxRejectFraction + ": expected a number in [0, 1]");
      }
      keepCols = List.copyOf(keepCols);
      partitionBy = List.copyOf(partitionBy);
      columns = Map.copyOf(columns);
    }

    /** Without {@code --partition-by}, {@code --col} and {@code --emit-embedding}. */
    public Options(String input, Path modelDir, String output, String rejects, String idCol, String seqCol,
        List<String> keepCols, boolean perStep, int maxLength, BatchPlan plan, boolean overwrite,
        boolean allowNonFiniteWeights, double maxRejectFraction) {
      this(input, modelDir, output, rejects, idCol, seqCol, keepCols, perStep, maxLength, plan, overwrite,
          allowNonFiniteWeights, maxRejectFraction, List.of(), Map.of(), false);
    }

    /** Rejects default to {@code <output>_rejects}. */
    public String rejectsPath() {
      return rejects != null ? rejects : stripSlash(output) + "_rejects";
    }

    private static String stripSlash(String path) {
      return path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    }
  }

  /** What a run produced; the same figures as the summary file. */
  public record Summary(Map<String, Object> fields) {
    public long inputRows() {
      return ((Number) fields.get("input_rows")).longValue();
    }

    public long scoredRows() {
      return ((Number) fields.get("scored_rows")).longValue();
    }

    public long rejectedRows() {
      return ((Number) fields.get("rejected_rows")).longValue();
    }

    /** The kernels the executors scored with ({@code SequenceModel.kernels()} of every task, distinct). */
    @SuppressWarnings("unchecked")
    public java.util.List<String> kernels() {
      return (java.util.List<String>) fields.get("kernels");
    }

    @SuppressWarnings("unchecked")
    public Map<String, Long> rejectsByReason() {
      return (Map<String, Long>) fields.get("rejects_by_reason");
    }
  }

  private ScoreJob() {}

  public static Summary run(SparkSession spark, Options options) {
    long start = System.nanoTime();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    checkWritable(hadoop, options.output(), "--output", options.overwrite());
    checkWritable(hadoop, options.rejectsPath(), "--rejects", options.overwrite());
    checkDistinctOutputs(options);

    Dataset<Row> input = read(spark, options.input());
    List<String> carried = JobSummary.carriedColumns(options, input.schema());
    SequenceScorer scorer = JobSummary.scorer(options, carried);
    ScoreResult result = scorer.score(input);

    ProgressListener progress = new ProgressListener(result.metrics());
    spark.sparkContext().addSparkListener(progress);
    SaveMode mode = options.overwrite() ? SaveMode.Overwrite : SaveMode.ErrorIfExists;
    String[] partitionBy = options.partitionBy().toArray(String[]::new);
    ThroughputSampler throughput = ThroughputSampler.start(result.metrics(), start);
    try {
      spark.sparkContext().setJobDescription("seqpack: score " + options.input());
      result.predictions().write().mode(mode).partitionBy(partitionBy).parquet(options.output());
      spark.sparkContext().setJobDescription("seqpack: rejects of " + options.input());
      result.rejects().write().mode(mode).partitionBy(partitionBy).parquet(options.rejectsPath());
    } finally {
      throughput.close();
      spark.sparkContext().removeSparkListener(progress);
      spark.sparkContext().setJobDescription(null);
    }

    // Count from what was committed, not from accumulators (a retried task may add to those twice). The three
    // counts are independent Spark jobs: run at once, their planning and scheduling overlap (about 0.3 s saved).
    ExecutorService counters = Executors.newFixedThreadPool(3, r -> {
      Thread t = new Thread(r, "seqpack-count");
      t.setDaemon(true);
      return t;
    });
    long inputRows;
    long scoredRows;
    Map<String, Long> byReason;
    try {
      Future<Long> inputCount = counters.submit(() -> countJob(spark, input::count));
      Future<Long> scoredCount = counters.submit(() -> countJob(spark,
          () -> spark.read().parquet(options.output()).count()));
      Future<Map<String, Long>> rejectCounts = counters.submit(() -> countJob(spark,
          () -> JobSummary.rejectsByReason(spark.read().parquet(options.rejectsPath()))));
      inputRows = result(inputCount);
      scoredRows = result(scoredCount);
      byReason = result(rejectCounts);
    } finally {
      counters.shutdownNow();
    }
    long rejectedRows = byReason.values().stream().mapToLong(Long::longValue).sum();
    if (inputRows != scoredRows + rejectedRows) {
      throw new JobFailedException(
          "Cannot confirm the output of " + options.input() + ": " + inputRows + " input rows but " + scoredRows
              + " predictions + " + rejectedRows + " rejects = " + (scoredRows + rejectedRows)
              + "; the output in " + options.output() + " is incomplete or duplicated, do not use it");
    }

    double wallSeconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> fields = JobSummary.fields(spark, options, scorer, inputRows, scoredRows, byReason,
        result.metrics(), wallSeconds, throughput);
    JobSummary.writeSummaryAndReport(hadoop, options.output(), fields);
    JobSummary.checkRejectFraction(options, inputRows, rejectedRows);
    LOG.info("seqpack: scored {} rows ({} tokens), rejected {}, in {} s", scoredRows, result.metrics().tokens(),
        rejectedRows, JobSummary.round(wallSeconds));
    return new Summary(fields);
  }

  /** Runs one counting action under the job description the Spark UI shows for it. */
  private static <T> T countJob(SparkSession spark, java.util.concurrent.Callable<T> action) throws Exception {
    spark.sparkContext().setJobDescription("seqpack: check row counts");
    try {
      return action.call();
    } finally {
      spark.sparkContext().setJobDescription(null);
    }
  }

  /** The value of a finished count, with its own exception if it failed. */
  private static <T> T result(Future<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JobFailedException("Interrupted while counting the committed output", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new JobFailedException("Cannot count the committed output: " + e.getCause(), e.getCause());
    }
  }

  static void checkDistinctOutputs(Options options) {
    if (options.rejectsPath().equals(options.output())) {
      throw new ConfigException("Cannot write rejects to " + options.output() + ": it is also the --output folder");
    }
  }

  static Dataset<Row> read(SparkSession spark, String input) {
    try {
      return spark.read().parquet(input);
    } catch (Exception e) { // AnalysisException for a missing path, SparkException for a non-Parquet file
      String reason = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      throw new InputSchemaException("Cannot read input " + input + ": " + reason, e);
    }
  }

  private static void checkWritable(Configuration hadoop, String path, String flag, boolean overwrite) {
    if (overwrite) {
      return;
    }
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
      if (p.getFileSystem(hadoop).exists(p)) {
        throw new ConfigException(
            "Cannot write " + flag + " " + path + ": it already exists (use --mode overwrite to replace it)");
      }
    } catch (IOException e) {
      throw new ConfigException("Cannot check " + flag + " " + path + ": " + e.getMessage(), e);
    }
  }
}
