package io.seqpack.model;

import io.seqpack.ModelFormatException;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.ModelSpec.RnnMode;
import io.seqpack.util.JsonFields;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A scoring model as a chain of modules: per-step inputs (embeddings and numeric features, each optionally
 * normalised) and static per-row features → one recurrent stack → pooling parts → one or more heads. Every module
 * declares the tensors it needs exactly once ({@link #params()}); {@link ModelLoader} validates the safetensors
 * file against those declarations and the engine ({@code io.seqpack.nn.SequenceModel}) builds from them.
 *
 * <p>Read from {@code model.json} format {@code seqpack-model/2} ({@link #parse}), or converted from a version-1
 * file ({@link ModelSpec#toGraph()}). Tensor names are the exporting module's own state-dict names: a module
 * path such as {@code encoder.lstm} plus PyTorch's parameter name ({@code encoder.lstm.weight_ih_l0}).
 */
public record ModelGraph(
    List<StepInput> inputs, List<StaticInput> statics, Recurrent rnn, List<PoolingPart> pooling, List<Head> heads) {
  public static final String FORMAT = "seqpack-model/2";

  /** Most inputs, static features, pooling parts, heads and head layers accepted. */
  public static final int MAX_PARTS = 256;

  /** A tensor a module needs: its full name, shape, what each dimension is, and which setting asks for it. */
  public record Param(String name, int[] shape, String dims, String reason) {}

  /** {@code module + "." + param}, or {@code param} for a top-level module (empty path). */
  static String tensorName(String module, String param) {
    return module.isEmpty() ? param : module + "." + param;
  }

  // ------------------------------------------------------------------------------------------------ modules

  public enum NormType {
    BATCH_NORM,
    LAYER_NORM
  }

  /**
   * {@code nn.BatchNorm1d} in eval mode ({@code (x − running_mean) / sqrt(running_var + eps) · weight + bias}) or
   * {@code nn.LayerNorm} over the last dimension ({@code (x − mean) / sqrt(var + eps) · weight + bias}, biased
   * variance), over a vector of {@code size} floats.
   */
  public record Norm(NormType type, String module, int size, double eps, boolean affine) {
    public List<Param> params(String where) {
      List<Param> out = new ArrayList<>();
      int[] shape = {size};
      if (type == NormType.BATCH_NORM) {
        out.add(new Param(tensorName(module, "running_mean"), shape, "size", where));
        out.add(new Param(tensorName(module, "running_var"), shape, "size", where));
      }
      if (affine) {
        out.add(new Param(tensorName(module, "weight"), shape, "size", where + " (affine)"));
        out.add(new Param(tensorName(module, "bias"), shape, "size", where + " (affine)"));
      }
      return out;
    }
  }

  /**
   * One per-step input: a token column looked up in {@code embedding} ({@code [vocabSize, embeddingDim]}), or a
   * numeric column of {@code size} floats per step; {@code norm} (or null) applies to that vector.
   */
  public record StepInput(String name, InputKind kind, int vocabSize, int embeddingDim, Integer paddingIdx,
      String embedding, int size, Norm norm) {
    /** Floats this input adds to each step's input vector. */
    public int width() {
      return kind == InputKind.TOKENS ? embeddingDim : size;
    }

    public String embeddingWeight() {
      return tensorName(embedding, "weight");
    }

    List<Param> params() {
      List<Param> out = new ArrayList<>();
      if (kind == InputKind.TOKENS) {
        out.add(new Param(embeddingWeight(), new int[] {vocabSize, embeddingDim}, "vocab_size, embedding_dim",
            "input " + name + " (kind=tokens)"));
      }
      if (norm != null) {
        out.addAll(norm.params("the norm of input " + name));
      }
      return out;
    }
  }

  public enum Join {
    AFTER_POOLING,
    EVERY_STEP
  }

  /** Per-row features of {@code size} floats: concatenated after the pooled vector, or to every step's input. */
  public record StaticInput(String name, int size, Join join) {}

  /**
   * The recurrent stack, PyTorch's {@code nn.RNN} / {@code nn.LSTM} / {@code nn.GRU} at {@code module}, with an
   * optional trainable initial state {@code h0} ({@code [layers·D, 1, P]}) and, for LSTM, {@code c0} ({@code
   * [layers·D, 1, H]}), broadcast over the batch; null means zeros.
   */
  public record Recurrent(String module, RnnMode mode, int inputSize, int hiddenSize, int numLayers,
      boolean bidirectional, boolean bias, int projSize, String h0, String c0) {
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
      return tensorName(module, kind + "_l" + layer + (reverse ? "_reverse" : ""));
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
          String where = layer > 0 ? "num_layers=" + numLayers : reverse ? "bidirectional=true" : "mode=" + mode;
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
  }

  public enum PoolingKind {
    LAST,
    FIRST,
    MEAN,
    MAX,
    ATTENTION
  }

  /**
   * One pooling part over the last layer's output ({@code [T, O]} per row, valid steps only), giving {@code O}
   * floats. {@code ATTENTION}: {@code e_t = context · tanh(proj · h_t + b)}, softmax over the valid steps, {@code Σ
   * a_t h_t}, with {@code proj} an {@code nn.Linear(O, size)} and {@code context} an {@code nn.Linear(size, 1,
   * bias=False)}; the other kinds leave {@code proj}/{@code context} null and {@code size} 0.
   */
  public record PoolingPart(PoolingKind kind, String proj, String context, int size) {
    public String projWeight() {
      return tensorName(proj, "weight");
    }

    public String projBias() {
      return tensorName(proj, "bias");
    }

    public String contextWeight() {
      return tensorName(context, "weight");
    }

    List<Param> params(int rnnOutput) {
      if (kind != PoolingKind.ATTENTION) {
        return List.of();
      }
      return List.of(
          new Param(projWeight(), new int[] {size, rnnOutput}, "attention size, rnn output", "attention pooling"),
          new Param(projBias(), new int[] {size}, "attention size", "attention pooling"),
          new Param(contextWeight(), new int[] {1, size}, "1, attention size", "attention pooling"));
    }
  }

  public enum LayerType {
    LINEAR,
    RELU,
    LEAKY_RELU,
    ELU,
    GELU,
    TANH,
    SIGMOID,
    DROPOUT,
    IDENTITY,
    LAYER_NORM,
    BATCH_NORM
  }

  /**
   * One layer of a head's {@code nn.Sequential}. {@code LINEAR}: {@code module}, {@code inFeatures}, {@code
   * outFeatures}, {@code bias}; {@code LEAKY_RELU}: {@code parameter} = negative_slope; {@code ELU}: {@code
   * parameter} = alpha; {@code LAYER_NORM}/{@code BATCH_NORM}: {@code norm}. Unused fields are 0 / null / false.
   */
  public record HeadLayer(LayerType type, String module, int inFeatures, int outFeatures, boolean bias,
      double parameter, Norm norm) {
    static HeadLayer linear(String module, int inFeatures, int outFeatures, boolean bias) {
      return new HeadLayer(LayerType.LINEAR, module, inFeatures, outFeatures, bias, 0, null);
    }

    public String weight() {
      return tensorName(module, "weight");
    }

    public String biasName() {
      return tensorName(module, "bias");
    }

    /** Width after this layer, given the width before it. */
    int outputWidth(int width) {
      return type == LayerType.LINEAR ? outFeatures : width;
    }

    List<Param> params(String where) {
      if (type == LayerType.LINEAR) {
        List<Param> out = new ArrayList<>();
        out.add(new Param(weight(), new int[] {outFeatures, inFeatures}, "out_features, in_features", where));
        if (bias) {
          out.add(new Param(biasName(), new int[] {outFeatures}, "out_features", where));
        }
        return out;
      }
      return norm != null ? norm.params(where) : List.of();
    }
  }

  /** A named head: layers applied to the pooled vector, then {@code activation} over its outputs. */
  public record Head(String name, List<HeadLayer> layers, Activation activation) {
    /** Width of the head's output. */
    public int outFeatures(int inputWidth) {
      int width = inputWidth;
      for (HeadLayer layer : layers) {
        width = layer.outputWidth(width);
      }
      return width;
    }
  }

  // ------------------------------------------------------------------------------------------------ derived

  /** Width of layer 0's input per step: the step inputs' widths plus the every-step static features. */
  public int stepWidth() {
    int width = inputs.stream().mapToInt(StepInput::width).sum();
    return width + statics.stream().filter(s -> s.join() == Join.EVERY_STEP).mapToInt(StaticInput::size).sum();
  }

  /** Floats of static features per row, all entries in order. */
  public int staticWidth() {
    return statics.stream().mapToInt(StaticInput::size).sum();
  }

  /** Width of the vector the heads see: the pooling parts, then the after-pooling static features. */
  public int embeddingWidth() {
    int width = pooling.size() * rnn.outputSize();
    return width + statics.stream().filter(s -> s.join() == Join.AFTER_POOLING).mapToInt(StaticInput::size).sum();
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
    pooling.forEach(p -> out.addAll(p.params(rnn.outputSize())));
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

  // ------------------------------------------------------------------------------------------------ parsing

  /**
   * Parses a version-2 {@code model.json} object (already read as JSON), validating every width against the next.
   *
   * @param error turns a message tail into the exception ({@code Cannot read model.json in <dir>: ...})
   */
  static ModelGraph parse(JsonFields root, Function<String, ModelFormatException> error) {
    root.only("format", "inputs", "static", "rnn", "pooling", "heads", "export");
    Set<String> names = new HashSet<>();
    List<StepInput> inputs = new ArrayList<>();
    for (JsonFields in : root.objects("inputs", 1, MAX_PARTS)) {
      inputs.add(parseInput(in, names));
    }
    List<StaticInput> statics = new ArrayList<>();
    if (root.has("static")) {
      for (JsonFields s : root.objects("static", 0, MAX_PARTS)) {
        s.only("name", "size", "join");
        statics.add(new StaticInput(uniqueName(s, names), s.integer("size", 1, ModelSpec.MAX_DIM),
            s.choiceOr("join", Join.values(), ModelSpec::spelling, Join.AFTER_POOLING)));
      }
    }
    Recurrent rnn = parseRnn(root.object("rnn"));
    int stepWidth = inputs.stream().mapToInt(StepInput::width).sum()
        + statics.stream().filter(s -> s.join() == Join.EVERY_STEP).mapToInt(StaticInput::size).sum();
    if (rnn.inputSize() != stepWidth) {
      throw error.apply("rnn.input_size is " + rnn.inputSize() + ", expected " + stepWidth
          + " (the widths of the inputs plus the every_step static features)");
    }
    List<PoolingPart> pooling = new ArrayList<>();
    List<Object> parts = root.list("pooling", 1, MAX_PARTS);
    for (int i = 0; i < parts.size(); i++) {
      pooling.add(parsePooling(parts.get(i), root.path("pooling") + "[" + i + "]", error));
    }
    List<Head> heads = new ArrayList<>();
    Set<String> headNames = new HashSet<>();
    ModelGraph partial = new ModelGraph(inputs, statics, rnn, pooling, List.of());
    for (JsonFields h : root.objects("heads", 1, MAX_PARTS)) {
      heads.add(parseHead(h, headNames, partial.embeddingWidth()));
    }
    return new ModelGraph(List.copyOf(inputs), List.copyOf(statics), rnn, List.copyOf(pooling), List.copyOf(heads));
  }

  private static String uniqueName(JsonFields json, Set<String> names) {
    String name = json.string("name");
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,127}")) {
      throw json.invalid("name", "a name of letters, digits and _ (not starting with a digit)");
    }
    if (!names.add(name)) {
      throw json.invalid("name", "a name not used by another input or static feature");
    }
    return name;
  }

  private static StepInput parseInput(JsonFields in, Set<String> names) {
    InputKind kind = in.choice("kind", InputKind.values(), ModelSpec::spelling);
    String name = uniqueName(in, names);
    if (kind == InputKind.TOKENS) {
      in.only("name", "kind", "vocab_size", "embedding_dim", "padding_idx", "embedding", "norm");
      int vocab = in.integer("vocab_size", 1, ModelSpec.MAX_VOCAB_SIZE);
      int dim = in.integer("embedding_dim", 1, ModelSpec.MAX_DIM);
      Integer paddingIdx = in.nullableInteger("padding_idx", -vocab, vocab - 1);
      if (paddingIdx != null && paddingIdx < 0) {
        paddingIdx += vocab; // as nn.Embedding normalizes it
      }
      return new StepInput(name, kind, vocab, dim, paddingIdx, modulePath(in, "embedding"), 0,
          parseNorm(in, "norm", dim));
    }
    in.only("name", "kind", "size", "norm");
    int size = in.integer("size", 1, ModelSpec.MAX_DIM);
    return new StepInput(name, kind, 0, 0, null, null, size, parseNorm(in, "norm", size));
  }

  private static String modulePath(JsonFields json, String key) {
    String path = json.string(key);
    if (path.length() > 1000 || !path.matches("([A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*)?")) {
      throw json.invalid(key, "a dotted module path such as encoder.lstm");
    }
    return path;
  }

  private static String nullablePath(JsonFields json, String key) {
    return !json.has(key) || json.value(key) == null ? null : modulePath(json, key);
  }

  /** A {@code norm} object over {@code size} floats, or null when absent or null. */
  private static Norm parseNorm(JsonFields json, String key, int size) {
    if (!json.has(key) || json.value(key) == null) {
      return null;
    }
    return parseNormObject(json.object(key), size, false);
  }

  private static Norm parseNormObject(JsonFields n, int size, boolean inHead) {
    if (inHead) {
      n.only("type", "module", "size", "eps", "affine");
      int declared = n.integer("size", 1, ModelSpec.MAX_DIM);
      if (declared != size) {
        throw n.invalid("size", size + " (the width reaching this layer)");
      }
    } else {
      n.only("type", "module", "eps", "affine");
    }
    NormType type = n.choice("type", new NormType[] {NormType.BATCH_NORM, NormType.LAYER_NORM}, ModelSpec::spelling);
    double eps = n.number("eps", 1e-5, 0, 1);
    return new Norm(type, modulePath(n, "module"), size, eps, n.bool("affine", true));
  }

  private static Recurrent parseRnn(JsonFields r) {
    r.only("module", "mode", "input_size", "hidden_size", "num_layers", "bidirectional", "bias", "proj_size", "h0",
        "c0");
    RnnMode mode = r.choice("mode", RnnMode.values(), ModelSpec::spelling);
    int hidden = r.integer("hidden_size", 1, ModelSpec.MAX_DIM);
    int projSize = r.integerOr("proj_size", 0, ModelSpec.MAX_DIM, 0);
    if (projSize > 0 && mode != RnnMode.LSTM) {
      throw r.invalid("proj_size", "0 for mode " + mode + " (only LSTM has projections)");
    }
    if (projSize >= hidden) {
      throw r.invalid("proj_size", "an integer less than hidden_size (" + hidden + ")");
    }
    String c0 = nullablePath(r, "c0");
    if (c0 != null && mode != RnnMode.LSTM) {
      throw r.invalid("c0", "null for mode " + mode + " (only LSTM has a cell state)");
    }
    return new Recurrent(modulePath(r, "module"), mode, r.integer("input_size", 1, ModelSpec.MAX_DIM), hidden,
        r.integerOr("num_layers", 1, ModelSpec.MAX_LAYERS, 1), r.bool("bidirectional", false), r.bool("bias", true),
        projSize, nullablePath(r, "h0"), c0);
  }

  private static PoolingPart parsePooling(Object value, String where, Function<String, ModelFormatException> error) {
    String simple = "one of last, first, mean, max or {\"attention\": {...}}";
    if (value instanceof String s) {
      for (PoolingKind kind : PoolingKind.values()) {
        if (kind != PoolingKind.ATTENTION && ModelSpec.spelling(kind).equals(s)) {
          return new PoolingPart(kind, null, null, 0);
        }
      }
      throw error.apply(where + " is " + JsonFields.show(value) + ", expected " + simple);
    }
    JsonFields outer = JsonFields.of(value, where, where + ".", error).only("attention");
    JsonFields a = outer.object("attention").only("proj", "context", "size");
    return new PoolingPart(PoolingKind.ATTENTION, modulePath(a, "proj"), modulePath(a, "context"),
        a.integer("size", 1, ModelSpec.MAX_DIM));
  }

  private static Head parseHead(JsonFields h, Set<String> names, int inputWidth) {
    h.only("name", "layers", "activation");
    String name = h.string("name");
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,127}") || !names.add(name)) {
      throw h.invalid("name", "a unique name of letters, digits and _ (not starting with a digit)");
    }
    Activation activation = h.choiceOr("activation", Activation.values(), ModelSpec::spelling, Activation.NONE);
    List<HeadLayer> layers = new ArrayList<>();
    int width = inputWidth;
    for (JsonFields l : h.objects("layers", 1, MAX_PARTS)) {
      HeadLayer layer = parseLayer(l, width);
      layers.add(layer);
      width = layer.outputWidth(width);
    }
    return new Head(name, List.copyOf(layers), activation);
  }

  private static HeadLayer parseLayer(JsonFields l, int width) {
    LayerType type = l.choice("type", LayerType.values(), ModelSpec::spelling);
    switch (type) {
      case LINEAR -> {
        l.only("type", "module", "in_features", "out_features", "bias");
        int in = l.integer("in_features", 1, ModelSpec.MAX_DIM);
        if (in != width) {
          throw l.invalid("in_features", width + " (the width reaching this layer)");
        }
        return HeadLayer.linear(modulePath(l, "module"), in, l.integer("out_features", 1, ModelSpec.MAX_DIM),
            l.bool("bias", true));
      }
      case LEAKY_RELU -> {
        l.only("type", "negative_slope");
        return new HeadLayer(type, null, 0, 0, false, l.number("negative_slope", 0.01, -1e6, 1e6), null);
      }
      case ELU -> {
        l.only("type", "alpha");
        return new HeadLayer(type, null, 0, 0, false, l.number("alpha", 1.0, -1e6, 1e6), null);
      }
      case LAYER_NORM, BATCH_NORM -> {
        Norm norm = parseNormObject(l, width, true); // its "type" spells the NormType too
        return new HeadLayer(type, norm.module(), 0, 0, false, 0, norm);
      }
      default -> {
        l.only("type");
        return new HeadLayer(type, null, 0, 0, false, 0, null);
      }
    }
  }
}
