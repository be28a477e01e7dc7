package io.seqpack.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What {@link SequenceScorer#score} returns: lazy Datasets of predictions ({@code id, length, scores[,
 * step_scores]}) and rejects ({@code id, reason, detail}), and the counters the scoring pass fills in.
 */
public record ScoreResult(Dataset<Row> predictions, Dataset<Row> rejects, ScoreMetrics metrics) {}
