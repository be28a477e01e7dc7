package io.seqpack.job;

import io.seqpack.InputSchemaException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The Parquet files of an input (a file, a folder of them with any {@code key=value} subfolders, or a glob),
 * listed and checked on the driver before anything runs: each file's footer is read, which proves it is a
 * readable Parquet file (a truncated file, a non-Parquet file or a zero-byte file fails here, named), and gives
 * its row count and schema without a Spark job. Files whose names start with {@code _} or {@code .} are not data,
 * as for Spark's own reader.
 *
 * @param root the folder partition columns are discovered under (Spark's {@code basePath}), or null for a file
 */
record InputFiles(String root, List<DataFile> files, List<Skipped> skipped) implements ScoringInput {
  /** A readable data file: its qualified path, size, modification time, row count and Parquet schema. */
  /**
   * @param sparkSchema the Spark schema a Spark writer stored in the footer (JSON), or null (other writers)
   */
  record DataFile(String path, long size, long modified, long rows, MessageType schema, String sparkSchema) {}

  /** The footer key under which Spark's Parquet writer stores the Spark schema of the rows. */
  private static final String SPARK_SCHEMA_KEY = "org.apache.spark.sql.parquet.row.metadata";

  /** A file that could not be read, with the reason (only with {@code skipCorrupt}). */
  record Skipped(String path, String reason) {}

  @Override
  public long rows() {
    return files.stream().mapToLong(DataFile::rows).sum();
  }

  @Override
  public int fileCount() {
    return files.size();
  }

  List<String> paths() {
    return files.stream().map(DataFile::path).toList();
  }

  /** This listing restricted to the given paths (in its own order). */
  InputFiles only(java.util.Set<String> paths) {
    return new InputFiles(root, files.stream().filter(f -> paths.contains(f.path())).toList(), skipped);
  }

  /**
   * Lists and checks the input's files.
   *
   * @param skipCorrupt list unreadable files in {@link #skipped} instead of failing
   * @throws InputSchemaException {@code Cannot read input file <path>: <reason>} for the first unreadable file, or
   *     {@code Cannot read input <input>: ...} when nothing matches
   */
  static InputFiles list(Configuration hadoop, String input, boolean skipCorrupt, boolean allowEmpty) {
    Path pattern = new Path(input);
    List<FileStatus> found = new ArrayList<>();
    String root;
    try {
      FileSystem fs = pattern.getFileSystem(hadoop);
      FileStatus[] matches = fs.globStatus(pattern);
      if ((matches == null || matches.length == 0) && allowEmpty) {
        return new InputFiles(null, List.of(), List.of());
      }
      if (matches == null || matches.length == 0) {
        throw CheckedRun.missingInput(input, fs.makeQualified(pattern).toString());
      }
      boolean glob = matches.length != 1 || !fs.makeQualified(pattern).equals(matches[0].getPath());
      root = !glob && matches[0].isDirectory() ? matches[0].getPath().toString() : null;
      for (FileStatus m : matches) {
        collect(fs, m, found);
      }
    } catch (IOException e) {
      throw new InputSchemaException("Cannot read input " + input + ": " + e.getMessage(), e);
    }
    if (found.isEmpty()) {
      if (allowEmpty) {
        return new InputFiles(root, List.of(), List.of());
      }
      throw new InputSchemaException("Cannot read input " + input + ": it holds no data files");
    }
    List<DataFile> files = new ArrayList<>();
    List<Skipped> skipped = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, found.size()), r -> {
      Thread t = new Thread(r, "seqpack-footers");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<Object>> footers = new ArrayList<>();
      for (FileStatus f : found) {
        footers.add(pool.submit(() -> footer(hadoop, f)));
      }
      for (int i = 0; i < found.size(); i++) {
        Object result = footers.get(i).get();
        if (result instanceof DataFile df) {
          files.add(df);
        } else if (skipCorrupt) {
          skipped.add(new Skipped(found.get(i).getPath().toString(), (String) result));
        } else {
          String advice = found.size() == 1 ? "replace it with a readable Parquet file" // nothing else to score
              : "remove or replace it, or pass --skip-corrupt-files to score the other files";
          throw new InputSchemaException("Cannot read input file " + found.get(i).getPath() + ": " + result + " ("
              + advice + ")");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InputSchemaException("Interrupted while reading the footers of " + input, e);
    } catch (ExecutionException e) {
      throw new InputSchemaException("Cannot read input " + input + ": " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    if (files.isEmpty() && !skipCorrupt && !allowEmpty) {
      throw new InputSchemaException("Cannot read input " + input + ": it holds no readable Parquet file");
    }
    return new InputFiles(root, List.copyOf(files), List.copyOf(skipped));
  }

  private static void collect(FileSystem fs, FileStatus status, List<FileStatus> out) throws IOException {
    String name = status.getPath().getName();
    if (name.startsWith("_") || name.startsWith(".")) {
      return;
    }
    if (status.isDirectory()) {
      for (FileStatus child : fs.listStatus(status.getPath())) {
        collect(fs, child, out);
      }
    } else {
      out.add(status);
    }
  }

  /** A {@link DataFile}, or the reason the file is not a readable Parquet file. */
  private static Object footer(Configuration hadoop, FileStatus f) {
    if (f.getLen() == 0) {
      return "the file is empty (0 bytes)";
    }
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(f, hadoop))) {
      return new DataFile(f.getPath().toString(), f.getLen(), f.getModificationTime(), reader.getRecordCount(),
          reader.getFooter().getFileMetaData().getSchema(),
          reader.getFooter().getFileMetaData().getKeyValueMetaData().get(SPARK_SCHEMA_KEY));
    } catch (IOException | RuntimeException e) {
      String message = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      return "not a readable Parquet file (" + message + ")";
    }
  }

  /**
   * The Spark schema every file of a group stored in its footer, or null when one did not (written by another
   * tool) or they differ; Spark then infers it. Partition columns are not in it: Spark still adds them from the
   * folder names, typed as it would infer them.
   */
  private static StructType sparkSchema(List<DataFile> group) {
    String json = group.get(0).sparkSchema();
    if (json == null || group.stream().anyMatch(f -> !json.equals(f.sparkSchema()))) {
      return null;
    }
    try {
      return DataType.fromJson(json) instanceof StructType struct ? struct : null;
    } catch (RuntimeException e) {
      return null; // not what Spark writes: let Spark read the file itself
    }
  }

  /** The files grouped by identical Parquet schema, in listing order. */
  Map<MessageType, List<DataFile>> bySchema() {
    Map<MessageType, List<DataFile>> groups = new LinkedHashMap<>();
    for (DataFile f : files) {
      groups.computeIfAbsent(f.schema(), k -> new ArrayList<>()).add(f);
    }
    return groups;
  }

  /**
   * The files as one Dataset. Files that share a schema are read together; when files disagree (schema drift),
   * each group is read on its own and the groups are unioned by name with compatible types widened ({@code int} →
   * {@code bigint}, {@code float} → {@code double}, also inside arrays). A column missing from some files is left
   * out (see {@link #missingColumns}); incompatible types fail here, naming a file and the column.
   */
  @Override
  public Dataset<Row> read(SparkSession spark) {
    List<Dataset<Row>> groups = new ArrayList<>();
    List<String> firstFiles = new ArrayList<>();
    for (List<DataFile> group : bySchema().values()) {
      DataFrameReader reader = spark.read();
      if (root != null) {
        reader = reader.option("basePath", root);
      }
      StructType known = sparkSchema(group);
      if (known != null) {
        reader = reader.schema(known); // the footers are read already: spares Spark's schema-inference job
      }
      groups.add(reader.parquet(group.stream().map(DataFile::path).toArray(String[]::new)));
      firstFiles.add(group.get(0).path());
    }
    if (groups.size() == 1) {
      return groups.get(0);
    }
    Map<String, DataType> unified = new LinkedHashMap<>();
    Map<String, String> seenIn = new LinkedHashMap<>();
    for (int g = 0; g < groups.size(); g++) {
      for (StructField f : groups.get(g).schema().fields()) {
        DataType before = unified.get(f.name());
        if (before == null) {
          unified.put(f.name(), f.dataType());
          seenIn.put(f.name(), firstFiles.get(g));
          continue;
        }
        DataType wide = widen(before, f.dataType());
        if (wide == null) {
          throw new InputSchemaException("Cannot read input file " + firstFiles.get(g) + ": column '" + f.name()
              + "' is " + f.dataType().simpleString() + " but in " + seenIn.get(f.name()) + " it is "
              + before.simpleString() + " (the files of one input must agree on the types of its columns)");
        }
        unified.put(f.name(), wide);
      }
    }
    Dataset<Row> all = null;
    for (Dataset<Row> group : groups) {
      List<Column> columns = new ArrayList<>();
      for (Map.Entry<String, DataType> e : unified.entrySet()) {
        if (isEverywhere(e.getKey(), groups)) {
          columns.add(functions.col("`" + e.getKey().replace("`", "``") + "`").cast(e.getValue()).as(e.getKey()));
        }
      }
      Dataset<Row> selected = group.select(columns.toArray(Column[]::new));
      all = all == null ? selected : all.unionByName(selected);
    }
    return all;
  }

  /** Columns some files have and others lack, each with a file that lacks it (left out of {@link #read}). */
  @Override
  public Map<String, String> missingColumns(SparkSession spark) {
    Map<String, String> missing = new LinkedHashMap<>();
    Map<MessageType, List<DataFile>> groups = bySchema();
    if (groups.size() < 2) {
      return missing;
    }
    java.util.Set<String> all = new java.util.LinkedHashSet<>();
    groups.keySet().forEach(t -> t.getFields().forEach(f -> all.add(f.getName())));
    for (Map.Entry<MessageType, List<DataFile>> g : groups.entrySet()) {
      for (String name : all) {
        if (!g.getKey().containsField(name)) {
          missing.putIfAbsent(name, g.getValue().get(0).path());
        }
      }
    }
    return missing;
  }

  private static boolean isEverywhere(String name, List<Dataset<Row>> groups) {
    return groups.stream().allMatch(g -> List.of(g.schema().fieldNames()).contains(name));
  }

  /** The common type two files' column types widen to, or null if they do not. */
  static DataType widen(DataType a, DataType b) {
    if (a.equals(b)) {
      return a;
    }
    if (a instanceof ArrayType x && b instanceof ArrayType y) {
      DataType element = widen(x.elementType(), y.elementType());
      return element == null ? null : DataTypes.createArrayType(element, x.containsNull() || y.containsNull());
    }
    boolean integral = isIntegral(a) && isIntegral(b);
    boolean fractional = isFractional(a) && isFractional(b);
    if (integral) {
      return a.defaultSize() >= b.defaultSize() ? a : b;
    }
    if (fractional) {
      return DataTypes.DoubleType;
    }
    return null;
  }

  private static boolean isIntegral(DataType t) {
    return t.equals(DataTypes.ByteType) || t.equals(DataTypes.ShortType) || t.equals(DataTypes.IntegerType)
        || t.equals(DataTypes.LongType);
  }

  private static boolean isFractional(DataType t) {
    return t.equals(DataTypes.FloatType) || t.equals(DataTypes.DoubleType);
  }
}
