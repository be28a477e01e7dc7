package io.seqpack.spark;

import io.seqpack.ConfigException;
import io.seqpack.ModelFormatException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.SafeTensors;
import io.seqpack.model.parts.StepInput;
import io.seqpack.nn.SequenceModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Public entry point for scoring from your own Spark job.
 *
 * <pre>{@code
 * SequenceScorer scorer = SequenceScorer.builder("hdfs:///models/fraud").columns(Map.of("event", "event_ids")).build();
 * try (ScoreResult result = scorer.score(spark.read().parquet("events/"))) {
 *   result.predictions().write().parquet("scores/");
 *   result.rejects().write().parquet("scores_rejects/");
 * }
 * }</pre>
 *
 * <p>{@link Builder#build()} reads and validates the model on the driver (from a Hadoop URI, a local directory,
 * or bytes / a model already loaded); the scorer is immutable. {@link #score} checks the input schema against it
 * before any task runs, then returns lazy Datasets. The predictions and rejects Datasets each read the input once
 * when they are written; the scoring itself only happens in the predictions pass. {@link #transform} is the
 * one-pass form behind the Spark ML stage ({@code io.seqpack.ml.SequenceScorerTransformer}): every input column
 * plus the appended ones.
 *
 * <p>The model reaches the executors as a broadcast of the two files' bytes, decoded once per executor JVM
 * ({@link ExecutorModelCache}). A model.safetensors larger than {@value #SHIP_BY_PATH_ABOVE_BYTES} bytes read from a
 * directory ({@link #builder(Path)}, {@link #builder(String)}) is not broadcast: the driver streams it into its
 * tensors without holding the file, and each executor streams it from the same directory (which must be on a file
 * system the executors can read: HDFS, S3, a shared mount, or local mode), checking the content hash; in local mode
 * the executor takes the driver's tensors. The file is limited to {@value ModelLoader#MAX_SAFETENSORS_BYTES} bytes
 * (about 2 GiB); larger files are refused when the model is read.
 */
public final class SequenceScorer {
  /**
   * How messages name the settings: the CLI's flags ({@link #CLI_FLAGS}: {@code --max-length}, {@code --col
   * NAME=COLUMN}) or the library's setting names ({@link #SETTINGS}: {@code maxLength}, {@code columns}). Another
   * front end (the Spark ML stage) names its own params.
   */
  public interface Names {
    String idCol();

    String seqCol();

    String keepCols();

    String perStep();

    String maxLength();

    /** The setting that maps model inputs to columns. */
    String columns();

    /** The setting that maps model input {@code input} to {@code column}. */
    String mapped(String input, String column);

    /** An input read from the column of its own name ({@code kind} = "model input" or "static input"). */
    String unmapped(String kind, String input);

    /** How to pick another column, after a column of the wrong type. */
    String pickColumn();

    /** The top-k setting. */
    default String topK() {
      return "topK";
    }

    /** The setting that leaves a row's own items out of its top k. */
    default String topKExcludeSeen() {
      return "topKExcludeSeen";
    }

    Names CLI_FLAGS = new Fixed("--id-col", "--seq-col", "--keep-cols", "--per-step", "--max-length", "--col",
        "--col %s=%s", "%s %s; rename with --col %s=COLUMN", "use --seq-col or --col to pick another column",
        "--top-k", "--top-k-exclude-seen");

    Names SETTINGS = new Fixed("idCol", "seqCol", "keepCols", "perStep", "maxLength", "columns",
        "columns: %s=%s", "%s %s; map it with columns(%s=COLUMN)", "use seqCol or columns to pick another column",
        "topK", "topKExcludeSeen");
  }

  private record Fixed(String idCol, String seqCol, String keepCols, String perStep, String maxLength,
      String columns, String mappedFormat, String unmappedFormat, String pickColumn, String topK,
      String topKExcludeSeen) implements Names {
    @Override
    public String mapped(String input, String column) {
      return String.format(mappedFormat, input, column);
    }

    @Override
    public String unmapped(String kind, String input) {
      return String.format(unmappedFormat, kind, input, input);
    }
  }

  /**
   * The columns {@link #transform} appends, after every input column, and what it does with rows it cannot
   * score.
   *
   * @param lengthCol the row's length (int; null for a kept bad row)
   * @param outputCol the head's scores; with several heads one column per head, {@code <outputCol>_<head>}
   * @param embeddingCol the vector the heads see, or null for none
   * @param perStepCol the head applied to every valid step, or null for none
   * @param invalid {@code APPEND_ERROR}, {@code APPEND_SKIP} or {@code APPEND_KEEP}
   * @param rejectReasonCol with {@code APPEND_KEEP}: {@code REASON: detail} for a bad row, null for a scored one
   */
  public record Append(String lengthCol, String outputCol, String embeddingCol, String perStepCol,
      ScoreSettings.Output invalid, String rejectReasonCol) {
    public Append {
      Objects.requireNonNull(lengthCol, "lengthCol");
      Objects.requireNonNull(outputCol, "outputCol");
      if (!invalid.appends()) {
        throw new IllegalArgumentException("invalid must be APPEND_ERROR, APPEND_SKIP or APPEND_KEEP");
      }
      if (invalid == ScoreSettings.Output.APPEND_KEEP) {
        Objects.requireNonNull(rejectReasonCol, "rejectReasonCol");
      }
    }
  }

  /** The settings of a built scorer, copied from the builder (a later change to the builder does not leak in). */
  private record Options(String idCol, String seqCol, Map<String, String> columns, boolean emitEmbedding,
      List<String> keepCols, boolean perStep, int maxLength, BatchPlan plan, boolean allowNonFiniteWeights,
      SequenceModel.Options engine, Names names, int[] topK, String topKExcludeSeen) {}

  /** The key of {@link Builder#topK} that means every head of 2 or more outputs (no head is named so). */
  public static final String EVERY_HEAD = "*";

  /**
   * Default largest model.safetensors broadcast as bytes (64 MiB); a larger one read from a directory is streamed,
   * on the driver and on each executor, from that directory (see the class comment).
   */
  public static final long SHIP_BY_PATH_ABOVE_BYTES = 64L << 20;

  /**
   * Spark conf key of the largest model.safetensors broadcast as bytes (default {@value #SHIP_BY_PATH_ABOVE_BYTES});
   * raise it when executors cannot read the model directory, at the cost of the file's bytes on the driver and
   * each executor next to the decoded weights.
   */
  public static final String BROADCAST_MAX_KEY = "spark.seqpack.modelBroadcastMaxBytes";

  private final LoadedModel model;
  private final ModelBytes modelBytes; // null when executors read the model from modelDirectory
  private final String modelDirectory;
  private final Options options;

  private SequenceScorer(LoadedModel model, ModelBytes modelBytes, String modelDirectory, Options options) {
    this.model = model;
    this.modelBytes = modelBytes;
    this.modelDirectory = modelDirectory;
    this.options = options;
  }

  /**
   * A model directory on the local file system. Messages name the CLI's flags (what {@code seqpack score} prints);
   * call {@link Builder#names} with {@link Names#SETTINGS} for the library's setting names.
   */
  public static Builder builder(Path modelDir) {
    Objects.requireNonNull(modelDir, "modelDir");
    return new Builder(modelDir.toString(), hadoop -> ModelLoader.readDirectory(modelDir), null,
        modelDir.toAbsolutePath().normalize().toUri().toString()).names(Names.CLI_FLAGS);
  }

  /**
   * A model directory at any Hadoop URI ({@code file:}, {@code hdfs:}, {@code s3a:}, or a relative path),
   * read with the active session's Hadoop configuration unless {@link Builder#hadoopConf} gives one.
   */
  public static Builder builder(String modelUri) {
    Objects.requireNonNull(modelUri, "modelUri");
    return new Builder(modelUri, hadoop -> readModel(modelUri, hadoop), null, modelUri);
  }

  /** The bytes of a model's two files, already read (validated when the scorer is built). */
  public static Builder builder(ModelBytes bytes, String source) {
    Objects.requireNonNull(bytes, "bytes");
    return new Builder(source, hadoop -> bytes, null, null);
  }

  /** A model already loaded and validated, with the bytes it was loaded from (they are what executors get). */
  public static Builder builder(LoadedModel model, ModelBytes bytes) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(bytes, "bytes");
    if (!sha256(bytes).equals(model.contentHash())) {
      throw new ConfigException("Cannot score with this model: the bytes given are not the ones it was loaded from "
          + "(content hash " + sha256(bytes) + ", model " + model.contentHash() + ")");
    }
    return new Builder("model " + model.contentHash(), hadoop -> bytes, model, null);
  }

  /**
   * A model already loaded and validated from directory {@code modelUri}, which executors read themselves (a large
   * model: nothing but the URI is broadcast; each executor checks it still has the model's content hash).
   */
  public static Builder builder(LoadedModel model, String modelUri) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(modelUri, "modelUri");
    return new Builder(modelUri, hadoop -> readModel(modelUri, hadoop), model, modelUri);
  }

  public LoadedModel model() {
    return model;
  }

  /**
   * The heads written as their top k, head name → K in the model's head order, as resolved from {@link Builder#topK}
   * ({@link #EVERY_HEAD} expanded); empty when every head is written whole.
   */
  public Map<String, Integer> topKByHead() {
    Map<String, Integer> byHead = new LinkedHashMap<>();
    for (int h = 0; options.topK() != null && h < options.topK().length; h++) {
      if (options.topK()[h] > 0) {
        byHead.put(model.graph().heads().get(h).name(), options.topK()[h]);
      }
    }
    return Collections.unmodifiableMap(byHead);
  }

  /** The token input whose ids are left out of each row's top k ({@link Builder#topKExcludeSeen}), or null. */
  public String topKExcludeSeen() {
    return options.topKExcludeSeen();
  }

  /**
   * The bytes of the model's two files, as read and validated (what executors decode), or null for a large model
   * that executors read from its directory ({@link #SHIP_BY_PATH_ABOVE_BYTES}).
   */
  public ModelBytes modelBytes() {
    return modelBytes;
  }

  /** The dtypes model.safetensors stores its tensors in, sorted (from its header). */
  public List<String> storedDtypes() {
    if (modelBytes != null) {
      return SafeTensors.storedDtypes(modelBytes.safetensors(), "of the model");
    }
    return withSafetensors(modelDirectory, Builder.activeHadoopConf(), (in, size) ->
        SafeTensors.storedDtypes(in, size, modelDirectory + "/" + ModelLoader.MODEL_SAFETENSORS));
  }

  /** What executors get: the bytes, or the directory; the driver's model is shared with executors in its JVM. */
  private ShippedModel ship() {
    ExecutorModelCache.shareDriverModel(model);
    return modelBytes != null ? ShippedModel.inline(modelBytes, model.contentHash())
        : ShippedModel.atDirectory(modelDirectory, model.contentHash());
  }

  /** Validates the input schema against the model and returns the (lazy) predictions and rejects. */
  public ScoreResult score(Dataset<Row> input) {
    StructType schema = input.schema();
    ModelGraph graph = model.graph();
    Names names = options.names;
    if (options.idCol == null) {
      throw new ConfigException("Cannot score without an id column: set " + names.idCol());
    }
    int idIndex = Schemas.columnIndex(schema, options.idCol, names.idCol());
    DataType idType = schema.fields()[idIndex].dataType();
    Schemas.checkIdType(options.idCol, idType, names.idCol());
    InputColumns columns = InputColumns.resolve(graph, schema, options.seqCol, options.columns, names);
    checkPerStep(graph, options.perStep, names.perStep());
    int[] keepIndices = new int[options.keepCols.size()];
    List<StructField> carried = new ArrayList<>();
    for (int i = 0; i < keepIndices.length; i++) {
      String column = options.keepCols.get(i);
      keepIndices[i] = Schemas.columnIndex(schema, column, names.keepCols());
      if (column.equals(Schemas.ID) || column.equals(options.idCol) || columns.names().contains(column)) {
        throw new ConfigException("Cannot keep column '" + column + "': it is already the id or a model input "
            + "column");
      }
      carried.add(schema.fields()[keepIndices[i]]);
    }
    StructType predictionSchema = Schemas.predictions(idType, carried, Schemas.headColumns(graph),
        options.emitEmbedding, options.perStep, options.topK);
    ScoreSettings settings = settings(input.sparkSession(), idIndex, columns, keepIndices, options.perStep,
        options.emitEmbedding, ScoreSettings.Output.PREDICTIONS);

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext());
    Broadcast<ShippedModel> broadcast = jsc.broadcast(ship());
    ScoreMetrics metrics = metrics(jsc);
    Dataset<Row> predictions =
        input.mapPartitions(new ScorePartition(broadcast, settings, metrics), Encoders.row(predictionSchema));
    Dataset<Row> rejects =
        RejectRows.candidates(input, settings)
            .flatMap(new RejectRows(settings), Encoders.row(Schemas.rejects(idType, carried)));
    return new ScoreResult(predictions, rejects, metrics, broadcast, columns.columnOfInput());
  }

  /**
   * The schema {@link #transform} returns for input {@code schema}: every input column in order, then {@code
   * append}'s columns. Checks the columns the model reads, their types and the appended names, on the driver.
   */
  public StructType transformSchema(StructType schema, Append append) {
    return resolve(schema, append).schema;
  }

  /**
   * One pass over {@code input}: each row's input columns, unchanged and in order, followed by the appended
   * columns (see {@link Append}); length-bucketed and padding-free per partition, like {@link #score}. Lazy. The
   * model's broadcast lives as long as the returned Dataset is referenced (Spark's cleaner removes it after).
   */
  public Dataset<Row> transform(Dataset<?> input, Append append) {
    Resolved r = resolve(input.schema(), append);
    ModelGraph graph = model.graph();
    ScoreSettings settings = settings(input.sparkSession(), r.idIndex, r.columns, new int[0],
        append.perStepCol() != null, append.embeddingCol() != null, append.invalid());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext());
    Broadcast<ShippedModel> broadcast = jsc.broadcast(ship());
    ScoreMetrics metrics = metrics(jsc);
    return input.toDF().mapPartitions(new ScorePartition(broadcast, settings, metrics), Encoders.row(r.schema));
  }

  /** The run's accumulators; the score histograms and deciles count each head's outputs, or its top k. */
  private ScoreMetrics metrics(JavaSparkContext jsc) {
    ModelGraph graph = model.graph();
    int[] widths = new int[graph.heads().size()];
    for (int h = 0; h < widths.length; h++) {
      widths[h] = options.topK != null && options.topK[h] > 0 ? options.topK[h] : graph.outFeatures(h);
    }
    return new ScoreMetrics(jsc.sc(), graph.heads().stream().map(ModelGraph.Head::name).toList(),
        graph.heads().stream().map(ModelGraph.Head::activation).toList(), widths);
  }

  private record Resolved(int idIndex, InputColumns columns, StructType schema) {}

  private Resolved resolve(StructType schema, Append append) {
    ModelGraph graph = model.graph();
    Names names = options.names;
    int idIndex = -1;
    if (options.idCol != null) {
      idIndex = Schemas.columnIndex(schema, options.idCol, names.idCol());
      Schemas.checkIdType(options.idCol, schema.fields()[idIndex].dataType(), names.idCol());
    }
    InputColumns columns = InputColumns.resolve(graph, schema, options.seqCol, options.columns, names);
    boolean perStep = append.perStepCol() != null;
    checkPerStep(graph, perStep, names.perStep());
    boolean keep = append.invalid() == ScoreSettings.Output.APPEND_KEEP;
    List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
    List<StructField> appended = new ArrayList<>();
    appended.add(DataTypes.createStructField(append.lengthCol(), DataTypes.IntegerType, keep));
    List<ModelGraph.Head> heads = graph.heads();
    for (int h = 0; h < heads.size(); h++) {
      String name = heads.size() == 1 ? append.outputCol() : append.outputCol() + "_" + heads.get(h).name();
      if (options.topK != null && options.topK[h] > 0) {
        appended.add(DataTypes.createStructField(name + Schemas.TOP_IDS,
            DataTypes.createArrayType(DataTypes.IntegerType, false), keep));
        appended.add(DataTypes.createStructField(name + Schemas.TOP_SCORES,
            DataTypes.createArrayType(DataTypes.FloatType, false), keep));
        continue;
      }
      appended.add(DataTypes.createStructField(name, DataTypes.createArrayType(DataTypes.FloatType, false), keep));
    }
    if (append.embeddingCol() != null) {
      appended.add(DataTypes.createStructField(append.embeddingCol(),
          DataTypes.createArrayType(DataTypes.FloatType, false), keep));
    }
    if (perStep) {
      appended.addAll(Schemas.stepColumns(append.perStepCol(), options.topK != null && options.topK[0] > 0, keep));
    }
    if (keep) {
      appended.add(DataTypes.createStructField(append.rejectReasonCol(), DataTypes.StringType, true));
    }
    List<String> taken = new ArrayList<>(Arrays.asList(schema.fieldNames()));
    for (StructField f : appended) {
      if (taken.contains(f.name())) {
        throw new ConfigException("Cannot append column '" + f.name() + "': " + (schema.getFieldIndex(f.name())
            .isDefined() ? "the input already has a column of that name" : "two appended columns have that name")
            + "; choose another output column name");
      }
      taken.add(f.name());
      fields.add(f);
    }
    return new Resolved(idIndex, columns, DataTypes.createStructType(fields));
  }

  /**
   * {@code K|HEAD=K} values (each may hold several, comma-separated) as head name (or {@link #EVERY_HEAD}) → K;
   * {@code setting} names them in messages ({@code --top-k}, {@code topK}).
   */
  /**
   * Score drift between two runs from their summaries ({@value io.seqpack.summary.RunSummary#FILE}, read with
   * {@link io.seqpack.summary.RunSummary#read}): per head, the PSI of {@code current}'s scores against {@code
   * baseline}'s, over bins both summaries counted exactly: their score histograms (20 equal bins, plus under- and
   * overflow) when both have them, else the decile edges they share. The bins differ from those {@code seqpack score
   * --drift-baseline} uses (the baseline's deciles, this run's scores counted in them), so the figures differ but
   * read the same way (below 0.1 stable, above 0.25 shifted); see {@link io.seqpack.summary.Drift#between}.
   *
   * @param baselineName how the entries and messages name the baseline, e.g. its path
   * @throws io.seqpack.SeqpackException one line, when a summary has no deciles or the heads differ
   */
  public static Map<String, io.seqpack.summary.RunSummary.HeadDrift> drift(io.seqpack.summary.RunSummary baseline,
      String baselineName, io.seqpack.summary.RunSummary current) {
    return io.seqpack.summary.Drift.between(baseline, baselineName, current);
  }

  public static Map<String, Integer> parseTopK(List<String> values, String setting) {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    for (String value : values.stream().flatMap(v -> Arrays.stream(v.split(","))).map(String::trim)
        .filter(v -> !v.isEmpty()).toList()) {
      int eq = value.indexOf('=');
      String head = eq < 0 ? EVERY_HEAD : value.substring(0, eq).trim();
      int k;
      try {
        k = Integer.parseInt(value.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        throw new ConfigException("Invalid " + setting + " '" + value + "': expected K or HEAD=K, e.g. " + setting
            + " 10 or " + setting + " next_item=20");
      }
      if (out.put(head, k) != null) {
        throw new ConfigException("Invalid " + setting + ": " + (eq < 0 ? "K" : "head '" + head + "'")
            + " is given twice");
      }
    }
    return out;
  }

  private void checkPerStep(ModelGraph graph, boolean perStep, String setting) {
    if (perStep && options.topKExcludeSeen != null) {
      throw new ConfigException("Cannot combine " + options.names.topKExcludeSeen() + " with " + setting + ": the "
          + "items a row has seen are its whole input, which every step's top k would see ahead of time");
    }
    if (perStep && !graph.supportsPerStep()) {
      throw new ConfigException("Cannot write per-step scores (" + setting + ") for this model: per-step scores "
          + "need one head reading one pooling part and no after-pooling static features; it has "
          + graph.heads().size() + " head(s), " + graph.pooling().size() + " pooling part(s)");
    }
  }

  private ScoreSettings settings(SparkSession spark, int idIndex, InputColumns columns, int[] keepIndices,
      boolean perStep, boolean emitEmbedding, ScoreSettings.Output output) {
    int excludeSeen = options.topKExcludeSeen == null ? -1
        : columns.steps().stream().map(InputColumns.Step::input).toList().indexOf(options.topKExcludeSeen);
    return new ScoreSettings(idIndex, columns, keepIndices, options.maxLength, options.names.maxLength(), perStep,
        emitEmbedding, options.plan, model.contentHash(), options.allowNonFiniteWeights, options.engine.vocabTableMaxFloats(),
        modelCacheBytes(spark), output, model.graph().heads().size(), options.topK, excludeSeen);
  }

  /**
   * Per head, its top-k ({@code 0}: the whole vector), or null when none was asked for; checked against the model:
   * K ≥ 1, a head that exists, has 2 or more outputs and at least K; the excluded input a tokens input.
   */
  private static int[] topK(ModelGraph graph, Map<String, Integer> byHead, String excludeSeen, Names names) {
    if (byHead.isEmpty()) {
      if (excludeSeen != null) {
        throw new ConfigException("Cannot use " + names.topKExcludeSeen() + " " + excludeSeen + " without "
            + names.topK() + ": it leaves items out of the top k");
      }
      return null;
    }
    List<String> headNames = graph.heads().stream().map(ModelGraph.Head::name).toList();
    int[] k = new int[headNames.size()];
    for (Map.Entry<String, Integer> e : byHead.entrySet()) {
      String what = e.getKey().equals(EVERY_HEAD) ? Integer.toString(e.getValue()) : e.getKey() + "=" + e.getValue();
      if (e.getValue() < 1) {
        throw new ConfigException("Invalid " + names.topK() + " " + what + ": expected K >= 1");
      }
      if (!e.getKey().equals(EVERY_HEAD) && !headNames.contains(e.getKey())) {
        throw new ConfigException("Invalid " + names.topK() + " " + what + ": the model has no head '" + e.getKey()
            + "' (heads: " + String.join(", ", headNames) + ")");
      }
    }
    for (int h = 0; h < k.length; h++) {
      int width = graph.outFeatures(h);
      Integer named = byHead.get(headNames.get(h));
      Integer every = byHead.get(EVERY_HEAD);
      k[h] = named != null ? named : every != null && width >= 2 ? every : 0;
      if (k[h] > 0 && (width < 2 || k[h] > width)) {
        throw new ConfigException("Cannot take the top " + k[h] + " of head '" + headNames.get(h) + "' ("
            + names.topK() + "): it has " + width + " output" + (width == 1 ? "" : "s")
            + (width < 2 ? "; top-k needs a head of 2 or more outputs" : ""));
      }
    }
    if (Arrays.stream(k).allMatch(v -> v == 0)) {
      throw new ConfigException("Cannot take the top " + byHead.get(EVERY_HEAD) + " (" + names.topK() + "): every "
          + "head of the model has 1 output; top-k needs a head of 2 or more outputs");
    }
    if (excludeSeen != null) {
      StepInput in = graph.inputs().stream().filter(i -> i.name().equals(excludeSeen)).findFirst()
          .orElseThrow(() -> new ConfigException("Invalid " + names.topKExcludeSeen() + " " + excludeSeen
              + ": the model has no input of that name (inputs: " + String.join(", ",
                  graph.inputs().stream().map(StepInput::name).toList()) + ")"));
      if (in.kind() != io.seqpack.model.ModelSpec.InputKind.TOKENS) {
        throw new ConfigException("Invalid " + names.topKExcludeSeen() + " " + excludeSeen + ": it is a features "
            + "input; the items a row has seen are the ids of a tokens input");
      }
    }
    return k;
  }

  /** {@value ExecutorModelCache#BUDGET_KEY} from the session (runtime) or the Spark conf, else the default. */
  static long modelCacheBytes(SparkSession spark) {
    return bytesSetting(spark, ExecutorModelCache.BUDGET_KEY, ExecutorModelCache.DEFAULT_BUDGET_BYTES);
  }

  /** {@value #BROADCAST_MAX_KEY} from the active session, else the default. */
  private static long broadcastMaxBytes() {
    return SparkSession.getActiveSession().map(s -> bytesSetting(s, BROADCAST_MAX_KEY, SHIP_BY_PATH_ABOVE_BYTES))
        .getOrElse(() -> SHIP_BY_PATH_ABOVE_BYTES);
  }

  private static long bytesSetting(SparkSession spark, String key, long defaultBytes) {
    String value = spark.conf().getOption(key).getOrElse(
        () -> spark.sparkContext().getConf().get(key, Long.toString(defaultBytes)));
    try {
      long bytes = Long.parseLong(value.trim());
      if (bytes < 0) {
        throw new NumberFormatException();
      }
      return bytes;
    } catch (NumberFormatException e) {
      throw new ConfigException("Invalid " + key + " '" + value + "': expected a number of bytes >= 0");
    }
  }

  /**
   * Reads the two files of a model directory at a Hadoop URI, with the checks and messages of {@link
   * ModelLoader#readDirectory}.
   *
   * @throws ModelFormatException {@code Cannot read model directory <uri>: <reason>}
   */
  public static ModelBytes readModel(String uri, Configuration hadoop) {
    String prefix = "Cannot read model directory " + uri + ": ";
    try {
      org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(uri);
      FileSystem fs = dir.getFileSystem(hadoop);
      byte[] json = readModelJson(fs, dir, prefix);
      return new ModelBytes(json,
          readFile(fs, dir, ModelLoader.MODEL_SAFETENSORS, ModelLoader.MAX_SAFETENSORS_BYTES, prefix));
    } catch (IOException | IllegalArgumentException e) {
      throw new ModelFormatException(prefix + e.getMessage(), e);
    }
  }

  /**
   * Reads and validates the model in directory {@code uri} (any Hadoop file system), streaming model.safetensors
   * into the tensors (never the whole file in memory), with the checks and messages of {@link #readModel}.
   */
  public static LoadedModel loadModel(String uri, Configuration hadoop, boolean allowNonFinite) {
    String prefix = "Cannot read model directory " + uri + ": ";
    byte[] json;
    try {
      org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(uri);
      json = readModelJson(dir.getFileSystem(hadoop), dir, prefix);
    } catch (IOException | IllegalArgumentException e) {
      throw new ModelFormatException(prefix + e.getMessage(), e);
    }
    return withSafetensors(uri, hadoop, (in, size) -> ModelLoader.load(json, in, size, uri, allowNonFinite));
  }

  /** What {@link #withSafetensors} does with the open file. */
  private interface SafetensorsReader<T> {
    T read(InputStream in, long size) throws IOException;
  }

  /** Opens model.safetensors in directory {@code uri}, checked as {@link #readModel} checks it, for {@code reader}. */
  private static <T> T withSafetensors(String uri, Configuration hadoop, SafetensorsReader<T> reader) {
    String prefix = "Cannot read model directory " + uri + ": ";
    String name = ModelLoader.MODEL_SAFETENSORS;
    try {
      org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(uri);
      FileSystem fs = dir.getFileSystem(hadoop);
      org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir, name);
      long size = checkedSize(fs, file, name, ModelLoader.MAX_SAFETENSORS_BYTES, prefix);
      try (InputStream in = fs.open(file)) {
        return reader.read(in, size);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new ModelFormatException(prefix + "cannot read " + name + " (" + e + ")", e);
    }
  }

  /** The size of model.safetensors in directory {@code uri}, or -1 when it cannot be told (then it is read whole). */
  private static long safetensorsSize(String uri, Configuration hadoop) {
    try {
      org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(uri, ModelLoader.MODEL_SAFETENSORS);
      FileStatus status = file.getFileSystem(hadoop).getFileStatus(file);
      return status.isFile() ? status.getLen() : -1;
    } catch (IOException | IllegalArgumentException e) {
      return -1;
    }
  }

  /** model.json of directory {@code dir}, after checking that the directory exists. */
  private static byte[] readModelJson(FileSystem fs, org.apache.hadoop.fs.Path dir, String prefix) throws IOException {
    if (!fs.exists(dir)) {
      throw new ModelFormatException(prefix + "it does not exist");
    }
    if (!fs.getFileStatus(dir).isDirectory()) {
      throw new ModelFormatException(prefix + "it is not a directory");
    }
    return readFile(fs, dir, ModelLoader.MODEL_JSON, ModelLoader.MAX_JSON_BYTES, prefix);
  }

  /** The size of model file {@code name}: it must exist, be a regular file and hold at most {@code maxBytes}. */
  private static long checkedSize(FileSystem fs, org.apache.hadoop.fs.Path file, String name, long maxBytes,
      String prefix) throws IOException {
    if (!fs.exists(file)) {
      throw new ModelFormatException(prefix + name + " is missing");
    }
    FileStatus status = fs.getFileStatus(file);
    if (!status.isFile()) {
      throw new ModelFormatException(prefix + name + " is not a regular file");
    }
    long size = status.getLen();
    if (size > maxBytes) {
      throw new ModelFormatException(prefix + name + " is " + size + " bytes, expected at most " + maxBytes);
    }
    return size;
  }

  private static byte[] readFile(FileSystem fs, org.apache.hadoop.fs.Path dir, String name, long maxBytes,
      String prefix) throws IOException {
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir, name);
    long size = checkedSize(fs, file, name, maxBytes, prefix);
    byte[] bytes = new byte[(int) size];
    try (InputStream in = fs.open(file)) {
      int at = 0;
      while (at < bytes.length) {
        int n = in.read(bytes, at, bytes.length - at);
        if (n < 0) {
          throw new ModelFormatException(prefix + name + " ended after " + at + " of " + size + " bytes");
        }
        at += n;
      }
      if (in.read() >= 0) {
        throw new ModelFormatException(prefix + name + " grew while it was read");
      }
    } catch (IOException e) {
      throw new ModelFormatException(prefix + "cannot read " + name + " (" + e + ")", e);
    }
    return bytes;
  }

  private static String sha256(ModelBytes bytes) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(bytes.modelJson());
      sha.update(bytes.safetensors());
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** Where a builder's model bytes come from. */
  private interface Source {
    ModelBytes read(Configuration hadoop);
  }

  /** Options with defaults that work without tuning. */
  public static final class Builder {
    private final String source;
    private final Source reader;
    private final LoadedModel loaded;
    private Configuration hadoop;
    private String idCol = "id";
    private String seqCol; // null: each input reads the column of its own name
    private Map<String, String> columns = Map.of();
    private boolean emitEmbedding;
    private List<String> keepCols = List.of();
    private boolean perStep;
    private int maxLength;
    private BatchPlan plan = BatchPlan.defaults();
    private boolean allowNonFiniteWeights;
    private SequenceModel.Options engine = SequenceModel.Options.DEFAULT;
    private Names names = Names.SETTINGS;
    private Map<String, Integer> topK = Map.of();
    private String topKExcludeSeen;

    private final String directory; // where executors can read the model from, or null: bytes only

    private Builder(String source, Source reader, LoadedModel loaded, String directory) {
      this.source = source;
      this.reader = reader;
      this.loaded = loaded;
      this.directory = directory;
    }

    /** The id column ({@code id} by default); null for none ({@link #transform} only). */
    public Builder idCol(String column) {
      this.idCol = column;
      return this;
    }

    /** The column of a single-input model's sequence (default: the input's name, {@code seq} for version 1). */
    public Builder seqCol(String column) {
      this.seqCol = column;
      return this;
    }

    /** Model input (or static feature) name → input column, for inputs whose column has another name. */
    public Builder columns(Map<String, String> columns) {
      this.columns = Map.copyOf(columns);
      return this;
    }

    /** Also emit {@code embedding}: the vector the heads see. */
    public Builder emitEmbedding(boolean emit) {
      this.emitEmbedding = emit;
      return this;
    }

    /** Input columns copied to both outputs unchanged, after the id. */
    public Builder keepCols(List<String> columns) {
      this.keepCols = List.copyOf(columns);
      return this;
    }

    /** Also emit {@code step_scores}: the head applied to every valid step. */
    public Builder perStep(boolean perStep) {
      this.perStep = perStep;
      return this;
    }

    /** Reject rows longer than this as TOO_LONG; 0 (the default) means no limit. Checked by {@link #build}. */
    public Builder maxLength(int maxLength) {
      this.maxLength = maxLength;
      return this;
    }

    /** Minibatch planning: token budget, row cap and the window of batches sorted at a time. */
    public Builder batchPlan(BatchPlan plan) {
      this.plan = Objects.requireNonNull(plan);
      return this;
    }

    /** The engine's options (the vocabulary-table limit); part of the executor cache key. */
    public Builder engineOptions(SequenceModel.Options engine) {
      this.engine = Objects.requireNonNull(engine);
      return this;
    }

    /**
     * Instead of head {@code HEAD}'s whole vector, its {@code K} best scores and their item ids (two columns,
     * {@code <column>_top_ids}, {@code <column>_top_scores}): {@code HEAD → K}, or {@link #EVERY_HEAD} → K for
     * every head of 2 or more outputs. Checked by {@link #build}.
     */
    public Builder topK(Map<String, Integer> kByHead) {
      this.topK = Map.copyOf(kByHead);
      return this;
    }

    /** Leave the items of the row's own tokens input {@code input} out of its top k (null: none). */
    public Builder topKExcludeSeen(String input) {
      this.topKExcludeSeen = input;
      return this;
    }

    /** Accept weights that contain NaN or infinity (refused by default). */
    public Builder allowNonFiniteWeights(boolean allow) {
      this.allowNonFiniteWeights = allow;
      return this;
    }

    /** The Hadoop configuration a model URI is read with (default: the active session's). */
    public Builder hadoopConf(Configuration hadoop) {
      this.hadoop = hadoop;
      return this;
    }

    /** How messages name the settings ({@link Names#SETTINGS} by default; the CLI uses {@link Names#CLI_FLAGS}). */
    public Builder names(Names names) {
      this.names = Objects.requireNonNull(names);
      return this;
    }

    /** Reads and validates the model on the driver. */
    public SequenceScorer build() {
      if (maxLength < 0) {
        throw new ConfigException("Invalid " + names.maxLength() + " " + maxLength
            + ": must be 0 (no limit) or positive");
      }
      Configuration conf = hadoop != null ? hadoop : activeHadoopConf();
      ModelBytes bytes = null;
      LoadedModel model = loaded;
      if (directory != null && safetensorsSize(directory, conf) > broadcastMaxBytes()) {
        if (model == null) {
          model = loadModel(directory, conf, allowNonFiniteWeights);
        }
      } else {
        bytes = reader.read(conf);
        if (loaded != null && directory != null && !sha256(bytes).equals(loaded.contentHash())) {
          throw new ConfigException("Cannot score with this model: " + directory + " holds another model than the "
              + "one loaded (content hash " + sha256(bytes) + ", model " + loaded.contentHash() + ")");
        }
        model = loaded != null ? loaded : ModelLoader.load(bytes, source, allowNonFiniteWeights);
      }
      int[] k = SequenceScorer.topK(model.graph(), topK, topKExcludeSeen, names);
      return new SequenceScorer(model, bytes, bytes == null ? directory : null, new Options(idCol, seqCol, columns,
          emitEmbedding, keepCols, perStep, maxLength, plan, allowNonFiniteWeights, engine, names, k,
          topKExcludeSeen));
    }

    private static Configuration activeHadoopConf() {
      return SparkSession.getActiveSession().map(s -> s.sparkContext().hadoopConfiguration())
          .getOrElse(Configuration::new);
    }
  }
}
