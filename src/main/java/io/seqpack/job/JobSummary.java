package io.seqpack.job;

import io.seqpack.ConfigException;
import io.seqpack.SeqpackException;
import io.seqpack.Version;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.Tensor;
import io.seqpack.spark.Schemas;
import io.seqpack.spark.ScoreMetrics;
import io.seqpack.spark.SequenceScorer;
import io.seqpack.summary.Drift;
import io.seqpack.summary.RunSummary;
import io.seqpack.util.JsonRecords;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

/** What the batch and the incremental job share: scorer setup, the summary, its file and the report. */
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

  static SequenceScorer scorer(CheckedRun checked, List<String> carried) {
    ScoreJob.Options options = checked.options();
    SequenceScorer.Builder builder = checked.modelBytes() != null
        ? SequenceScorer.builder(checked.model(), checked.modelBytes())
        : SequenceScorer.builder(checked.model(), options.modelDir().toAbsolutePath().normalize().toUri().toString());
    return builder
        .idCol(options.idCol())
        .seqCol(options.seqCol())
        .columns(options.columns())
        .emitEmbedding(options.emitEmbedding())
        .keepCols(carried)
        .perStep(options.perStep())
        .maxLength(options.maxLength())
        .batchPlan(options.plan())
        .allowNonFiniteWeights(options.allowNonFiniteWeights())
        .topK(options.topK())
        .topKExcludeSeen(options.topKExcludeSeen())
        .names(SequenceScorer.Names.CLI_FLAGS) // the CLI's job: messages name its flags
        .build();
  }

  /** The summary of a run that scored {@code files}; {@code run} is the incremental part (null for a batch run). */
  static RunSummary summary(RunSummary.Run run, SparkSession spark, ScoreJob.Options options,
      ScoringRun.Outcome outcome, ScoringInput files, double wallSeconds, DriftBaseline baseline) {
    ScoreMetrics m = outcome.metrics();
    RunSummary.Settings settings = new RunSummary.Settings(options.idCol(), options.seqCol(), options.columns(),
        options.keepCols(), options.partitionBy(), options.perStep(), options.emitEmbedding(), options.maxLength(),
        options.plan().batchTokens(), options.plan().maxBatchRows(), spark.sparkContext().master(),
        options.maxRejectFraction(), options.skipCorruptFiles(), outcome.scorer().topKByHead(),
        outcome.scorer().topKExcludeSeen());
    RunSummary.Scoring scoring = new RunSummary.Scoring(outcome.scorer().model().contentHash(),
        outcome.scorer().model().verification().spelling(), modelCard(outcome), round(m.meanBatchFill()), wallSeconds > 0 ? round(m.tokens() / wallSeconds) : 0.0, round(m.engineSeconds()),
        m.executors(), m.kernels(), m.executorMemory(), settings, m.lengthHistogram(), m.buckets(), m.scoreHistograms(),
        outcome.throughput().points(), m.scoreDeciles(),
        baseline == null ? null : Drift.of(baseline.summary(), baseline.shownAs(), m.decileCells()));
    if (!files.skipped().isEmpty()) {
      LOG.warn("seqpack: skipped {} unreadable input file(s); their rows were not read: {}", files.skipped().size(),
          files.skipped().stream().map(InputFiles.Skipped::path).toList());
    }
    RunSummary.Status status = rejectFraction(outcome.inputRows(), outcome.rejectedRows())
        > options.maxRejectFraction() ? RunSummary.Status.TOO_MANY_REJECTS : RunSummary.Status.OK;
    return new RunSummary(run, Version.VERSION, status, startedAt(wallSeconds), options.commandLine(),
        options.modelDir().toString(), options.input(), options.output(), options.rejectsPath(), files.fileCount(),
        skipped(files), outcome.inputRows(), outcome.scoredRows(), outcome.rejectedRows(), outcome.rejects().counts(),
        outcome.rejects().examples(), m.tokens(), m.batches(), round(wallSeconds), scoring, null);
  }

  /** The report's model card: the graph's parts in order, each input with the column it was read from. */
  static RunSummary.ModelCard modelCard(ScoringRun.Outcome outcome) {
    LoadedModel model = outcome.scorer().model();
    ModelGraph g = model.graph();
    List<RunSummary.ModelCard.Input> inputs = new ArrayList<>();
    g.inputs().forEach(in -> inputs.add(new RunSummary.ModelCard.Input(in.name(), in.description(),
        outcome.inputColumns().getOrDefault(in.name(), in.name()))));
    g.statics().forEach(st -> inputs.add(new RunSummary.ModelCard.Input(st.name(), "static(size=" + st.size()
        + ", " + st.join().name().toLowerCase(java.util.Locale.ROOT) + ")", outcome.inputColumns().getOrDefault(st.name(), st.name()))));
    List<String> parts = new ArrayList<>();
    g.stepLayers().forEach(l -> parts.add("step layer " + l.description()));
    parts.add(g.rnn().description());
    g.pooling().forEach(p -> parts.add("pooling " + p.description()));
    List<RunSummary.ModelCard.Head> heads = new ArrayList<>();
    for (int i = 0; i < g.heads().size(); i++) {
      ModelGraph.Head h = g.heads().get(i);
      heads.add(new RunSummary.ModelCard.Head(h.name(), h.description(), g.outFeatures(i)));
    }
    long parameters = model.tensors().values().stream().mapToLong(Tensor::numel).sum();
    return new RunSummary.ModelCard(inputs, parts, heads,
        outcome.scorer().storedDtypes(), parameters);
  }

  /** The summary of an incremental run that found nothing new: zero rows, no scoring part. */
  static RunSummary nothingScored(RunSummary.Run run, ScoreJob.Options options, InputFiles listing,
      double wallSeconds) {
    return new RunSummary(run, Version.VERSION, RunSummary.Status.OK, startedAt(wallSeconds), options.commandLine(),
        options.modelDir().toString(), options.input(), options.output(), options.rejectsPath(), 0, skipped(listing),
        0, 0, 0, Map.of(), Map.of(), 0, 0, round(wallSeconds), null, null);
  }

  /** The run's start, {@code wallSeconds} ago, to the second (the job measures its time on a monotonic clock). */
  private static String startedAt(double wallSeconds) {
    return java.time.Instant.now().minusMillis(Math.round(wallSeconds * 1000)).truncatedTo(
        java.time.temporal.ChronoUnit.SECONDS).toString();
  }

  /** Rejected rows as a share of input rows; 0 for an empty input. */
  private static double rejectFraction(long inputRows, long rejectedRows) {
    return inputRows == 0 ? 0 : (double) rejectedRows / inputRows;
  }

  private static List<RunSummary.SkippedFile> skipped(ScoringInput files) {
    return files.skipped().stream().map(s -> new RunSummary.SkippedFile(s.path(), s.reason())).toList();
  }

  static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
  }

  /**
   * Refuses a run whose scores drifted more than {@code --max-drift} from the baseline's: writes its summary to
   * {@link ScoreJob.Options#refusedSummaryPath} and throws, so the caller publishes nothing.
   */
  static void refuseIfDrifted(Configuration hadoop, ScoreJob.Options options, RunSummary summary) {
    if (options.maxDrift() == null || summary.scoring() == null || summary.scoring().drift() == null) {
      return;
    }
    Map.Entry<String, RunSummary.HeadDrift> worst = Drift.exceeding(summary.scoring().drift(), options.maxDrift());
    if (worst == null) {
      return;
    }
    writeSummary(hadoop, new Path(options.refusedSummaryPath()), summary.withStatus(RunSummary.Status.REFUSED_DRIFT));
    throw new ScoreDriftException(worst.getKey(), worst.getValue().psi(), options.maxDrift(),
        worst.getValue().baseline());
  }

  /** Fails (after everything is written) if the rejects exceed {@code --max-reject-fraction}. */
  static void checkRejectFraction(ScoreJob.Options options, long inputRows, long rejectedRows) {
    double rejectFraction = rejectFraction(inputRows, rejectedRows);
    if (rejectFraction > options.maxRejectFraction()) {
      throw new JobFailedException(String.format(
          "Too many rejects: %d of %d input rows (%.4f) exceed --max-reject-fraction %s; the outputs are complete,"
              + " see %s for the reasons", rejectedRows, inputRows, rejectFraction, options.maxRejectFraction(),
          options.rejectsPath()));
    }
  }

  /** Writes a record as an indented JSON file ({@link JsonRecords}). */
  static void writeJson(Configuration hadoop, Path file, Object record) {
    writeText(hadoop, file, JsonRecords.writePretty(record));
  }

  /**
   * Writes {@code record} to {@code tmp}, then renames it to {@code done}: readers see the whole file or none. A
   * failure is {@code <failure>: <reason>}.
   */
  static void writeJsonAtomically(Configuration hadoop, Path tmp, Path done, Object record, String failure) {
    writeJson(hadoop, tmp, record);
    try {
      if (!tmp.getFileSystem(hadoop).rename(tmp, done)) {
        throw new io.seqpack.SeqpackException(failure + ": rename of " + tmp + " failed");
      }
    } catch (IOException e) {
      throw new io.seqpack.SeqpackException(failure + ": " + e.getMessage(), e);
    }
  }

  /** Reads a JSON file written by {@link #writeJson}; {@code what} names it in messages ({@code "manifest"}). */
  static <T> T readJson(Configuration hadoop, Path file, Class<T> type, String what) {
    String text;
    try (java.io.InputStream in = file.getFileSystem(hadoop).open(file)) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("Cannot read " + what + " " + file + ": " + e.getMessage(), e);
    }
    return JsonRecords.read(text, type, what + " " + file, ConfigException::new);
  }

  static void writeSummary(Configuration hadoop, Path file, RunSummary summary) {
    writeText(hadoop, file, summary.toJson());
  }

  private static void writeText(Configuration hadoop, Path file, String text) {
    try {
      FileSystem fs = file.getFileSystem(hadoop);
      try (OutputStream out = fs.create(file, true)) {
        out.write(text.getBytes(StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes {@code <output>/_seqpack_summary.json}, then the HTML run report next to it when the output is on
   * the local file system (a report that cannot be written is logged, it does not fail the job). Messages name
   * {@code shownAs}, the folder the files end up in (a batch run writes them into its staging folder first).
   */
  static void writeSummaryAndReport(Configuration hadoop, String output, String shownAs, RunSummary summary) {
    writeSummary(hadoop, new Path(output, RunSummary.FILE), summary);
    try {
      Path dir = new Path(output);
      FileSystem fs = dir.getFileSystem(hadoop);
      if (!"file".equals(fs.getUri().getScheme())) {
        LOG.info("seqpack: output {} is not on the local file system; run 'seqpack report' where it is", shownAs);
        return;
      }
      java.nio.file.Path local = java.nio.file.Path.of(fs.makeQualified(dir).toUri());
      io.seqpack.report.RunReport.write(local);
      LOG.info("seqpack: run report {}", new Path(shownAs, io.seqpack.report.RunReport.REPORT_FILE));
    } catch (Exception | LinkageError e) {
      LOG.warn("seqpack: cannot write the HTML report in {}: {}", shownAs, e.toString());
    }
  }
}
