package io.seqpack.job;

import io.seqpack.util.Words;
import io.seqpack.ConfigException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.summary.RunSummary;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
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
  /** {@link RunSummary#FILE}, under the name the cluster ITs still use. */
  public static final String SUMMARY_FILE = RunSummary.FILE;

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
      boolean emitEmbedding,
      boolean skipCorruptFiles,
      int waitForLockSeconds,
      Map<String, Integer> topK,
      String topKExcludeSeen,
      String driftBaseline,
      Double maxDrift,
      List<String> commandLine) {
    public Options {
      if (maxDrift != null && !(maxDrift >= 0)) {
        throw new ConfigException("Invalid --max-drift " + maxDrift + ": expected a PSI >= 0, e.g. 0.2");
      }
      if (waitForLockSeconds < 0) {
        throw new ConfigException("Invalid --wait-for-lock " + waitForLockSeconds + ": expected seconds >= 0");
      }
      if (!(maxRejectFraction >= 0 && maxRejectFraction <= 1)) {
        throw new ConfigException("Invalid --max-reject-fraction " + maxRejectFraction + ": expected a number in [0, 1]");
      }
      keepCols = List.copyOf(keepCols);
      partitionBy = List.copyOf(partitionBy);
      columns = Map.copyOf(columns);
      topK = Map.copyOf(topK);
      commandLine = List.copyOf(commandLine);
    }

    /** These options as started by {@code commandLine} (the summary and report show it). */
    public Options withCommandLine(List<String> commandLine) {
      return new Options(input, modelDir, output, rejects, idCol, seqCol, keepCols, perStep, maxLength, plan,
          overwrite, allowNonFiniteWeights, maxRejectFraction, partitionBy, columns, emitEmbedding, skipCorruptFiles,
          waitForLockSeconds, topK, topKExcludeSeen, driftBaseline, maxDrift, commandLine);
    }

    /** Without {@code --drift-baseline} and {@code --max-drift}. */
    public Options(String input, Path modelDir, String output, String rejects, String idCol, String seqCol,
        List<String> keepCols, boolean perStep, int maxLength, BatchPlan plan, boolean overwrite,
        boolean allowNonFiniteWeights, double maxRejectFraction, List<String> partitionBy,
        Map<String, String> columns, boolean emitEmbedding, boolean skipCorruptFiles, int waitForLockSeconds,
        Map<String, Integer> topK, String topKExcludeSeen) {
      this(input, modelDir, output, rejects, idCol, seqCol, keepCols, perStep, maxLength, plan, overwrite,
          allowNonFiniteWeights, maxRejectFraction, partitionBy, columns, emitEmbedding, skipCorruptFiles,
          waitForLockSeconds, topK, topKExcludeSeen, null, null, List.of());
    }

    /** Without {@code --top-k} and {@code --top-k-exclude-seen}. */
    public Options(String input, Path modelDir, String output, String rejects, String idCol, String seqCol,
        List<String> keepCols, boolean perStep, int maxLength, BatchPlan plan, boolean overwrite,
        boolean allowNonFiniteWeights, double maxRejectFraction, List<String> partitionBy,
        Map<String, String> columns, boolean emitEmbedding, boolean skipCorruptFiles, int waitForLockSeconds) {
      this(input, modelDir, output, rejects, idCol, seqCol, keepCols, perStep, maxLength, plan, overwrite,
          allowNonFiniteWeights, maxRejectFraction, partitionBy, columns, emitEmbedding, skipCorruptFiles,
          waitForLockSeconds, Map.of(), null);
    }

    /** Without {@code --partition-by}, {@code --col}, {@code --emit-embedding} and the night-run settings. */
    public Options(String input, Path modelDir, String output, String rejects, String idCol, String seqCol,
        List<String> keepCols, boolean perStep, int maxLength, BatchPlan plan, boolean overwrite,
        boolean allowNonFiniteWeights, double maxRejectFraction) {
      this(input, modelDir, output, rejects, idCol, seqCol, keepCols, perStep, maxLength, plan, overwrite,
          allowNonFiniteWeights, maxRejectFraction, List.of(), Map.of(), false, false, 0);
    }

    /** Without the night-run settings ({@code --skip-corrupt-files}, {@code --wait-for-lock}). */
    public Options(String input, Path modelDir, String output, String rejects, String idCol, String seqCol,
        List<String> keepCols, boolean perStep, int maxLength, BatchPlan plan, boolean overwrite,
        boolean allowNonFiniteWeights, double maxRejectFraction, List<String> partitionBy,
        Map<String, String> columns, boolean emitEmbedding) {
      this(input, modelDir, output, rejects, idCol, seqCol, keepCols, perStep, maxLength, plan, overwrite,
          allowNonFiniteWeights, maxRejectFraction, partitionBy, columns, emitEmbedding, false, 0);
    }

    /** Rejects default to {@code <output>_rejects}. */
    public String rejectsPath() {
      return rejects != null ? rejects : stripSlash(output) + "_rejects";
    }

    /** Where a run refused for drift writes its summary: {@code <output>._refused_summary.json}. */
    public String refusedSummaryPath() {
      return stripSlash(output) + "._refused_summary.json";
    }

    private static String stripSlash(String path) {
      return path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    }
  }

  private ScoreJob() {}

  /**
   * Scores the whole input into fresh outputs: both are staged in hidden sibling folders, checked (every input row
   * in exactly one of them), then renamed into place, rejects first and predictions (with the summary) last; a
   * run that fails or is killed before that leaves the output folders as they were.
   *
   * @return what the run wrote to {@code <output>/_seqpack_summary.json}; its {@code scoring} part is never null
   */
  public static RunSummary run(SparkSession spark, Options options) {
    try (CheckedRun checked = CheckedRun.check(options, null, spark.sparkContext()::hadoopConfiguration,
        FileSystem.getDefaultUri(spark.sparkContext().hadoopConfiguration()).toString())) {
      return run(spark, checked);
    }
  }

  /** {@link #run(SparkSession, Options)} with the model and the local input checked before Spark started. */
  static RunSummary run(SparkSession spark, CheckedRun checked) {
    long start = System.nanoTime();
    Options options = checked.options();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    CheckedRun.checkWritable(hadoop, options.output(), "--output", options.overwrite());
    CheckedRun.checkWritable(hadoop, options.rejectsPath(), "--rejects", options.overwrite());
    CheckedRun.checkDistinctOutputs(options);
    String run = java.util.UUID.randomUUID().toString();
    try (ParquetFolderSink predictions = ParquetFolderSink.replacing(hadoop, options.output(), options.partitionBy(),
            run, options.overwrite());
        OutputSink rejects = ParquetFolderSink.replacing(hadoop, options.rejectsPath(), options.partitionBy(), run,
            options.overwrite())) {
      InputFiles files = checked.input() != null ? checked.input()
          : InputFiles.list(hadoop, options.input(), options.skipCorruptFiles(), false);
      ScoringRun.Outcome outcome =
          ScoringRun.score(spark, checked, files, predictions, rejects, start, options.input());
      double wallSeconds = (System.nanoTime() - start) / 1e9;
      RunSummary summary = JobSummary.summary(null, spark, options, outcome, files, wallSeconds,
          checked.baseline());
      JobSummary.refuseIfDrifted(hadoop, options, summary); // before anything is published
      // published with the predictions: readers never see predictions without their summary
      JobSummary.writeSummaryAndReport(hadoop, predictions.stagedFolder().toString(), options.output(), summary);
      rejects.commit();
      predictions.commit();
      JobSummary.checkRejectFraction(options, outcome.inputRows(), outcome.rejectedRows());
      LOG.info("seqpack: scored {} ({}), rejected {}, in {} s", Words.count(outcome.scoredRows(), "row"),
          Words.count(outcome.metrics().tokens(), "token"), outcome.rejectedRows(), JobSummary.round(wallSeconds));
      return summary;
    }
  }
}
