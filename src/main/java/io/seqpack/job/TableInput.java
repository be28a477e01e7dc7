package io.seqpack.job;

import io.seqpack.ConfigException;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A table's rows pinned to its snapshots ({@code --input-table}, with {@code --where}): the whole table as of
 * {@code to}, or, for an incremental run, only the rows appended after {@code from}. Pinned, so that the count
 * taken before scoring and the rows scored are the same rows, whatever is committed to the table meanwhile.
 *
 * @param from the snapshot id or version the previous run reached (exclusive), or null for the whole table
 * @param to the snapshot id or version read up to
 */
record TableInput(LakeTable table, String where, Long from, long to, long rows) implements ScoringInput {

  /** Pins {@code table} at {@code to} (after {@code from}), checks {@code --where} and counts the rows. */
  static TableInput at(SparkSession spark, LakeTable table, String where, Long from, long to) {
    TableInput unpinned = new TableInput(table, where, from, to, -1);
    Dataset<Row> rows = unpinned.read(spark);
    return new TableInput(table, where, from, to, rows.count());
  }

  @Override
  public Dataset<Row> read(SparkSession spark) {
    Dataset<Row> rows = from == null ? table.readAt(spark, to) : table.readAppended(spark, from, to);
    if (where == null) {
      return rows;
    }
    try {
      return rows.where(where);
    } catch (Exception e) { // ParseException, AnalysisException (an unknown column): checked, not declared
      throw new ConfigException("Invalid --where '" + where + "': " + String.valueOf(e.getMessage()).lines()
          .findFirst().orElse("").strip(), e);
    }
  }

  @Override
  public int fileCount() {
    return 0;
  }

  @Override
  public List<InputFiles.Skipped> skipped() {
    return List.of();
  }
}
