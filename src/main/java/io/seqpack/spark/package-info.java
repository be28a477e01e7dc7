/**
 * The thin Spark layer: {@link io.seqpack.spark.SequenceScorer} (public API), the per-partition scoring and
 * rejects functions, the executor model cache and {@link io.seqpack.spark.ScoreJob}, the batch job behind the
 * CLI. The only package (with cli) that imports Spark, Hadoop or Scala.
 */
package io.seqpack.spark;
