package io.seqpack.job;

import io.seqpack.util.Words;
import io.seqpack.ConfigException;
import io.seqpack.summary.RunSummary;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code seqpack score --incremental --checkpoint DIR}: each run scores only the input files that no earlier run
 * with the same checkpoint committed, appends their predictions and rejects to the outputs, then stops.
 *
 * <p>It runs the batch job's pipeline ({@link ScoringRun}) on the new files and publishes by appending ({@link
 * ParquetFolderSink#appending}): the run's files are staged under the checkpoint, checked (every new input row in
 * exactly one output), moved into the output folders under names that carry the run ({@code part-r00003-...}),
 * and then the run's manifest ({@code DIR/manifest/run-<n>.json}: the input files, with size and modification
 * time, and the rows each output got) is written atomically. Only runs with a manifest count: the next run deletes
 * any file of a run without one (a run killed while moving), so every Parquet reader sees every committed input
 * row exactly once. One run at a time holds the checkpoint ({@link CheckpointLock}).
 *
 * <p>Each run writes {@code _seqpack_summary.json} (this run's figures, with a {@code run} object: id, new files
 * and rows, accounting check, totals so far) and {@code _seqpack_runs/run-<n>.json} (history; a failed run leaves
 * one with {@code "status": "failed"} and the error) into the output folder. {@code DIR/seqpack-checkpoint.json}
 * records the input, output and rejects paths the checkpoint belongs to and the number of runs started.
 */
public final class IncrementalScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(IncrementalScoreJob.class);
  public static final String RUNS_DIR = "_seqpack_runs";
  public static final String META_FILE = "seqpack-checkpoint.json";
  static final String CHECKPOINT_FORMAT = "seqpack-checkpoint/2";
  static final String MANIFEST_DIR = "manifest";
  /** A committed run's manifest; a {@code .tmp} one is being written. */
  private static final Pattern MANIFEST_NAME = Pattern.compile("run-(\\d+)\\.json");
  /** {@code run.new_files} lists at most this many paths ({@code run.new_file_count} has the number). */
  static final int MAX_LISTED_FILES = 1000;

  private IncrementalScoreJob() {}

  /** {@code DIR/seqpack-checkpoint.json}: the folders the checkpoint belongs to and the number of runs started. */
  private record Checkpoint(String format, String input, String output, String rejects, long runs) {}

  /** A committed run's manifest: its input files and the rows it read and added to each output. */
  private record Manifest(long run, List<ManifestFile> files, long inputRows, long scoredRows, long rejectedRows) {}

  /** An input file as the run that scored it saw it; {@code modified} in milliseconds since 1970. */
  private record ManifestFile(String path, long size, long modified, long rows) {}

  /** {@code _seqpack_runs/run-<n>.json} of a run that failed. */
  private record FailedRun(Failure run) {}

  private record Failure(long id, boolean incremental, String status, String error) {}

  public static RunSummary run(SparkSession spark, ScoreJob.Options options, String checkpoint) {
    try (CheckedRun checked = CheckedRun.check(options, checkpoint, spark.sparkContext()::hadoopConfiguration,
        FileSystem.getDefaultUri(spark.sparkContext().hadoopConfiguration()).toString())) {
      return run(spark, checked);
    }
  }

  /** {@link #run(SparkSession, ScoreJob.Options, String)} with the model (and a local checkpoint) checked before. */
  @SuppressWarnings("try") // the checkpoint lock is held for the try block, not used in it
  static RunSummary run(SparkSession spark, CheckedRun checked) {
    long start = System.nanoTime();
    ScoreJob.Options options = checked.options();
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    Path cp = new Path(checked.checkpoint());
    if (checked.holdsLock()) {
      return runLocked(spark, checked, cp, hadoop, start);
    }
    try (CheckpointLock lock = lock(hadoop, options, cp)) {
      return runLocked(spark, checked, cp, hadoop, start);
    }
  }

  /** Takes the checkpoint's lock; refuses outputs that cannot be incremental ones first. */
  static CheckpointLock lock(Configuration hadoop, ScoreJob.Options options, Path checkpoint) {
    if (options.overwrite()) {
      throw new ConfigException("Cannot combine --mode overwrite with --incremental: to rescore everything, use a "
          + "new --checkpoint with new --output and --rejects folders (or delete all three)");
    }
    CheckedRun.checkDistinctOutputs(options);
    return CheckpointLock.acquire(hadoop, checkpoint, options.waitForLockSeconds());
  }

  /**
   * With the lock held: the checkpoint belongs to these folders and its manifests are readable (a new checkpoint
   * needs outputs that do not exist yet).
   */
  static void checkCheckpoint(Configuration hadoop, ScoreJob.Options options, String checkpoint) {
    Path cp = new Path(checkpoint);
    checkCheckpointMatches(hadoop, options, checkpoint, readMeta(hadoop, cp));
    readManifests(hadoop, cp);
  }

  private static RunSummary runLocked(SparkSession spark, CheckedRun checked, Path cp, Configuration hadoop,
      long start) {
    ScoreJob.Options options = checked.options();
    String checkpoint = checked.checkpoint();
    Checkpoint meta = readMeta(hadoop, cp);
    checkCheckpointMatches(hadoop, options, checkpoint, meta);
    long runId = meta == null ? 1 : meta.runs() + 1;
    writeMeta(hadoop, cp, options, runId);

    List<Manifest> committed = readManifests(hadoop, cp);
    Set<Long> committedRuns = new HashSet<>();
    Map<String, ManifestFile> committedFiles = new HashMap<>();
    long scoredBefore = 0;
    long rejectedBefore = 0;
    for (Manifest m : committed) {
      committedRuns.add(m.run());
      m.files().forEach(f -> committedFiles.put(f.path(), f));
      scoredBefore += m.scoredRows();
      rejectedBefore += m.rejectedRows();
    }
    int removed = ParquetFolderSink.removeUncommittedRuns(hadoop, options.output(), committedRuns)
        + ParquetFolderSink.removeUncommittedRuns(hadoop, options.rejectsPath(), committedRuns);
    if (removed > 0) {
      LOG.warn("seqpack: incremental run {}: removed {} file(s) of an earlier run that did not commit", runId,
          removed);
    }

    InputFiles listing = InputFiles.list(hadoop, options.input(), options.skipCorruptFiles(), true);
    Set<String> fresh = new TreeSet<>();
    for (InputFiles.DataFile f : listing.files()) {
      ManifestFile seen = committedFiles.get(f.path());
      if (seen == null) {
        fresh.add(f.path());
      } else if (seen.size() != f.size() || seen.modified() != f.modified()) {
        LOG.warn("seqpack: {} changed since run that scored it (size or time); it is not scored again", f.path());
      }
    }
    Path staging = new Path(new Path(cp, "staging"), "run-" + runId);
    try {
      ScoringRun.Outcome outcome = null;
      DriftBaseline baseline = null;
      InputFiles news = listing.only(fresh);
      if (!fresh.isEmpty()) {
        try (OutputSink predictions = ParquetFolderSink.appending(hadoop, options.output(), options.partitionBy(),
                new Path(staging, "predictions"), runId);
            OutputSink rejects = ParquetFolderSink.appending(hadoop, options.rejectsPath(), options.partitionBy(),
                new Path(staging, "rejects"), runId)) {
          outcome = ScoringRun.score(spark, checked, news, predictions, rejects, start,
              "incremental run " + runId + " of " + options.input());
          baseline = baseline(hadoop, checked, committed.isEmpty());
          RunSummary.Run pending = new RunSummary.Run(runId, checkpoint, fresh.size(),
              fresh.stream().limit(MAX_LISTED_FILES).toList(), news.rows(), removed,
              scoredBefore + outcome.scoredRows(), rejectedBefore + outcome.rejectedRows());
          JobSummary.refuseIfDrifted(hadoop, options, JobSummary.summary(pending, spark, options, outcome, news,
              (System.nanoTime() - start) / 1e9, baseline)); // before anything is committed
          rejects.commit();
          predictions.commit();
          writeManifest(hadoop, cp, runId, news, outcome);
        }
      }
      double wallSeconds = (System.nanoTime() - start) / 1e9;
      long scored = outcome == null ? 0 : outcome.scoredRows();
      long rejected = outcome == null ? 0 : outcome.rejectedRows();
      RunSummary.Run run = new RunSummary.Run(runId, checkpoint, fresh.size(),
          fresh.stream().limit(MAX_LISTED_FILES).toList(), news.rows(), removed, scoredBefore + scored,
          rejectedBefore + rejected);
      RunSummary summary;
      if (outcome != null) {
        summary = JobSummary.summary(run, spark, options, outcome, news, wallSeconds, baseline);
      } else {
        summary = JobSummary.nothingScored(run, options, listing, wallSeconds);
        LOG.info("seqpack: incremental run {}: nothing new in {}", runId, options.input());
      }
      mkdirs(hadoop, new Path(options.output()));
      JobSummary.writeSummary(hadoop, historyFile(options.output(), runId), summary);
      if (outcome != null) {
        JobSummary.writeSummaryAndReport(hadoop, options.output(), options.output(), summary);
      } else if (committed.isEmpty()) { // no run has scored yet: the summary says so
        JobSummary.writeSummary(hadoop, new Path(options.output(), RunSummary.FILE), summary);
      } // else the summary and the report of the last run that scored stay, together
      JobSummary.checkRejectFraction(options, news.rows(), rejected);
      LOG.info("seqpack: incremental run {}: {}, {}, scored {}, rejected {}, in {} s", runId,
          Words.count(fresh.size(), "new file"), Words.count(news.rows(), "new row"), scored, rejected,
          JobSummary.round(wallSeconds));
      return summary;
    } catch (JobFailedException e) {
      writeFailure(hadoop, options, runId, e.getMessage());
      throw e;
    } catch (Exception e) { // Spark rethrows the write's IOExceptions unchecked-but-checked (Scala)
      String message = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      writeFailure(hadoop, options, runId, message);
      if (e instanceof io.seqpack.SeqpackException) {
        throw e;
      }
      throw new JobFailedException("incremental run " + runId + " failed: " + message, e);
    } finally {
      ParquetFolderSink.discard(hadoop, staging);
    }
  }

  /**
   * {@code --drift-baseline} when given, else the summary of the last committed run in the output folder; null for
   * the first run (or when that summary has no deciles, written by an older seqpack).
   */
  private static DriftBaseline baseline(Configuration hadoop, CheckedRun checked, boolean firstRun) {
    if (checked.baseline() != null || firstRun) {
      return checked.baseline();
    }
    String last = new Path(checked.options().output(), RunSummary.FILE).toString();
    DriftBaseline previous = new DriftBaseline(DriftBaseline.readSummary(hadoop, last), last);
    if (!previous.hasDeciles()) {
      return null;
    }
    io.seqpack.summary.Drift.checkHeads(previous.summary(), last, CheckedRun.heads(checked.model()));
    return previous;
  }

  /** A committed run: its id and when its manifest was written. */
  public record CommittedRun(long id, Instant committed) {}

  /** The last run of {@code checkpoint} that committed (scored something), or null if none has. */
  public static CommittedRun lastCommittedRun(Configuration hadoop, String checkpoint) {
    Path dir = new Path(checkpoint, MANIFEST_DIR);
    CommittedRun last = null;
    try {
      FileSystem fs = dir.getFileSystem(hadoop);
      for (FileStatus f : fs.exists(dir) ? fs.listStatus(dir) : new FileStatus[0]) {
        Matcher m = MANIFEST_NAME.matcher(f.getPath().getName());
        if (m.matches() && (last == null || Long.parseLong(m.group(1)) > last.id())) {
          last = new CommittedRun(Long.parseLong(m.group(1)), Instant.ofEpochMilli(f.getModificationTime()));
        }
      }
    } catch (IOException e) {
      throw new ConfigException("Cannot read the manifests of --checkpoint " + checkpoint + ": " + e, e);
    }
    return last;
  }

  private static boolean exists(Configuration hadoop, Path p) {
    try {
      return p.getFileSystem(hadoop).exists(p);
    } catch (IOException e) {
      throw new ConfigException("Cannot check " + p + ": " + e.getMessage(), e);
    }
  }

  private static void mkdirs(Configuration hadoop, Path dir) {
    try {
      dir.getFileSystem(hadoop).mkdirs(dir);
    } catch (IOException e) {
      throw new io.seqpack.SeqpackException("Cannot create " + dir + ": " + e.getMessage(), e);
    }
  }

  private static List<Manifest> readManifests(Configuration hadoop, Path cp) {
    Path dir = new Path(cp, MANIFEST_DIR);
    List<Manifest> out = new ArrayList<>();
    try {
      FileSystem fs = dir.getFileSystem(hadoop);
      if (!fs.exists(dir)) {
        if (fs.exists(new Path(cp, "predictions/commits"))) {
          throw new ConfigException("Cannot use --checkpoint " + cp + ": it was written by seqpack 0.1's streaming "
              + "runs; score into new --output and --rejects folders with a new --checkpoint");
        }
        return out;
      }
      for (FileStatus f : fs.listStatus(dir)) {
        if (!MANIFEST_NAME.matcher(f.getPath().getName()).matches()) {
          continue; // a manifest being written (.tmp) by a killed run
        }
        out.add(JobSummary.readJson(hadoop, f.getPath(), Manifest.class, "manifest"));
      }
    } catch (IOException e) {
      throw new ConfigException("Cannot read the manifests of --checkpoint " + cp + ": " + e, e);
    }
    return out;
  }

  /** Written last, atomically (a temporary file renamed into place): the run counts from here on. */
  private static void writeManifest(Configuration hadoop, Path cp, long runId, InputFiles news,
      ScoringRun.Outcome outcome) {
    Manifest m = new Manifest(runId, news.files().stream()
        .map(f -> new ManifestFile(f.path(), f.size(), f.modified(), f.rows())).toList(), outcome.inputRows(),
        outcome.scoredRows(), outcome.rejectedRows());
    Path dir = new Path(cp, MANIFEST_DIR);
    Path tmp = new Path(dir, "run-" + runId + ".json.tmp");
    Path done = new Path(dir, "run-" + runId + ".json");
    JobSummary.writeJsonAtomically(hadoop, tmp, done, m, "Cannot commit run " + runId);
  }

  private static Path historyFile(String output, long runId) {
    return new Path(new Path(output, RUNS_DIR), "run-" + runId + ".json");
  }

  private static void writeFailure(Configuration hadoop, ScoreJob.Options options, long runId, String error) {
    try {
      JobSummary.writeJson(hadoop, historyFile(options.output(), runId),
          new FailedRun(new Failure(runId, true, "failed", error)));
    } catch (RuntimeException e) {
      LOG.warn("seqpack: cannot record the failure of run {}: {}", runId, e.toString());
    }
  }

  private static Checkpoint readMeta(Configuration hadoop, Path checkpoint) {
    Path file = new Path(checkpoint, META_FILE);
    return exists(hadoop, file) ? JobSummary.readJson(hadoop, file, Checkpoint.class, "--checkpoint") : null;
  }

  private static void writeMeta(Configuration hadoop, Path checkpoint, ScoreJob.Options options, long runs) {
    JobSummary.writeJson(hadoop, new Path(checkpoint, META_FILE), new Checkpoint(CHECKPOINT_FORMAT, options.input(),
        options.output(), options.rejectsPath(), runs));
  }

  /**
   * A checkpoint belongs to one input, output and rejects folder; a new checkpoint needs outputs that no other
   * run wrote.
   */
  private static void checkCheckpointMatches(Configuration hadoop, ScoreJob.Options options, String checkpoint,
      Checkpoint meta) {
    if (meta == null) {
      for (String[] out : new String[][] {{"--output", options.output()}, {"--rejects", options.rejectsPath()}}) {
        if (exists(hadoop, new Path(out[1]))) {
          throw new ConfigException("Cannot start incremental scoring into " + out[0] + " " + out[1] + ": it already "
              + "exists but --checkpoint " + checkpoint + " is new; use the checkpoint that wrote it, or new folders");
        }
      }
      return;
    }
    for (String[] key : new String[][] {{meta.input(), "--input", options.input()}, {meta.output(), "--output",
        options.output()}, {meta.rejects(), "--rejects", options.rejectsPath()}}) {
      if (!key[2].equals(key[0])) {
        throw new ConfigException("Cannot use --checkpoint " + checkpoint + " with " + key[1] + " " + key[2]
            + ": it records the runs with " + key[1] + " " + key[0] + "; use a new checkpoint for new "
            + "folders");
      }
    }
  }
}
