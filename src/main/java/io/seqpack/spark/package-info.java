/**
 * The thin Spark layer: {@link io.seqpack.spark.SequenceScorer} (public API), the per-partition scoring and
 * rejects functions, the executor model cache, {@link io.seqpack.spark.ScoreJob}, the batch job behind the
 * CLI, and {@link io.seqpack.spark.IncrementalScoreJob}, its run-once streaming variant for schedules (both share
 * {@code JobSummary}). The only package (with cli) that imports Spark, Hadoop or Scala.
 */
package io.seqpack.spark;
