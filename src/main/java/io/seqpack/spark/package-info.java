/**
 * The Spark library layer that the batch job ({@code io.seqpack.job}) and the spark.ml stage ({@code io.seqpack.ml})
 * share: {@link io.seqpack.spark.SequenceScorer} (public API), the per-partition scoring and rejects functions, the
 * row codec, the executor model cache and the metrics the executors add to. Knows nothing of runs, checkpoints,
 * output folders or the CLI: it must not import {@code job}, {@code ml} or {@code cli} ({@code ArchitectureTest}).
 * With those three, the only packages that import Spark, Hadoop or Scala.
 */
package io.seqpack.spark;
