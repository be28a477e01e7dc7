package io.seqpack.job;

import io.seqpack.ConfigException;
import io.seqpack.InputSchemaException;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * An Iceberg or Delta table named the Spark way ({@code lake.db.scores}, {@code delta.`/data/scores`}), reached
 * through Spark SQL and the formats' documented read and write options only, so seqpack compiles without either
 * format's jars. A table's position is a {@code long}: Iceberg's snapshot id, Delta's version.
 */
final class LakeTable {
  enum Format {
    ICEBERG("iceberg"),
    DELTA("delta");

    final String provider;

    Format(String provider) {
      this.provider = provider;
    }
  }

  /** The key of the snapshot summary property (Iceberg) and of the commit's user metadata (Delta). */
  static final String RUN_ID_KEY = "seqpack.run-id";
  private static final String DELTA_PATH_PREFIX = "delta.`";
  private static final Pattern DELTA_LOG_ENTRY = Pattern.compile("\\d{20}\\.(json|checkpoint\\..*)");

  final String name;
  final Format format;
  /** {@code --output-table} and the like: names the table in messages. */
  private final String flag;

  private LakeTable(String name, Format format, String flag) {
    this.name = name;
    this.format = format;
    this.flag = flag;
  }

  /**
   * The table {@code name}, its format decided by its catalog's class (Iceberg's {@code SparkCatalog} or {@code
   * SparkSessionCatalog}, Delta's {@code DeltaCatalog}) or by the {@code delta.`path`} form.
   *
   * @throws ConfigException a catalog that is not configured, or one that is neither format's
   */
  static LakeTable resolve(SparkSession spark, String name, String flag) {
    if (name.startsWith(DELTA_PATH_PREFIX)) {
      if (!spark.conf().get("spark.sql.catalog.spark_catalog", "").contains("DeltaCatalog")) {
        throw new ConfigException("Cannot use " + flag + " " + name + ": Delta is not configured (add --conf "
            + "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension --conf "
            + "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog)");
      }
      return new LakeTable(name, Format.DELTA, flag);
    }
    List<String> parts = List.of(name.split("\\."));
    String catalog = parts.size() >= 3 ? parts.get(0) : "spark_catalog";
    String impl = spark.conf().get("spark.sql.catalog." + catalog, "");
    if (impl.isEmpty()) {
      throw new ConfigException("Cannot use " + flag + " " + name + ": catalog '" + catalog + "' is not configured "
          + "(add --conf spark.sql.catalog." + catalog + "=org.apache.iceberg.spark.SparkCatalog and its type and "
          + "warehouse, see README, Scoring into tables)");
    }
    String lower = impl.toLowerCase(Locale.ROOT);
    if (lower.contains("iceberg")) {
      return new LakeTable(name, Format.ICEBERG, flag);
    }
    if (lower.contains("delta")) {
      return new LakeTable(name, Format.DELTA, flag);
    }
    throw new ConfigException("Cannot use " + flag + " " + name + ": catalog '" + catalog + "' is " + impl
        + ", neither Iceberg's nor Delta's");
  }

  /** The folder of a {@code delta.`/path`} table, else null. */
  private String deltaPath() {
    return name.startsWith(DELTA_PATH_PREFIX) && name.endsWith("`")
        ? name.substring(DELTA_PATH_PREFIX.length(), name.length() - 1) : null;
  }

  /** This table's name with {@code suffix} added to its last part ({@code delta.`/x/scores_rejects`}). */
  static String withSuffix(String name, String suffix) {
    return name.endsWith("`") ? name.substring(0, name.length() - 1) + suffix + "`" : name + suffix;
  }

  boolean exists(SparkSession spark) {
    String path = deltaPath();
    if (path == null) {
      return spark.catalog().tableExists(name);
    }
    Path log = new Path(path, "_delta_log");
    try {
      FileSystem fs = log.getFileSystem(spark.sparkContext().hadoopConfiguration());
      // a commit or a checkpoint, not just the folder: a table being created by another run has only the folder
      return fs.exists(log) && fs.listStatus(log, p -> DELTA_LOG_ENTRY.matcher(p.getName()).matches()).length > 0;
    } catch (IOException e) {
      throw new ConfigException("Cannot check " + flag + " " + name + ": " + e.getMessage(), e);
    }
  }

  /** The table's schema; a missing table is an {@link InputSchemaException} naming the flag. */
  StructType schema(SparkSession spark) {
    if (!exists(spark)) {
      throw new InputSchemaException("Cannot read " + flag + " " + name + ": no such table");
    }
    return spark.table(name).schema();
  }

  /** The current snapshot id (Iceberg) or version (Delta), or null for an Iceberg table without snapshots. */
  Long current(SparkSession spark) {
    List<Row> rows = format == Format.ICEBERG
        ? spark.sql("SELECT snapshot_id FROM " + name + ".refs WHERE name = 'main'").collectAsList()
        : spark.sql("DESCRIBE HISTORY " + name + " LIMIT 1").select("version").collectAsList();
    return rows.isEmpty() ? null : rows.get(0).getLong(0);
  }

  /** The whole table as of {@code position}. */
  Dataset<Row> readAt(SparkSession spark, long position) {
    return spark.sql("SELECT * FROM " + name + " VERSION AS OF " + position);
  }

  /**
   * The rows appended after {@code fromExclusive} up to {@code to}: Iceberg's incremental append scan (replace
   * snapshots of compaction carry no new rows and overwrite and delete snapshots are skipped by it), Delta's
   * change data feed inserts (a compaction's files are not data changes there).
   */
  Dataset<Row> readAppended(SparkSession spark, long fromExclusive, long to) {
    if (format == Format.ICEBERG) {
      return spark.read().format("iceberg").option("start-snapshot-id", fromExclusive)
          .option("end-snapshot-id", to).load(name);
    }
    Dataset<Row> changes = changeFeed(spark, fromExclusive, to);
    return changes.where(functions.col("_change_type").equalTo("insert"))
        .drop("_change_type", "_commit_version", "_commit_timestamp");
  }

  private Dataset<Row> changeFeed(SparkSession spark, long fromExclusive, long to) {
    var reader = spark.read().format("delta").option("readChangeFeed", "true")
        .option("startingVersion", fromExclusive + 1).option("endingVersion", to);
    try { // Spark's AnalysisException is checked in Java terms but not declared: catch Exception
      return deltaPath() != null ? reader.load(deltaPath()) : reader.table(name);
    } catch (Exception e) {
      if (String.valueOf(e.getMessage()).contains("hange data")) {
        throw new ConfigException("Cannot read " + flag + " " + name + " incrementally: its change data feed is "
            + "off (ALTER TABLE " + name + " SET TBLPROPERTIES (delta.enableChangeDataFeed = true))", e);
      }
      throw e instanceof RuntimeException r ? r : new io.seqpack.SeqpackException("Cannot read " + flag + " "
          + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * Rows removed or rewritten between {@code fromExclusive} and {@code to} (not by compactions): Iceberg's
   * overwrite and delete snapshots' deleted records net of the records they added back (copy-on-write rewrites a
   * file's other rows) plus their delete-file entries (merge-on-read), so an in-place copy-on-write update counts 0
   * there; Delta's deletes and update pre-images. Not scored, reported by the run.
   */
  long removals(SparkSession spark, long fromExclusive, long to) {
    if (format == Format.ICEBERG) {
      // the snapshots after fromExclusive up to to, by commit time (one branch, main)
      // copy-on-write rewrites whole files: a file's other rows are deleted and added again, so count the net
      List<Row> sum = spark.sql("SELECT sum(greatest(coalesce(cast(s.summary['deleted-records'] AS BIGINT), 0) - "
          + "coalesce(cast(s.summary['added-records'] AS BIGINT), 0), 0) + "
          + "coalesce(cast(s.summary['added-position-deletes'] AS BIGINT), 0) + "
          + "coalesce(cast(s.summary['added-equality-deletes'] AS BIGINT), 0)) FROM " + name + ".snapshots s "
          + "WHERE s.committed_at > (SELECT committed_at FROM " + name + ".snapshots WHERE snapshot_id = "
          + fromExclusive + ") AND s.committed_at <= (SELECT committed_at FROM " + name + ".snapshots WHERE "
          + "snapshot_id = " + to + ") AND s.operation IN ('overwrite', 'delete')").collectAsList();
      return sum.get(0).isNullAt(0) ? 0 : sum.get(0).getLong(0);
    }
    return changeFeed(spark, fromExclusive, to)
        .where(functions.col("_change_type").isin("delete", "update_preimage")).count();
  }

  /**
   * Checks that {@code rows} fit this existing table: every column there with the same type, and no column of the
   * table left without a value.
   *
   * @throws InputSchemaException one line naming the first column that does not fit
   */
  void checkFits(StructType table, StructType rows) {
    for (StructField f : rows.fields()) {
      StructField there = find(table, f.name());
      if (there == null) {
        throw new InputSchemaException("Cannot write " + flag + " " + name + ": it has no column '" + f.name()
            + "' (" + f.dataType().catalogString() + "); write to a new table or add the column");
      }
      // catalogString leaves nullability out: a nullable column takes non-null values
      if (!there.dataType().catalogString().equals(f.dataType().catalogString())) {
        throw new InputSchemaException("Cannot write " + flag + " " + name + ": column '" + f.name() + "' is "
            + there.dataType().catalogString() + " there but " + f.dataType().catalogString() + " in seqpack's output");
      }
    }
    for (StructField t : table.fields()) {
      if (find(rows, t.name()) == null) {
        throw new InputSchemaException("Cannot write " + flag + " " + name + ": its column '" + t.name()
            + "' is not in seqpack's output (" + String.join(", ", rows.fieldNames()) + ")");
      }
    }
  }

  private static StructField find(StructType schema, String name) {
    for (StructField f : schema.fields()) {
      if (f.name().equalsIgnoreCase(name)) {
        return f;
      }
    }
    return null;
  }

  /**
   * Creates the table, empty, with {@code schema}, partitioned by {@code partitionBy}.
   *
   * @return false if the table exists already (created meanwhile by another run)
   */
  boolean create(SparkSession spark, StructType schema, List<String> partitionBy) {
    var writer = spark.createDataFrame(List.of(), schema).writeTo(name).using(format.provider);
    if (!partitionBy.isEmpty()) {
      writer.partitionedBy(functions.col(partitionBy.get(0)), partitionBy.subList(1, partitionBy.size()).stream()
          .map(functions::col).toArray(org.apache.spark.sql.Column[]::new));
    }
    try {
      writer.create();
      return true;
    } catch (AnalysisException e) {
      if ("TABLE_OR_VIEW_ALREADY_EXISTS".equals(e.getCondition())) {
        return false;
      }
      throw new ConfigException("Cannot create " + flag + " " + name + ": " + e.getMessage().lines().findFirst()
          .orElse(""), e);
    } catch (RuntimeException e) {
      // another run's create committed first: Iceberg fails with CommitFailedException (version 1 exists),
      // Delta with ProtocolChangedException (two writers into an empty folder)
      if (exists(spark)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Whether a commit of run {@code runId} is in the table's history: Iceberg's snapshot summary, Delta's commit
   * user metadata (both written by {@link #write}).
   */
  boolean hasCommit(SparkSession spark, String runId) {
    Dataset<Row> history = format == Format.ICEBERG
        ? spark.sql("SELECT summary['" + RUN_ID_KEY + "'] AS run FROM " + name + ".snapshots")
        : spark.sql("DESCRIBE HISTORY " + name).selectExpr("userMetadata AS run");
    String tag = format == Format.ICEBERG ? runId : RUN_ID_KEY + "=" + runId;
    return !history.where(functions.col("run").equalTo(tag)).isEmpty();
  }

  /**
   * One commit of {@code rows} carrying the run: Iceberg's snapshot property {@value #RUN_ID_KEY}; Delta's user
   * metadata and its idempotent-write transaction ({@code txnAppId} = {@code appId}, {@code txnVersion} = {@code
   * txnVersion}), with which Delta itself skips a commit it already has.
   */
  void write(Dataset<Row> rows, WriteMode mode, String runId, String appId, long txnVersion) {
    var writer = rows.writeTo(name);
    if (format == Format.ICEBERG) {
      writer.option("snapshot-property." + RUN_ID_KEY, runId);
    } else {
      writer.option("userMetadata", RUN_ID_KEY + "=" + runId).option("txnAppId", appId)
          .option("txnVersion", txnVersion);
    }
    try {
      switch (mode) {
        case APPEND -> writer.append();
        case OVERWRITE -> writer.overwrite(functions.lit(true));
        case OVERWRITE_PARTITIONS -> writer.overwritePartitions();
      }
    } catch (org.apache.spark.sql.catalyst.analysis.NoSuchTableException e) {
      throw new ConfigException("Cannot write " + flag + " " + name + ": it disappeared during the run", e);
    }
  }

  /** How a table run writes: {@code --mode append|overwrite|overwrite-partitions}. */
  enum WriteMode {
    APPEND,
    OVERWRITE,
    OVERWRITE_PARTITIONS;

    static WriteMode of(String flag) {
      return valueOf(flag.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
  }

  @Override
  public String toString() {
    return name;
  }
}
