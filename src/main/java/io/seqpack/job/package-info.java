/**
 * The batch job above the Spark library layer: {@link io.seqpack.job.ScoreJob} (behind {@code seqpack score}) and
 * {@link io.seqpack.job.IncrementalScoreJob}, its run-once variant for schedules, share one pipeline ({@code
 * ScoringRun}): the input files, the run's outputs behind {@link io.seqpack.job.OutputSink} (a Parquet folder
 * today), the checkpoint's manifests and lock, progress, the summary and the report. Uses {@code io.seqpack.spark}
 * to score; nothing below it ({@code spark}, {@code ml} or the core packages) may import it, only {@code cli}.
 */
package io.seqpack.job;
