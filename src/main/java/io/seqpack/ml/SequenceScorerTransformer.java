package io.seqpack.ml;

import io.seqpack.ConfigException;
import io.seqpack.ModelFormatException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.parts.StepInput;
import io.seqpack.nn.SequenceModel;
import io.seqpack.spark.ScoreSettings;
import io.seqpack.spark.SequenceScorer;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * seqpack as a Spark ML stage: scores variable-length sequences with an RNN exported from PyTorch and APPENDS the
 * scores to every input column (a pipeline stage never drops the user's columns). Scoring is what {@code seqpack
 * score} does: per partition, rows are decoded ({@code RowCodec}), length-bucketed within a bounded window, scored
 * padding-free by the engine, with the model decoded once per executor JVM.
 *
 * <pre>{@code
 * SequenceScorerTransformer seqpack = new SequenceScorerTransformer()
 *     .setModelPath("hdfs:///models/fraud").setInputCols(new String[] {"event_ids", "amounts"})
 *     .setStaticCols(new String[] {"profile"}).setHandleInvalid("keep");
 * PipelineModel model = new Pipeline().setStages(new PipelineStage[] {sql, seqpack}).fit(train);
 * model.write().overwrite().save("pipelines/fraud"); // params + model.json + model.safetensors
 * PipelineModel.load("pipelines/fraud").transform(events);
 * }</pre>
 *
 * <p>Params: {@code modelPath} (any Hadoop URI or a relative path), {@code inputCols} (the model's per-step inputs
 * in its order; {@code inputCol} for single-input models; unset: each input reads the column of its own name),
 * {@code staticCols}, {@code idCol} ({@code id}: names bad rows in errors and checks them for NULL_ID), {@code
 * outputCol} ({@code scores}; several heads: {@code <outputCol>_<head>}), {@code lengthCol} ({@code length}),
 * {@code embeddingCol} and {@code perStepCol} (unset: not emitted), {@code batchTokens}, {@code maxBatchRows},
 * {@code windowBatches}, {@code maxLength}, {@code vocabTableMaxFloats}, {@code allowNonFiniteWeights}, {@code
 * handleInvalid} ({@code error} | {@code skip} | {@code keep}, as Spark's Bucketizer) and {@code rejectReasonCol}
 * ({@code reject_reason}, with keep: {@code REASON: detail}, null for scored rows), {@code topK} ({@code K} or
 * {@code HEAD=K[,HEAD=K]}: a head's K best as {@code <column>_top_ids} and {@code <column>_top_scores} instead of
 * its vector) and {@code topKExcludeSeen} (a tokens input whose ids are left out of the row's top K).
 *
 * <p>{@link #write()} stores the params (Spark's {@code metadata/}) and the model's two files under {@code
 * model/} of the stage folder, so a saved pipeline does not need the original model directory; {@link #load}
 * validates those files as {@code seqpack score} does. Executors get the model from a broadcast of the files'
 * bytes, not from {@code modelPath}: the driver validated exactly those bytes, executors may lack access to a
 * driver-side path (a relative or {@code file:} path), and a model replaced in place cannot reach half of the
 * executors. The broadcast is a byte array, so model.safetensors is limited to about 2 GiB (refused with a message
 * when read).
 */
public class SequenceScorerTransformer extends Transformer implements MLWritable {
  private static final long serialVersionUID = 1L;

  /** The stage folder's subfolder holding model.json and model.safetensors. */
  public static final String MODEL_DIR = "model";

  private final String uid;

  private final Param<String> modelPath;
  private final StringArrayParam inputCols;
  private final Param<String> inputCol;
  private final StringArrayParam staticCols;
  private final Param<String> idCol;
  private final Param<String> outputCol;
  private final Param<String> lengthCol;
  private final Param<String> embeddingCol;
  private final Param<String> perStepCol;
  private final IntParam batchTokens;
  private final IntParam maxBatchRows;
  private final IntParam windowBatches;
  private final IntParam maxLength;
  private final LongParam vocabTableMaxFloats;
  private final BooleanParam allowNonFiniteWeights;
  private final Param<String> handleInvalid;
  private final Param<String> rejectReasonCol;
  private final Param<String> topK;
  private final Param<String> topKExcludeSeen;

  /** The model read for {@link #modelPath} (or from a saved stage), with the path it stands for. */
  private record Loaded(String path, boolean allowNonFinite, ModelBytes bytes, LoadedModel model) {}

  private transient Loaded loaded;

  public SequenceScorerTransformer() {
    this(Identifiable$.MODULE$.randomUID("seqpack"));
  }

  public SequenceScorerTransformer(String uid) {
    this.uid = uid;
    modelPath = new Param<>(this, "modelPath", "the model directory (model.json + model.safetensors): any Hadoop "
        + "URI (file:, hdfs:, s3a:) or a relative path");
    inputCols = new StringArrayParam(this, "inputCols", "the columns of the model's per-step inputs, in the "
        + "model's input order (default: each input's own name)");
    inputCol = new Param<>(this, "inputCol", "the sequence column of a single-input model");
    staticCols = new StringArrayParam(this, "staticCols", "the columns of the model's static features, in the "
        + "model's order (default: each feature's own name)");
    idCol = new Param<>(this, "idCol", "the id column (integer or string; default id): names bad rows in errors; "
        + "a null id is a NULL_ID bad row");
    outputCol = new Param<>(this, "outputCol", "the scores column; with several heads one column per head, named "
        + "<outputCol>_<head>");
    lengthCol = new Param<>(this, "lengthCol", "the column with each row's length");
    embeddingCol = new Param<>(this, "embeddingCol", "when set, the pooled vector the heads see");
    perStepCol = new Param<>(this, "perStepCol", "when set, the head applied to every valid step");
    batchTokens = new IntParam(this, "batchTokens", "budget per minibatch in padded tokens (rows x longest)",
        ParamValidators.gtEq(1));
    maxBatchRows = new IntParam(this, "maxBatchRows", "cap on rows per minibatch", ParamValidators.gtEq(1));
    windowBatches = new IntParam(this, "windowBatches", "batches' worth of rows sorted by length at a time "
        + "(memory is bounded by windowBatches x batchTokens steps)", ParamValidators.gtEq(1));
    maxLength = new IntParam(this, "maxLength", "longer rows are bad (TOO_LONG); 0 means no limit",
        ParamValidators.gtEq(0));
    vocabTableMaxFloats = new LongParam(this, "vocabTableMaxFloats", "largest vocabulary table (embedding folded "
        + "into the first layer's input weights) in floats; 0 disables them", ParamValidators.gtEq(0));
    allowNonFiniteWeights = new BooleanParam(this, "allowNonFiniteWeights", "accept weights with NaN or infinity");
    handleInvalid = new Param<>(this, "handleInvalid", "what to do with rows that cannot be scored: error (fail on "
        + "the first, with its reason), skip (drop them) or keep (null scores, reason in rejectReasonCol)",
        ParamValidators.inArray(new String[] {"error", "skip", "keep"}));
    rejectReasonCol = new Param<>(this, "rejectReasonCol", "with handleInvalid=keep: REASON: detail for a bad "
        + "row, null for a scored one");
    topK = new Param<>(this, "topK", "K (every head of 2 or more outputs) or HEAD=K[,HEAD=K]: instead of a head's "
        + "scores, its K best as <column>_top_ids (array<int>) and <column>_top_scores (array<float>), score "
        + "descending, ties to the lower index");
    topKExcludeSeen = new Param<>(this, "topKExcludeSeen", "with topK: a tokens input whose ids in the row are left "
        + "out of its top K");
    setDefault(idCol, "id");
    setDefault(outputCol, "scores");
    setDefault(lengthCol, "length");
    setDefault(batchTokens, BatchPlan.DEFAULT_BATCH_TOKENS);
    setDefault(maxBatchRows, BatchPlan.DEFAULT_MAX_BATCH_ROWS);
    setDefault(windowBatches, BatchPlan.DEFAULT_WINDOW_BATCHES);
    setDefault(maxLength, 0);
    setDefault(vocabTableMaxFloats, SequenceModel.DEFAULT_VOCAB_TABLE_MAX_FLOATS);
    setDefault(allowNonFiniteWeights, false);
    setDefault(handleInvalid, "error");
    setDefault(rejectReasonCol, "reject_reason");
  }

  @Override
  public String uid() {
    return uid;
  }

  // ---- params: accessors (Spark finds params through these), getters, setters ----

  public Param<String> modelPath() {
    return modelPath;
  }

  public StringArrayParam inputCols() {
    return inputCols;
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public StringArrayParam staticCols() {
    return staticCols;
  }

  public Param<String> idCol() {
    return idCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> lengthCol() {
    return lengthCol;
  }

  public Param<String> embeddingCol() {
    return embeddingCol;
  }

  public Param<String> perStepCol() {
    return perStepCol;
  }

  public Param<String> topK() {
    return topK;
  }

  public Param<String> topKExcludeSeen() {
    return topKExcludeSeen;
  }

  public IntParam batchTokens() {
    return batchTokens;
  }

  public IntParam maxBatchRows() {
    return maxBatchRows;
  }

  public IntParam windowBatches() {
    return windowBatches;
  }

  public IntParam maxLength() {
    return maxLength;
  }

  public LongParam vocabTableMaxFloats() {
    return vocabTableMaxFloats;
  }

  public BooleanParam allowNonFiniteWeights() {
    return allowNonFiniteWeights;
  }

  public Param<String> handleInvalid() {
    return handleInvalid;
  }

  public Param<String> rejectReasonCol() {
    return rejectReasonCol;
  }

  public String getModelPath() {
    return optional(modelPath);
  }

  public String[] getInputCols() {
    return optional(inputCols);
  }

  public String getInputCol() {
    return optional(inputCol);
  }

  public String[] getStaticCols() {
    return optional(staticCols);
  }

  public String getIdCol() {
    return getOrDefault(idCol);
  }

  public String getOutputCol() {
    return getOrDefault(outputCol);
  }

  public String getLengthCol() {
    return getOrDefault(lengthCol);
  }

  public String getEmbeddingCol() {
    return optional(embeddingCol);
  }

  public String getPerStepCol() {
    return optional(perStepCol);
  }

  public String getTopK() {
    return optional(topK);
  }

  public String getTopKExcludeSeen() {
    return optional(topKExcludeSeen);
  }

  public int getBatchTokens() {
    return (Integer) getOrDefault(batchTokens);
  }

  public int getMaxBatchRows() {
    return (Integer) getOrDefault(maxBatchRows);
  }

  public int getWindowBatches() {
    return (Integer) getOrDefault(windowBatches);
  }

  public int getMaxLength() {
    return (Integer) getOrDefault(maxLength);
  }

  public long getVocabTableMaxFloats() {
    return (Long) getOrDefault(vocabTableMaxFloats);
  }

  public boolean getAllowNonFiniteWeights() {
    return (Boolean) getOrDefault(allowNonFiniteWeights);
  }

  public String getHandleInvalid() {
    return getOrDefault(handleInvalid);
  }

  public String getRejectReasonCol() {
    return getOrDefault(rejectReasonCol);
  }

  public SequenceScorerTransformer setModelPath(String value) {
    return setParam(modelPath, value);
  }

  public SequenceScorerTransformer setInputCols(String[] value) {
    return setParam(inputCols, value);
  }

  public SequenceScorerTransformer setInputCol(String value) {
    return setParam(inputCol, value);
  }

  public SequenceScorerTransformer setStaticCols(String[] value) {
    return setParam(staticCols, value);
  }

  public SequenceScorerTransformer setIdCol(String value) {
    return setParam(idCol, value);
  }

  public SequenceScorerTransformer setOutputCol(String value) {
    return setParam(outputCol, value);
  }

  public SequenceScorerTransformer setLengthCol(String value) {
    return setParam(lengthCol, value);
  }

  public SequenceScorerTransformer setEmbeddingCol(String value) {
    return setParam(embeddingCol, value);
  }

  public SequenceScorerTransformer setPerStepCol(String value) {
    return setParam(perStepCol, value);
  }

  public SequenceScorerTransformer setTopK(String value) {
    return setParam(topK, value);
  }

  public SequenceScorerTransformer setTopKExcludeSeen(String value) {
    return setParam(topKExcludeSeen, value);
  }

  public SequenceScorerTransformer setBatchTokens(int value) {
    return setParam(batchTokens, value);
  }

  public SequenceScorerTransformer setMaxBatchRows(int value) {
    return setParam(maxBatchRows, value);
  }

  public SequenceScorerTransformer setWindowBatches(int value) {
    return setParam(windowBatches, value);
  }

  public SequenceScorerTransformer setMaxLength(int value) {
    return setParam(maxLength, value);
  }

  public SequenceScorerTransformer setVocabTableMaxFloats(long value) {
    return setParam(vocabTableMaxFloats, value);
  }

  public SequenceScorerTransformer setAllowNonFiniteWeights(boolean value) {
    return setParam(allowNonFiniteWeights, value);
  }

  public SequenceScorerTransformer setHandleInvalid(String value) {
    return setParam(handleInvalid, value);
  }

  public SequenceScorerTransformer setRejectReasonCol(String value) {
    return setParam(rejectReasonCol, value);
  }

  private <T> SequenceScorerTransformer setParam(Param<T> param, T value) {
    set(param, value);
    return this;
  }

  private <T> T optional(Param<T> param) {
    return isDefined(param) ? getOrDefault(param) : null;
  }

  // ---- the Transformer ----

  @Override
  public StructType transformSchema(StructType schema) {
    return scorer().transformSchema(schema, append());
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    return scorer().transform(dataset, append());
  }

  @Override
  public SequenceScorerTransformer copy(ParamMap extra) {
    SequenceScorerTransformer copy = defaultCopy(extra);
    copy.loaded = loaded; // a loaded stage's model travels with its copies (its modelPath may be gone)
    return copy;
  }

  /** The model this stage scores with: read from {@link #modelPath} (once) or from the saved stage. */
  public synchronized LoadedModel model() {
    return loaded().model();
  }

  private synchronized Loaded loaded() {
    String path = getModelPath();
    if (path == null) {
      throw new ConfigException("Cannot score with " + uid + ": modelPath is not set");
    }
    boolean allow = getAllowNonFiniteWeights();
    if (loaded == null || !loaded.path().equals(path) || loaded.allowNonFinite() != allow) {
      ModelBytes bytes = SequenceScorer.readModel(path, hadoopConf());
      loaded = new Loaded(path, allow, bytes, ModelLoader.load(bytes, path, allow));
    }
    return loaded;
  }

  private SequenceScorer scorer() {
    Loaded l = loaded();
    ModelGraph graph = l.model().graph();
    Map<String, String> columns = new LinkedHashMap<>();
    String seqCol = null;
    String[] inputs = getInputCols();
    String single = getInputCol();
    if (inputs != null && single != null) {
      throw new ConfigException("Cannot use both inputCol and inputCols: set one of them");
    }
    if (single != null) {
      if (graph.inputs().size() != 1) {
        throw new ConfigException("Cannot use inputCol for a model with " + graph.inputs().size() + " per-step "
            + "inputs (" + inputNames(graph) + "): set inputCols, one column per input in that order");
      }
      seqCol = single;
    }
    if (inputs != null) {
      if (inputs.length != graph.inputs().size()) {
        throw new ConfigException("Cannot map inputCols " + Arrays.toString(inputs) + " to the model's "
            + graph.inputs().size() + " per-step input(s) " + inputNames(graph) + ": expected one column per "
            + "input, in that order");
      }
      for (int k = 0; k < inputs.length; k++) {
        columns.put(graph.inputs().get(k).name(), inputs[k]);
      }
    }
    String[] statics = getStaticCols();
    if (statics != null) {
      if (statics.length != graph.statics().size()) {
        List<String> names = graph.statics().stream().map(ModelGraph.StaticInput::name).toList();
        throw new ConfigException("Cannot map staticCols " + Arrays.toString(statics) + " to the model's "
            + graph.statics().size() + " static feature(s) " + names + ": expected one column per feature, in "
            + "that order");
      }
      for (int k = 0; k < statics.length; k++) {
        columns.put(graph.statics().get(k).name(), statics[k]);
      }
    }
    return SequenceScorer.builder(l.model(), l.bytes())
        .idCol(getIdCol())
        .seqCol(seqCol)
        .columns(columns)
        .maxLength(getMaxLength())
        .batchPlan(new BatchPlan(getBatchTokens(), getMaxBatchRows(), getWindowBatches()))
        .engineOptions(new SequenceModel.Options(getVocabTableMaxFloats()))
        .allowNonFiniteWeights(getAllowNonFiniteWeights())
        .topK(SequenceScorer.parseTopK(getTopK() == null ? List.of() : List.of(getTopK()), "topK"))
        .topKExcludeSeen(getTopKExcludeSeen())
        .names(new ParamNames(graph))
        .build();
  }

  private static List<String> inputNames(ModelGraph graph) {
    return graph.inputs().stream().map(StepInput::name).toList();
  }

  private SequenceScorer.Append append() {
    ScoreSettings.Output invalid = switch (getHandleInvalid()) {
      case "skip" -> ScoreSettings.Output.APPEND_SKIP;
      case "keep" -> ScoreSettings.Output.APPEND_KEEP;
      default -> ScoreSettings.Output.APPEND_ERROR;
    };
    return new SequenceScorer.Append(getLengthCol(), getOutputCol(), getEmbeddingCol(), getPerStepCol(), invalid,
        getRejectReasonCol());
  }

  /** Messages name this stage's params. */
  private static final class ParamNames implements SequenceScorer.Names {
    private final List<String> inputs;
    private final List<String> statics;

    ParamNames(ModelGraph graph) {
      inputs = inputNames(graph);
      statics = graph.statics().stream().map(ModelGraph.StaticInput::name).toList();
    }

    @Override
    public String idCol() {
      return "idCol";
    }

    @Override
    public String seqCol() {
      return "inputCol";
    }

    @Override
    public String keepCols() {
      return "keepCols";
    }

    @Override
    public String perStep() {
      return "perStepCol";
    }

    @Override
    public String maxLength() {
      return "maxLength";
    }

    @Override
    public String columns() {
      return "inputCols/staticCols";
    }

    @Override
    public String mapped(String input, String column) {
      int k = inputs.indexOf(input);
      return k >= 0 ? "inputCols[" + k + "]" : "staticCols[" + statics.indexOf(input) + "]";
    }

    @Override
    public String unmapped(String kind, String input) {
      return kind + " " + input + "; set " + (kind.startsWith("static") ? "staticCols" : "inputCols")
          + " to read another column";
    }

    @Override
    public String pickColumn() {
      return "set inputCols (or inputCol) and staticCols to pick other columns";
    }
  }

  private static Configuration hadoopConf() {
    return SparkSession.getActiveSession().map(s -> s.sparkContext().hadoopConfiguration())
        .getOrElse(Configuration::new);
  }

  // ---- persistence ----

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  @Override
  public void save(String path) throws IOException {
    write().save(path);
  }

  public static MLReader<SequenceScorerTransformer> read() {
    return new Reader();
  }

  public static SequenceScorerTransformer load(String path) {
    return read().load(path);
  }

  /** Spark's params metadata, then {@code model/model.json} and {@code model/model.safetensors}. */
  private static final class Writer extends MLWriter {
    private final SequenceScorerTransformer stage;

    Writer(SequenceScorerTransformer stage) {
      this.stage = stage;
    }

    @Override
    public void saveImpl(String path) {
      ModelBytes bytes = stage.loaded().bytes(); // read and validated before anything is written
      DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sparkSession());
      Path dir = new Path(path, MODEL_DIR);
      Configuration hadoop = sparkSession().sparkContext().hadoopConfiguration();
      try {
        FileSystem fs = dir.getFileSystem(hadoop);
        write(fs, new Path(dir, ModelLoader.MODEL_JSON), bytes.modelJson());
        write(fs, new Path(dir, ModelLoader.MODEL_SAFETENSORS), bytes.safetensors());
      } catch (IOException e) {
        throw new ConfigException("Cannot save the seqpack stage to " + path + ": " + e.getMessage(), e);
      }
    }

    private static void write(FileSystem fs, Path file, byte[] bytes) throws IOException {
      try (OutputStream out = fs.create(file, false)) {
        out.write(bytes);
      }
    }
  }

  /** Reads the params, then the model files of the stage folder, validated as {@code seqpack score} does. */
  private static final class Reader extends MLReader<SequenceScorerTransformer> {
    @Override
    public SequenceScorerTransformer load(String path) {
      DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(),
          SequenceScorerTransformer.class.getName());
      SequenceScorerTransformer stage = new SequenceScorerTransformer(metadata.uid());
      metadata.getAndSetParams(stage, scala.Option.empty());
      String modelDir = new Path(path, MODEL_DIR).toString();
      ModelBytes bytes = SequenceScorer.readModel(modelDir,
          sparkSession().sparkContext().hadoopConfiguration());
      boolean allow = stage.getAllowNonFiniteWeights();
      LoadedModel model;
      try {
        model = ModelLoader.load(bytes, modelDir, allow);
      } catch (ModelFormatException e) {
        throw new ModelFormatException("Cannot load the seqpack stage " + path + ": " + e.getMessage(), e);
      }
      String original = Objects.requireNonNullElse(stage.getModelPath(), modelDir);
      if (stage.getModelPath() == null) {
        stage.setModelPath(modelDir);
      }
      stage.loaded = new Loaded(original, allow, bytes, model);
      return stage;
    }
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    parts.add("uid=" + uid);
    if (getModelPath() != null) {
      parts.add("modelPath=" + getModelPath());
    }
    return "SequenceScorerTransformer(" + String.join(", ", parts) + ")";
  }
}
