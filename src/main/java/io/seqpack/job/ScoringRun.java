package io.seqpack.job;

import io.seqpack.InputSchemaException;
import io.seqpack.spark.ScoreMetrics;
import io.seqpack.spark.ScoreResult;
import io.seqpack.spark.SequenceScorer;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The one scoring pipeline of both job modes: read the checked input files → score → write predictions and
 * rejects into staging folders → account for every row. The batch job ({@link ScoreJob}) and the incremental job
 * ({@link IncrementalScoreJob}) differ only in which files they read and in how their {@link OutputSink}s commit the
 * staged outputs (replace or append); they commit, or close the sinks to drop what was staged.
 *
 * <p>Accounting reads no output back through Spark: the input rows come from the input files' footers, the
 * predictions and rejects from the staged files' footers (exactly what was committed by the write, whatever task
 * attempts ran), and the rejects by reason ({@link RejectTally}) from one pass over the staged rejects when there are
 * any.
 */
final class ScoringRun {
  private ScoringRun() {}

  /** What a run produced, checked: {@code inputRows == scoredRows + rejects.rows()}. */
  record Outcome(SequenceScorer scorer, Map<String, String> inputColumns, ScoreMetrics metrics,
      ThroughputSampler throughput, long inputRows, long scoredRows, RejectTally rejects) {
    long rejectedRows() {
      return rejects.rows();
    }
  }

  static Outcome score(SparkSession spark, CheckedRun checked, ScoringInput files, OutputSink predictions,
      OutputSink rejects, long start, String what) {
    Dataset<Row> input = files.read(spark);
    SequenceScorer scorer;
    ScoreResult result;
    try {
      List<String> carried = JobSummary.carriedColumns(checked.options(), input.schema());
      scorer = JobSummary.scorer(checked, carried);
      result = scorer.score(input);
    } catch (InputSchemaException e) {
      throw namingTheFile(e, files.missingColumns(spark));
    }
    try {
      predictions.prepare(result.predictions().schema()); // a table that does not fit: before anything runs
      rejects.prepare(result.rejects().schema());
    } catch (RuntimeException e) {
      result.close();
      throw e;
    }
    ProgressListener progress = ProgressListener.forThisProcess(result.metrics(), files.rows(), start);
    spark.sparkContext().addSparkListener(progress);
    ThroughputSampler throughput = ThroughputSampler.start(result.metrics(), start);
    long scoredRows;
    long rejectedRows;
    try (result) { // closing destroys the model's broadcast once both outputs are written
      spark.sparkContext().setJobDescription("seqpack: score " + what);
      scoredRows = predictions.stage(result.predictions());
      spark.sparkContext().setJobDescription("seqpack: rejects of " + what);
      rejectedRows = rejects.stage(result.rejects());
    } finally {
      throughput.close();
      spark.sparkContext().removeSparkListener(progress);
      progress.finish();
      spark.sparkContext().setJobDescription(null);
    }

    long inputRows = files.rows();
    RejectTally tally = RejectTally.NONE;
    if (rejectedRows > 0) {
      spark.sparkContext().setJobDescription("seqpack: rejects by reason");
      try {
        tally = RejectTally.of(rejects.readStaged(spark));
      } finally {
        spark.sparkContext().setJobDescription(null);
      }
    }
    if (inputRows != scoredRows + rejectedRows || tally.rows() != rejectedRows) {
      throw new JobFailedException( // the callers' sinks drop the staged outputs as they close
          "Cannot confirm the output of " + what + ": " + inputRows + " input rows but " + scoredRows
              + " predictions + " + rejectedRows + " rejects = " + (scoredRows + rejectedRows)
              + "; nothing was published (the staged outputs are deleted)");
    }
    return new Outcome(scorer, result.inputColumns(), result.metrics(), throughput, inputRows, scoredRows, tally);
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
