package io.seqpack.spark;

import java.util.Map;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What {@link SequenceScorer#score} returns: lazy Datasets of predictions ({@code id, length, scores[,
 * step_scores]}) and rejects ({@code id, reason, detail}), and the counters the scoring pass fills in.
 *
 * <p>Closing it destroys the model's broadcast on the driver and the executors; write (or cache) both Datasets
 * first, because evaluating the predictions after {@link #close} fails.
 */
public final class ScoreResult implements AutoCloseable {
  private final Dataset<Row> predictions;
  private final Dataset<Row> rejects;
  private final ScoreMetrics metrics;
  private final Broadcast<ShippedModel> model;
  private final Map<String, String> inputColumns;

  ScoreResult(Dataset<Row> predictions, Dataset<Row> rejects, ScoreMetrics metrics, Broadcast<ShippedModel> model,
      Map<String, String> inputColumns) {
    this.inputColumns = Map.copyOf(inputColumns);
    this.predictions = predictions;
    this.rejects = rejects;
    this.metrics = metrics;
    this.model = model;
  }

  public Dataset<Row> predictions() {
    return predictions;
  }

  public Dataset<Row> rejects() {
    return rejects;
  }

  public ScoreMetrics metrics() {
    return metrics;
  }

  /** The input column each model input was read from. */
  public Map<String, String> inputColumns() {
    return inputColumns;
  }

  /** Destroys the model's broadcast (idempotent). */
  @Override
  public void close() {
    if (model.isValid()) {
      model.destroy();
    }
  }
}
