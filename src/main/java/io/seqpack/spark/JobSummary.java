package io.seqpack.spark;

import io.seqpack.ConfigException;
import io.seqpack.SeqpackException;
import io.seqpack.Version;
import io.seqpack.util.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the batch and the incremental job share: scorer setup, the summary fields, its file and the report. */
final class JobSummary {
  private static final Logger LOG = LoggerFactory.getLogger(JobSummary.class);

  private JobSummary() {}

  /**
   * Checks {@code --partition-by} against the input schema on the driver and returns the carried columns:
   * {@code --keep-cols} plus any partition column not already among them.
   */
  static List<String> carriedColumns(ScoreJob.Options options, StructType schema) {
    List<String> keep = new ArrayList<>(options.keepCols());
    for (String column : options.partitionBy()) {
      Schemas.columnIndex(schema, column, "--partition-by");
      if (column.equals(options.idCol()) || column.equals(options.seqCol())) {
        throw new ConfigException("Cannot partition by '" + column + "': it is the id or sequence column; use a "
            + "low-cardinality column such as a date or region");
      }
      if (!keep.contains(column)) {
        keep.add(column);
      }
    }
    return keep;
  }

  static SequenceScorer scorer(ScoreJob.Options options, List<String> carried) {
    return SequenceScorer.builder(options.modelDir())
        .idCol(options.idCol())
        .seqCol(options.seqCol())
        .columns(options.columns())
        .emitEmbedding(options.emitEmbedding())
        .keepCols(carried)
        .perStep(options.perStep())
        .maxLength(options.maxLength())
        .batchPlan(options.plan())
        .allowNonFiniteWeights(options.allowNonFiniteWeights())
        .names(SequenceScorer.Names.CLI_FLAGS) // the CLI's job: messages name its flags
        .build();
  }

  /** Reject rows per reason in committed rejects (read through the file sink log when there is one). */
  static Map<String, Long> rejectsByReason(Dataset<Row> rejects) {
    Map<String, Long> byReason = new TreeMap<>();
    for (Row r : rejects.groupBy(Schemas.REASON).count().collectAsList()) {
      byReason.put(r.getString(0), r.getLong(1));
    }
    return byReason;
  }

  /** The fields every summary has, in the order of the batch job's summary. */
  static Map<String, Object> fields(SparkSession spark, ScoreJob.Options options, ScoringRun.Outcome outcome,
      InputFiles files, double wallSeconds) {
    ScoreMetrics m = outcome.metrics();
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("seqpack_version", Version.VERSION);
    fields.put("model_dir", options.modelDir().toString());
    fields.put("model_hash", outcome.scorer().model().contentHash());
    fields.put("input", options.input());
    fields.put("output", options.output());
    fields.put("rejects", options.rejectsPath());
    fields.put("input_files", files.files().size());
    List<Map<String, Object>> skipped = new java.util.ArrayList<>();
    for (InputFiles.Skipped s : files.skipped()) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("path", s.path());
      f.put("reason", s.reason());
      f.put("rows", "not read");
      skipped.add(f);
    }
    fields.put("skipped_files", skipped);
    fields.put("input_rows", outcome.inputRows());
    fields.put("scored_rows", outcome.scoredRows());
    fields.put("rejected_rows", outcome.rejectedRows());
    fields.put("rejects_by_reason", outcome.rejectsByReason());
    fields.put("tokens_scored", m.tokens());
    fields.put("batches", m.batches());
    fields.put("mean_batch_fill", round(m.meanBatchFill()));
    fields.put("wall_seconds", round(wallSeconds));
    fields.put("tokens_per_second", wallSeconds > 0 ? round(m.tokens() / wallSeconds) : 0.0);
    fields.put("engine_seconds", round(m.engineSeconds()));
    fields.put("executors", m.executors());
    fields.put("kernels", m.kernels());
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("id_col", options.idCol());
    settings.put("seq_col", options.seqCol());
    settings.put("columns", options.columns());
    settings.put("keep_cols", options.keepCols());
    settings.put("partition_by", options.partitionBy());
    settings.put("per_step", options.perStep());
    settings.put("emit_embedding", options.emitEmbedding());
    settings.put("max_length", options.maxLength());
    settings.put("batch_tokens", options.plan().batchTokens());
    settings.put("max_batch_rows", options.plan().maxBatchRows());
    settings.put("master", spark.sparkContext().master());
    settings.put("max_reject_fraction", options.maxRejectFraction());
    settings.put("skip_corrupt_files", options.skipCorruptFiles());
    fields.put("settings", settings);
    fields.putAll(m.reportFields());
    fields.put("throughput", outcome.throughput().points());
    if (!skipped.isEmpty()) {
      LOG.warn("seqpack: skipped {} unreadable input file(s); their rows were not read: {}", skipped.size(),
          files.skipped().stream().map(InputFiles.Skipped::path).toList());
    }
    return fields;
  }

  /** The summary of an incremental run that found nothing new: the same keys, zero rows. */
  static Map<String, Object> emptyFields(SparkSession spark, ScoreJob.Options options, InputFiles listing,
      double wallSeconds) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("seqpack_version", Version.VERSION);
    fields.put("model_dir", options.modelDir().toString());
    fields.put("input", options.input());
    fields.put("output", options.output());
    fields.put("rejects", options.rejectsPath());
    fields.put("input_files", 0);
    fields.put("skipped_files", listing.skipped().stream().map(s -> Map.of("path", s.path(), "reason", s.reason(),
        "rows", "not read")).toList());
    fields.put("input_rows", 0L);
    fields.put("scored_rows", 0L);
    fields.put("rejected_rows", 0L);
    fields.put("rejects_by_reason", Map.of());
    fields.put("tokens_scored", 0L);
    fields.put("batches", 0L);
    fields.put("wall_seconds", round(wallSeconds));
    return fields;
  }

  static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
  }

  /** Fails (after everything is written) if the rejects exceed {@code --max-reject-fraction}. */
  static void checkRejectFraction(ScoreJob.Options options, long inputRows, long rejectedRows) {
    double rejectFraction = inputRows == 0 ? 0 : (double) rejectedRows / inputRows;
    if (rejectFraction > options.maxRejectFraction()) {
      throw new JobFailedException(String.format(
          "Too many rejects: %d of %d input rows (%.4f) exceed --max-reject-fraction %s; the outputs are complete,"
              + " see %s for the reasons", rejectedRows, inputRows, rejectFraction, options.maxRejectFraction(),
          options.rejectsPath()));
    }
  }

  static void writeJson(Configuration hadoop, Path file, Map<String, Object> fields) {
    try {
      FileSystem fs = file.getFileSystem(hadoop);
      try (OutputStream out = fs.create(file, true)) {
        out.write(Json.writePretty(fields).getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot write summary " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code <output>/_seqpack_summary.json}, then the HTML run report next to it when the output is on
   * the local file system (a report that cannot be written is logged, it does not fail the job).
   */
  static void writeSummaryAndReport(Configuration hadoop, String output, Map<String, Object> fields) {
    writeJson(hadoop, new Path(output, ScoreJob.SUMMARY_FILE), fields);
    try {
      Path dir = new Path(output);
      FileSystem fs = dir.getFileSystem(hadoop);
      if (!"file".equals(fs.getUri().getScheme())) {
        LOG.info("seqpack: output {} is not on the local file system; run 'seqpack report' where it is", output);
        return;
      }
      java.nio.file.Path local = java.nio.file.Path.of(fs.makeQualified(dir).toUri());
      LOG.info("seqpack: run report {}", io.seqpack.report.RunReport.write(local));
    } catch (Exception | LinkageError e) {
      LOG.warn("seqpack: cannot write the HTML report in {}: {}", output, e.toString());
    }
  }
}
