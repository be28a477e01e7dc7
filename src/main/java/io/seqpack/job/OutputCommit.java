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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a run's outputs become visible: Spark writes them into staging folders that no reader looks at, the run
 * checks them there (row counts from the Parquet footers), and only then moves them where readers look. A run that
 * fails or is killed before that leaves nothing in the output folders, for any Parquet reader (Spark, DuckDB,
 * pyarrow, Trino), not only for readers that follow a commit log.
 *
 * <ul>
 *   <li>Batch runs stage each output in a hidden sibling folder ({@code .<name>.seqpack-staging-<run>}) and rename
 *       it into place: the output folder is absent or complete.
 *   <li>Incremental runs stage under the checkpoint and move each file into the output folder under a name that
 *       carries the run ({@code part-r00003-...}); the run's manifest is written after the last move, and a later
 *       run deletes the files of any run without a manifest before it starts.
 * </ul>
 */
final class OutputCommit {
  private static final Logger LOG = LoggerFactory.getLogger(OutputCommit.class);

  private OutputCommit() {}

  private static final String STAGING = ".seqpack-staging-";

  /** The hidden sibling staging folder of {@code output} for a batch run. */
  static Path batchStaging(String output, String run) {
    Path target = new Path(output);
    return new Path(target.getParent(), "." + target.getName() + STAGING + run);
  }

  /** Deletes staging folders of {@code output} left by runs that were killed (logged). */
  static void removeStaleStaging(Configuration hadoop, String output) {
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
  static void publish(Configuration hadoop, Path staged, String target, boolean replace) {
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

  /** Deletes a staging folder (after a failed check); failures are logged. */
  static void discard(Configuration hadoop, Path staged) {
    try {
      staged.getFileSystem(hadoop).delete(staged, true);
    } catch (IOException e) {
      LOG.warn("seqpack: cannot delete {}: {}", staged, e.toString());
    }
  }

  /** Rows in the Parquet data files under {@code dir} (footers only; no Spark job). */
  static long rowsIn(Configuration hadoop, Path dir) {
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
  static List<FileStatus> dataFiles(Configuration hadoop, Path dir) {
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
  static String runPrefix(long run) {
    return String.format("part-r%05d-", run);
  }

  private static final Pattern RUN_FILE = Pattern.compile("part-r(\\d{5,})-.*");

  /**
   * Moves every data file staged under {@code staged} into {@code target} (same partition subfolders), named
   * {@code part-r<run>-<name>}; returns how many.
   */
  static int appendRun(Configuration hadoop, Path staged, String target, long run) {
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
