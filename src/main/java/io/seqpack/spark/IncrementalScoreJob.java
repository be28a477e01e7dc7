package io.seqpack.spark;

import io.seqpack.ConfigException;
import io.seqpack.util.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code seqpack score --incremental --checkpoint DIR}: each run scores only the input files that no earlier run
 * with the same checkpoint scored, then stops.
 *
 * <p>It is Spark's Structured Streaming file source run once ({@link Trigger#AvailableNow()}) through the same
 * {@link SequenceScorer} as the batch job, in two queries that run one after the other: predictions into
 * {@code --output} (checkpoint {@code DIR/predictions}) and rejects into {@code --rejects} ({@code DIR/rejects}).
 * Both write through the file sink, whose {@code _spark_metadata} log lists the committed files: read the outputs
 * with Spark ({@code spark.read().parquet(output)}) and every input row is there exactly once, even after a run
 * that failed half-way and was rerun. Plain file listings (not through Spark) may also see files of failed
 * attempts.
 *
 * <p>Each run writes {@code _seqpack_summary.json} (this run's figures, overwritten every run, with a {@code
 * run} object: id, new files and rows, accounting check, totals so far) and {@code _seqpack_runs/run-<n>.json}
 * (history; a failed run leaves one with {@code "status": "failed"} and the error) into the output folder. The run number is kept in {@code
 * DIR/seqpack-checkpoint.json} with the input, output and rejects paths the checkpoint belongs to.
 */
public final class IncrementalScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(IncrementalScoreJob.class);
  public static final String RUNS_DIR = "_seqpack_runs";
  public static final String META_FILE = "seqpack-checkpoint.json";
  /** {@code run.new_files} lists at most this many paths ({@code run.new_file_count} has the number). */
  static final int MAX_LISTED_FILES = 1000;
  private static final Pattern LOG_FILE = Pattern.compile("\\d+(\\.compact)?");

  private IncrementalScoreJob() {}

  /** What one streaming query did in this run. */
  private record QueryRun(long inputRows, int microBatches, Set<String> newFiles) {}

  public static ScoreJob.Summary run(SparkSession spark, ScoreJob.Options options, String checkpoint) {
    long start = System.nanoTime();
    if (options.overwrite()) {
      throw new ConfigException("Cannot combine --mode overwrite with --incremental: to rescore everything, use a "
          + "new --checkpoint with new --output and --rejects folders (or delete all three)");
    }
    ScoreJob.checkDistinctOutputs(options);
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    Path cp = new Path(checkpoint);
    Map<String, Object> meta = readMeta(hadoop, cp);
    checkCheckpointMatches(hadoop, options, checkpoint, meta);
    StructType schema = inputSchema(spark, options.input(), meta);
    long runId = meta == null ? 1 : ((Number) meta.get("runs")).longValue() + 1;
    writeMeta(hadoop, cp, options, schema, runId);

    Dataset<Row> stream = spark.readStream().schema(schema).parquet(options.input());
    List<String> carried = JobSummary.carriedColumns(options, schema);
    SequenceScorer scorer = JobSummary.scorer(options, carried);
    ScoreResult result = scorer.score(stream);
    StructType predictionSchema = result.predictions().schema();
    StructType rejectSchema = result.rejects().schema();

    long scoredBefore = committedRows(spark, hadoop, options.output(), predictionSchema);
    Map<String, Long> rejectsBefore = committedRejects(spark, hadoop, options.rejectsPath(), rejectSchema);

    ProgressListener progress = new ProgressListener(result.metrics());
    spark.sparkContext().addSparkListener(progress);
    ThroughputSampler throughput = ThroughputSampler.start(result.metrics(), start);
    QueryRun predictions;
    QueryRun rejects;
    try {
      predictions = runQuery(hadoop, result.predictions(), options, options.output(), new Path(cp, "predictions"),
          "predictions", runId);
      rejects = runQuery(hadoop, result.rejects(), options, options.rejectsPath(), new Path(cp, "rejects"),
          "rejects", runId);
    } finally {
      throughput.close();
      spark.sparkContext().removeSparkListener(progress);
    }

    long scoredAfter = committedRows(spark, hadoop, options.output(), predictionSchema);
    Map<String, Long> rejectsAfter = committedRejects(spark, hadoop, options.rejectsPath(), rejectSchema);
    long scoredAdded = scoredAfter - scoredBefore;
    Map<String, Long> rejectsAdded = new TreeMap<>();
    rejectsAfter.forEach((reason, n) -> {
      long added = n - rejectsBefore.getOrDefault(reason, 0L);
      if (added != 0) {
        rejectsAdded.put(reason, added);
      }
    });
    long rejectedAdded = rejectsAdded.values().stream().mapToLong(Long::longValue).sum();
    String check = accountingCheck(options, runId, predictions, rejects, scoredAdded, rejectedAdded);

    double wallSeconds = (System.nanoTime() - start) / 1e9;
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("id", runId);
    run.put("incremental", true);
    run.put("status", "ok");
    run.put("checkpoint", checkpoint);
    run.put("new_file_count", predictions.newFiles().size());
    run.put("new_files", predictions.newFiles().stream().sorted().limit(MAX_LISTED_FILES).toList());
    run.put("new_rows", predictions.inputRows());
    run.put("micro_batches", predictions.microBatches());
    run.put("accounting_check", check);
    run.put("total_scored_rows", scoredAfter);
    run.put("total_rejected_rows", rejectsAfter.values().stream().mapToLong(Long::longValue).sum());
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("run", run);
    fields.putAll(JobSummary.fields(spark, options, scorer, predictions.inputRows(), scoredAdded, rejectsAdded,
        result.metrics(), wallSeconds, throughput));
    JobSummary.writeJson(hadoop, historyFile(options.output(), runId), fields);
    JobSummary.writeSummaryAndReport(hadoop, options.output(), fields);
    JobSummary.checkRejectFraction(options, predictions.inputRows(), rejectedAdded);
    LOG.info("seqpack: incremental run {}: {} new files, {} new rows, scored {}, rejected {}, in {} s", runId,
        predictions.newFiles().size(), predictions.inputRows(), scoredAdded, rejectedAdded,
        JobSummary.round(wallSeconds));
    return new ScoreJob.Summary(fields);
  }

  /**
   * input == scored + rejected for this run. Exact when both queries scored the same new files (the normal case);
   * after a run that failed between the two queries (or files that landed between them) they differ and the
   * check is reported as skipped: each query still writes each of its files exactly once.
   */
  private static String accountingCheck(ScoreJob.Options options, long runId, QueryRun predictions,
      QueryRun rejects, long scoredAdded, long rejectedAdded) {
    if (!predictions.newFiles().equals(rejects.newFiles())) {
      String why = "skipped: the predictions query scored " + predictions.newFiles().size() + " new file(s) and the "
          + "rejects query " + rejects.newFiles().size() + " (a previous run failed between them, or files arrived "
          + "during this run); the next run that reads the same files in both checks again";
      LOG.warn("seqpack: incremental run {}: accounting check {}", runId, why);
      return why;
    }
    if (predictions.inputRows() != scoredAdded + rejectedAdded || rejects.inputRows() != predictions.inputRows()) {
      throw new JobFailedException("Cannot confirm incremental run " + runId + " of " + options.input() + ": "
          + predictions.inputRows() + " new input rows but " + scoredAdded + " predictions + " + rejectedAdded
          + " rejects = " + (scoredAdded + rejectedAdded) + " were committed (rejects query read "
          + rejects.inputRows() + " rows); check " + options.output() + " before using it", null);
    }
    return "ok";
  }

  private static QueryRun runQuery(Configuration hadoop, Dataset<Row> data, ScoreJob.Options options, String path,
      Path checkpoint, String what, long runId) {
    Set<Long> committedBefore = committedBatches(hadoop, checkpoint);
    DataStreamWriter<Row> writer = data.writeStream()
        .format("parquet")
        .outputMode("append")
        .option("checkpointLocation", checkpoint.toString())
        .queryName("seqpack-" + what + "-run-" + runId)
        .trigger(Trigger.AvailableNow());
    if (!options.partitionBy().isEmpty()) {
      writer = writer.partitionBy(options.partitionBy().toArray(String[]::new));
    }
    StreamingQuery query;
    try {
      query = writer.start(path);
      query.awaitTermination();
    } catch (Exception e) { // StreamingQueryException; Scala may also throw undeclared checked ones
      String message = "incremental run " + runId + " failed in the " + what + " query: "
          + JobFailedException.rootMessage(e) + "; nothing it wrote in this run is committed (read "
          + path + " with Spark), rerun the same command to resume";
      writeFailure(hadoop, options, runId, message);
      throw new JobFailedException(message, e);
    }
    long rows = 0;
    int batches = 0;
    for (StreamingQueryProgress p : query.recentProgress()) {
      rows += p.numInputRows();
      batches += p.numInputRows() > 0 ? 1 : 0;
    }
    Set<Long> committedNow = committedBatches(hadoop, checkpoint);
    committedNow.removeAll(committedBefore);
    return new QueryRun(rows, batches, filesOfBatches(hadoop, new Path(checkpoint, "sources/0"), committedNow));
  }

  /** Ids of the micro-batches in the query's commit log. */
  private static Set<Long> committedBatches(Configuration hadoop, Path checkpoint) {
    Set<Long> ids = new HashSet<>();
    for (FileStatus f : listLog(hadoop, new Path(checkpoint, "commits"))) {
      String name = f.getPath().getName();
      if (!name.contains(".")) {
        ids.add(Long.parseLong(name));
      }
    }
    return ids;
  }

  /**
   * Input files of the given micro-batches, from the file source's log ({@code sources/0/<batch>} and its
   * {@code .compact} files: a line {@code v1} then one JSON entry per file with its path and batch id).
   */
  private static Set<String> filesOfBatches(Configuration hadoop, Path sourceLog, Set<Long> batches) {
    Set<String> files = new HashSet<>();
    if (batches.isEmpty()) {
      return files;
    }
    try {
      for (FileStatus f : listLog(hadoop, sourceLog)) {
        String text;
        try (InputStream in = f.getPath().getFileSystem(hadoop).open(f.getPath())) {
          text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        text.lines().skip(1).filter(l -> !l.isBlank()).forEach(line -> {
          Map<String, Object> entry = Json.parseObject(line);
          if (batches.contains(((Number) entry.get("batchId")).longValue())) {
            files.add((String) entry.get("path"));
          }
        });
      }
    } catch (IOException e) {
      throw new JobFailedException("Cannot read the file source log " + sourceLog + ": " + e.getMessage(), e);
    }
    return files;
  }

  private static List<FileStatus> listLog(Configuration hadoop, Path dir) {
    List<FileStatus> out = new ArrayList<>();
    try {
      FileSystem fs = dir.getFileSystem(hadoop);
      if (!fs.exists(dir)) {
        return out;
      }
      for (FileStatus f : fs.listStatus(dir)) {
        if (f.isFile() && LOG_FILE.matcher(f.getPath().getName()).matches()) {
          out.add(f);
        }
      }
    } catch (IOException e) {
      throw new JobFailedException("Cannot list " + dir + ": " + e.getMessage(), e);
    }
    return out;
  }

  /** Rows committed by the file sink so far (0 before its first commit). */
  private static long committedRows(SparkSession spark, Configuration hadoop, String path, StructType schema) {
    if (!exists(hadoop, new Path(path, "_spark_metadata"))) {
      return 0;
    }
    return spark.read().schema(schema).parquet(path).count();
  }

  private static Map<String, Long> committedRejects(SparkSession spark, Configuration hadoop, String path,
      StructType schema) {
    if (!exists(hadoop, new Path(path, "_spark_metadata"))) {
      return new TreeMap<>();
    }
    return JobSummary.rejectsByReason(spark.read().schema(schema).parquet(path));
  }

  private static boolean exists(Configuration hadoop, Path p) {
    try {
      return p.getFileSystem(hadoop).exists(p);
    } catch (IOException e) {
      throw new ConfigException("Cannot check " + p + ": " + e.getMessage(), e);
    }
  }

  private static Path historyFile(String output, long runId) {
    return new Path(new Path(output, RUNS_DIR), "run-" + runId + ".json");
  }

  private static void writeFailure(Configuration hadoop, ScoreJob.Options options, long runId, String error) {
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("id", runId);
    run.put("incremental", true);
    run.put("status", "failed");
    run.put("error", error);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("run", run);
    try {
      JobSummary.writeJson(hadoop, historyFile(options.output(), runId), fields);
    } catch (RuntimeException e) {
      LOG.warn("seqpack: cannot record the failure of run {}: {}", runId, e.toString());
    }
  }

  /** The input schema as Spark infers it now, else (an input with no files yet) the one the first run saw. */
  private static StructType inputSchema(SparkSession spark, String input, Map<String, Object> meta) {
    try {
      return ScoreJob.read(spark, input).schema();
    } catch (RuntimeException e) {
      if (meta != null && meta.get("schema") instanceof String json) {
        LOG.info("seqpack: cannot infer the schema of {} ({}); using the one recorded in the checkpoint", input,
            e.getMessage());
        return (StructType) DataType.fromJson(json);
      }
      throw e;
    }
  }

  private static Map<String, Object> readMeta(Configuration hadoop, Path checkpoint) {
    Path file = new Path(checkpoint, META_FILE);
    try {
      FileSystem fs = file.getFileSystem(hadoop);
      if (!fs.exists(file)) {
        return null;
      }
      try (InputStream in = fs.open(file)) {
        return Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException | RuntimeException e) {
      throw new ConfigException("Cannot read --checkpoint " + file + ": " + e.getMessage(), e);
    }
  }

  private static void writeMeta(Configuration hadoop, Path checkpoint, ScoreJob.Options options, StructType schema,
      long runs) {
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("format", "seqpack-checkpoint/1");
    meta.put("input", options.input());
    meta.put("output", options.output());
    meta.put("rejects", options.rejectsPath());
    meta.put("runs", runs);
    meta.put("schema", schema.json());
    JobSummary.writeJson(hadoop, new Path(checkpoint, META_FILE), meta);
  }

  /**
   * A checkpoint belongs to one input, output and rejects folder; a new checkpoint needs outputs that no other
   * run wrote.
   */
  private static void checkCheckpointMatches(Configuration hadoop, ScoreJob.Options options, String checkpoint,
      Map<String, Object> meta) {
    if (meta == null) {
      for (String[] out : new String[][] {{"--output", options.output()}, {"--rejects", options.rejectsPath()}}) {
        if (exists(hadoop, new Path(out[1]))) {
          throw new ConfigException("Cannot start incremental scoring into " + out[0] + " " + out[1] + ": it already "
              + "exists but --checkpoint " + checkpoint + " is new; use the checkpoint that wrote it, or new folders");
        }
      }
      return;
    }
    for (String[] key : new String[][] {{"input", "--input", options.input()}, {"output", "--output",
        options.output()}, {"rejects", "--rejects", options.rejectsPath()}}) {
      if (!key[2].equals(meta.get(key[0]))) {
        throw new ConfigException("Cannot use --checkpoint " + checkpoint + " with " + key[1] + " " + key[2]
            + ": it records the runs with " + key[1] + " " + meta.get(key[0]) + "; use a new checkpoint for new "
            + "folders");
      }
    }
  }
}
