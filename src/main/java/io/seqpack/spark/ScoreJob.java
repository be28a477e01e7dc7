package io.seqpack.spark;

import io.seqpack.ConfigException;
import io.seqpack.InputSchemaException;
import io.seqpack.SeqpackException;
import io.seqpack.Version;
import io.seqpack.batching.BatchPlan;
import io.seqpack.util.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
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
      double maxRejectFraction) {
    public Options {
      if (!(maxRejectFraction >= 0 && maxRejectFraction <= 1)) {
        throw new ConfigException("Invalid --max-reject-fraction " + maxRejectFraction + ": expected a number in [0, 1]");
      }
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
    if (options.rejectsPath().equals(options.output())) {
      throw new ConfigException("Cannot write rejects to " + options.output() + ": it is also the --output folder");
    }

    SequenceScorer scorer =
        SequenceScorer.builder(options.modelDir())
            .idCol(options.idCol())
            .seqCol(options.seqCol())
            .keepCols(options.keepCols())
            .perStep(options.perStep())
            .maxLength(options.maxLength())
            .batchPlan(options.plan())
            .allowNonFiniteWeights(options.allowNonFiniteWeights())
            .build();
    Dataset<Row> input = read(spark, options.input());
    ScoreResult result = scorer.score(input);

    ProgressListener progress = new ProgressListener(result.metrics());
    spark.sparkContext().addSparkListener(progress);
    SaveMode mode = options.overwrite() ? SaveMode.Overwrite : SaveMode.ErrorIfExists;
    try {
      spark.sparkContext().setJobDescription("seqpack: score " + options.input());
      result.predictions().write().mode(mode).parquet(options.output());
      spark.sparkContext().setJobDescription("seqpack: rejects of " + options.input());
      result.rejects().write().mode(mode).parquet(options.rejectsPath());
    } finally {
      spark.sparkContext().removeSparkListener(progress);
      spark.sparkContext().setJobDescription(null);
    }

    // Count from what was committed, not from accumulators (a retried task may add to those twice).
    spark.sparkContext().setJobDescription("seqpack: check row counts");
    long inputRows = input.count();
    long scoredRows = spark.read().parquet(options.output()).count();
    Map<String, Long> byReason = new TreeMap<>();
    for (Row r : spark.read().parquet(options.rejectsPath()).groupBy(Schemas.REASON).count().collectAsList()) {
      byReason.put(r.getString(0), r.getLong(1));
    }
    long rejectedRows = byReason.values().stream().mapToLong(Long::longValue).sum();
    spark.sparkContext().setJobDescription(null);
    if (inputRows != scoredRows + rejectedRows) {
      throw new SeqpackException(
          "Cannot confirm the output of " + options.input() + ": " + inputRows + " input rows but " + scoredRows
              + " predictions + " + rejectedRows + " rejects = " + (scoredRows + rejectedRows)
              + "; the output in " + options.output() + " is incomplete or duplicated, do not use it");
    }

    double wallSeconds = (System.nanoTime() - start) / 1e9;
    ScoreMetrics m = result.metrics();
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("seqpack_version", Version.VERSION);
    fields.put("model_dir", options.modelDir().toString());
    fields.put("model_hash", scorer.model().contentHash());
    fields.put("input", options.input());
    fields.put("output", options.output());
    fields.put("rejects", options.rejectsPath());
    fields.put("input_rows", inputRows);
    fields.put("scored_rows", scoredRows);
    fields.put("rejected_rows", rejectedRows);
    fields.put("rejects_by_reason", byReason);
    fields.put("tokens_scored", m.tokens());
    fields.put("batches", m.batches());
    fields.put("mean_batch_fill", round(m.meanBatchFill()));
    fields.put("wall_seconds", round(wallSeconds));
    fields.put("tokens_per_second", round(m.tokens() / wallSeconds));
    fields.put("engine_seconds", round(m.engineSeconds()));
    fields.put("executors", m.executors());
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("id_col", options.idCol());
    settings.put("seq_col", options.seqCol());
    settings.put("keep_cols", options.keepCols());
    settings.put("per_step", options.perStep());
    settings.put("max_length", options.maxLength());
    settings.put("batch_tokens", options.plan().batchTokens());
    settings.put("max_batch_rows", options.plan().maxBatchRows());
    settings.put("master", spark.sparkContext().master());
    fields.put("settings", settings);
    settings.put("max_reject_fraction", options.maxRejectFraction());
    writeSummary(hadoop, options.output(), fields);
    double rejectFraction = inputRows == 0 ? 0 : (double) rejectedRows / inputRows;
    if (rejectFraction > options.maxRejectFraction()) {
      throw new SeqpackException(String.format(
          "Too many rejects: %d of %d input rows (%.4f) exceed --max-reject-fraction %s; the outputs are complete,"
              + " see %s for the reasons", rejectedRows, inputRows, rejectFraction, options.maxRejectFraction(),
          options.rejectsPath()));
    }
    LOG.info("seqpack: scored {} rows ({} tokens), rejected {}, in {} s", scoredRows, m.tokens(), rejectedRows,
        round(wallSeconds));
    return new Summary(fields);
  }

  private static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
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

  private static void writeSummary(Configuration hadoop, String output, Map<String, Object> fields) {
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(output, SUMMARY_FILE);
    try {
      FileSystem fs = file.getFileSystem(hadoop);
      try (OutputStream out = fs.create(file, true)) {
        out.write(Json.writePretty(fields).getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot write summary " + file + ": " + e.getMessage(), e);
    }
  }
}
