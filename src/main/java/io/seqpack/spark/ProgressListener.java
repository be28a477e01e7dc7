package io.seqpack.spark;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A log line per finished stage with the rows and tokens scored so far, for people watching long runs. */
final class ProgressListener extends SparkListener {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressListener.class);
  private final ScoreMetrics metrics;

  ProgressListener(ScoreMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted event) {
    StageInfo stage = event.stageInfo();
    LOG.info(
        "seqpack: stage {} ({} tasks) done; so far {} rows scored, {} tokens, {} batches",
        stage.stageId(),
        stage.numTasks(),
        metrics.rowsScored(),
        metrics.tokens(),
        metrics.batches());
  }
}
