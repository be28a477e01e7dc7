package io.seqpack.cli;

import io.seqpack.ConfigException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.spark.IncrementalScoreJob;
import io.seqpack.spark.ScoreJob;
import io.seqpack.util.Json;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code seqpack score}: the batch scoring job. */
final class ScoreCommand {
  private ScoreCommand() {}

  static final Set<String> VALUE_FLAGS =
      Set.of("input", "model", "output", "rejects", "id-col", "seq-col", "col", "keep-cols", "max-length",
          "batch-tokens", "max-batch-rows", "mode", "master", "max-reject-fraction", "partition-by", "checkpoint");
  static final Set<String> SWITCHES =
      Set.of("per-step", "emit-embedding", "allow-non-finite-weights", "fail-on-reject", "incremental");

  static final String HELP = """
      Usage: seqpack score --input PATH --model DIR --output DIR [flags]

      Scores every row of a Parquet input with a seqpack model and writes one prediction per valid row to
      --output and one reject row (id, reason, detail) per invalid row to --rejects. Fails (exit 1) if any
      input row is missing from both. With --incremental, scores only files that are new since the
      last run with the same --checkpoint (for nightly schedules).

        --input PATH            Parquet file, directory or glob
        --model DIR             model directory: model.json + model.safetensors
        --output DIR            predictions: id, length, scores (one column per head for models with
                                several)[, embedding][, step_scores]
        --rejects DIR           rejects: id, reason, detail          (default: <output>_rejects)
        --id-col NAME           id column, any integer or string type (default: id)
        --seq-col NAME          the sequence column of a single-input model: array<int>/array<bigint>
                                for tokens, array<array<float|double>> for features (default: the
                                model input's name, seq for version-1 models)
        --col IN=COL[,IN=COL]   read model input (or static feature) IN from column COL (default: each
                                input reads the column of its own name; see inspect-model)
        --keep-cols A,B         extra input columns copied to both outputs
        --partition-by A[,B]    write both outputs partitioned by these input columns (folders A=value);
                                they are carried like --keep-cols (added to them if missing)
        --incremental           score only the input files that no earlier run with the same
                                --checkpoint scored, append them to the outputs, then stop (Spark's
                                streaming file source and file sink, run once: exactly once per row
                                when the outputs are read with Spark); needs --checkpoint, not with
                                --mode overwrite
        --checkpoint DIR        with --incremental: where the runs record what they scored (keep it
                                with the outputs; a new DIR with new outputs rescores everything)
        --per-step              also write step_scores: the head applied to every valid step
        --emit-embedding        also write embedding: the vector the heads see (pooled + static)
        --max-length N          reject rows longer than N as TOO_LONG (default: no limit)
        --batch-tokens N        padded tokens per minibatch, rows x longest (default: %d)
        --max-batch-rows N      rows per minibatch at most (default: %d)
        --mode error|overwrite  refuse (default) or replace an existing output
        --max-reject-fraction F  exit 1 after writing everything if more than this fraction of the
                                input rows was rejected (default: 1, never)
        --fail-on-reject        the same with fraction 0: any reject fails the run
        --allow-non-finite-weights   load models whose weights contain NaN or infinity
        --master URL            Spark master (default: spark-submit's, else local[*])
        --conf key=value        Spark setting, repeatable
        --config FILE           properties file with the same keys as the flags (flags win),
                                plus conf.<spark key>=value; see conf/seqpack.properties
        --verbose               stack traces on errors
      """.formatted(BatchPlan.DEFAULT_BATCH_TOKENS, BatchPlan.DEFAULT_MAX_BATCH_ROWS);

  static void run(String[] argv, PrintStream out) {
    Args args = Args.parse("score", argv, VALUE_FLAGS, SWITCHES);
    if (!args.positional().isEmpty()) {
      throw new ConfigException("Unexpected argument '" + args.positional().get(0) + "' (flags start with --)");
    }
    ScoreJob.Options options = options(args);
    String checkpoint = checkpoint(args, options);
    SparkSession spark = Sessions.create("seqpack score", args.string("master", null), args.conf());
    try {
      ScoreJob.Summary summary =
          checkpoint == null ? ScoreJob.run(spark, options) : IncrementalScoreJob.run(spark, options, checkpoint);
      out.println(Json.writePretty(summary.fields()).strip());
      if (checkpoint != null) {
        out.println(runLine(summary, options));
      }
    } finally {
      spark.stop();
    }
  }

  /** {@code --checkpoint} when {@code --incremental} is on, else null; the two only go together. */
  static String checkpoint(Args args, ScoreJob.Options options) {
    if (!args.flag("incremental")) {
      if (args.has("checkpoint")) {
        throw new ConfigException("Invalid --checkpoint without --incremental: a batch run scores the whole input "
            + "(add --incremental to score only new files)");
      }
      return null;
    }
    if (!args.has("checkpoint")) {
      throw new ConfigException("Missing --checkpoint DIR: --incremental needs a folder that records which input "
          + "files earlier runs scored (see seqpack score --help)");
    }
    if (options.overwrite()) {
      throw new ConfigException("Cannot combine --mode overwrite with --incremental: to rescore everything, use a "
          + "new --checkpoint with new --output and --rejects folders (or delete all three)");
    }
    return args.required("checkpoint");
  }

  /** The line a scheduler log shows for an incremental run. */
  static String runLine(ScoreJob.Summary summary, ScoreJob.Options options) {
    @SuppressWarnings("unchecked")
    Map<String, Object> run = (Map<String, Object>) summary.fields().get("run");
    long newRows = ((Number) run.get("new_rows")).longValue();
    if (newRows == 0) {
      return "seqpack: run " + run.get("id") + ": nothing new in " + options.input()
          + " since the last run; wrote no data";
    }
    return "seqpack: run " + run.get("id") + ": " + run.get("new_file_count") + " new file(s), " + newRows
        + " new rows: scored " + summary.scoredRows() + ", rejected " + summary.rejectedRows() + " (accounting check "
        + run.get("accounting_check") + ")";
  }

  static ScoreJob.Options options(Args args) {
    String mode = args.string("mode", "error");
    if (!mode.equals("error") && !mode.equals("overwrite")) {
      throw new ConfigException("Invalid --mode '" + mode + "': expected error or overwrite");
    }
    List<String> keep = columns(args, "keep-cols");
    BatchPlan plan =
        new BatchPlan(
            args.integer("batch-tokens", BatchPlan.DEFAULT_BATCH_TOKENS, 1),
            args.integer("max-batch-rows", BatchPlan.DEFAULT_MAX_BATCH_ROWS, 1),
            BatchPlan.DEFAULT_WINDOW_BATCHES);
    return new ScoreJob.Options(
        args.required("input"),
        Path.of(args.required("model")),
        args.required("output"),
        args.string("rejects", null),
        args.string("id-col", "id"),
        args.string("seq-col", null),
        keep,
        args.flag("per-step"),
        args.integer("max-length", 0, 0),
        plan,
        mode.equals("overwrite"),
        args.flag("allow-non-finite-weights"),
        maxRejectFraction(args),
        columns(args, "partition-by"),
        inputColumns(args),
        args.flag("emit-embedding"));
  }

  /** {@code --col IN=COL[,IN=COL]}: model input name → input column. */
  private static Map<String, String> inputColumns(Args args) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (String pair : columns(args, "col")) {
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

  private static List<String> columns(Args args, String flag) {
    return args.has(flag)
        ? Arrays.stream(args.required(flag).split(",")).map(String::trim).filter(s -> !s.isEmpty()).distinct().toList()
        : List.of();
  }

  private static double maxRejectFraction(Args args) {
    if (args.flag("fail-on-reject")) {
      return 0.0;
    }
    String value = args.string("max-reject-fraction", "1");
    try {
      return Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new ConfigException("Invalid --max-reject-fraction '" + value + "': expected a number in [0, 1]");
    }
  }
}
