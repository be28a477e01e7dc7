package io.seqpack.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.parts.HeadLayer;
import io.seqpack.model.parts.Norm;
import io.seqpack.model.parts.PartRegistry;
import io.seqpack.model.parts.PoolingPart;
import io.seqpack.model.parts.RecurrentMode;
import io.seqpack.model.parts.StepInput;
import io.seqpack.util.Checks;
import io.seqpack.util.StrictJson;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A scoring model as a chain of modules: per-step inputs (embeddings and numeric features, each optionally
 * normalised) and static per-row features → one recurrent stack → pooling parts → one or more heads. Every module
 * declares the tensors it needs exactly once ({@link #params()}); {@link ModelLoader} validates the safetensors
 * file against those declarations and the engine ({@code io.seqpack.nn.SequenceModel}) builds from them. Input
 * kinds, recurrent modes, pooling kinds, head layers and norms are parts ({@code io.seqpack.model.parts}), found by
 * their JSON spelling in {@link PartRegistry}.
 *
 * <p>Read from {@code model.json} format {@code seqpack-model/2} (the records below, mapped by {@link ModelJson}),
 * or converted from a version-1 file ({@link ModelSpec#toGraph()}). The compact constructor checks what JSON
 * cannot say: every width against the next, unique names. Tensor names are the exporting module's own state-dict
 * names: a module path such as {@code encoder.lstm} plus PyTorch's parameter name ({@code encoder.lstm.weight_ih_l0}).
 */
public record ModelGraph(List<StepInput> inputs, List<StaticInput> statics, Recurrent rnn, List<PoolingPart> pooling,
    List<Head> heads, List<HeadLayer> stepLayers) {
  public static final String FORMAT = "seqpack-model/2";

  /** Most inputs, static features, pooling parts, heads and head layers accepted. */
  public static final int MAX_PARTS = 256;

  /** A graph without step layers: each step's joined input goes to the recurrent stack as it is. */
  public ModelGraph(
      List<StepInput> inputs, List<StaticInput> statics, Recurrent rnn, List<PoolingPart> pooling, List<Head> heads) {
    this(inputs, statics, rnn, pooling, heads, List.of());
  }

  /**
   * @param stepLayers layers (the head layer kinds) applied to every step's joined input vector before the
   *     recurrent stack, as a per-step {@code nn.Linear}/{@code nn.Sequential} in forward; empty: none
   */
  public ModelGraph {
    stepLayers = List.copyOf(stepLayers);
    inputs = List.copyOf(inputs);
    statics = List.copyOf(statics);
    pooling = List.copyOf(pooling);
    heads = List.copyOf(heads);
    Set<String> names = new HashSet<>();
    for (int i = 0; i < inputs.size(); i++) {
      uniqueName("inputs[" + i + "].name", inputs.get(i).name(), names, "input or static feature");
    }
    for (int i = 0; i < statics.size(); i++) {
      uniqueName("static[" + i + "].name", statics.get(i).name(), names, "input or static feature");
    }
    int stepWidth = stepWidth(inputs, statics);
    for (int i = 0; i < stepLayers.size(); i++) {
      try {
        stepWidth = stepLayers.get(i).outputWidth(stepWidth);
      } catch (StrictJson.Invalid e) {
        throw e.within("step_layers[" + i + "]");
      }
    }
    if (rnn.inputSize() != stepWidth) {
      throw new StrictJson.Invalid("rnn.input_size", Integer.toString(rnn.inputSize()), stepWidth
          + (stepLayers.isEmpty() ? " (the widths of the inputs plus the every_step static features)"
              : " (the output width of step_layers)"));
    }
    int embeddingWidth = poolingWidth(pooling, rnn) + width(statics, Join.AFTER_POOLING);
    Set<String> headNames = new HashSet<>();
    for (int h = 0; h < heads.size(); h++) {
      uniqueName("heads[" + h + "].name", heads.get(h).name(), headNames, "head");
      int width = embeddingWidth;
      for (int i = 0; i < heads.get(h).layers().size(); i++) {
        try {
          heads.get(h).layers().get(i).checkInputs(inputs);
          width = heads.get(h).layers().get(i).outputWidth(width);
        } catch (StrictJson.Invalid e) {
          throw e.within("heads[" + h + "].layers[" + i + "]");
        }
      }
    }
  }

  /** An input, static feature or head name, unique among {@code taken} (which it joins). */
  private static String uniqueName(String field, String value, Set<String> taken, String among) {
    if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]{0,127}") || !taken.add(value)) {
      throw new StrictJson.Invalid(field, value == null ? "missing" : StrictJson.quote(value),
          "a name of letters, digits and _ (not starting with a digit) not used by another " + among);
    }
    return value;
  }

  /** A tensor a module needs: its full name, shape, what each dimension is, and which setting asks for it. */
  public record Param(String name, int[] shape, String dims, String reason) {
    /** Largest accepted width of any part. */
    public static final int MAX_DIM = ModelSpec.MAX_DIM;

    /** {@code module + "." + param}, or {@code param} for a top-level module (empty path). */
    public static String tensorName(String module, String param) {
      return module.isEmpty() ? param : module + "." + param;
    }

    /** A dotted module path such as {@code encoder.lstm} (empty for the top-level module), as {@code field}. */
    public static String modulePath(String field, String value) {
      if (value == null || value.length() > 1000 || !value.matches("([A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*)?")) {
        throw new StrictJson.Invalid(field, value == null ? "missing" : StrictJson.quote(value),
            "a dotted module path such as encoder.lstm");
      }
      return value;
    }
  }

  // ------------------------------------------------------------------------------------------------ modules

  public enum Join {
    AFTER_POOLING,
    EVERY_STEP;

    @JsonCreator
    static Join of(JsonNode value) {
      return ModelJson.choice(value, values(), ModelSpec::spelling);
    }
  }

  /** Per-row features of {@code size} floats: concatenated after the pooled vector, or to every step's input. */
  public record StaticInput(String name, int size, Join join) {
    @JsonCreator
    static StaticInput json(@JsonProperty("name") String name, @JsonProperty("size") Integer size,
        @JsonProperty("join") Join join) {
      return new StaticInput(name, Checks.integer("size", size, 1, ModelSpec.MAX_DIM),
          join == null ? Join.AFTER_POOLING : join);
    }
  }

  /**
   * The recurrent stack, PyTorch's {@code nn.RNN} / {@code nn.LSTM} / {@code nn.GRU} at {@code module} (the {@code
   * mode}, a part of {@link PartRegistry#RECURRENT_MODES}), with an optional trainable initial state {@code h0}
   * ({@code [layers·D, 1, P]}) and, for a mode with a cell state, {@code c0} ({@code [layers·D, 1, H]}), broadcast
   * over the batch; null means zeros.
   */
  public record Recurrent(String module, RecurrentMode mode, int inputSize, int hiddenSize, int numLayers,
      boolean bidirectional, boolean bias, int projSize, String h0, String c0) {
    public Recurrent {
      ModelSpec.checkRnn(mode, hiddenSize, projSize);
      if (c0 != null && !mode.hasCellState()) {
        throw new StrictJson.Invalid("c0", StrictJson.quote(c0), "null for mode " + mode.spelling() + " (only "
            + PartRegistry.RECURRENT_MODES.names(RecurrentMode::hasCellState) + " has a cell state)");
      }
    }

    @JsonCreator
    static Recurrent json(@JsonProperty("module") String module, @JsonProperty("mode") RecurrentMode mode,
        @JsonProperty("input_size") Integer inputSize, @JsonProperty("hidden_size") Integer hiddenSize,
        @JsonProperty("num_layers") Integer numLayers, @JsonProperty("bidirectional") Boolean bidirectional,
        @JsonProperty("bias") Boolean bias, @JsonProperty("proj_size") Integer projSize,
        @JsonProperty("h0") String h0,
        @JsonProperty("c0") String c0) {
      return new Recurrent(Param.modulePath("module", module), Checks.required("mode", mode,
          "one of " + PartRegistry.RECURRENT_MODES.names()), Checks.integer("input_size", inputSize, 1, ModelSpec.MAX_DIM),
          Checks.integer("hidden_size", hiddenSize, 1, ModelSpec.MAX_DIM),
          Checks.integer("num_layers", numLayers, 1, ModelSpec.MAX_LAYERS, 1),
          Checks.bool(bidirectional, false), Checks.bool(bias, true),
          Checks.integer("proj_size", projSize, 0, ModelSpec.MAX_DIM, 0),
          h0 == null ? null : Param.modulePath("h0", h0), c0 == null ? null : Param.modulePath("c0", c0));
    }

    public int directions() {
      return bidirectional ? 2 : 1;
    }

    /** Size of h per direction: proj_size when LSTM projections are on, else hidden_size. */
    public int stateSize() {
      return projSize > 0 ? projSize : hiddenSize;
    }

    /** Last dimension of the RNN's output: directions · stateSize. */
    public int outputSize() {
      return directions() * stateSize();
    }

    public String weightIh(int layer, boolean reverse) {
      return name("weight_ih", layer, reverse);
    }

    public String weightHh(int layer, boolean reverse) {
      return name("weight_hh", layer, reverse);
    }

    public String biasIh(int layer, boolean reverse) {
      return name("bias_ih", layer, reverse);
    }

    public String biasHh(int layer, boolean reverse) {
      return name("bias_hh", layer, reverse);
    }

    /** LSTM projection {@code [proj_size, hidden_size]}, present only when proj_size > 0. */
    public String weightHr(int layer, boolean reverse) {
      return name("weight_hr", layer, reverse);
    }

    private String name(String kind, int layer, boolean reverse) {
      return Param.tensorName(module, kind + "_l" + layer + (reverse ? "_reverse" : ""));
    }

    List<Param> params(String inputDims) {
      int gates = mode.gates();
      int gateRows = gates * hiddenSize;
      String gateDims = (gates == 1 ? "" : gates + "*") + "hidden_size";
      String stateDims = projSize > 0 ? "proj_size" : "hidden_size";
      String outputDims = (bidirectional ? "2*" : "") + stateDims;
      List<Param> out = new ArrayList<>();
      for (int layer = 0; layer < numLayers; layer++) {
        for (int d = 0; d < directions(); d++) {
          boolean reverse = d == 1;
          String where = layer > 0 ? "num_layers=" + numLayers : reverse ? "bidirectional=true"
              : "mode=" + mode.spelling();
          out.add(new Param(weightIh(layer, reverse), new int[] {gateRows, layer == 0 ? inputSize : outputSize()},
              gateDims + ", " + (layer == 0 ? inputDims : outputDims), where));
          out.add(new Param(weightHh(layer, reverse), new int[] {gateRows, stateSize()}, gateDims + ", " + stateDims,
              where));
          if (bias) {
            out.add(new Param(biasIh(layer, reverse), new int[] {gateRows}, gateDims, "bias=true"));
            out.add(new Param(biasHh(layer, reverse), new int[] {gateRows}, gateDims, "bias=true"));
          }
          if (projSize > 0) {
            out.add(new Param(weightHr(layer, reverse), new int[] {projSize, hiddenSize}, "proj_size, hidden_size",
                "proj_size=" + projSize));
          }
        }
      }
      int states = numLayers * directions();
      String statesDims = "num_layers*" + (bidirectional ? "2" : "1") + ", 1, ";
      if (h0 != null) {
        out.add(new Param(h0, new int[] {states, 1, stateSize()}, statesDims + stateDims, "rnn.h0"));
      }
      if (c0 != null) {
        out.add(new Param(c0, new int[] {states, 1, hiddenSize}, statesDims + "hidden_size", "rnn.c0"));
      }
      return out;
    }

    /** E.g. {@code LSTM(hidden=8, layers=1, bidirectional, bias)}. */
    public String description() {
      return mode.spelling() + "(hidden=" + hiddenSize + (projSize > 0 ? ", proj=" + projSize : "") + ", layers=" + numLayers
          + (bidirectional ? ", bidirectional" : ", unidirectional") + (bias ? ", bias" : ", no bias")
          + (h0 != null ? ", trainable h0" : "") + ")";
    }
  }

  /** A named head: layers applied to the pooled vector, then {@code activation} over its outputs. */
  public record Head(String name, List<HeadLayer> layers, Activation activation) {
    public Head {
      layers = Checks.list("layers", layers, 1, MAX_PARTS, "layers");
    }

    @JsonCreator
    static Head json(@JsonProperty("name") String name, @JsonProperty("layers") List<HeadLayer> layers,
        @JsonProperty("activation") Activation activation) {
      return new Head(name, layers, activation == null ? Activation.NONE : activation);
    }

    /** Width of the head's output. */
    public int outFeatures(int inputWidth) {
      int width = inputWidth;
      for (HeadLayer layer : layers) {
        width = layer.outputWidth(width);
      }
      return width;
    }

    /** E.g. {@code Linear(16→8) → relu → Linear(8→1) → sigmoid}. */
    public String description() {
      List<String> parts = new ArrayList<>();
      layers.forEach(l -> parts.add(l.description()));
      parts.add(ModelSpec.spelling(activation));
      return String.join(" → ", parts);
    }
  }

  /** The version-2 file: the graph's parts plus its format and the exporter's {@code export} block. */
  record FileV2(String format, List<StepInput> inputs, @JsonProperty("static") List<StaticInput> statics,
      @JsonProperty("step_layers") List<HeadLayer> stepLayers, Recurrent rnn, List<PoolingPart> pooling,
      List<Head> heads, Verification.Export export) {
    ModelGraph graph() {
      Checks.required("rnn", rnn, "an object");
      return new ModelGraph(Checks.list("inputs", inputs, 1, MAX_PARTS, "inputs"),
          statics == null ? List.of() : Checks.list("static", statics, 0, MAX_PARTS, "static features"), rnn,
          Checks.list("pooling", pooling, 1, MAX_PARTS, "pooling parts"),
          Checks.list("heads", heads, 1, MAX_PARTS, "heads"),
          stepLayers == null ? List.of() : Checks.list("step_layers", stepLayers, 0, MAX_PARTS, "step layers"));
    }
  }

  // ------------------------------------------------------------------------------------------------ derived

  private static int width(List<StaticInput> statics, Join join) {
    return statics.stream().filter(s -> s.join() == join).mapToInt(StaticInput::size).sum();
  }

  private static int stepWidth(List<StepInput> inputs, List<StaticInput> statics) {
    return inputs.stream().mapToInt(StepInput::width).sum() + width(statics, Join.EVERY_STEP);
  }

  /** Width of layer 0's input per step: the step inputs' widths plus the every-step static features. */
  public int stepWidth() {
    return stepWidth(inputs, statics);
  }

  /** Floats of static features per row, all entries in order. */
  public int staticWidth() {
    return statics.stream().mapToInt(StaticInput::size).sum();
  }

  /** Width of the vector the heads see: the pooling parts, then the after-pooling static features. */
  public int embeddingWidth() {
    return poolingWidth(pooling, rnn) + width(statics, Join.AFTER_POOLING);
  }

  private static int poolingWidth(List<PoolingPart> pooling, Recurrent rnn) {
    int width = 0;
    for (int i = 0; i < pooling.size(); i++) {
      try {
        width += pooling.get(i).width(rnn);
      } catch (StrictJson.Invalid e) {
        throw e.within("pooling[" + i + "]");
      }
    }
    return width;
  }

  /** Output width of head {@code i}. */
  public int outFeatures(int head) {
    return heads.get(head).outFeatures(embeddingWidth());
  }

  /**
   * Whether per-step scores are defined: one head, whose input is the last layer's output at a step (one pooling
   * part and no after-pooling static features, so the head's input width is the RNN's output width).
   */
  public boolean supportsPerStep() {
    return heads.size() == 1 && embeddingWidth() == rnn.outputSize();
  }

  /** Every tensor the graph needs, in a stable order (inputs, recurrent stack, pooling, heads). */
  public List<Param> params() {
    List<Param> out = new ArrayList<>();
    inputs.forEach(in -> out.addAll(in.params()));
    // what layer 0's input width is called in the file: embedding_dim or input_size for one input (version 1)
    boolean single = inputs.size() == 1 && statics.isEmpty();
    out.addAll(rnn.params(single && inputs.get(0).kind() == InputKind.TOKENS ? "embedding_dim" : "input_size"));
    for (int i = 0; i < stepLayers.size(); i++) {
      out.addAll(stepLayers.get(i).params("step layer " + i));
    }
    pooling.forEach(p -> out.addAll(p.params(rnn)));
    for (Head head : heads) {
      for (int i = 0; i < head.layers().size(); i++) {
        out.addAll(head.layers().get(i).params("head " + head.name() + " layer " + i));
      }
    }
    return out;
  }

  /** Whether every step input is a single token column (the shape of every version-1 token model). */
  public boolean singleTokenInput() {
    return inputs.size() == 1 && inputs.get(0).kind() == InputKind.TOKENS && statics.isEmpty();
  }
}
