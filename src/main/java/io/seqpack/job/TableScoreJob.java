package io.seqpack.job;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import io.seqpack.ConfigException;
import io.seqpack.summary.RunSummary;
import io.seqpack.util.Words;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
 * {@code seqpack score --output-table T [--input-table S [--where P]] [--incremental --checkpoint DIR]}: scoring
 * into an Iceberg or Delta table, from a table or a Parquet folder, through the same pipeline as the folder jobs
 * ({@link ScoringRun}) with {@link TableSink}s.
 *
 * <p>Each output gets one commit per run, carrying the run id ({@link LakeTable#write}); rejects are committed
 * first, predictions last, so a reader that sees a run's predictions can always find its rejects (by the run id
 * in the rejects table's history).
 *
 * <p>Incremental runs read only what was appended to the input table since the snapshot or version the last run
 * reached. The checkpoint is a series of state files ({@code DIR/table-state/state-<n>.json}, each written whole
 * and renamed into place): before scoring, a run records its intent (run number, input range, run id); after
 * both commits, the range as reached. A run killed in between leaves the intent; the next run scores the same
 * range again and commits only what the tables do not already have from that run id, so nothing is appended twice.
 * After its outcome, each run writes its summary and report into {@code DIR/table-state/run-<n>/} ({@link
 * #runFolder}); a batch table run prints its summary only.
 */
public final class TableScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(TableScoreJob.class);
  static final String STATE_DIR = "table-state";
  static final String CHECKPOINT_FORMAT = "seqpack-table-checkpoint/1";
  private static final Pattern STATE_NAME = Pattern.compile("state-(\\d+)\\.json");

  private TableScoreJob() {}

  /**
   * Which sides of a run are tables. {@code rejectsTable} defaults to the output table's name with {@code
   * _rejects}; {@code mode} is {@code append}, {@code overwrite} or {@code overwrite-partitions}.
   */
  public record Tables(String inputTable, String where, String outputTable, String rejectsTable, String mode) {
    public Tables {
      if (outputTable == null) {
        throw new ConfigException("Missing --output-table: --input-table writes to a table (score a folder with "
            + "--input PATH)");
      }
      if (where != null && inputTable == null) {
        throw new ConfigException("Invalid --where without --input-table: it filters a table's rows");
      }
      rejectsTable = rejectsTable != null ? rejectsTable : LakeTable.withSuffix(outputTable, "_rejects");
      if (rejectsTable.equals(outputTable)) {
        throw new ConfigException("Cannot write rejects to " + outputTable + ": it is also the --output-table");
      }
      mode = mode == null ? "append" : mode;
      LakeTable.WriteMode.of(mode);
    }
  }

  /** The checkpoint: the tables it belongs to, the input position reached and a run in flight, if any. */
  private record State(String format, String inputTable, @JsonSetter(nulls = Nulls.SET) String where,
      String outputTable, String rejectsTable, String appId, long runs, @JsonSetter(nulls = Nulls.SET) Long reached,
      @JsonSetter(nulls = Nulls.SET) Pending pending, List<RunRecord> history) {}

  /** A run that recorded its intent and has not recorded its outcome (running, or killed). */
  private record Pending(long run, @JsonSetter(nulls = Nulls.SET) Long from, long to, String runId) {}

  /** A finished run: what it read, what it committed where. */
  private record RunRecord(long run, String runId, @JsonSetter(nulls = Nulls.SET) Long from, long to,
      long inputRows, long scoredRows, long rejectedRows, long removalsNotScored,
      @JsonSetter(nulls = Nulls.SET) Long predictionsAt, @JsonSetter(nulls = Nulls.SET) Long rejectsAt,
      boolean recovered) {}

  @SuppressWarnings("try") // the checkpoint lock is held for the try block, not used in it
  static RunSummary run(SparkSession spark, CheckedRun checked, Tables tables) {
    long start = System.nanoTime();
    ScoreJob.Options options = checked.options();
    LakeTable output = LakeTable.resolve(spark, tables.outputTable(), "--output-table");
    LakeTable rejects = LakeTable.resolve(spark, tables.rejectsTable(), "--rejects-table");
    LakeTable input = tables.inputTable() == null ? null
        : LakeTable.resolve(spark, tables.inputTable(), "--input-table");
    LakeTable.WriteMode mode = LakeTable.WriteMode.of(tables.mode());
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    if (checked.checkpoint() == null) {
      ScoringInput in = input != null ? pinnedWhole(spark, input, tables.where())
          : checked.input() != null ? checked.input()
          : InputFiles.list(hadoop, options.input(), options.skipCorruptFiles(), false);
      Path staging = new Path(hadoop.get("hadoop.tmp.dir", "/tmp"), "seqpack-staging-" + UUID.randomUUID());
      String runId = UUID.randomUUID().toString();
      RunSummary summary;
      try {
        summary = score(spark, checked, tables, in, output, rejects, mode, staging, runId, runId, 0, null, start);
      } finally {
        ParquetFolderSink.discard(hadoop, staging);
      }
      JobSummary.checkRejectFraction(options, summary.inputRows(), summary.rejectedRows());
      return summary;
    }
    if (input == null) {
      throw new ConfigException("Cannot score --incremental into --output-table without --input-table: "
          + "incremental runs into tables read a table's new snapshots");
    }
    if (mode != LakeTable.WriteMode.APPEND) {
      throw new ConfigException("Cannot combine --mode " + tables.mode() + " with --incremental: its runs append");
    }
    if (checked.holdsLock()) {
      return incremental(spark, checked, tables, input, output, rejects, start);
    }
    try (CheckpointLock lock = CheckpointLock.acquire(hadoop, new Path(checked.checkpoint()),
        options.waitForLockSeconds())) {
      return incremental(spark, checked, tables, input, output, rejects, start);
    }
  }

  /** The whole input table at its current snapshot or version. */
  private static TableInput pinnedWhole(SparkSession spark, LakeTable input, String where) {
    input.schema(spark); // a missing table: one line, before anything else
    Long now = input.current(spark);
    if (now == null) {
      throw new ConfigException("Cannot read --input-table " + input + ": it has no snapshot yet (nothing to score)");
    }
    return TableInput.at(spark, input, where, null, now);
  }

  private static RunSummary incremental(SparkSession spark, CheckedRun checked, Tables tables, LakeTable input,
      LakeTable output, LakeTable rejects, long start) {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    Path cp = new Path(checked.checkpoint());
    input.schema(spark);
    State state = readState(hadoop, cp);
    if (state == null) {
      state = new State(CHECKPOINT_FORMAT, tables.inputTable(), tables.where(), tables.outputTable(),
          tables.rejectsTable(), UUID.randomUUID().toString(), 0, null, null, List.of());
    } else {
      checkBelongs(state, tables, checked.checkpoint());
    }
    Pending pending = state.pending();
    boolean recovering = pending != null;
    if (!recovering) {
      Long now = input.current(spark);
      if (now == null || now.equals(state.reached())) {
        LOG.info("seqpack: nothing new in {} since {} {}", input, positionWord(input), state.reached());
        return JobSummary.nothingScored(runOf(state.runs(), checked, 0, state, 0, 0), checked.options(),
            new InputFiles(null, List.of(), List.of()), (System.nanoTime() - start) / 1e9);
      }
      pending = new Pending(state.runs() + 1, state.reached(), now, UUID.randomUUID().toString());
      state = with(state, state.runs() + 1, state.reached(), pending, state.history());
      writeState(hadoop, cp, state); // the intent: a rerun after a kill scores this very range again
    } else {
      LOG.warn("seqpack: run {} of {} did not record its outcome; running it again (its commits are not repeated)",
          pending.run(), cp);
    }
    TableInput in = TableInput.at(spark, input, tables.where(), pending.from(), pending.to());
    Path staging = new Path(new Path(cp, "staging"), "run-" + pending.run());
    RunSummary summary;
    try {
      summary = score(spark, checked, tables, in, output, rejects, LakeTable.WriteMode.APPEND, staging,
          pending.runId(), state.appId(), pending.run(), state, start);
    } finally {
      ParquetFolderSink.discard(hadoop, staging);
    }
    RunSummary.Tables done = summary.tables();
    List<RunRecord> history = new ArrayList<>(state.history());
    history.add(new RunRecord(pending.run(), pending.runId(), pending.from(), pending.to(), in.rows(),
        summary.scoredRows(), summary.rejectedRows(), done.removalsNotScored(), done.predictionsAt(),
        done.rejectsAt(), done.alreadyCommitted()));
    writeState(hadoop, cp, with(state, pending.run(), pending.to(), null, history)); // the run counts from here on
    String runDir = runFolder(cp, pending.run()).toString();
    JobSummary.writeSummaryAndReport(hadoop, runDir, runDir, summary);
    // after the state and the files: a run over the limit has committed, and its rerun must not redo it
    JobSummary.checkRejectFraction(checked.options(), summary.inputRows(), summary.rejectedRows());
    return summary;
  }

  /**
   * Scores {@code in} into the two tables and commits: rejects first, then predictions. The summary's {@code
   * tables} part says what was read and committed; its {@code run} part, with {@code state} (incremental runs),
   * the checkpoint's totals.
   */
  private static RunSummary score(SparkSession spark, CheckedRun checked, Tables tables, ScoringInput in,
      LakeTable output, LakeTable rejectsTable, LakeTable.WriteMode mode, Path staging, String runId, String appId,
      long txnVersion, State state, long start) {
    ScoreJob.Options options = checked.options();
    // Delta's transaction versions grow per app id: a batch run is its own app, version 0
    try (TableSink predictions = new TableSink(spark, output, options.partitionBy(), mode,
            new Path(staging, "predictions"), runId, appId + "-predictions", txnVersion);
        TableSink rejects = new TableSink(spark, rejectsTable, options.partitionBy(), mode,
            new Path(staging, "rejects"), runId, appId + "-rejects", txnVersion)) {
      String what = tables.inputTable() != null ? tables.inputTable() : options.input();
      ScoringRun.Outcome outcome = ScoringRun.score(spark, checked, in, predictions, rejects, start, what);
      rejects.commit();
      predictions.commit();
      TableInput fromTable = in instanceof TableInput t ? t : null;
      long removals = fromTable == null || fromTable.from() == null ? 0
          : fromTable.table().removals(spark, fromTable.from(), fromTable.to());
      if (removals > 0) {
        LOG.warn("seqpack: {} had {} rows deleted or rewritten in {}; they are not scored (only appended rows are)",
            fromTable.table(), removals, range(fromTable));
      }
      double wallSeconds = (System.nanoTime() - start) / 1e9;
      RunSummary.Run run = state == null ? null
          : runOf(txnVersion, checked, in.rows(), state, outcome.scoredRows(), outcome.rejectedRows());
      RunSummary summary = JobSummary.summary(run, spark, options, outcome, in, wallSeconds, null)
          .withTables(new RunSummary.Tables(runId, fromTable == null ? null : fromTable.from(),
              fromTable == null ? null : fromTable.to(), removals, predictions.committedAt(), rejects.committedAt(),
              predictions.alreadyCommitted() || rejects.alreadyCommitted()));
      LOG.info("seqpack: run {}: read {}{}: scored {} into {} ({} {}), rejected {} into {} ({} {}), in {} s", runId,
          what, in instanceof TableInput t ? " " + range(t) : "", Words.count(outcome.scoredRows(), "row"), output,
          positionWord(output), predictions.committedAt(), outcome.rejectedRows(), rejectsTable,
          positionWord(rejectsTable), rejects.committedAt(), JobSummary.round(wallSeconds));
      return summary;
    }
  }

  /** Where incremental run {@code run} writes its summary and report: {@code DIR/table-state/run-<n>/}. */
  static Path runFolder(Path checkpoint, long run) {
    return new Path(new Path(checkpoint, STATE_DIR), "run-" + run);
  }

  private static String range(TableInput t) {
    String word = positionWord(t.table());
    return t.from() == null ? "at " + word + " " + t.to() : word + "s after " + t.from() + " up to " + t.to();
  }

  private static String positionWord(LakeTable t) {
    return t.format == LakeTable.Format.ICEBERG ? "snapshot" : "version";
  }

  /** Run {@code id}'s part: the checkpoint's totals are its recorded runs' plus this one's rows, if any. */
  private static RunSummary.Run runOf(long id, CheckedRun checked, long rows, State state, long scoredNow,
      long rejectedNow) {
    long scored = scoredNow + state.history().stream().mapToLong(RunRecord::scoredRows).sum();
    long rejected = rejectedNow + state.history().stream().mapToLong(RunRecord::rejectedRows).sum();
    return new RunSummary.Run(id, checked.checkpoint(), 0, List.of(), rows, 0, scored, rejected);
  }

  private static State with(State s, long runs, Long reached, Pending pending, List<RunRecord> history) {
    return new State(s.format(), s.inputTable(), s.where(), s.outputTable(), s.rejectsTable(), s.appId(), runs,
        reached, pending, List.copyOf(history));
  }

  private static void checkBelongs(State state, Tables tables, String checkpoint) {
    String[][] pairs = {{"--input-table", state.inputTable(), tables.inputTable()},
        {"--output-table", state.outputTable(), tables.outputTable()},
        {"--rejects-table", state.rejectsTable(), tables.rejectsTable()},
        {"--where", String.valueOf(state.where()), String.valueOf(tables.where())}};
    for (String[] p : pairs) {
      if (!p[1].equals(p[2])) {
        throw new ConfigException("Cannot use --checkpoint " + checkpoint + " with " + p[0] + " " + p[2]
            + ": it records the runs with " + p[0] + " " + p[1] + "; use a new checkpoint");
      }
    }
  }

  /** The newest state file, or null for a new checkpoint. */
  private static State readState(Configuration hadoop, Path cp) {
    Path newest = newestState(hadoop, cp);
    return newest == null ? null : JobSummary.readJson(hadoop, newest, State.class, "--checkpoint");
  }

  private static Path newestState(Configuration hadoop, Path cp) {
    Path dir = new Path(cp, STATE_DIR);
    try {
      FileSystem fs = dir.getFileSystem(hadoop);
      if (!fs.exists(dir)) {
        if (fs.exists(new Path(cp, IncrementalScoreJob.META_FILE))) {
          throw new ConfigException("Cannot use --checkpoint " + cp + " for tables: it records runs over folders");
        }
        return null;
      }
      Path newest = null;
      long best = -1;
      for (FileStatus f : fs.listStatus(dir)) {
        Matcher m = STATE_NAME.matcher(f.getPath().getName());
        if (m.matches() && Long.parseLong(m.group(1)) > best) {
          best = Long.parseLong(m.group(1));
          newest = f.getPath();
        }
      }
      return newest;
    } catch (IOException e) {
      throw new ConfigException("Cannot read --checkpoint " + cp + ": " + e.getMessage(), e);
    }
  }

  /** A new state file, written whole under a temporary name and renamed: the checkpoint is one or the other. */
  private static void writeState(Configuration hadoop, Path cp, State state) {
    Path newest = newestState(hadoop, cp);
    long next = newest == null ? 1 : Long.parseLong(STATE_NAME.matcher(newest.getName()).replaceAll("$1")) + 1;
    Path dir = new Path(cp, STATE_DIR);
    Path tmp = new Path(dir, ".state-" + next + ".json.tmp");
    Path done = new Path(dir, "state-" + next + ".json");
    JobSummary.writeJsonAtomically(hadoop, tmp, done, state, "Cannot write the checkpoint " + done);
  }
}
