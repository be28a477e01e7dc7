package io.seqpack.spark;

import io.seqpack.ConfigException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.ModelGraph;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Public entry point for scoring from your own Spark job.
 *
 * <pre>{@code
 * SequenceScorer scorer = SequenceScorer.builder(Path.of("models/fraud")).columns(Map.of("event", "event_ids")).build();
 * ScoreResult result = scorer.score(spark.read().parquet("events/"));
 * result.predictions().write().parquet("scores/");
 * result.rejects().write().parquet("scores_rejects/");
 * }</pre>
 *
 * <p>{@link Builder#build()} loads and validates the model on the driver; {@link #score} checks the input
 * schema against it before any task runs, then returns lazy Datasets. The predictions and rejects Datasets
 * each read the input once when they are written; the scoring itself only happens in the predictions pass.
 */
public final class SequenceScorer {
  private final LoadedModel model;
  private final ModelBytes modelBytes;
  private final Builder options;

  private SequenceScorer(LoadedModel model, ModelBytes modelBytes, Builder options) {
    this.model = model;
    this.modelBytes = modelBytes;
    this.options = options;
  }

  public static Builder builder(Path modelDir) {
    return new Builder(modelDir);
  }

  public LoadedModel model() {
    return model;
  }

  /** Validates the input schema against the model and returns the (lazy) predictions and rejects. */
  public ScoreResult score(Dataset<Row> input) {
    StructType schema = input.schema();
    ModelGraph graph = model.graph();
    int idIndex = Schemas.columnIndex(schema, options.idCol, "--id-col");
    DataType idType = schema.fields()[idIndex].dataType();
    Schemas.checkIdType(options.idCol, idType);
    InputColumns columns = InputColumns.resolve(graph, schema, options.seqCol, options.columns);
    if (options.perStep && !graph.supportsPerStep()) {
      throw new ConfigException("Cannot write per-step scores (--per-step) for this model: per-step scores need "
          + "one head reading one pooling part and no after-pooling static features; it has "
          + graph.heads().size() + " head(s), " + graph.pooling().size() + " pooling part(s)");
    }
    int[] keepIndices = new int[options.keepCols.size()];
    List<StructField> carried = new ArrayList<>();
    for (int i = 0; i < keepIndices.length; i++) {
      String column = options.keepCols.get(i);
      keepIndices[i] = Schemas.columnIndex(schema, column, "--keep-cols");
      if (column.equals(Schemas.ID) || column.equals(options.idCol) || columns.names().contains(column)) {
        throw new ConfigException("Cannot keep column '" + column + "': it is already the id or a model input "
            + "column");
      }
      carried.add(schema.fields()[keepIndices[i]]);
    }
    StructType predictionSchema = Schemas.predictions(idType, carried, Schemas.headColumns(graph),
        options.emitEmbedding, options.perStep);
    ScoreSettings settings =
        new ScoreSettings(
            idIndex,
            columns,
            keepIndices,
            options.maxLength,
            options.perStep,
            options.emitEmbedding,
            options.plan,
            model.contentHash(),
            options.allowNonFiniteWeights,
            Boolean.parseBoolean(input.sparkSession().conf().get(ScoreSettings.FAIL_FIRST_ATTEMPT_KEY, "false")));

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext());
    Broadcast<ModelBytes> broadcast = jsc.broadcast(modelBytes);
    ScoreMetrics metrics = new ScoreMetrics(jsc.sc(), graph.heads().get(0).activation(), graph.outFeatures(0));
    Dataset<Row> predictions =
        input.mapPartitions(new ScorePartition(broadcast, settings, metrics), Encoders.row(predictionSchema));
    Dataset<Row> rejects =
        RejectRows.candidates(input, settings)
            .flatMap(new RejectRows(settings), Encoders.row(Schemas.rejects(idType, carried)));
    return new ScoreResult(predictions, rejects, metrics);
  }

  /** Options with defaults that work without tuning. */
  public static final class Builder {
    private final Path modelDir;
    private String idCol = "id";
    private String seqCol; // null: each input reads the column of its own name
    private Map<String, String> columns = Map.of();
    private boolean emitEmbedding;
    private List<String> keepCols = List.of();
    private boolean perStep;
    private int maxLength;
    private BatchPlan plan = BatchPlan.defaults();
    private boolean allowNonFiniteWeights;

    private Builder(Path modelDir) {
      this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
    }

    public Builder idCol(String column) {
      this.idCol = Objects.requireNonNull(column);
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

    /** Reject rows longer than this as TOO_LONG; 0 (the default) means no limit. */
    public Builder maxLength(int maxLength) {
      if (maxLength < 0) {
        throw new ConfigException("Invalid --max-length " + maxLength + ": must be 0 (no limit) or positive");
      }
      this.maxLength = maxLength;
      return this;
    }

    public Builder batchPlan(BatchPlan plan) {
      this.plan = Objects.requireNonNull(plan);
      return this;
    }

    /** Accept weights that contain NaN or infinity (refused by default). */
    public Builder allowNonFiniteWeights(boolean allow) {
      this.allowNonFiniteWeights = allow;
      return this;
    }

    /** Reads and validates the model on the driver. */
    public SequenceScorer build() {
      ModelBytes bytes = ModelLoader.readDirectory(modelDir);
      LoadedModel model = ModelLoader.load(bytes, modelDir.toString(), allowNonFiniteWeights);
      return new SequenceScorer(model, bytes, this);
    }
  }
}
