package io.seqpack.job;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Where one output of a run (its predictions or its rejects) goes: the run stages the rows where no reader sees
 * them, checks the row counts, and then commits, once, in one step; until then readers see the output as it was.
 * {@link ParquetFolderSink} is the Parquet folder of today (staged files renamed into place, or appended under
 * names that carry the run); {@link TableSink} stages Parquet and commits it to an Iceberg or Delta table as one
 * snapshot or log entry that carries the run id.
 */
interface OutputSink extends AutoCloseable {

  /**
   * Before any partition runs: checks that rows of this schema can be committed here (an existing table's
   * columns) and creates an output that does not exist yet (a table, empty). Folders take any schema.
   */
  default void prepare(StructType rows) {}

  /**
   * Writes {@code rows} into this run's staging area and returns how many rows it holds, counted from what was
   * written (a retried task is counted once), not from Spark's counters. Runs the Spark job.
   */
  long stage(Dataset<Row> rows);

  /** The staged rows, for the run's checks before it commits (the rejects by reason); not their partition columns. */
  Dataset<Row> readStaged(SparkSession spark);

  /** Makes the staged rows visible to readers in one step; after this, {@link #close} keeps them. */
  void commit();

  /** Drops whatever was staged and not committed (a failed or refused run); does nothing after {@link #commit}. */
  @Override
  void close();
}
