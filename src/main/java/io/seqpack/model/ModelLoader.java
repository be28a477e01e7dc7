package io.seqpack.model;

import io.seqpack.util.Words;
import io.seqpack.ModelFormatException;
import io.seqpack.model.parts.HeadLayer;
import io.seqpack.model.parts.StepInput;
import io.seqpack.util.StrictJson;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
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
 * <p>The expected tensors are the ones the graph's modules declare ({@link ModelGraph#params()}); a version-1
 * file is read as the graph it describes ({@link ModelSpec#toGraph()}).
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
    byte[] json = readModelJson(dir, prefix);
    return new ModelBytes(json, readFile(dir, MODEL_SAFETENSORS, MAX_SAFETENSORS_BYTES, prefix));
  }

  /** model.json of directory {@code dir}, after checking that the directory exists. */
  private static byte[] readModelJson(Path dir, String prefix) {
    if (!Files.exists(dir)) {
      throw new ModelFormatException(prefix + "it does not exist");
    }
    if (!Files.isDirectory(dir)) {
      throw new ModelFormatException(prefix + "it is not a directory");
    }
    return readFile(dir, MODEL_JSON, MAX_JSON_BYTES, prefix);
  }

  private static byte[] readFile(Path dir, String name, long maxBytes, String prefix) {
    Path file = dir.resolve(name);
    checkedSize(file, name, maxBytes, prefix);
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ModelFormatException(prefix + "cannot read " + name + " (" + e + ")", e);
    }
  }

  /** The size of model file {@code name} at {@code file}: a regular file of at most {@code maxBytes}. */
  private static long checkedSize(Path file, String name, long maxBytes, String prefix) {
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
      return size;
    } catch (IOException e) {
      throw new ModelFormatException(prefix + "cannot read " + name + " (" + e + ")", e);
    }
  }

  /** Reads and validates the model in {@code dir}, refusing non-finite weights. */
  public static LoadedModel load(Path dir) {
    return load(dir, false);
  }

  /**
   * Reads and validates the model in {@code dir}, streaming {@code model.safetensors} straight into the tensors'
   * float arrays: the file's bytes are never held whole, so the model costs its weights once (what {@link
   * #readDirectory} then {@link #load(ModelBytes, String, boolean)} costs twice). Same checks and messages.
   */
  public static LoadedModel load(Path dir, boolean allowNonFinite) {
    String prefix = "Cannot read model directory " + dir + ": ";
    byte[] json = readModelJson(dir, prefix);
    Path file = dir.resolve(MODEL_SAFETENSORS);
    long size = safetensorsSize(file, prefix);
    try (InputStream in = Files.newInputStream(file)) {
      return load(json, in, size, dir.toString(), allowNonFinite);
    } catch (IOException e) {
      throw new ModelFormatException(prefix + "cannot read " + MODEL_SAFETENSORS + " (" + e + ")", e);
    }
  }

  /** The size of a model directory's {@code model.safetensors}, checked as {@link #readDirectory} does. */
  public static long safetensorsSize(Path file, String prefix) {
    return checkedSize(file, MODEL_SAFETENSORS, MAX_SAFETENSORS_BYTES, prefix);
  }

  /**
   * Decodes and validates a model from its {@code model.json} bytes and a stream of its {@code model.safetensors}
   * ({@code size} bytes), reading the tensors straight into their arrays; the content hash is computed on the way.
   *
   * @param source the model directory, for messages
   * @throws ModelFormatException when either file is malformed or they disagree
   * @throws IOException when the stream cannot be read
   */
  public static LoadedModel load(byte[] json, InputStream safetensors, long size, String source,
      boolean allowNonFinite) throws IOException {
    ModelSpec.Parsed parsed = parse(json, source);
    MessageDigest sha = sha256();
    sha.update(json);
    Map<String, Tensor> found = SafeTensors.read(safetensors, size, source + "/" + MODEL_SAFETENSORS, sha);
    return validate(parsed, found, source, allowNonFinite, HexFormat.of().formatHex(sha.digest()));
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
    ModelSpec.Parsed parsed = parse(bytes.modelJson(), source);
    Map<String, Tensor> found = SafeTensors.read(bytes.safetensors(), source + "/" + MODEL_SAFETENSORS);
    return validate(parsed, found, source, allowNonFinite, contentHash(bytes));
  }

  private static ModelSpec.Parsed parse(byte[] json, String source) {
    return ModelSpec.parseAny(
        SafeTensors.decodeUtf8(json, 0, json.length, "the file",
            what -> new ModelFormatException("Cannot read model.json in " + source + ": " + what)),
        source);
  }

  /** Checks the tensors found against the ones the graph declares (names, shapes, finiteness). */
  private static LoadedModel validate(ModelSpec.Parsed parsed, Map<String, Tensor> found, String source,
      boolean allowNonFinite, String contentHash) {
    String safetensorsSource = source + "/" + MODEL_SAFETENSORS;
    String prefix = "Cannot load model " + source + ": ";

    List<ModelGraph.Param> expected = parsed.graph().params();
    Set<String> expectedNames = new HashSet<>(); // a hash set: found and expected can both hold many thousands
    for (ModelGraph.Param p : expected) {
      if (!expectedNames.add(p.name())) {
        throw new ModelFormatException("Cannot read model.json in " + source + ": tensor " + p.name()
            + " is named by two modules (" + p.reason() + " and an earlier one); module paths must differ");
      }
    }
    List<ModelGraph.Param> missing = expected.stream().filter(e -> !found.containsKey(e.name())).toList();
    if (!missing.isEmpty()) {
      ModelGraph.Param first = missing.get(0);
      List<String> others = missing.stream().skip(1).map(ModelGraph.Param::name).toList();
      String more = others.isEmpty() ? "" : "; also missing: " + names(others);
      throw new ModelFormatException(prefix + "tensor " + first.name() + " is missing from " + MODEL_SAFETENSORS
          + " (model.json says " + first.reason() + ")" + more);
    }
    List<String> unexpected = found.keySet().stream().filter(name -> !expectedNames.contains(name)).toList();
    if (!unexpected.isEmpty()) {
      throw new ModelFormatException(prefix + MODEL_SAFETENSORS + " has tensors model.json does not describe: "
          + names(unexpected) + (parsed.v1() != null
              ? " (check mode, num_layers, bidirectional, bias, proj_size and kind)"
              : " (check the module paths, num_layers, bidirectional, bias, proj_size and the norms' affine)"));
    }

    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (ModelGraph.Param e : expected) {
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
    return new LoadedModel(parsed.graph(), parsed.v1(), Collections.unmodifiableMap(tensors), contentHash,
        parsed.verification());
  }

  /**
   * Names joined by ", ": the first {@link #MAX_NAMES_LISTED}, each cut to {@link StrictJson#MAX_SHOWN_CHARS}
   * characters, then "and N more".
   */
  private static String names(List<String> names) {
    String listed = names.stream().limit(MAX_NAMES_LISTED).map(StrictJson::shorten).collect(Collectors.joining(", "));
    int more = names.size() - MAX_NAMES_LISTED;
    return more > 0 ? listed + " and " + more + " more" : listed;
  }

  /**
   * The tensor names and shapes {@code spec} calls for, in a stable order (embedding, then layer by layer and
   * direction by direction, then the head). Useful for building models in tests.
   */
  public static Map<String, int[]> expectedShapes(ModelSpec spec) {
    return expectedShapes(spec.toGraph());
  }

  /** The tensor names and shapes a graph declares, in {@link ModelGraph#params()} order. */
  public static Map<String, int[]> expectedShapes(ModelGraph graph) {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    graph.params().forEach(e -> shapes.put(e.name(), e.shape().clone()));
    return shapes;
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
    MessageDigest sha = sha256();
    sha.update(bytes.modelJson());
    sha.update(bytes.safetensors());
    return HexFormat.of().formatHex(sha.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * A multi-line description for {@code seqpack inspect-model}: the graph (inputs, recurrent stack, pooling,
   * heads), the parameter count, every tensor with its shape, and the content hash.
   */
  public static String describe(LoadedModel model) {
    ModelGraph g = model.graph();
    long parameters = model.tensors().values().stream().mapToLong(Tensor::numel).sum();
    int nameWidth = model.tensors().keySet().stream().mapToInt(String::length).max().orElse(0);
    StringBuilder sb = new StringBuilder();
    sb.append("format:       ").append(model.spec() != null ? ModelSpec.FORMAT : ModelGraph.FORMAT).append('\n');
    sb.append("architecture: ").append(architecture(g)).append('\n');
    sb.append("inputs (per step, in concat order):\n");
    for (StepInput in : g.inputs()) {
      sb.append("  ").append(in.name()).append(": ").append(in.description()).append('\n');
    }
    for (ModelGraph.StaticInput st : g.statics()) {
      sb.append("  ").append(st.name()).append(": static(size=").append(st.size()).append(", ")
          .append(ModelSpec.spelling(st.join())).append(")\n");
    }
    if (!g.stepLayers().isEmpty()) {
      sb.append("step layers:  ").append(g.stepLayers().stream().map(HeadLayer::description)
          .collect(Collectors.joining(" → "))).append(" → input_size ").append(g.rnn().inputSize())
          .append('\n');
    }
    sb.append("heads:\n");
    for (int i = 0; i < g.heads().size(); i++) {
      ModelGraph.Head h = g.heads().get(i);
      sb.append("  ").append(h.name()).append(": ").append(h.description()).append(" → ")
          .append(Words.count(g.outFeatures(i), "output")).append('\n');
    }
    sb.append("verification: ").append(model.verification().description()).append('\n');
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
    return architecture(spec.toGraph());
  }

  /** The graph in one line: inputs → recurrent stack → pooling → heads. */
  public static String architecture(ModelGraph g) {
    List<String> inputs = new ArrayList<>();
    g.inputs().forEach(in -> inputs.add(in.description()));
    g.statics().stream().filter(s -> s.join() == ModelGraph.Join.EVERY_STEP)
        .forEach(s -> inputs.add("static(size=" + s.size() + ")"));
    List<String> pools = new ArrayList<>();
    g.pooling().forEach(p -> pools.add(p.description()));
    g.statics().stream().filter(s -> s.join() == ModelGraph.Join.AFTER_POOLING)
        .forEach(s -> pools.add("static(size=" + s.size() + ")"));
    List<String> heads = new ArrayList<>();
    g.heads().forEach(h -> heads.add(h.description()));
    return String.join(" → ", (inputs.size() == 1 ? inputs.get(0) : "[" + String.join(" + ", inputs) + "]"),
        g.rnn().description(), (pools.size() == 1 ? pools.get(0) : "[" + String.join(" + ", pools) + "]"),
        (heads.size() == 1 ? heads.get(0) : "{" + String.join("; ", heads) + "}"));
  }
}
