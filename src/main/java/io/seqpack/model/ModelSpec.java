package io.seqpack.model;

import io.seqpack.ModelFormatException;
import io.seqpack.util.Json;
import io.seqpack.util.JsonFields;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The architecture described by a model directory's {@code model.json} (format {@code seqpack-model/1}).
 *
 * <pre>{@code
 * {
 *   "format": "seqpack-model/1",
 *   "input": {"kind": "tokens", "vocab_size": 11, "embedding_dim": 100, "padding_idx": null},
 *   "rnn": {"mode": "RNN_TANH", "hidden_size": 256, "num_layers": 1, "bidirectional": false,
 *           "bias": true, "proj_size": 0},
 *   "head": {"pooling": "last", "out_features": 1, "activation": "none"}
 * }
 * }</pre>
 *
 * <p>Optional keys and their defaults: {@code padding_idx} null, {@code num_layers} 1, {@code bidirectional}
 * false, {@code bias} true, {@code proj_size} 0, {@code activation} none. {@link #parse} rejects unknown keys,
 * unknown enum spellings, wrong JSON types and sizes outside the bounds below.
 */
public record ModelSpec(InputSpec input, RnnSpec rnn, HeadSpec head) {
  public static final String FORMAT = "seqpack-model/1";

  /** Largest accepted embedding_dim, input_size, hidden_size, proj_size and out_features. */
  public static final int MAX_DIM = 1 << 20;

  /** Largest accepted vocab_size. */
  public static final int MAX_VOCAB_SIZE = 1 << 27;

  /** Largest accepted num_layers. */
  public static final int MAX_LAYERS = 1 << 10;

  /**
   * Parses and validates the text of a {@code model.json}.
   *
   * @param source where the text came from (a directory), used in error messages only
   * @throws ModelFormatException {@code Cannot read model.json in <source>: <path> is <actual>, expected <what>},
   *     or for malformed JSON {@code Cannot read model.json in <source>: invalid JSON (<detail>)}
   */
  public static ModelSpec parse(String json, String source) {
    return parseV1(root(json, source), '"' + FORMAT + '"');
  }

  /**
   * Parses a {@code model.json} of either format: version 1 into its spec and graph, version 2 into a graph (and
   * a null spec).
   */
  public static Parsed parseAny(String json, String source) {
    JsonFields root = root(json, source);
    if (ModelGraph.FORMAT.equals(root.value("format"))) {
      return new Parsed(ModelGraph.parse(root, errors(source)), null, Verification.parse(root));
    }
    ModelSpec v1 = parseV1(root, '"' + FORMAT + "\" or \"" + ModelGraph.FORMAT + '"');
    return new Parsed(v1.toGraph(), v1, Verification.UNKNOWN);
  }

  private static Function<String, ModelFormatException> errors(String source) {
    return what -> new ModelFormatException("Cannot read model.json in " + source + ": " + what);
  }

  /** The top-level object of a {@code model.json} text, or the one-line error for malformed JSON. */
  private static JsonFields root(String json, String source) {
    Object value;
    try {
      value = Json.parse(json);
    } catch (Json.JsonException e) {
      throw new ModelFormatException(
          "Cannot read model.json in " + source + ": invalid JSON (" + e.getMessage() + ")", e);
    }
    return JsonFields.of(value, "the top level", "", errors(source));
  }

  /**
   * A parsed {@code model.json}: the graph, for a version-1 file the spec it was written as (else null), and
   * whether the exporter checked it against the module's forward.
   */
  public record Parsed(ModelGraph graph, ModelSpec v1, Verification verification) {}

  private static ModelSpec parseV1(JsonFields root, String formats) {
    root.only("format", "input", "rnn", "head");
    if (!FORMAT.equals(root.string("format"))) {
      throw root.invalid("format", formats);
    }
    return new ModelSpec(
        parseInput(root.object("input")), parseRnn(root.object("rnn")), parseHead(root.object("head")));
  }

  private static InputSpec parseInput(JsonFields json) {
    InputKind kind = json.choice("kind", InputKind.values(), ModelSpec::spelling);
    if (kind == InputKind.FEATURES) {
      json.only("kind", "input_size");
      return InputSpec.features(json.integer("input_size", 1, MAX_DIM));
    }
    json.only("kind", "vocab_size", "embedding_dim", "padding_idx");
    int vocabSize = json.integer("vocab_size", 1, MAX_VOCAB_SIZE);
    int embeddingDim = json.integer("embedding_dim", 1, MAX_DIM);
    Integer paddingIdx = json.nullableInteger("padding_idx", -vocabSize, vocabSize - 1);
    if (paddingIdx != null && paddingIdx < 0) {
      paddingIdx += vocabSize; // as nn.Embedding normalizes it
    }
    return InputSpec.tokens(vocabSize, embeddingDim, paddingIdx);
  }

  private static RnnSpec parseRnn(JsonFields json) {
    json.only("mode", "hidden_size", "num_layers", "bidirectional", "bias", "proj_size");
    RnnMode mode = json.choice("mode", RnnMode.values(), ModelSpec::spelling);
    int hiddenSize = json.integer("hidden_size", 1, MAX_DIM);
    int numLayers = json.integerOr("num_layers", 1, MAX_LAYERS, 1);
    boolean bidirectional = json.bool("bidirectional", false);
    boolean bias = json.bool("bias", true);
    int projSize = json.integerOr("proj_size", 0, MAX_DIM, 0);
    if (projSize > 0 && mode != RnnMode.LSTM) {
      throw json.invalid("proj_size", "0 for mode " + mode + " (only LSTM has projections)");
    }
    if (projSize >= hiddenSize) {
      throw json.invalid("proj_size", "an integer less than hidden_size (" + hiddenSize + ")");
    }
    return new RnnSpec(mode, hiddenSize, numLayers, bidirectional, bias, projSize);
  }

  private static HeadSpec parseHead(JsonFields json) {
    json.only("pooling", "out_features", "activation");
    Pooling pooling = json.choice("pooling", Pooling.values(), ModelSpec::spelling);
    int outFeatures = json.integer("out_features", 1, MAX_DIM);
    Activation activation =
        json.choiceOr("activation", Activation.values(), ModelSpec::spelling, Activation.NONE);
    return new HeadSpec(pooling, outFeatures, activation);
  }

  /**
   * This spec as a {@code model.json} object (every key written, defaults included), for {@link
   * Json#writePretty}; {@link #parse} of the written text returns an equal spec.
   */
  public Map<String, Object> toJson() {
    Map<String, Object> in = new LinkedHashMap<>();
    in.put("kind", spelling(input.kind()));
    if (input.kind() == InputKind.TOKENS) {
      in.put("vocab_size", input.vocabSize());
      in.put("embedding_dim", input.embeddingDim());
      in.put("padding_idx", input.paddingIdx());
    } else {
      in.put("input_size", input.inputSize());
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("mode", spelling(rnn.mode()));
    r.put("hidden_size", rnn.hiddenSize());
    r.put("num_layers", rnn.numLayers());
    r.put("bidirectional", rnn.bidirectional());
    r.put("bias", rnn.bias());
    r.put("proj_size", rnn.projSize());
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("pooling", spelling(head.pooling()));
    h.put("out_features", head.outFeatures());
    h.put("activation", spelling(head.activation()));
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("format", FORMAT);
    root.put("input", in);
    root.put("rnn", r);
    root.put("head", h);
    return root;
  }

  /** Name of a version-1 model's one input (and its default column) in {@link ModelGraph} terms. */
  public static final String V1_INPUT = "seq";

  /** Name of a version-1 model's one head; its output column is {@code scores}. */
  public static final String V1_HEAD = "scores";

  /**
   * This version-1 model as a {@link ModelGraph}: the module paths are the tutorial's attributes {@code
   * embedding}, {@code rnn} and {@code fc} (see {@link WeightNames}), {@code fc} with its bias.
   */
  public ModelGraph toGraph() {
    ModelGraph.StepInput in = input.kind() == InputKind.TOKENS
        ? new ModelGraph.StepInput(V1_INPUT, InputKind.TOKENS, input.vocabSize(), input.embeddingDim(),
            input.paddingIdx(), WeightNames.EMBEDDING_MODULE, 0, null)
        : new ModelGraph.StepInput(V1_INPUT, InputKind.FEATURES, 0, 0, null, null, input.inputSize(), null);
    ModelGraph.Recurrent recurrent = new ModelGraph.Recurrent(WeightNames.RNN_MODULE, rnn.mode(),
        input.rnnInputSize(), rnn.hiddenSize(), rnn.numLayers(), rnn.bidirectional(), rnn.bias(), rnn.projSize(), null, null);
    ModelGraph.PoolingKind pooling = ModelGraph.PoolingKind.valueOf(head.pooling().name());
    ModelGraph.Head fc = new ModelGraph.Head(V1_HEAD,
        List.of(ModelGraph.HeadLayer.linear(WeightNames.FC_MODULE, rnn.outputSize(), head.outFeatures(), true)),
        head.activation());
    return new ModelGraph(List.of(in), List.of(), recurrent, List.of(new ModelGraph.PoolingPart(pooling, null, null,
        0)), List.of(fc));
  }

  /** How an enum constant is written in model.json: RNN modes as PyTorch names them, the rest in lower case. */
  static String spelling(Enum<?> value) {
    return value instanceof RnnMode ? value.name() : value.name().toLowerCase(Locale.ROOT);
  }

  public enum InputKind {
    TOKENS,
    FEATURES
  }

  /**
   * What one step of a sequence is: a token id looked up in an embedding of {@code [vocabSize, embeddingDim]}
   * (with an optional {@code paddingIdx}, which only matters in training), or {@code inputSize} floats.
   * Fields that do not apply to the kind are 0 / null.
   */
  public record InputSpec(InputKind kind, int vocabSize, int embeddingDim, Integer paddingIdx, int inputSize) {
    public static InputSpec tokens(int vocabSize, int embeddingDim, Integer paddingIdx) {
      return new InputSpec(InputKind.TOKENS, vocabSize, embeddingDim, paddingIdx, 0);
    }

    public static InputSpec features(int inputSize) {
      return new InputSpec(InputKind.FEATURES, 0, 0, null, inputSize);
    }

    /** Width of the vector the first RNN layer sees per step: embedding_dim or input_size. */
    public int rnnInputSize() {
      return kind == InputKind.TOKENS ? embeddingDim : inputSize;
    }
  }

  /** PyTorch's {@code nn.RNN(nonlinearity=tanh|relu)}, {@code nn.LSTM}, {@code nn.GRU}. */
  public enum RnnMode {
    RNN_TANH(1),
    RNN_RELU(1),
    LSTM(4),
    GRU(3);

    private final int gates;

    RnnMode(int gates) {
      this.gates = gates;
    }

    /** Number of stacked gate blocks in {@code weight_ih}/{@code weight_hh}: 1, 4 (i,f,g,o) or 3 (r,z,n). */
    public int gates() {
      return gates;
    }
  }

  public record RnnSpec(
      RnnMode mode, int hiddenSize, int numLayers, boolean bidirectional, boolean bias, int projSize) {
    public int directions() {
      return bidirectional ? 2 : 1;
    }

    /** Size of h per direction: proj_size when LSTM projections are on, else hidden_size. */
    public int stateSize() {
      return projSize > 0 ? projSize : hiddenSize;
    }

    /** Last dimension of the RNN's output: directions * stateSize. */
    public int outputSize() {
      return directions() * stateSize();
    }
  }

  public enum Pooling {
    LAST,
    MEAN,
    MAX
  }

  public enum Activation {
    NONE,
    SIGMOID,
    SOFTMAX
  }

  public record HeadSpec(Pooling pooling, int outFeatures, Activation activation) {}
}
