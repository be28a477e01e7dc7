package io.seqpack.summary;

import io.seqpack.SeqpackException;
import io.seqpack.util.Json;
import io.seqpack.util.JsonFields;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What one {@code seqpack score} run did: the figures a run writes into its output folder as {@value #FILE},
 * after both outputs are committed and every input row was found in exactly one of them.
 *
 * <p>The file is this record as JSON, {@code "summary_format": 2} first, then one snake_case key per component
 * ({@code scoredRows} is {@code scored_rows}). {@link #toJson} writes it and {@link #fromJson} / {@link #read} read
 * it back, so {@code fromJson(s.toJson(), f).equals(s)}. Reading checks the type of every key and names the bad one
 * in one line ({@code Cannot read summary F: buckets[2].max_length is "x", expected an integer >= 0}); keys this
 * version does not know are ignored.
 *
 * <p>Two parts are optional, {@code null} when absent: {@link #run} (only incremental runs have one) and {@link
 * #scoring} (absent when an incremental run found no new files and so scored nothing). Everything else is always
 * there; lists and maps are unmodifiable, maps sorted by key.
 *
 * @param run the incremental run's own figures, or null for a batch run
 * @param skippedFiles unreadable input files left out under {@code --skip-corrupt-files} (usually empty)
 * @param rejectsByReason reject rows per reason code; sums to {@code rejectedRows}
 * @param scoring what the scoring pass measured, or null when no pass ran
 */
public record RunSummary(
    Run run,
    String seqpackVersion,
    String modelDir,
    String input,
    String output,
    String rejects,
    int inputFiles,
    List<SkippedFile> skippedFiles,
    long inputRows,
    long scoredRows,
    long rejectedRows,
    Map<String, Long> rejectsByReason,
    long tokensScored,
    long batches,
    double wallSeconds,
    Scoring scoring) {

  /** The summary's name in a run's output folder. */
  public static final String FILE = "_seqpack_summary.json";

  /** The {@code summary_format} this version writes and reads (seqpack 0.1 wrote summaries without the key). */
  public static final int FORMAT = 2;

  public RunSummary {
    Objects.requireNonNull(seqpackVersion, "seqpackVersion");
    Objects.requireNonNull(modelDir, "modelDir");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(rejects, "rejects");
    skippedFiles = List.copyOf(skippedFiles);
    rejectsByReason = sorted(rejectsByReason);
  }

  /**
   * The incremental part ({@code "run"}). The file also has {@code "incremental": true}, {@code "status": "ok"} and
   * {@code "accounting_check": "ok"}, which are the same for every summary: only a run that committed and passed
   * the check writes one (a failed run leaves just its {@code _seqpack_runs} entry).
   *
   * @param newFiles the new input files' paths, at most the first 1000 ({@code newFileCount} has the number)
   * @param removedUncommittedFiles files of an earlier run that did not commit, deleted by this one
   * @param totalScoredRows scored rows of all committed runs of the checkpoint, this one included
   */
  public record Run(long id, String checkpoint, int newFileCount, List<String> newFiles, long newRows,
      int removedUncommittedFiles, long totalScoredRows, long totalRejectedRows) {
    public Run {
      Objects.requireNonNull(checkpoint, "checkpoint");
      newFiles = List.copyOf(newFiles);
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", id);
      m.put("incremental", true);
      m.put("status", "ok");
      m.put("checkpoint", checkpoint);
      m.put("new_file_count", newFileCount);
      m.put("new_files", newFiles);
      m.put("new_rows", newRows);
      m.put("accounting_check", "ok");
      m.put("removed_uncommitted_files", removedUncommittedFiles);
      m.put("total_scored_rows", totalScoredRows);
      m.put("total_rejected_rows", totalRejectedRows);
      return m;
    }

    static Run fromJson(JsonFields f) {
      return new Run(f.count("id"), f.string("checkpoint"), f.integer("new_file_count", 0, Integer.MAX_VALUE),
          f.strings("new_files"), f.count("new_rows"), f.integer("removed_uncommitted_files", 0, Integer.MAX_VALUE),
          f.count("total_scored_rows"), f.count("total_rejected_rows"));
    }
  }

  /** An input file that could not be read; its rows were not read (the file says {@code "rows": "not read"}). */
  public record SkippedFile(String path, String reason) {
    public SkippedFile {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(reason, "reason");
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("path", path);
      m.put("reason", reason);
      m.put("rows", "not read");
      return m;
    }

    static SkippedFile fromJson(JsonFields f) {
      return new SkippedFile(f.string("path"), f.string("reason"));
    }
  }

  /**
   * What only a run that scored has: the model it loaded, the settings it scored with and the measurements of the
   * pass. In the file these keys sit at the top level, next to the others.
   *
   * @param modelVerification whether the model's exporter checked it against the module's own forward:
   *     {@code verified}, {@code not_verified} (exported with --no-verify) or {@code unknown} (not recorded)
   * @param meanBatchFill real tokens / (rows × longest row) summed over batches; 1.0 means no padding
   * @param engineSeconds time inside the engine, summed over tasks
   * @param executors {@code executorId@pid} of the JVMs that scored, sorted
   * @param kernels the matrix product and gate kernels the tasks scored with, distinct
   * @param executorMemory each executor JVM's peak memory, as its scoring tasks ended, in executor order
   * @param buckets the batches grouped by the length class of their longest row, non-empty classes only
   * @param scoreHistograms one per output feature, the first 32 features
   * @param throughput cumulative rows and tokens sampled on the driver, in time order
   */
  public record Scoring(String modelHash, String modelVerification, double meanBatchFill, double tokensPerSecond, double engineSeconds,
      List<String> executors, List<String> kernels, List<ExecutorMemory> executorMemory, Settings settings,
      LengthHistogram lengthHistogram, List<Bucket> buckets, List<ScoreHistogram> scoreHistograms,
      List<ThroughputPoint> throughput) {
    /** The file's keys of this part; a summary has all of them or none. */
    static final List<String> KEYS = List.of("model_hash", "model_verification", "mean_batch_fill", "tokens_per_second",
        "engine_seconds", "executors", "kernels", "executor_memory", "settings", "length_histogram", "buckets", "score_histograms",
        "throughput");

    public Scoring {
      Objects.requireNonNull(modelHash, "modelHash");
      Objects.requireNonNull(modelVerification, "modelVerification");
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(lengthHistogram, "lengthHistogram");
      executors = List.copyOf(executors);
      kernels = List.copyOf(kernels);
      executorMemory = List.copyOf(executorMemory);
      buckets = List.copyOf(buckets);
      scoreHistograms = List.copyOf(scoreHistograms);
      throughput = List.copyOf(throughput);
    }

    static Scoring fromJson(JsonFields f) {
      // model_verification is newer than the other keys: a summary written before it reads as "unknown"
      return new Scoring(f.string("model_hash"),
          f.has("model_verification") ? f.string("model_verification") : "unknown", f.number("mean_batch_fill"), f.number("tokens_per_second"),
          f.number("engine_seconds"), f.strings("executors"), f.strings("kernels"),
          objects(f, "executor_memory", ExecutorMemory::fromJson), Settings.fromJson(f.object("settings")), LengthHistogram.fromJson(f.object("length_histogram")),
          objects(f, "buckets", Bucket::fromJson), objects(f, "score_histograms", ScoreHistogram::fromJson),
          objects(f, "throughput", ThroughputPoint::fromJson));
    }
  }

  /**
   * The job's options that shape the output, as resolved from flags, config file and defaults.
   *
   * @param seqCol {@code --seq-col}, or null when not given (the model's input names pick the columns)
   */
  public record Settings(String idCol, String seqCol, Map<String, String> columns, List<String> keepCols,
      List<String> partitionBy, boolean perStep, boolean emitEmbedding, int maxLength, int batchTokens,
      int maxBatchRows, String master, double maxRejectFraction, boolean skipCorruptFiles) {
    public Settings {
      Objects.requireNonNull(idCol, "idCol");
      Objects.requireNonNull(master, "master");
      columns = sorted(columns);
      keepCols = List.copyOf(keepCols);
      partitionBy = List.copyOf(partitionBy);
    }

    /** The settings as the file has them, key by key in file order (the report lists them this way). */
    public Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id_col", idCol);
      m.put("seq_col", seqCol);
      m.put("columns", columns);
      m.put("keep_cols", keepCols);
      m.put("partition_by", partitionBy);
      m.put("per_step", perStep);
      m.put("emit_embedding", emitEmbedding);
      m.put("max_length", maxLength);
      m.put("batch_tokens", batchTokens);
      m.put("max_batch_rows", maxBatchRows);
      m.put("master", master);
      m.put("max_reject_fraction", maxRejectFraction);
      m.put("skip_corrupt_files", skipCorruptFiles);
      return m;
    }

    static Settings fromJson(JsonFields f) {
      JsonFields c = f.object("columns");
      Map<String, String> columns = new TreeMap<>();
      for (String key : c.keys()) {
        columns.put(key, c.string(key));
      }
      return new Settings(f.string("id_col"), f.nullableString("seq_col"), columns, f.strings("keep_cols"),
          f.strings("partition_by"), f.bool("per_step"), f.bool("emit_embedding"),
          f.integer("max_length", 0, Integer.MAX_VALUE), f.integer("batch_tokens", 0, Integer.MAX_VALUE),
          f.integer("max_batch_rows", 0, Integer.MAX_VALUE), f.string("master"),
          f.number("max_reject_fraction"), f.bool("skip_corrupt_files"));
    }
  }

  /**
   * Scored rows per length class: bin i counts lengths in {@code [binEdges[i], binEdges[i+1])}, so there is one
   * more edge than counts (a histogram with no bins has a single edge).
   */
  public record LengthHistogram(List<Long> binEdges, List<Long> counts) {
    public LengthHistogram {
      binEdges = List.copyOf(binEdges);
      counts = List.copyOf(counts);
      checkBins("length histogram", binEdges, counts, IllegalArgumentException::new);
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("bin_edges", binEdges);
      m.put("counts", counts);
      return m;
    }

    static LengthHistogram fromJson(JsonFields f) {
      List<Long> edges = f.counts("bin_edges");
      List<Long> counts = f.counts("counts");
      checkBins(f.name(), edges, counts, f::fail);
      return new LengthHistogram(edges, counts);
    }
  }

  /** The batches whose longest row falls in {@code [minLength, maxLength]}. */
  public record Bucket(long minLength, long maxLength, long rows, long tokens, long batches, long paddedSlots) {
    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("min_length", minLength);
      m.put("max_length", maxLength);
      m.put("rows", rows);
      m.put("tokens", tokens);
      m.put("batches", batches);
      m.put("padded_slots", paddedSlots);
      return m;
    }

    static Bucket fromJson(JsonFields f) {
      return new Bucket(f.count("min_length"), f.count("max_length"), f.count("rows"), f.count("tokens"),
          f.count("batches"), f.count("padded_slots"));
    }
  }

  /**
   * The scores of one output feature: bin i counts scores in {@code [binEdges[i], binEdges[i+1])}; scores below
   * the first edge are {@code underflow}, at or above the last {@code overflow}, NaN scores {@code nan}.
   */
  public record ScoreHistogram(int feature, List<Double> binEdges, List<Long> counts, long underflow,
      long overflow, long nan) {
    public ScoreHistogram {
      binEdges = List.copyOf(binEdges);
      counts = List.copyOf(counts);
      checkBins("score histogram of feature " + feature, binEdges, counts, IllegalArgumentException::new);
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("feature", feature);
      m.put("bin_edges", binEdges);
      m.put("counts", counts);
      m.put("underflow", underflow);
      m.put("overflow", overflow);
      m.put("nan", nan);
      return m;
    }

    static ScoreHistogram fromJson(JsonFields f) {
      List<Double> edges = f.numbers("bin_edges");
      List<Long> counts = f.counts("counts");
      checkBins(f.name(), edges, counts, f::fail);
      return new ScoreHistogram(f.integer("feature", 0, Integer.MAX_VALUE), edges, counts, f.count("underflow"),
          f.count("overflow"), f.count("nan"));
    }
  }

  /**
   * The memory an executor JVM had used at its peak, read as each of its scoring tasks ended: what a job needs of
   * {@code spark.executor.memory} and {@code spark.executor.memoryOverhead}.
   *
   * @param executor {@code executorId@pid}, as in {@code executors}
   * @param heapPeakBytes the sum of the heap pools' peaks since the JVM started (an upper bound: the pools peak
   *     at different times, and it counts garbage not yet collected)
   * @param heapMaxBytes the heap's limit ({@code -Xmx}, {@code spark.executor.memory})
   * @param residentPeakBytes the process's peak resident memory (Linux {@code VmHWM}: heap, native buffers, code,
   *     thread stacks), 0 where the system does not say
   * @param nativeBuffersBytes the native buffers JavaCPP had allocated (the engine's BLAS scratch and weights)
   */
  public record ExecutorMemory(String executor, long heapPeakBytes, long heapMaxBytes, long residentPeakBytes,
      long nativeBuffersBytes) implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    /** The larger of each figure (samples of one executor). */
    public ExecutorMemory max(ExecutorMemory other) {
      return new ExecutorMemory(executor, Math.max(heapPeakBytes, other.heapPeakBytes),
          Math.max(heapMaxBytes, other.heapMaxBytes), Math.max(residentPeakBytes, other.residentPeakBytes),
          Math.max(nativeBuffersBytes, other.nativeBuffersBytes));
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("executor", executor);
      m.put("heap_peak_bytes", heapPeakBytes);
      m.put("heap_max_bytes", heapMaxBytes);
      m.put("resident_peak_bytes", residentPeakBytes);
      m.put("native_buffers_bytes", nativeBuffersBytes);
      return m;
    }

    static ExecutorMemory fromJson(JsonFields f) {
      return new ExecutorMemory(f.string("executor"), f.count("heap_peak_bytes"), f.count("heap_max_bytes"),
          f.count("resident_peak_bytes"), f.count("native_buffers_bytes"));
    }
  }

  /** Rows and tokens scored so far, {@code seconds} after the run started. */
  public record ThroughputPoint(double seconds, long rows, long tokens) {
    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("seconds", seconds);
      m.put("rows", rows);
      m.put("tokens", tokens);
      return m;
    }

    static ThroughputPoint fromJson(JsonFields f) {
      return new ThroughputPoint(f.number("seconds"), f.count("rows"), f.count("tokens"));
    }
  }

  // ------------------------------------------------------------------------------------------------ writing

  /** The summary file's text: two-space indented JSON, {@code summary_format} first, ending in a newline. */
  public String toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("summary_format", FORMAT);
    if (run != null) {
      m.put("run", run.toJson());
    }
    m.put("seqpack_version", seqpackVersion);
    m.put("model_dir", modelDir);
    if (scoring != null) {
      m.put("model_hash", scoring.modelHash());
      m.put("model_verification", scoring.modelVerification());
    }
    m.put("input", input);
    m.put("output", output);
    m.put("rejects", rejects);
    m.put("input_files", inputFiles);
    m.put("skipped_files", skippedFiles.stream().map(SkippedFile::toJson).toList());
    m.put("input_rows", inputRows);
    m.put("scored_rows", scoredRows);
    m.put("rejected_rows", rejectedRows);
    m.put("rejects_by_reason", rejectsByReason);
    m.put("tokens_scored", tokensScored);
    m.put("batches", batches);
    if (scoring != null) {
      m.put("mean_batch_fill", scoring.meanBatchFill());
    }
    m.put("wall_seconds", wallSeconds);
    if (scoring != null) {
      m.put("tokens_per_second", scoring.tokensPerSecond());
      m.put("engine_seconds", scoring.engineSeconds());
      m.put("executors", scoring.executors());
      m.put("kernels", scoring.kernels());
      m.put("executor_memory", scoring.executorMemory().stream().map(ExecutorMemory::toJson).toList());
      m.put("settings", scoring.settings().toJson());
      m.put("length_histogram", scoring.lengthHistogram().toJson());
      m.put("buckets", scoring.buckets().stream().map(Bucket::toJson).toList());
      m.put("score_histograms", scoring.scoreHistograms().stream().map(ScoreHistogram::toJson).toList());
      m.put("throughput", scoring.throughput().stream().map(ThroughputPoint::toJson).toList());
    }
    return Json.writePretty(m);
  }

  // ------------------------------------------------------------------------------------------------ reading

  /**
   * Reads a summary file from a local folder.
   *
   * @throws SeqpackException {@code Cannot read summary FILE: reason} (one line) when the folder or file is
   *     missing or unreadable, the text is not JSON, or {@link #fromJson} refuses it
   */
  public static RunSummary read(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw new SeqpackException("Cannot read summary " + file + ": " + dir
          + (Files.exists(dir) ? " is not a folder" : " does not exist"));
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new SeqpackException("Cannot read summary " + file
          + ": no such file (a run writes it last, after its outputs are committed; did the run finish?)", e);
    } catch (IOException e) {
      throw new SeqpackException("Cannot read summary " + file + ": " + e, e);
    }
    return fromJson(text, file.toString());
  }

  /**
   * Parses a summary's text.
   *
   * @param source how messages name the text, e.g. its file
   * @throws SeqpackException {@code Cannot read summary SOURCE: reason}: malformed JSON, another {@code
   *     summary_format}, or a key that is missing (and not optional) or of the wrong type, named by its path
   */
  public static RunSummary fromJson(String text, String source) {
    Function<String, SeqpackException> error = reason -> new SeqpackException("Cannot read summary " + source
        + ": " + reason);
    Object parsed;
    try {
      parsed = Json.parseObject(text);
    } catch (Json.JsonException e) {
      throw new SeqpackException("Cannot read summary " + source + ": malformed JSON: " + e.getMessage(), e);
    }
    JsonFields f = JsonFields.of(parsed, "the summary", "", error);
    checkFormat(f);
    JsonFields rejectCounts = f.object("rejects_by_reason");
    Map<String, Long> byReason = new TreeMap<>();
    for (String reason : rejectCounts.keys()) {
      byReason.put(reason, rejectCounts.count(reason));
    }
    boolean scored = Scoring.KEYS.stream().anyMatch(f::has);
    return new RunSummary(f.has("run") ? Run.fromJson(f.object("run")) : null, f.string("seqpack_version"),
        f.string("model_dir"), f.string("input"), f.string("output"), f.string("rejects"),
        f.integer("input_files", 0, Integer.MAX_VALUE), objects(f, "skipped_files", SkippedFile::fromJson),
        f.count("input_rows"), f.count("scored_rows"), f.count("rejected_rows"), byReason, f.count("tokens_scored"),
        f.count("batches"), f.number("wall_seconds"), scored ? Scoring.fromJson(f) : null);
  }

  /** Format 2 only: seqpack 0.1's summaries have no {@code summary_format} (format 1) and other key types. */
  private static void checkFormat(JsonFields f) {
    String advice = "this seqpack reads summary format " + FORMAT + ": rerun the job, or use ";
    if (!f.has("summary_format") || Long.valueOf(1).equals(f.value("summary_format"))) {
      String found = f.has("summary_format") ? "summary_format is 1" : "it has no summary_format";
      throw f.fail(found + " (written by seqpack 0.1); " + advice + "seqpack 0.1's 'seqpack report' to draw it");
    }
    if (!(f.value("summary_format") instanceof Long format)) {
      throw f.invalid("summary_format", "the integer " + FORMAT);
    }
    if (format != FORMAT) {
      throw f.fail("summary_format is " + format + "; " + advice + "the 'seqpack report' of the seqpack version "
          + "that wrote it");
    }
  }

  private static <T> List<T> objects(JsonFields f, String key, Function<JsonFields, T> read) {
    return f.objects(key).stream().map(read).toList();
  }

  /**
   * One more edge than counts, edges strictly increasing; {@code what} names the histogram in the message, e.g.
   * {@code length_histogram has 32 bin_edges for 32 counts; expected one more edge than counts}.
   */
  private static void checkBins(String what, List<? extends Number> edges, List<Long> counts,
      Function<String, ? extends RuntimeException> error) {
    if (edges.size() != counts.size() + 1) {
      throw error.apply(what + " has " + edges.size() + " bin_edges for " + counts.size()
          + " counts; expected one more edge than counts");
    }
    for (int i = 1; i < edges.size(); i++) {
      if (!(edges.get(i).doubleValue() > edges.get(i - 1).doubleValue())) {
        throw error.apply(what + " has bin_edges that do not increase at index " + i);
      }
    }
  }

  /** An unmodifiable copy sorted by key, so the file lists reasons and columns in a stable order. */
  private static <V> Map<String, V> sorted(Map<String, V> map) {
    Map<String, V> copy = new TreeMap<>();
    map.forEach((k, v) -> copy.put(k, Objects.requireNonNull(v, k)));
    return Collections.unmodifiableMap(copy);
  }
}
