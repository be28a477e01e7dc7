package io.seqpack.job;

import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An output that is an Iceberg or Delta table. The run's rows are staged as Parquet (a folder no reader looks
 * at, counted from its footers like {@link ParquetFolderSink}'s), and {@link #commit} writes them to the table in
 * one commit that carries the run id ({@link LakeTable#write}). A commit that the table already has (a rerun of
 * a run killed after its commit and before its checkpoint) is not made again.
 */
final class TableSink implements OutputSink {
  private static final Logger LOG = LoggerFactory.getLogger(TableSink.class);
  private static final long CREATE_WAIT_NANOS = 30_000_000_000L;

  private final SparkSession spark;
  private final LakeTable table;
  private final List<String> partitionBy;
  private final LakeTable.WriteMode mode;
  private final ParquetFolderSink staging;
  private final Path staged;
  private final String runId;
  private final String appId;
  private final long txnVersion;
  private Long committedAt;
  private boolean alreadyCommitted;

  /**
   * @param staged a folder of this run's own (under the checkpoint, or a temporary folder), on a file system
   *     every executor reaches
   * @param appId, txnVersion Delta's idempotent-write transaction: a checkpoint's id and the run's number
   */
  TableSink(SparkSession spark, LakeTable table, List<String> partitionBy, LakeTable.WriteMode mode, Path staged,
      String runId, String appId, long txnVersion) {
    this.spark = spark;
    this.table = table;
    this.partitionBy = List.copyOf(partitionBy);
    this.mode = mode;
    this.staged = staged;
    this.runId = runId;
    this.appId = appId;
    this.txnVersion = txnVersion;
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    // staged unpartitioned: the table partitions the rows itself as they are committed
    this.staging = ParquetFolderSink.appending(hadoop, staged.toString(), List.of(), staged, 0);
  }

  LakeTable table() {
    return table;
  }

  /** The snapshot id or version after this run's commit, or null before it. */
  Long committedAt() {
    return committedAt;
  }

  /** Whether {@link #commit} found the run's commit already in the table (and did not make it again). */
  boolean alreadyCommitted() {
    return alreadyCommitted;
  }

  /** An existing table must take these columns; a missing one is created now, empty, with them. */
  @Override
  public void prepare(StructType rows) {
    long deadline = System.nanoTime() + CREATE_WAIT_NANOS;
    while (!table.exists(spark)) {
      if (table.create(spark, rows, partitionBy)) {
        return;
      }
      // another run (from another checkpoint) is creating it: Delta's log folder appears before its first
      // commit, and until that commit the table neither exists nor can be created; wait for it, bounded
      if (System.nanoTime() > deadline) {
        throw new JobFailedException("Cannot create " + table + ": it is being created by another run, and "
            + "has had no commit for " + CREATE_WAIT_NANOS / 1_000_000_000L + " s");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new JobFailedException("Cannot create " + table + ": interrupted", e);
      }
    }
    table.checkFits(spark.table(table.name).schema(), rows);
  }

  @Override
  public long stage(Dataset<Row> rows) {
    return staging.stage(rows);
  }

  @Override
  public Dataset<Row> readStaged(SparkSession session) {
    return staging.readStaged(session);
  }

  @Override
  public void commit() {
    alreadyCommitted = table.hasCommit(spark, runId);
    if (alreadyCommitted) {
      LOG.warn("seqpack: {} already has the commit of run {}; not appending it again", table, runId);
    } else {
      spark.sparkContext().setJobDescription("seqpack: commit to " + table);
      table.write(spark.read().parquet(staged.toString()), mode, runId, appId, txnVersion);
      spark.sparkContext().setJobDescription(null);
    }
    committedAt = table.current(spark);
  }

  @Override
  public void close() {
    staging.close();
  }
}
