package io.seqpack.summary;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqpack.SeqpackException;
import io.seqpack.util.JsonRecords;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What one {@code seqpack score} run did: the figures a run writes into its output folder as {@value #FILE},
 * after both outputs are committed and every input row was found in exactly one of them.
 *
 * <p>The file is this record as JSON, {@code "summary_format": 2} first, then one snake_case key per component
 * ({@code scoredRows} is {@code scored_rows}), mapped by {@link JsonRecords}. {@link #toJson} writes it and {@link
 * #fromJson} / {@link #read} read it back, so {@code fromJson(s.toJson(), f).equals(s)}. Reading is strict (every
 * key known, present and of its type) and names the bad one in one line ({@code Cannot read summary F:
 * buckets[2].max_length: expected an integer >= 0, found "x"}).
 *
 * <p>Three parts are optional, {@code null} when absent: {@link #run} (only incremental runs have one), {@link
 * #scoring} (absent when an incremental run found no new files and so scored nothing) and {@link #tables} (only
 * runs that read or write Iceberg or Delta tables). Everything else is always
 * there; lists and maps are unmodifiable, maps sorted by key.
 *
 * @param run the incremental run's own figures, or null for a batch run
 * @param status how the run ended, or null in summaries of older versions
 * @param startedAt when the run started, ISO-8601 UTC to the second ({@code 2026-12-07T01:02:03Z}), or null in
 *     summaries of older versions
 * @param commandLine the command that ran, one argument per element ({@code seqpack score --input ...}); empty
 *     when the run was not started from the command line, or in summaries of older versions
 * @param skippedFiles unreadable input files left out under {@code --skip-corrupt-files} (usually empty)
 * @param rejectsByReason reject rows per reason code; sums to {@code rejectedRows}
 * @param rejectExamples per reason code, the ids of up to {@value #REJECT_EXAMPLES} of its rows (rows with a null
 *     id are not examples; empty in summaries of older versions)
 * @param scoring what the scoring pass measured, or null when no pass ran
 */
public record RunSummary(
    Run run,
    String seqpackVersion,
    Status status,
    String startedAt,
    List<String> commandLine,
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
    Map<String, List<String>> rejectExamples,
    long tokensScored,
    long batches,
    double wallSeconds,
    Scoring scoring,
    Tables tables) {

  /** The summary's name in a run's output folder. */
  public static final String FILE = "_seqpack_summary.json";

  /** The {@code summary_format} this version writes and reads (seqpack 0.1 wrote summaries without the key). */
  public static final int FORMAT = 2;

  /** The most example ids a summary keeps per reject reason. */
  public static final int REJECT_EXAMPLES = 3;

  /** How a run that wrote a summary ended. */
  public enum Status {
    /** Both outputs are committed and every row accounted for. */
    @JsonProperty("ok") OK,
    /** Committed, but more rows were rejected than {@code --max-reject-fraction} allows: the job exits 1. */
    @JsonProperty("too_many_rejects") TOO_MANY_REJECTS,
    /** Nothing was published: a head's PSI exceeded {@code --max-drift} (the refused run's summary). */
    @JsonProperty("refused_drift") REFUSED_DRIFT
  }

  public RunSummary {
    Objects.requireNonNull(seqpackVersion, "seqpackVersion");
    Objects.requireNonNull(modelDir, "modelDir");
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(rejects, "rejects");
    commandLine = List.copyOf(commandLine);
    skippedFiles = List.copyOf(skippedFiles);
    rejectsByReason = sorted(rejectsByReason);
    Map<String, List<String>> examples = new TreeMap<>();
    rejectExamples.forEach((reason, ids) -> examples.put(reason, List.copyOf(ids)));
    rejectExamples = sorted(examples);
  }

  /** This summary with another {@code status}. */
  public RunSummary withStatus(Status status) {
    return new RunSummary(run, seqpackVersion, status, startedAt, commandLine, modelDir, input, output, rejects,
        inputFiles, skippedFiles, inputRows, scoredRows, rejectedRows, rejectsByReason, rejectExamples, tokensScored,
        batches, wallSeconds, scoring, tables);
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
  @JsonPropertyOrder({"id", "incremental", "status", "checkpoint", "new_file_count", "new_files", "new_rows",
      "accounting_check"})
  @JsonIgnoreProperties(value = {"incremental", "status", "accounting_check"}, allowGetters = true)
  public record Run(long id, String checkpoint, int newFileCount, List<String> newFiles, long newRows,
      int removedUncommittedFiles, long totalScoredRows, long totalRejectedRows) {
    public Run {
      Objects.requireNonNull(checkpoint, "checkpoint");
      newFiles = List.copyOf(newFiles);
    }

    @JsonProperty
    boolean incremental() {
      return true;
    }

    @JsonProperty
    String status() {
      return "ok";
    }

    @JsonProperty
    String accountingCheck() {
      return "ok";
    }
  }

  /**
   * What a run with tables read and committed; positions are Iceberg snapshot ids or Delta versions.
   *
   * @param runId the id each of the run's commits carries ({@code seqpack.run-id})
   * @param readAfter the input table's position the run read after (exclusive): null for a whole table or a folder
   * @param readTo the input table's position read up to; null for a folder input
   * @param removalsNotScored rows deleted or rewritten in the input's range (not scored; appended rows are)
   * @param predictionsAt, rejectsAt the output tables' positions after the run's commits
   * @param alreadyCommitted the tables had this run's commits already (a rerun after a kill), not made again
   */
  public record Tables(String runId, @JsonSetter(nulls = Nulls.SET) Long readAfter,
      @JsonSetter(nulls = Nulls.SET) Long readTo, long removalsNotScored, Long predictionsAt, Long rejectsAt,
      boolean alreadyCommitted) {}

  /** This summary with {@code tables}. */
  public RunSummary withTables(Tables tables) {
    return new RunSummary(run, seqpackVersion, status, startedAt, commandLine, modelDir, input, output, rejects,
        inputFiles, skippedFiles, inputRows, scoredRows, rejectedRows, rejectsByReason, rejectExamples, tokensScored,
        batches, wallSeconds, scoring, tables);
  }

  /** An input file that could not be read; its rows were not read (the file says {@code "rows": "not read"}). */
  @JsonIgnoreProperties(value = "rows", allowGetters = true)
  public record SkippedFile(String path, String reason) {
    public SkippedFile {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(reason, "reason");
    }

    @JsonProperty
    String rows() {
      return "not read";
    }
  }

  /**
   * What only a run that scored has: the model it loaded, the settings it scored with and the measurements of the
   * pass. In the file these keys sit at the top level, next to the others.
   *
   * @param modelVerification whether the model's exporter checked it against the module's own forward:
   *     {@code verified}, {@code not_verified} (exported with --no-verify) or {@code unknown} (not recorded)
   * @param modelCard what the model is, for the report; null in summaries of older versions
   * @param meanBatchFill real tokens / (rows × longest row) summed over batches; 1.0 means no padding
   * @param engineSeconds time inside the engine, summed over tasks
   * @param executors {@code executorId@pid} of the JVMs that scored, sorted
   * @param kernels the matrix product and gate kernels the tasks scored with, distinct
   * @param executorMemory each executor JVM's peak memory, as its scoring tasks ended, in executor order
   * @param buckets the batches grouped by the length class of their longest row, non-empty classes only
   * @param scoreHistograms per head and output (the first 32 of each head), in model order
   * @param throughput cumulative rows and tokens sampled on the driver, in time order
   * @param scoreDeciles per head and output (the first 32), the decile bins a later run compares with (empty in
   *     summaries of older versions)
   * @param drift per head, this run's scores against {@code --drift-baseline}'s; null without a baseline
   */
  public record Scoring(String modelHash, String modelVerification,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonSetter(nulls = Nulls.SET) ModelCard modelCard,
      double meanBatchFill, double tokensPerSecond, double engineSeconds,
      List<String> executors, List<String> kernels, List<ExecutorMemory> executorMemory, Settings settings,
      LengthHistogram lengthHistogram, List<Bucket> buckets, List<ScoreHistogram> scoreHistograms,
      List<ThroughputPoint> throughput, List<Deciles> scoreDeciles,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonSetter(nulls = Nulls.SET) Map<String, HeadDrift> drift) {
    /** The file's keys of this part; a summary has all of them or none (but the last two, newer). */
    static final List<String> KEYS = List.of("model_hash", "model_verification", "model_card", "mean_batch_fill", "tokens_per_second",
        "engine_seconds", "executors", "kernels", "executor_memory", "settings", "length_histogram", "buckets", "score_histograms",
        "throughput", "score_deciles", "drift");

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
      scoreDeciles = List.copyOf(scoreDeciles);
      drift = drift == null ? null : Collections.unmodifiableMap(new java.util.LinkedHashMap<>(drift));
    }

    /** This part with {@code drift} set. */
    public Scoring withDrift(Map<String, HeadDrift> drift) {
      return new Scoring(modelHash, modelVerification, modelCard, meanBatchFill, tokensPerSecond, engineSeconds, executors,
          kernels, executorMemory, settings, lengthHistogram, buckets, scoreHistograms, throughput, scoreDeciles,
          drift);
    }
  }

  /**
   * What model scored: its inputs and the columns they were read from, the parts of its graph, its heads, the
   * dtypes its weights were stored in and its size.
   *
   * @param parts the graph after the inputs, one line per part ({@code LSTM(hidden=64, layers=2, ...)})
   * @param dtypes the safetensors dtypes of its weights ({@code F32}, {@code BF16}); seqpack scores in float32
   */
  public record ModelCard(List<Input> inputs, List<String> parts, List<Head> heads, List<String> dtypes,
      long parameters) {
    public ModelCard {
      inputs = List.copyOf(inputs);
      parts = List.copyOf(parts);
      heads = List.copyOf(heads);
      dtypes = List.copyOf(dtypes);
    }

    /**
     * @param kind the input as the model reads it ({@code tokens(vocab=11, dim=100)}, {@code static(size=4)})
     * @param column the input column it was read from
     */
    public record Input(String name, String kind, String column) {}

    /** @param layers the head's layers and activation in one line; {@code outputs} its width */
    public record Head(String name, String layers, int outputs) {}
  }

  /**
   * The decile bins of one output of one head ({@link DecileGrid#deciles}): {@code edges} (up to 9, increasing;
   * fewer when deciles coincide) split the scores into {@code counts}, bin 0 below the first edge, the last at or
   * above the last edge; NaN scores are not counted.
   */
  public record Deciles(String head, int output, List<Double> edges, List<Long> counts) {
    public Deciles {
      Objects.requireNonNull(head, "head");
      edges = List.copyOf(edges);
      counts = List.copyOf(counts);
      if (counts.size() != edges.size() + 1) {
        throw new IllegalArgumentException(edges.size() + " edges for " + counts.size()
            + " counts; expected one count more than edges");
      }
      for (int i = 1; i < edges.size(); i++) {
        if (!(edges.get(i) > edges.get(i - 1))) {
          throw new IllegalArgumentException("edges do not increase at index " + i);
        }
      }
    }

    /** The rows counted. */
    public long rows() {
      return counts.stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * One head's drift against a baseline run ({@link Drift}).
   *
   * @param psi the largest PSI over the head's outputs
   * @param baselineRows the baseline rows of the output with that PSI (rows, bins: this run's, its bins)
   * @param baseline the baseline as given to {@code --drift-baseline}
   * @param perOutput each output's, for heads of width > 1; null otherwise
   * @param baselineHistograms the baseline's score histograms of this head (the report draws them over this run's);
   *     empty when the baseline's summary has none of this head
   */
  public record HeadDrift(double psi, long baselineRows, long rows, int bins, String baseline,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonSetter(nulls = Nulls.SET) List<OutputDrift> perOutput,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) List<ScoreHistogram> baselineHistograms) {
    public HeadDrift {
      Objects.requireNonNull(baseline, "baseline");
      perOutput = perOutput == null ? null : List.copyOf(perOutput);
      baselineHistograms = List.copyOf(baselineHistograms);
    }
  }

  /** One output column's drift. */
  public record OutputDrift(int output, double psi, long baselineRows, long rows, int bins) {}

  /**
   * The job's options that shape the output, as resolved from flags, config file and defaults.
   *
   * @param seqCol {@code --seq-col}, or null when not given (the model's input names pick the columns)
   * @param topK {@code --top-k} as resolved per head: head name → K in the model's head order, only the heads
   *     written as their top k (empty: every head whole, and in summaries older than the key)
   * @param topKExcludeSeen {@code --top-k-exclude-seen}'s input, or null
   */
  public record Settings(String idCol, @JsonSetter(nulls = Nulls.SET) String seqCol, Map<String, String> columns, List<String> keepCols,
      List<String> partitionBy, boolean perStep, boolean emitEmbedding, int maxLength, int batchTokens,
      int maxBatchRows, String master, double maxRejectFraction, boolean skipCorruptFiles,
      Map<String, Integer> topK,
      // named as the flag: snake case of the component would read "top_kexclude_seen"
      @JsonProperty("top_k_exclude_seen") @JsonSetter(nulls = Nulls.SET) String topKExcludeSeen) {
    /** The keys newer than the others, with what a summary written before them means (no top-k). */
    static final Map<String, JsonNode> NEWER_KEYS = Map.of("top_k", JsonNodeFactory.instance.objectNode(),
        "top_k_exclude_seen", JsonNodeFactory.instance.nullNode());

    public Settings {
      Objects.requireNonNull(idCol, "idCol");
      Objects.requireNonNull(master, "master");
      columns = sorted(columns);
      keepCols = List.copyOf(keepCols);
      partitionBy = List.copyOf(partitionBy);
      topK = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(topK)); // head order, not sorted
    }

    /** The settings as the file has them, key by key in file order (the report lists them this way). */
    public Map<String, Object> toJson() {
      return JsonRecords.fields(this);
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
      checkBins(binEdges, counts);
    }


  }

  /** The batches whose longest row falls in {@code [minLength, maxLength]}. */
  public record Bucket(long minLength, long maxLength, long rows, long tokens, long batches, long paddedSlots) {

  }

  /**
   * The scores of one output of one head: bin i counts scores in {@code [binEdges[i], binEdges[i+1])}; scores
   * below the first edge are {@code underflow}, at or above the last {@code overflow}, NaN scores {@code nan}.
   *
   * @param head the head's name; null in summaries of older versions, which binned the first head only and called
   *     {@code output} {@code feature}
   */
  public record ScoreHistogram(@JsonSetter(nulls = Nulls.SET) String head, int output, List<Double> binEdges,
      List<Long> counts, long underflow, long overflow, long nan) {
    public ScoreHistogram {
      binEdges = List.copyOf(binEdges);
      counts = List.copyOf(counts);
      checkBins(binEdges, counts);
    }

    /** The scores counted, out-of-range and NaN ones included. */
    public long rows() {
      return counts.stream().mapToLong(Long::longValue).sum() + underflow + overflow + nan;
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


  }

  /** Rows and tokens scored so far, {@code seconds} after the run started. */
  public record ThroughputPoint(double seconds, long rows, long tokens) {

  }

  // ------------------------------------------------------------------------------------------------ the file

  /** The file's keys other than {@link Scoring}'s, in file order. */
  private record Head(int summaryFormat, @JsonInclude(JsonInclude.Include.NON_NULL)
      @JsonSetter(nulls = Nulls.SET) Run run, String seqpackVersion,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonSetter(nulls = Nulls.SET) Status status,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonSetter(nulls = Nulls.SET) String startedAt,
      List<String> commandLine, String modelDir, String input, String output,
      String rejects, int inputFiles, List<SkippedFile> skippedFiles, long inputRows, long scoredRows,
      long rejectedRows, Map<String, Long> rejectsByReason, Map<String, List<String>> rejectExamples,
      long tokensScored, long batches, double wallSeconds,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonSetter(nulls = Nulls.SET) Tables tables) {}

  /** Where {@link Scoring}'s keys sit among the others: the model's after model_dir, the pass's after those. */
  private static final Map<String, List<String>> SCORING_KEYS_AFTER = Map.of(
      "model_dir", Scoring.KEYS.subList(0, 3), "batches", Scoring.KEYS.subList(3, 4),
      "wall_seconds", Scoring.KEYS.subList(4, Scoring.KEYS.size()));

  /** The summary file's text: two-space indented JSON, {@code summary_format} first, ending in a newline. */
  public String toJson() {
    ObjectNode head = JsonRecords.tree(new Head(FORMAT, run, seqpackVersion, status, startedAt, commandLine,
        modelDir, input, output, rejects, inputFiles, skippedFiles, inputRows, scoredRows, rejectedRows,
        rejectsByReason, rejectExamples, tokensScored, batches, wallSeconds, tables));
    if (scoring == null) {
      return JsonRecords.writePretty(head);
    }
    ObjectNode scored = JsonRecords.tree(scoring);
    ObjectNode file = head.objectNode();
    head.properties().forEach(e -> {
      file.set(e.getKey(), e.getValue());
      SCORING_KEYS_AFTER.getOrDefault(e.getKey(), List.of()).stream().filter(scored::has)
          .forEach(key -> file.set(key, scored.get(key)));
    });
    return JsonRecords.writePretty(file);
  }

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
   *     summary_format}, or a key that is unknown, missing (and not optional) or of the wrong type, named by its
   *     path
   */
  public static RunSummary fromJson(String text, String source) {
    String what = "summary " + source;
    ObjectNode file = JsonRecords.readObject(text, what, SeqpackException::new);
    checkFormat(file, what);
    ObjectNode scored = file.objectNode();
    for (String key : Scoring.KEYS) { // all or none: one without the others is a missing key
      if (file.has(key)) {
        scored.set(key, file.remove(key));
      }
    }
    if (!scored.isEmpty() && !scored.has("model_verification")) { // newer than the other keys
      scored.put("model_verification", "unknown");
    }
    if (!scored.isEmpty() && !scored.has("score_deciles")) { // newer still: such a summary is no baseline
      scored.putArray("score_deciles");
    }
    if (scored.path("settings") instanceof ObjectNode settings) { // older summaries: no top-k settings
      Settings.NEWER_KEYS.forEach((key, absent) -> {
        if (!settings.has(key)) {
          settings.set(key, absent.deepCopy());
        }
      });
    }
    if (!scored.isEmpty() && !scored.has("drift")) { // only runs with a baseline
      scored.putNull("drift");
    }
    scored.path("drift").forEach(head -> { // only heads of width > 1 list their outputs
      if (head instanceof ObjectNode h && !h.has("per_output")) {
        h.putNull("per_output");
      }
      if (head instanceof ObjectNode h && !h.has("baseline_histograms")) { // newer, and left out when empty
        h.putArray("baseline_histograms");
      }
    });
    scored.path("score_histograms").forEach(OLDER_SCORE_HISTOGRAM::accept);
    if (!scored.isEmpty() && !scored.has("model_card")) {
      scored.putNull("model_card");
    }
    if (!file.has("run")) { // only incremental runs have one
      file.putNull("run");
    }
    for (String key : List.of("status", "started_at")) { // newer keys: unknown in older summaries
      if (!file.has(key)) {
        file.putNull(key);
      }
    }
    if (!file.has("command_line")) {
      file.putArray("command_line");
    }
    if (!file.has("reject_examples")) {
      file.putObject("reject_examples");
    }
    if (!file.has("tables")) { // only runs with tables
      file.putNull("tables");
    }
    Head h = JsonRecords.bind(file, Head.class, what, SeqpackException::new);
    return new RunSummary(h.run(), h.seqpackVersion(), h.status(), h.startedAt(), h.commandLine(), h.modelDir(),
        h.input(), h.output(), h.rejects(), h.inputFiles(), h.skippedFiles(), h.inputRows(), h.scoredRows(),
        h.rejectedRows(), h.rejectsByReason(), h.rejectExamples(), h.tokensScored(), h.batches(), h.wallSeconds(),
        scored.isEmpty() ? null : JsonRecords.bind(scored, Scoring.class, what, SeqpackException::new), h.tables());
  }

  /** Older summaries binned the first head's outputs only, as {@code "feature": K} without the head's name. */
  private static final java.util.function.Consumer<JsonNode> OLDER_SCORE_HISTOGRAM = node -> {
    if (node instanceof ObjectNode h && !h.has("head") && h.has("feature")) {
      ObjectNode renamed = h.objectNode();
      renamed.putNull("head");
      renamed.set("output", h.get("feature"));
      h.remove("feature");
      renamed.setAll(h);
      h.removeAll();
      h.setAll(renamed);
    }
  };

  /** Format 2 only: seqpack 0.1's summaries have no {@code summary_format} (format 1) and other key types. */
  private static void checkFormat(ObjectNode file, String what) {
    String advice = "this seqpack reads summary format " + FORMAT + ": rerun the job, or use ";
    JsonNode format = file.get("summary_format");
    if (format == null || format.isIntegralNumber() && format.asLong() == 1) {
      String found = format == null ? "it has no summary_format" : "summary_format is 1";
      throw new SeqpackException("Cannot read " + what + ": " + found + " (written by seqpack 0.1); " + advice
          + "seqpack 0.1's 'seqpack report' to draw it");
    }
    if (!format.isIntegralNumber()) {
      throw new SeqpackException("Cannot read " + what + ": summary_format: expected the integer " + FORMAT
          + ", found " + format);
    }
    if (format.asLong() != FORMAT) {
      throw new SeqpackException("Cannot read " + what + ": summary_format is " + format + "; " + advice
          + "the 'seqpack report' of the seqpack version that wrote it");
    }
  }

  /** One more edge than counts, edges strictly increasing. */
  private static void checkBins(List<? extends Number> edges, List<Long> counts) {
    if (edges.size() != counts.size() + 1) {
      throw new IllegalArgumentException(edges.size() + " bin_edges for " + counts.size()
          + " counts; expected one more edge than counts");
    }
    for (int i = 1; i < edges.size(); i++) {
      if (!(edges.get(i).doubleValue() > edges.get(i - 1).doubleValue())) {
        throw new IllegalArgumentException("bin_edges do not increase at index " + i);
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
