/**
 * seqpack as a Spark ML pipeline stage: {@link io.seqpack.ml.SequenceScorerTransformer}, a {@code Transformer}
 * that appends scores to every input row and saves itself (params and model files) into a pipeline folder. A
 * thin layer over {@link io.seqpack.spark.SequenceScorer}; like {@code spark} and {@code cli} it may import Spark,
 * Hadoop and Scala, and nothing below it (data, pack, nn, model, batching) may import it.
 */
package io.seqpack.ml;
