package io.seqpack.job;

import io.seqpack.SeqpackException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An output that is a folder of Parquet files, for any Parquet reader (Spark, DuckDB, pyarrow, Trino), not only
 * for readers that follow a commit log. Spark writes the run's rows into a staging folder that no reader looks at,
 * the run counts them there (the files' footers), and {@link #commit} then moves them where readers look; a run
 * that fails or is killed before that leaves nothing in the output folder.
 *
 * <ul>
 *   <li>{@link #replacing}, for batch runs: the output is staged in a hidden sibling folder ({@code
 *       .<name>.seqpack-staging-<run>}) and renamed into place: the output folder is absent or complete.
 *   <li>{@link #appending}, for incremental runs: the output is staged under the checkpoint and each file is moved
 *       into the output folder under a name that carries the run ({@code part-r00003-...}). The run's manifest,
 *       written after the last move, is what commits it: a later run deletes the files of any run without one
 *       before it starts ({@link #removeUncommittedRuns}), so a run's files count exactly once.
 * </ul>
 */
final class ParquetFolderSink implements OutputSink {
  private static final Logger LOG = LoggerFactory.getLogger(ParquetFolderSink.class);
  private static final String STAGING = ".seqpack-staging-";
  /** {@link #appending}'s run, or this for a {@link #replacing} sink. */
  private static final long NO_RUN = -1;

  private final Configuration hadoop;
  private final String folder;
  private final String[] partitionBy;
  private final Path staged;
  private final long run;
  private final boolean overwrite;

  private ParquetFolderSink(Configuration hadoop, String folder, List<String> partitionBy, Path staged, long run,
      boolean overwrite) {
    this.hadoop = hadoop;
    this.folder = folder;
    this.partitionBy = partitionBy.toArray(String[]::new);
    this.staged = staged;
    this.run = run;
    this.overwrite = overwrite;
  }

  /**
   * A batch run's output {@code folder}, which must not exist unless {@code overwrite}; first deletes the staging
   * folders that killed runs left next to it.
   */
  static ParquetFolderSink replacing(Configuration hadoop, String folder, List<String> partitionBy, String run,
      boolean overwrite) {
    removeStaleStaging(hadoop, folder);
    Path target = new Path(folder);
    Path staged = new Path(target.getParent(), "." + target.getName() + STAGING + run);
    return new ParquetFolderSink(hadoop, folder, partitionBy, staged, NO_RUN, overwrite);
  }

  /** Incremental run {@code run}'s files for {@code folder}, staged in {@code staged} (under the checkpoint). */
  static ParquetFolderSink appending(Configuration hadoop, String folder, List<String> partitionBy, Path staged,
      long run) {
    return new ParquetFolderSink(hadoop, folder, partitionBy, staged, run, false);
  }

  /** The staging folder; a batch run writes its summary and report there, to be published with the rows. */
  Path stagedFolder() {
    return staged;
  }

  @Override
  public long stage(Dataset<Row> rows) {
    rows.write().mode(SaveMode.Overwrite).partitionBy(partitionBy).parquet(staged.toString());
    return rowsIn(hadoop, staged);
  }

  @Override
  public Dataset<Row> readStaged(SparkSession spark) {
    // the data files, not the folder: Spark ignores a hidden folder (.x.seqpack-staging-...) with a warning
    // the user cannot act on; the staged rows are read without their partition columns
    return spark.read().parquet(dataFiles(hadoop, staged).stream().map(f -> f.getPath().toString())
        .toArray(String[]::new));
  }

  @Override
  public void commit() {
    if (run == NO_RUN) {
      publish(hadoop, staged, folder, overwrite);
    } else {
      appendRun(hadoop, staged, folder, run);
    }
  }

  @Override
  public void close() {
    discard(hadoop, staged); // after a commit, only the emptied folders of an appended run are left
  }

  /** Deletes staging folders of {@code output} left by runs that were killed (logged). */
  private static void removeStaleStaging(Configuration hadoop, String output) {
    Path target = new Path(output);
    try {
      FileSystem fs = target.getFileSystem(hadoop);
      Path parent = target.getParent();
      if (parent == null || !fs.exists(parent)) {
        return;
      }
      FileStatus[] stale = fs.globStatus(new Path(parent, "." + target.getName() + STAGING + "*"));
      for (FileStatus s : stale == null ? new FileStatus[0] : stale) {
        LOG.warn("seqpack: removing {} left by an earlier run that did not finish", s.getPath());
        fs.delete(s.getPath(), true);
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot clean the staging folders next to " + output + ": " + e.getMessage(), e);
    }
  }

  /** Renames a staged batch output into place, replacing {@code target} when {@code replace} is set. */
  private static void publish(Configuration hadoop, Path staged, String target, boolean replace) {
    Path to = new Path(target);
    try {
      FileSystem fs = to.getFileSystem(hadoop);
      if (fs.exists(to)) {
        if (!replace) {
          throw new SeqpackException("Cannot publish " + target + ": it appeared while the run was scoring");
        }
        fs.delete(to, true);
      }
      if (!fs.rename(staged, to)) {
        throw new SeqpackException("Cannot move " + staged + " to " + target + " (rename returned false)");
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot move " + staged + " to " + target + ": " + e.getMessage(), e);
    }
  }

  /** Deletes a staging folder; failures are logged. */
  static void discard(Configuration hadoop, Path staged) {
    try {
      staged.getFileSystem(hadoop).delete(staged, true);
    } catch (IOException e) {
      LOG.warn("seqpack: cannot delete {}: {}", staged, e.toString());
    }
  }

  /** Rows in the Parquet data files under {@code dir} (footers only; no Spark job). */
  private static long rowsIn(Configuration hadoop, Path dir) {
    long rows = 0;
    for (FileStatus f : dataFiles(hadoop, dir)) {
      try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromStatus(f, hadoop))) {
        rows += reader.getRecordCount();
      } catch (IOException e) {
        throw new SeqpackException("Cannot read the footer of " + f.getPath() + ": " + e.getMessage(), e);
      }
    }
    return rows;
  }

  /** Data files (not {@code _} or {@code .} files) under {@code dir}, in partition subfolders too. */
  private static List<FileStatus> dataFiles(Configuration hadoop, Path dir) {
    List<FileStatus> out = new ArrayList<>();
    try {
      FileSystem fs = dir.getFileSystem(hadoop);
      if (fs.exists(dir)) {
        collect(fs, dir, out);
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot list " + dir + ": " + e.getMessage(), e);
    }
    return out;
  }

  private static void collect(FileSystem fs, Path dir, List<FileStatus> out) throws IOException {
    for (FileStatus s : fs.listStatus(dir)) {
      String name = s.getPath().getName();
      if (name.startsWith("_") || name.startsWith(".")) {
        continue;
      }
      if (s.isDirectory()) {
        collect(fs, s.getPath(), out);
      } else {
        out.add(s);
      }
    }
  }

  /** The file-name prefix of run {@code run}'s files in an incremental output. */
  private static String runPrefix(long run) {
    return String.format("part-r%05d-", run);
  }

  private static final Pattern RUN_FILE = Pattern.compile("part-r(\\d{5,})-.*");

  /**
   * Moves every data file staged under {@code staged} into {@code target} (same partition subfolders), named
   * {@code part-r<run>-<name>}; returns how many.
   */
  private static int appendRun(Configuration hadoop, Path staged, String target, long run) {
    Path to = new Path(target);
    int moved = 0;
    try {
      FileSystem fs = to.getFileSystem(hadoop);
      fs.mkdirs(to);
      String stagedRoot = fs.makeQualified(staged).toUri().getPath();
      for (FileStatus f : dataFiles(hadoop, staged)) {
        String path = fs.makeQualified(f.getPath()).toUri().getPath();
        String relativeDir = path.substring(stagedRoot.length(), path.length() - f.getPath().getName().length());
        Path dir = relativeDir.equals("/") || relativeDir.isEmpty() ? to : new Path(to, relativeDir.substring(1));
        fs.mkdirs(dir);
        Path dest = new Path(dir, runPrefix(run) + f.getPath().getName());
        if (!fs.rename(f.getPath(), dest)) {
          throw new SeqpackException("Cannot move " + f.getPath() + " to " + dest + " (rename returned false)");
        }
        moved++;
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot move the files of run " + run + " into " + target + ": " + e.getMessage(),
          e);
    }
    return moved;
  }

  /**
   * Deletes from {@code target} every file of a run that is not in {@code committed} (a run killed while its
   * files were being moved); returns how many.
   */
  static int removeUncommittedRuns(Configuration hadoop, String target, java.util.Set<Long> committed) {
    int removed = 0;
    try {
      FileSystem fs = new Path(target).getFileSystem(hadoop);
      for (FileStatus f : dataFiles(hadoop, new Path(target))) {
        var m = RUN_FILE.matcher(f.getPath().getName());
        if (m.matches() && !committed.contains(Long.parseLong(m.group(1)))) {
          LOG.warn("seqpack: removing {}: its run did not commit", f.getPath());
          fs.delete(f.getPath(), false);
          removed++;
        }
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot clean " + target + ": " + e.getMessage(), e);
    }
    return removed;
  }
}
