package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.job.CheckedRun;
import io.seqpack.job.IncrementalScoreJob;
import io.seqpack.job.ScoreJob;
import io.seqpack.job.TableScoreJob;
import io.seqpack.spark.SequenceScorer;
import io.seqpack.summary.RunSummary;
import io.seqpack.util.Words;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/**
 * {@code seqpack score}: the batch scoring job. Its flags are declared here once; the help, {@code --config} keys,
 * README's flag table and conf/seqpack.properties follow from them (FlagDocsTest checks the last two).
 */
@Command(name = "score", header = "score Parquet sequences with a model directory, write predictions and rejects",
    description = "Scores every row of a Parquet input with a seqpack model and writes one prediction per valid row to "
        + "--output and one reject row (id, reason, detail) per invalid row to --rejects. Fails (exit 1) if any input "
        + "row is missing from both. With --incremental, scores only files that are new since the last run with the "
        + "same --checkpoint (for nightly schedules).")
final class ScoreCommand implements Cli.Command {
  @Option(names = "--input", paramLabel = "PATH", descriptionKey = Cli.REQUIRED_UNLESS_TABLE,
      description = "Parquet file, directory or glob (or --input-table)")
  String input;

  @Option(names = "--input-table", paramLabel = "TABLE",
      description = "score an Iceberg or Delta table instead of --input: catalog.db.table or delta.`/path` (see "
          + "README, Scoring into tables); needs --output-table")
  String inputTable;

  @Option(names = "--where", paramLabel = "SQL", description = "with --input-table: score only the rows matching this "
      + "Spark SQL predicate, e.g. \"day >= '2026-12-01'\"")
  String where;

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "model directory: model.json + model.safetensors")
  String model;

  @Option(names = "--output", paramLabel = "DIR", descriptionKey = Cli.REQUIRED_UNLESS_TABLE,
      description = "predictions: id, length, scores (one column per head for models with several)[, embedding]"
          + "[, step_scores]")
  String output;

  @Option(names = "--rejects", paramLabel = "DIR", description = "rejects: id, reason, detail (default: <output>_rejects)")
  String rejects;

  @Option(names = "--output-table", paramLabel = "TABLE",
      description = "write predictions to an Iceberg or Delta table instead of --output, one commit per run carrying "
          + "the run id (created if missing, partitioned by --partition-by)")
  String outputTable;

  @Option(names = "--rejects-table", paramLabel = "TABLE",
      description = "with --output-table: the rejects' table (default: <output-table>_rejects)")
  String rejectsTable;

  @Option(names = "--id-col", paramLabel = "NAME", defaultValue = "id",
      description = "id column, any integer or string type (default: ${DEFAULT-VALUE})")
  String idCol;

  @Option(names = "--seq-col", paramLabel = "NAME",
      description = "the sequence column of a single-input model: array<int>/array<bigint> for tokens, "
          + "array<array<float|double>> for features (default: the model input's name, seq for version-1 models)")
  String seqCol;

  // The list flags take comma-separated values and may repeat, each repetition adding to the list (as
  // spark-submit's --conf does); a repeated single-valued flag is an error (Cli.parser).
  @Option(names = "--col", paramLabel = "IN=COL[,IN=COL]", split = ",", splitSynopsisLabel = ",",
      description = "read model input (or static feature) IN from column COL; repeatable (default: each input reads "
          + "the column of its own name; see inspect-model)")
  List<String> col = new ArrayList<>();

  @Option(names = "--keep-cols", paramLabel = "A,B", split = ",", splitSynopsisLabel = ",",
      description = "extra input columns copied to both outputs; repeatable")
  List<String> keepCols = new ArrayList<>();

  @Option(names = "--partition-by", paramLabel = "A[,B]", split = ",", splitSynopsisLabel = ",",
      description = "write both outputs partitioned by these input columns (folders A=value); they are carried like "
          + "--keep-cols (added to them if missing); repeatable")
  List<String> partitionBy = new ArrayList<>();

  @Option(names = "--incremental",
      description = "score only the input files that no earlier run with the same --checkpoint scored, append them "
          + "to the outputs, then stop (see README, Running nightly); needs --checkpoint, not with --mode overwrite")
  boolean incremental;

  @Option(names = "--checkpoint", paramLabel = "DIR",
      description = "with --incremental: where the runs record what they scored (keep it with the outputs; a new DIR "
          + "with new outputs rescores everything)")
  String checkpoint;

  @Option(names = "--wait-for-lock", paramLabel = "SECONDS", defaultValue = "0", converter = Cli.NonNegativeInt.class,
      description = "with --incremental: wait up to SECONDS for another run on the same --checkpoint to finish "
          + "instead of refusing at once (default: ${DEFAULT-VALUE})")
  int waitForLock;

  @Option(names = "--skip-corrupt-files",
      description = "score the readable input files and list the unreadable ones (truncated, not Parquet, empty) in "
          + "the summary instead of stopping")
  boolean skipCorruptFiles;

  @Option(names = "--per-step", description = "also write step_scores: the head applied to every valid step")
  boolean perStep;

  @Option(names = "--emit-embedding",
      description = "also write embedding: the vector the heads see (pooled + static)")
  boolean emitEmbedding;

  @Option(names = "--top-k", paramLabel = "K|HEAD=K", split = ",", splitSynopsisLabel = ",",
      description = "instead of a head's scores, its K best: <column>_top_ids (array<int>) and <column>_top_scores "
          + "(array<float>), score descending, ties to the lower index; K for every head of 2 or more outputs, "
          + "HEAD=K for one; repeatable")
  List<String> topK = new ArrayList<>();

  @Option(names = "--top-k-exclude-seen", paramLabel = "INPUT",
      description = "with --top-k: leave the ids of the row's own tokens input INPUT out of its top K")
  String topKExcludeSeen;

  @Option(names = "--max-length", paramLabel = "N", defaultValue = "0", converter = Cli.NonNegativeInt.class,
      description = "reject rows longer than N as TOO_LONG (default: ${DEFAULT-VALUE}, no limit)")
  int maxLength;

  @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "" + BatchPlan.DEFAULT_BATCH_TOKENS,
      converter = Cli.PositiveInt.class,
      description = "padded tokens per minibatch, rows x longest (default: ${DEFAULT-VALUE})")
  int batchTokens;

  @Option(names = "--max-batch-rows", paramLabel = "N", defaultValue = "" + BatchPlan.DEFAULT_MAX_BATCH_ROWS,
      converter = Cli.PositiveInt.class, description = "rows per minibatch at most (default: ${DEFAULT-VALUE})")
  int maxBatchRows;

  @Option(names = "--mode", paramLabel = "MODE", converter = Mode.class,
      description = "folders: error (default, refuse an existing output) or overwrite; tables: append (default), "
          + "overwrite or overwrite-partitions")
  String mode;

  @Option(names = "--max-reject-fraction", paramLabel = "F", defaultValue = "1", converter = Cli.Fraction.class,
      description = "exit 1 after writing everything if more than this fraction of the input rows was rejected "
          + "(default: ${DEFAULT-VALUE}, never)")
  double maxRejectFraction;

  @Option(names = "--drift-baseline", paramLabel = "PATH",
      description = "compare each head's scores with this earlier run's (its output folder or "
          + "_seqpack_summary.json): PSI per head in the summary's drift (default with --incremental: the last "
          + "committed run)")
  String driftBaseline;

  @Option(names = "--max-drift", paramLabel = "PSI",
      description = "publish nothing and exit 3 if any head's PSI against the baseline exceeds this (e.g. 0.2)")
  Double maxDrift;

  @Option(names = "--fail-on-reject", description = "the same with fraction 0: any reject fails the run")
  boolean failOnReject;

  @Spec CommandSpec spec;
  @Mixin Cli.WeightsFlag weights;
  @Mixin Cli.SparkFlags spark;
  @Mixin Cli.ConfigFlag config;
  @Mixin Cli.Common common;

  /** {@code error}, {@code overwrite} (folders and tables), {@code append}, {@code overwrite-partitions} (tables). */
  static final class Mode implements picocli.CommandLine.ITypeConverter<String> {
    static final List<String> MODES = List.of("error", "overwrite", "append", "overwrite-partitions");

    @Override
    public String convert(String value) {
      if (!MODES.contains(value)) {
        throw new Cli.BadValue("'" + value + "': expected error or overwrite (folders), append, overwrite or "
            + "overwrite-partitions (tables)");
      }
      return value;
    }
  }

  @Override
  public void execute(PrintStream out) {
    List<String> commandLine = new ArrayList<>(List.of("seqpack", "score"));
    commandLine.addAll(Cli.redacted(spec.commandLine().getParseResult().originalArgs()));
    ScoreJob.Options options = options().withCommandLine(commandLine);
    String checkpointDir = checkpoint(options);
    TableScoreJob.Tables tables = tables();
    // what needs no cluster is checked first: a mistake costs no Spark start-up (README, Command line)
    try (CheckedRun checked = tables != null
        ? CheckedRun.checkTables(options, tables, checkpointDir, () -> Sessions.hadoopConf(spark.conf))
        : CheckedRun.check(options, checkpointDir, () -> Sessions.hadoopConf(spark.conf),
            Sessions.defaultFs(spark.conf))) {
      SparkSession session = Sessions.create("seqpack score", spark.master, spark.conf);
      try {
        RunSummary summary = checked.run(session);
        IncrementalScoreJob.CommittedRun last = checkpointDir == null || tables != null
            || summary.run().newFileCount() > 0 ? null
            : IncrementalScoreJob.lastCommittedRun(session.sparkContext().hadoopConfiguration(), checkpointDir);
        if (last != null) { // the outputs, their summary and report are run N's, unchanged
          out.println(nothingNewLine(last));
          return;
        }
        out.println(summary.toJson().strip());
        if (checkpointDir != null && tables == null) {
          out.println(runLine(summary, options));
        }
      } finally {
        session.stop();
      }
    }
  }

  /**
   * The table sides of the run, or null when both are folders. A table is named either by its flag or, for
   * folders, by {@code --input} / {@code --output}: never both.
   */
  TableScoreJob.Tables tables() {
    if (inputTable != null && input != null) {
      throw new ConfigException("Invalid --input with --input-table: score either a folder or a table");
    }
    if (outputTable != null && output != null) {
      throw new ConfigException("Invalid --output with --output-table: write either a folder or a table");
    }
    if (outputTable == null) {
      if (inputTable != null || where != null || rejectsTable != null) {
        throw new ConfigException("Missing --output-table: --input-table, --where and --rejects-table go with it "
            + "(see README, Scoring into tables)");
      }
      if (mode != null && !mode.equals("error") && !mode.equals("overwrite")) {
        throw new ConfigException("Invalid --mode " + mode + " for --output " + output + ": folders take error or "
            + "overwrite");
      }
      return null;
    }
    if (rejects != null) {
      throw new ConfigException("Invalid --rejects with --output-table: use --rejects-table");
    }
    if ("error".equals(mode)) {
      throw new ConfigException("Invalid --mode error for --output-table: tables take append, overwrite or "
          + "overwrite-partitions");
    }
    return new TableScoreJob.Tables(inputTable, where, outputTable, rejectsTable, mode);
  }

  /** {@code --checkpoint} when {@code --incremental} is on, else null; the two only go together. */
  String checkpoint(ScoreJob.Options options) {
    if (!incremental) {
      if (checkpoint != null) {
        throw new ConfigException("Invalid --checkpoint without --incremental: a batch run scores the whole input "
            + "(add --incremental to score only new files)");
      }
      return null;
    }
    if (checkpoint == null) {
      throw new ConfigException("Missing --checkpoint DIR: --incremental needs a folder that records which input "
          + "files earlier runs scored (see seqpack score --help)");
    }
    if (options.overwrite()) {
      throw new ConfigException("Cannot combine --mode overwrite with --incremental: to rescore everything, use a "
          + "new --checkpoint with new --output and --rejects folders (or delete all three)");
    }
    return Cli.required("score", "--checkpoint", checkpoint);
  }

  /** What an incremental run with nothing new prints, alone. */
  static String nothingNewLine(IncrementalScoreJob.CommittedRun last) {
    return "seqpack: nothing new since run " + last.id() + " of "
        + DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneId.systemDefault()).format(last.committed())
        + "; outputs unchanged";
  }

  /** The line a scheduler log shows for an incremental run (a summary exists only once the check passed). */
  static String runLine(RunSummary summary, ScoreJob.Options options) {
    RunSummary.Run run = summary.run();
    if (run.newRows() == 0) { // and no run has scored yet
      return "seqpack: run " + run.id() + ": nothing to score in " + options.input() + " yet; wrote no data";
    }
    return "seqpack: run " + run.id() + ": " + Words.count(run.newFileCount(), "new file") + ", "
        + Words.count(run.newRows(), "new row") + ": scored " + summary.scoredRows() + ", rejected "
        + summary.rejectedRows() + " (accounting check ok)";
  }

  ScoreJob.Options options() {
    BatchPlan plan = new BatchPlan(batchTokens, maxBatchRows, BatchPlan.DEFAULT_WINDOW_BATCHES);
    return new ScoreJob.Options(
        inputTable != null ? inputTable : Cli.required("score", "--input", input),
        Path.of(Cli.required("score", "--model", model)),
        outputTable != null ? outputTable : Cli.required("score", "--output", output),
        outputTable != null ? tables().rejectsTable() : rejects,
        idCol,
        seqCol,
        columns(keepCols),
        perStep,
        maxLength,
        plan,
        outputTable == null && "overwrite".equals(mode),
        weights.allowNonFiniteWeights,
        failOnReject ? 0.0 : maxRejectFraction,
        columns(partitionBy),
        inputColumns(),
        emitEmbedding,
        skipCorruptFiles,
        waitForLock,
        SequenceScorer.parseTopK(topK, "--top-k"),
        topKExcludeSeen,
        driftBaseline,
        maxDrift,
        List.of());
  }

  /** {@code --col IN=COL[,IN=COL]}: model input name → input column. */
  private Map<String, String> inputColumns() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : columns(col)) {
      int eq = pair.indexOf('=');
      if (eq <= 0 || eq == pair.length() - 1) {
        throw new ConfigException("Invalid --col '" + pair + "': expected INPUT=COLUMN, e.g. --col event=event_ids");
      }
      if (out.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim()) != null) {
        throw new ConfigException("Invalid --col: input '" + pair.substring(0, eq).trim() + "' is mapped twice");
      }
    }
    return out;
  }

  private static List<String> columns(List<String> values) {
    return values.stream().map(String::trim).filter(s -> !s.isEmpty()).distinct().toList();
  }
}
