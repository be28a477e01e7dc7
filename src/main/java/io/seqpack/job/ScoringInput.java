package io.seqpack.job;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What one run scores: the rows, counted before scoring so that the run can check that every one of them is in
 * exactly one output. {@link InputFiles} (Parquet files, counted from their footers) and {@link TableInput} (a
 * table at a fixed snapshot or version, or the rows appended between two) are the two kinds.
 */
interface ScoringInput {
  /** The rows; reading twice gives the same rows (files as listed, a table pinned to its snapshots). */
  Dataset<Row> read(SparkSession spark);

  /** How many rows {@link #read} gives. */
  long rows();

  /** Parquet files read (0 for a table). */
  int fileCount();

  /** Files skipped as unreadable ({@code --skip-corrupt-files}). */
  List<InputFiles.Skipped> skipped();

  /** Columns some parts of the input lack, each with a part that lacks it (left out of {@link #read}). */
  default Map<String, String> missingColumns(SparkSession spark) {
    return Map.of();
  }
}
