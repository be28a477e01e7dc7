package io.seqpack.model;

import io.seqpack.ModelFormatException;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.ModelSpec.RnnSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Loads a model directory ({@code model.json} + {@code model.safetensors}) and checks the two against each
 * other: every tensor the spec calls for is present with exactly the expected shape, nothing else is, and (unless
 * allowed) every value is finite. Runs on the driver before anything is broadcast, and again on each executor
 * from the broadcast {@link ModelBytes}.
 *
 * <p>Expected tensors, with {@code G} = {@link ModelSpec.RnnMode#gates()}, {@code H} = hidden_size, {@code P} =
 * proj_size, {@code Hs} = P &gt; 0 ? P : H, {@code D} = 1 or 2 directions:
 *
 * <ul>
 *   <li>tokens input: {@code embedding.weight [vocab_size, embedding_dim]}
 *   <li>per layer k and direction: {@code weight_ih [G*H, k == 0 ? input : D*Hs]}, {@code weight_hh [G*H, Hs]};
 *       with bias {@code bias_ih [G*H]}, {@code bias_hh [G*H]}; with P &gt; 0 {@code weight_hr [P, H]}
 *   <li>{@code fc.weight [out_features, D*Hs]}, {@code fc.bias [out_features]}
 * </ul>
 */
public final class ModelLoader {
  public static final String MODEL_JSON = "model.json";
  public static final String MODEL_SAFETENSORS = "model.safetensors";

  /** Largest model.json accepted; real ones are a few hundred bytes. */
  public static final long MAX_JSON_BYTES = 1 << 20;

  /** Largest model.safetensors accepted: the largest Java byte array. */
  public static final long MAX_SAFETENSORS_BYTES = Integer.MAX_VALUE - 8;

  /** Most tensor names listed in one message (a hostile file can have millions). */
  static final int MAX_NAMES_LISTED = 20;

  /** A tensor the spec calls for: its shape, what each dimension is, and which setting asks for it. */
  private record Expected(String name, int[] shape, String dims, String reason) {}

  private ModelLoader() {}

  /**
   * Reads the two files of a model directory.
   *
   * @throws ModelFormatException {@code Cannot read model directory <dir>: <reason>} when the directory or a
   *     file is missing, not what it should be, too large or unreadable
   */
  public static ModelBytes readDirectory(Path dir) {
    String prefix = "Cannot read model directory " + dir + ": ";
    if (!Files.exists(dir)) {
      throw new ModelFormatException(prefix + "it does not exist");
    }
    if (!Files.isDirectory(dir)) {
      throw new ModelFormatException(prefix + "it is not a directory");
    }
    byte[] json = readFile(dir, MODEL_JSON, MAX_JSON_BYTES, prefix);
    return new ModelBytes(json, readFile(dir, MODEL_SAFETENSORS, MAX_SAFETENSORS_BYTES, prefix));
  }

  private static byte[] readFile(Path dir, String name, long maxBytes, String prefix) {
    Path file = dir.resolve(name);
    if (!Files.exists(file)) {
      throw new ModelFormatException(prefix + name + " is missing");
    }
    if (!Files.isRegularFile(file)) {
      throw new ModelFormatException(prefix + name + " is not a regular file");
    }
    try {
      long size = Files.size(file);
      if (size > maxBytes) {
        throw new ModelFormatException(prefix + name + " is " + size + " bytes, expected at most " + maxBytes);
      }
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ModelFormatException(prefix + "cannot read " + name + " (" + e + ")", e);
    }
  }

  /** Reads and validates the model in {@code dir}, refusing non-finite weights. */
  public static LoadedModel load(Path dir) {
    return load(readDirectory(dir), dir.toString(), false);
  }

  /** Like {@link #load(ModelBytes, String, boolean)}, refusing non-finite weights. */
  public static LoadedModel load(ModelBytes bytes, String source) {
    return load(bytes, source, false);
  }

  /**
   * Decodes and validates a model from the bytes of its two files.
   *
   * @param source the model directory (or another description of where the bytes came from), for messages
   * @param allowNonFinite whether NaN and infinite weights are accepted instead of refused
   * @throws ModelFormatException when either file is malformed or they disagree
   */
  public static LoadedModel load(ModelBytes bytes, String source, boolean allowNonFinite) {
    byte[] json = bytes.modelJson();
    ModelSpec spec = ModelSpec.parse(
        SafeTensors.decodeUtf8(json, 0, json.length, "the file",
            what -> new ModelFormatException("Cannot read model.json in " + source + ": " + what)),
        source);
    String safetensorsSource = source + "/" + MODEL_SAFETENSORS;
    Map<String, Tensor> found = SafeTensors.read(bytes.safetensors(), safetensorsSource);
    String prefix = "Cannot load model " + source + ": ";

    List<Expected> expected = expectedTensors(spec);
    List<Expected> missing = expected.stream().filter(e -> !found.containsKey(e.name())).toList();
    if (!missing.isEmpty()) {
      Expected first = missing.get(0);
      List<String> others = missing.stream().skip(1).map(Expected::name).toList();
      String more = others.isEmpty() ? "" : "; also missing: " + names(others);
      throw new ModelFormatException(prefix + "tensor " + first.name() + " is missing from " + MODEL_SAFETENSORS
          + " (model.json says " + first.reason() + ")" + more);
    }
    // A hash set, not List.removeAll: found and expected can both hold many thousands of names.
    Set<String> expectedNames = expected.stream().map(Expected::name).collect(Collectors.toSet());
    List<String> unexpected = found.keySet().stream().filter(name -> !expectedNames.contains(name)).toList();
    if (!unexpected.isEmpty()) {
      throw new ModelFormatException(prefix + MODEL_SAFETENSORS + " has tensors model.json does not describe: "
          + names(unexpected) + " (check mode, num_layers, bidirectional, bias, proj_size and kind)");
    }

    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Expected e : expected) {
      Tensor t = found.get(e.name());
      if (!Arrays.equals(t.shape(), e.shape())) {
        throw new ModelFormatException("Invalid tensor " + e.name() + " in " + safetensorsSource + ": shape "
            + t.shapeString() + ", expected " + Arrays.toString(e.shape()) + " (" + e.dims() + ")");
      }
      if (!allowNonFinite) {
        checkFinite(t, prefix);
      }
      tensors.put(e.name(), t);
    }
    return new LoadedModel(spec, Collections.unmodifiableMap(tensors), contentHash(bytes));
  }

  /**
   * Names joined by ", ": the first {@link #MAX_NAMES_LISTED}, each cut to {@link JsonFields#MAX_NAME_CHARS}
   * characters, then "and N more".
   */
  private static String names(List<String> names) {
    String listed = names.stream().limit(MAX_NAMES_LISTED).map(JsonFields::shorten).collect(Collectors.joining(", "));
    int more = names.size() - MAX_NAMES_LISTED;
    return more > 0 ? listed + " and " + more + " more" : listed;
  }

  /**
   * The tensor names and shapes {@code spec} calls for, in a stable order (embedding, then layer by layer and
   * direction by direction, then the head). Useful for building models in tests.
   */
  public static Map<String, int[]> expectedShapes(ModelSpec spec) {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    expectedTensors(spec).forEach(e -> shapes.put(e.name(), e.shape().clone()));
    return shapes;
  }

  private static List<Expected> expectedTensors(ModelSpec spec) {
    RnnSpec rnn = spec.rnn();
    int gates = rnn.mode().gates();
    int gateRows = gates * rnn.hiddenSize();
    String gateDims = (gates == 1 ? "" : gates + "*") + "hidden_size";
    String stateDims = rnn.projSize() > 0 ? "proj_size" : "hidden_size";
    String outputDims = (rnn.bidirectional() ? "2*" : "") + stateDims;
    String mode = "mode=" + rnn.mode();

    List<Expected> out = new ArrayList<>();
    if (spec.input().kind() == InputKind.TOKENS) {
      out.add(new Expected(WeightNames.EMBEDDING,
          new int[] {spec.input().vocabSize(), spec.input().embeddingDim()}, "vocab_size, embedding_dim",
          "kind=tokens"));
    }
    String inputDims = spec.input().kind() == InputKind.TOKENS ? "embedding_dim" : "input_size";
    for (int layer = 0; layer < rnn.numLayers(); layer++) {
      for (int d = 0; d < rnn.directions(); d++) {
        boolean reverse = d == 1;
        String where = layer > 0 ? "num_layers=" + rnn.numLayers() : reverse ? "bidirectional=true" : mode;
        int inputSize = layer == 0 ? spec.input().rnnInputSize() : rnn.outputSize();
        out.add(new Expected(WeightNames.weightIh(layer, reverse), new int[] {gateRows, inputSize},
            gateDims + ", " + (layer == 0 ? inputDims : outputDims), where));
        out.add(new Expected(WeightNames.weightHh(layer, reverse), new int[] {gateRows, rnn.stateSize()},
            gateDims + ", " + stateDims, where));
        if (rnn.bias()) {
          out.add(new Expected(WeightNames.biasIh(layer, reverse), new int[] {gateRows}, gateDims, "bias=true"));
          out.add(new Expected(WeightNames.biasHh(layer, reverse), new int[] {gateRows}, gateDims, "bias=true"));
        }
        if (rnn.projSize() > 0) {
          out.add(new Expected(WeightNames.weightHr(layer, reverse), new int[] {rnn.projSize(), rnn.hiddenSize()},
              "proj_size, hidden_size", "proj_size=" + rnn.projSize()));
        }
      }
    }
    int outFeatures = spec.head().outFeatures();
    String head = "out_features=" + outFeatures;
    out.add(new Expected(WeightNames.FC_WEIGHT, new int[] {outFeatures, rnn.outputSize()},
        "out_features, " + outputDims, head));
    out.add(new Expected(WeightNames.FC_BIAS, new int[] {outFeatures}, "out_features", head));
    return out;
  }

  private static void checkFinite(Tensor t, String prefix) {
    float[] data = t.data();
    for (int i = 0; i < data.length; i++) {
      if (!Float.isFinite(data[i])) {
        throw new ModelFormatException(prefix + "tensor " + t.name() + " has " + data[i] + " at index "
            + Arrays.toString(unflatten(i, t.shape())) + ", expected finite values (non-finite weights must be "
            + "allowed explicitly)");
      }
    }
  }

  /** The row-major multi-index of flat position {@code index} in {@code shape}. */
  private static int[] unflatten(int index, int[] shape) {
    int[] at = new int[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      at[d] = index % shape[d];
      index /= shape[d];
    }
    return at;
  }

  /** Lowercase hex SHA-256 of the model.json bytes followed by the model.safetensors bytes. */
  static String contentHash(ModelBytes bytes) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(bytes.modelJson());
      sha.update(bytes.safetensors());
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * A multi-line description for {@code seqpack inspect-model}: the architecture in one line, the parameter
   * count, every tensor with its shape, and the content hash.
   */
  public static String describe(LoadedModel model) {
    ModelSpec spec = model.spec();
    long parameters = model.tensors().values().stream().mapToLong(Tensor::numel).sum();
    int nameWidth = model.tensors().keySet().stream().mapToInt(String::length).max().orElse(0);
    StringBuilder sb = new StringBuilder();
    sb.append("architecture: ").append(architecture(spec)).append('\n');
    sb.append("parameters:   ").append(String.format(Locale.ROOT, "%,d", parameters)).append('\n');
    sb.append("content hash: ").append(model.contentHash()).append('\n');
    sb.append("tensors:\n");
    for (Tensor t : model.tensors().values()) {
      sb.append("  ").append(String.format(Locale.ROOT, "%-" + nameWidth + "s", t.name())).append("  ")
          .append(t.shapeString()).append('\n');
    }
    return sb.toString();
  }

  /**
   * The architecture in one line, e.g. {@code tokens(vocab=11, dim=100) → RNN_TANH(hidden=256, layers=1,
   * unidirectional, bias) → last → Linear(256→1) → none}.
   */
  public static String architecture(ModelSpec spec) {
    ModelSpec.InputSpec in = spec.input();
    String input = in.kind() == InputKind.TOKENS
        ? "tokens(vocab=" + in.vocabSize() + ", dim=" + in.embeddingDim()
            + (in.paddingIdx() == null ? "" : ", padding_idx=" + in.paddingIdx()) + ")"
        : "features(size=" + in.inputSize() + ")";
    RnnSpec rnn = spec.rnn();
    String recurrent = rnn.mode() + "(hidden=" + rnn.hiddenSize()
        + (rnn.projSize() > 0 ? ", proj=" + rnn.projSize() : "")
        + ", layers=" + rnn.numLayers()
        + (rnn.bidirectional() ? ", bidirectional" : ", unidirectional")
        + (rnn.bias() ? ", bias" : ", no bias") + ")";
    return String.join(" → ", input, recurrent, ModelSpec.spelling(spec.head().pooling()),
        "Linear(" + rnn.outputSize() + "→" + spec.head().outFeatures() + ")",
        ModelSpec.spelling(spec.head().activation()));
  }
}
