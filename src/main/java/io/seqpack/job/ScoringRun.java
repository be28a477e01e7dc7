package io.seqpack.job;

import io.seqpack.spark.ScoreMetrics;
import io.seqpack.spark.ScoreResult;
import io.seqpack.spark.SequenceScorer;
import io.seqpack.InputSchemaException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The one scoring pipeline of both job modes: read the checked input files → score → write predictions and
 * rejects into staging folders → account for every row. The batch job ({@link ScoreJob}) and the incremental job
 * ({@link IncrementalScoreJob}) differ only in which files they read and in how they publish the staged outputs
 * ({@link OutputCommit}).
 *
 * <p>Accounting reads no output back through Spark: the input rows come from the input files' footers, the
 * predictions and rejects from the staged files' footers (exactly what was committed by the write, whatever task
 * attempts ran), and the rejects by reason from one small query over the staged rejects when there are any.
 */
final class ScoringRun {
  private ScoringRun() {}

  /** What a run produced, checked: {@code inputRows == scoredRows + Σ rejectsByReason}. */
  record Outcome(SequenceScorer scorer, ScoreMetrics metrics, ThroughputSampler throughput, long inputRows,
      long scoredRows, Map<String, Long> rejectsByReason) {
    long rejectedRows() {
      return rejectsByReason.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  static Outcome score(SparkSession spark, ScoreJob.Options options, InputFiles files, Path stagedPredictions,
      Path stagedRejects, long start, String what) {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    Dataset<Row> input = files.read(spark);
    SequenceScorer scorer;
    ScoreResult result;
    try {
      List<String> carried = JobSummary.carriedColumns(options, input.schema());
      scorer = JobSummary.scorer(options, carried);
      result = scorer.score(input);
    } catch (InputSchemaException e) {
      throw namingTheFile(e, files.missingColumns(spark));
    }
    ProgressListener progress = ProgressListener.forThisProcess(result.metrics(), files.rows(), start);
    spark.sparkContext().addSparkListener(progress);
    String[] partitionBy = options.partitionBy().toArray(String[]::new);
    ThroughputSampler throughput = ThroughputSampler.start(result.metrics(), start);
    try (result) { // closing destroys the model's broadcast once both outputs are written
      spark.sparkContext().setJobDescription("seqpack: score " + what);
      result.predictions().write().mode(SaveMode.Overwrite).partitionBy(partitionBy)
          .parquet(stagedPredictions.toString());
      spark.sparkContext().setJobDescription("seqpack: rejects of " + what);
      result.rejects().write().mode(SaveMode.Overwrite).partitionBy(partitionBy).parquet(stagedRejects.toString());
    } finally {
      throughput.close();
      spark.sparkContext().removeSparkListener(progress);
      progress.finish();
      spark.sparkContext().setJobDescription(null);
    }

    long inputRows = files.rows();
    long scoredRows = OutputCommit.rowsIn(hadoop, stagedPredictions);
    long rejectedRows = OutputCommit.rowsIn(hadoop, stagedRejects);
    Map<String, Long> byReason = new TreeMap<>();
    if (rejectedRows > 0) {
      spark.sparkContext().setJobDescription("seqpack: rejects by reason");
      try {
        byReason = JobSummary.rejectsByReason(spark.read().parquet(stagedRejects.toString()));
      } finally {
        spark.sparkContext().setJobDescription(null);
      }
    }
    long byReasonTotal = byReason.values().stream().mapToLong(Long::longValue).sum();
    if (inputRows != scoredRows + rejectedRows || byReasonTotal != rejectedRows) {
      OutputCommit.discard(hadoop, stagedPredictions);
      OutputCommit.discard(hadoop, stagedRejects);
      throw new JobFailedException(
          "Cannot confirm the output of " + what + ": " + inputRows + " input rows but " + scoredRows
              + " predictions + " + rejectedRows + " rejects = " + (scoredRows + rejectedRows)
              + "; nothing was published (the staged outputs are deleted)");
    }
    return new Outcome(scorer, result.metrics(), throughput, inputRows, scoredRows, byReason);
  }

  /** A missing column that only some files lack: say which file lacks it. */
  private static InputSchemaException namingTheFile(InputSchemaException e, Map<String, String> missing) {
    for (Map.Entry<String, String> m : missing.entrySet()) {
      if (e.getMessage() != null && e.getMessage().startsWith("Cannot find column '" + m.getKey() + "'")) {
        return new InputSchemaException("Cannot read input file " + m.getValue() + ": it has no column '"
            + m.getKey() + "', which other files of the input have (the files of one input must have the same "
            + "columns)", e);
      }
    }
    return e;
  }
}
