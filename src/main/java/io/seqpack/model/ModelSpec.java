package io.seqpack.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqpack.ModelFormatException;
import io.seqpack.model.parts.FeatureInput;
import io.seqpack.model.parts.PartRegistry;
import io.seqpack.model.parts.RecurrentMode;
import io.seqpack.model.parts.StepInput;
import io.seqpack.model.parts.TokenInput;
import io.seqpack.util.Checks;
import io.seqpack.util.StrictJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
   * Parses and validates the text of a version-1 {@code model.json}.
   *
   * @param source where the text came from (a directory), used in error messages only
   * @throws ModelFormatException {@code Cannot read model.json in <source>: <json path>: <actual>, expected <what>},
   *     or for malformed JSON {@code Cannot read model.json in <source>: invalid JSON (<detail>)}
   */
  public static ModelSpec parse(String json, String source) {
    return ModelJson.bind(ModelJson.tree(json, source), FileV1.class, source, v1 -> v1.spec('"' + FORMAT + '"'));
  }

  /**
   * Parses a {@code model.json} of either format: version 1 into its spec and graph, version 2 into a graph (and
   * a null spec).
   */
  public static Parsed parseAny(String json, String source) {
    ObjectNode tree = ModelJson.tree(json, source);
    if (ModelGraph.FORMAT.equals(tree.path("format").textValue())) {
      return ModelJson.bind(tree, ModelGraph.FileV2.class, source,
          v2 -> new Parsed(v2.graph(), null, Verification.of(v2.export())));
    }
    return ModelJson.bind(tree, FileV1.class, source, file -> {
      ModelSpec v1 = file.spec('"' + FORMAT + "\" or \"" + ModelGraph.FORMAT + '"');
      return new Parsed(v1.toGraph(), v1, Verification.UNKNOWN);
    });
  }

  /**
   * A parsed {@code model.json}: the graph, for a version-1 file the spec it was written as (else null), and
   * whether the exporter checked it against the module's forward.
   */
  public record Parsed(ModelGraph graph, ModelSpec v1, Verification verification) {}

  /** The version-1 file. */
  private record FileV1(String format, InputSpec input, RnnSpec rnn, HeadSpec head) {
    ModelSpec spec(String formats) {
      if (!FORMAT.equals(format)) {
        throw new StrictJson.Invalid("format", format == null ? "missing" : StrictJson.quote(format), formats);
      }
      return new ModelSpec(Checks.required("input", input, "an object"), Checks.required("rnn", rnn,
          "an object"), Checks.required("head", head, "an object"));
    }
  }

  /** {@code padding_idx} as {@code nn.Embedding} normalizes it (negative counts from the end), or null. */
  public static Integer paddingIdx(Integer paddingIdx, int vocabSize) {
    if (paddingIdx == null) {
      return null;
    }
    if (paddingIdx < -vocabSize || paddingIdx >= vocabSize) {
      throw new StrictJson.Invalid("padding_idx", paddingIdx.toString(), "null or an integer in [" + -vocabSize
          + ", " + (vocabSize - 1) + "]");
    }
    return paddingIdx < 0 ? paddingIdx + vocabSize : paddingIdx;
  }

  /** The checks JSON cannot express of a recurrent stack: projections only where the mode has them, narrower than hidden. */
  static void checkRnn(RecurrentMode mode, int hiddenSize, int projSize) {
    if (projSize > 0 && !mode.projects()) {
      throw new StrictJson.Invalid("proj_size", Integer.toString(projSize), "0 for mode " + mode.spelling()
          + " (only " + PartRegistry.RECURRENT_MODES.names(RecurrentMode::projects) + " has projections)");
    }
    if (projSize >= hiddenSize) {
      throw new StrictJson.Invalid("proj_size", Integer.toString(projSize), "an integer less than hidden_size ("
          + hiddenSize + ")");
    }
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
    r.put("mode", rnn.mode().spelling());
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
    StepInput in = input.kind() == InputKind.TOKENS
        ? new TokenInput(V1_INPUT, input.vocabSize(), input.embeddingDim(), input.paddingIdx(),
            WeightNames.EMBEDDING_MODULE, null)
        : new FeatureInput(V1_INPUT, input.inputSize(), null);
    ModelGraph.Recurrent recurrent = new ModelGraph.Recurrent(WeightNames.RNN_MODULE, rnn.mode(),
        input.rnnInputSize(), rnn.hiddenSize(), rnn.numLayers(), rnn.bidirectional(), rnn.bias(), rnn.projSize(), null, null);
    ModelGraph.Head fc = new ModelGraph.Head(V1_HEAD,
        List.of(new io.seqpack.model.parts.LinearLayer(WeightNames.FC_MODULE, rnn.outputSize(), head.outFeatures(),
            true)), head.activation());
    return new ModelGraph(List.of(in), List.of(), recurrent,
        List.of(PartRegistry.POOLING.plain(spelling(head.pooling()))), List.of(fc));
  }

  /** How an enum constant is written in model.json: in lower case. */
  static String spelling(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  /** What a batch column holds per step: a token id or a vector of floats (also version 1's {@code input.kind}). */
  public enum InputKind {
    TOKENS,
    FEATURES;

    @JsonCreator
    static InputKind of(JsonNode value) {
      return ModelJson.choice(value, values(), ModelSpec::spelling);
    }
  }

  /**
   * What one step of a sequence is: a token id looked up in an embedding of {@code [vocabSize, embeddingDim]}
   * (with an optional {@code paddingIdx}, which only matters in training), or {@code inputSize} floats.
   * Fields that do not apply to the kind are 0 / null.
   */
  public record InputSpec(InputKind kind, int vocabSize, int embeddingDim, Integer paddingIdx, int inputSize) {
    @JsonCreator
    static InputSpec json(@JsonProperty("kind") InputKind kind, @JsonProperty("vocab_size") Integer vocabSize,
        @JsonProperty("embedding_dim") Integer embeddingDim,
        @JsonProperty("padding_idx") Integer paddingIdx,
        @JsonProperty("input_size") Integer inputSize) {
      Checks.required("kind", kind, "one of tokens, features");
      if (kind == InputKind.FEATURES) {
        String fields = "kind, input_size";
        notFor(kind, "vocab_size", vocabSize, fields);
        notFor(kind, "embedding_dim", embeddingDim, fields);
        notFor(kind, "padding_idx", paddingIdx, fields);
        return features(Checks.integer("input_size", inputSize, 1, MAX_DIM));
      }
      notFor(kind, "input_size", inputSize, "kind, vocab_size, embedding_dim, padding_idx");
      int vocab = Checks.integer("vocab_size", vocabSize, 1, MAX_VOCAB_SIZE);
      return tokens(vocab, Checks.integer("embedding_dim", embeddingDim, 1, MAX_DIM), ModelSpec.paddingIdx(paddingIdx,
          vocab));
    }

    /** Refuses a field of the other input kind. */
    private static void notFor(InputKind kind, String field, Object value, String fields) {
      if (value != null) {
        throw new StrictJson.Invalid(field, "not a field of kind " + spelling(kind), "one of " + fields);
      }
    }

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

  public record RnnSpec(
      RecurrentMode mode, int hiddenSize, int numLayers, boolean bidirectional, boolean bias, int projSize) {
    public RnnSpec {
      checkRnn(mode, hiddenSize, projSize);
    }

    @JsonCreator
    static RnnSpec json(@JsonProperty("mode") RecurrentMode mode, @JsonProperty("hidden_size") Integer hiddenSize,
        @JsonProperty("num_layers") Integer numLayers, @JsonProperty("bidirectional") Boolean bidirectional,
        @JsonProperty("bias") Boolean bias, @JsonProperty("proj_size") Integer projSize) {
      return new RnnSpec(Checks.required("mode", mode, "one of " + PartRegistry.RECURRENT_MODES.names()),
          Checks.integer("hidden_size", hiddenSize, 1, MAX_DIM),
          Checks.integer("num_layers", numLayers, 1, MAX_LAYERS, 1),
          Checks.bool(bidirectional, false), Checks.bool(bias, true),
          Checks.integer("proj_size", projSize, 0, MAX_DIM, 0));
    }

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

  /** The pooling kinds a version-1 file may name (parts of {@link PartRegistry#POOLING} by the same spelling). */
  public enum Pooling {
    LAST,
    MEAN,
    MAX;

    @JsonCreator
    static Pooling of(JsonNode value) {
      return ModelJson.choice(value, values(), ModelSpec::spelling);
    }
  }

  /** The largest of {@code out[off .. off + width)}: what softmax and log_softmax subtract, as PyTorch does. */
  private static float rowMax(float[] out, int off, int width) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < width; j++) {
      max = Math.max(max, out[off + j]);
    }
    return max;
  }

  /** A head's output activation over its {@code outFeatures} floats per row. */
  public enum Activation {
    NONE {
      @Override
      void apply(float[] out, int off, int width) {}

      @Override
      public float ofLogit(float logit, double logSumExp) {
        return logit;
      }
    },
    SIGMOID {
      @Override
      void apply(float[] out, int off, int width) {
        for (int j = 0; j < width; j++) {
          out[off + j] = ofLogit(out[off + j], 0);
        }
      }

      @Override
      public float ofLogit(float logit, double logSumExp) {
        return (float) (1.0 / (1.0 + Math.exp(-logit)));
      }

      @Override
      public boolean inUnitInterval() {
        return true;
      }
    },
    /** Max-subtracted, as {@code torch.softmax}. */
    SOFTMAX {
      @Override
      void apply(float[] out, int off, int width) {
        float max = rowMax(out, off, width);
        float sum = 0f;
        for (int j = 0; j < width; j++) {
          float e = (float) Math.exp(out[off + j] - max);
          out[off + j] = e;
          sum += e;
        }
        for (int j = 0; j < width; j++) {
          out[off + j] /= sum;
        }
      }

      @Override
      public float ofLogit(float logit, double logSumExp) {
        return (float) Math.exp(logit - logSumExp);
      }

      @Override
      public boolean needsLogSumExp() {
        return true;
      }

      @Override
      public boolean inUnitInterval() {
        return true;
      }
    },
    /** {@code torch.log_softmax}: {@code x − max − log Σ exp(x − max)}. */
    LOG_SOFTMAX {
      @Override
      void apply(float[] out, int off, int width) {
        float max = rowMax(out, off, width);
        float sum = 0f;
        for (int j = 0; j < width; j++) {
          sum += (float) Math.exp(out[off + j] - max);
        }
        float shift = max + (float) Math.log(sum);
        for (int j = 0; j < width; j++) {
          out[off + j] -= shift;
        }
      }

      @Override
      public float ofLogit(float logit, double logSumExp) {
        return (float) (logit - logSumExp);
      }

      @Override
      public boolean needsLogSumExp() {
        return true;
      }
    };

    /**
     * The activation of one logit of a row whose {@code log Σ exp} over all outputs is {@code logSumExp} (read
     * only by the normalising activations): a row's top scores without the whole row at once.
     */
    public abstract float ofLogit(float logit, double logSumExp);

    /** Whether {@link #ofLogit} reads the row's {@code log Σ exp} (softmax, log_softmax). */
    public boolean needsLogSumExp() {
      return false;
    }

    /** Whether every output lies in [0, 1] (a probability), which the run report's score histograms use. */
    public boolean inUnitInterval() {
      return false;
    }

    /** Applies the activation to {@code out[off .. off+width)} in place. */
    abstract void apply(float[] out, int off, int width);

    /** Applies the activation to each of {@code count} rows of {@code out[count, width]} in place. */
    public void applyToRows(float[] out, int count, int width) {
      for (int r = 0; r < count; r++) {
        apply(out, r * width, width);
      }
    }

    @JsonCreator
    static Activation of(JsonNode value) {
      return ModelJson.choice(value, values(), ModelSpec::spelling);
    }
  }

  public record HeadSpec(Pooling pooling, int outFeatures, Activation activation) {
    @JsonCreator
    static HeadSpec json(@JsonProperty("pooling") Pooling pooling, @JsonProperty("out_features") Integer outFeatures,
        @JsonProperty("activation") Activation activation) {
      return new HeadSpec(Checks.required("pooling", pooling, "one of last, mean, max"),
          Checks.integer("out_features", outFeatures, 1, MAX_DIM), activation == null ? Activation.NONE
              : activation);
    }
  }
}
