package io.seqpack.testing;

import io.seqpack.testing.TestJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads the PyTorch fixtures in {@code src/test/resources/golden/} (format: {@code golden/FORMAT.md}): lists
 * model cases and turns the nested JSON lists of {@code case.json} / {@code packing.json} into flat arrays.
 */
public final class Golden {
  private Golden() {}

  /** The fixture root on the test classpath, or the source tree when run outside Maven. */
  public static Path root() {
    URL url = Golden.class.getClassLoader().getResource("golden");
    if (url != null) {
      try {
        return Paths.get(url.toURI());
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }
    return Paths.get("src/test/resources/golden");
  }

  /** Every {@code golden/<case>/} directory holding a {@code case.json}, sorted by name; empty if none yet. */
  public static List<Path> modelCases() {
    return casesUnder(root());
  }

  private static List<Path> casesUnder(Path root) {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.filter(d -> Files.isRegularFile(d.resolve("case.json"))).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every {@code golden/graph/<case>/} fixture (format-2 models from user-style modules), sorted by name. */
  public static List<Path> graphCases() {
    return casesUnder(root().resolve("graph"));
  }

  /**
   * The batch of a graph case: one column per model input (its {@code inputs[name]}, tokens {@code [B][len]} or
   * features {@code [B][len][size]}), and the static features ({@code static[name]}, {@code [B][size]}) in the
   * model's order.
   */
  @SuppressWarnings("unchecked")
  public static io.seqpack.data.RaggedBatch graphBatch(io.seqpack.model.ModelGraph graph, Map<String, Object> c) {
    int[] lengths = ints(c.get("lengths"));
    int[] offsets = io.seqpack.data.RaggedBatch.offsetsOf(lengths.length, i -> lengths[i]);
    Map<String, Object> inputs = (Map<String, Object>) c.get("inputs");
    List<io.seqpack.data.RaggedBatch.Column> columns = new java.util.ArrayList<>();
    for (io.seqpack.model.parts.StepInput in : graph.inputs()) {
      Object value = inputs.get(in.name());
      if (value == null) {
        throw new IllegalArgumentException("case has no input " + in.name());
      }
      columns.add(in.kind() == io.seqpack.model.ModelSpec.InputKind.TOKENS
          ? io.seqpack.data.RaggedBatch.Column.ofTokens(ints(value))
          : io.seqpack.data.RaggedBatch.Column.ofFeatures(floats(value), in.width()));
    }
    Map<String, Object> statics = (Map<String, Object>) c.getOrDefault("static", Map.of());
    int width = graph.staticWidth();
    float[] staticValues = new float[lengths.length * width];
    int col = 0;
    for (io.seqpack.model.ModelGraph.StaticInput st : graph.statics()) {
      float[] v = floats(statics.get(st.name()));
      for (int b = 0; b < lengths.length; b++) {
        System.arraycopy(v, b * st.size(), staticValues, b * width + col, st.size());
      }
      col += st.size();
    }
    return new io.seqpack.data.RaggedBatch(offsets, columns, staticValues, width);
  }

  public static Object readJson(Path file) {
    try {
      return TestJson.parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> readCase(Path caseDir) {
    return (Map<String, Object>) readJson(caseDir.resolve("case.json"));
  }

  /** The packing cases of {@code golden/packing.json}; empty if the file does not exist yet. */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> packingCases() {
    Path file = root().resolve("packing.json");
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    return (List<Map<String, Object>>) readJson(file);
  }

  /** All numbers of a nested list, depth-first, as float32 (JSON null, i.e. NaN/Inf, becomes NaN). */
  public static float[] floats(Object nested) {
    List<Number> out = new ArrayList<>();
    flatten(nested, out);
    float[] a = new float[out.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = out.get(i) == null ? Float.NaN : out.get(i).floatValue();
    }
    return a;
  }

  /** All numbers of a nested list, depth-first, as ints. */
  public static int[] ints(Object nested) {
    List<Number> out = new ArrayList<>();
    flatten(nested, out);
    int[] a = new int[out.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = Math.toIntExact(out.get(i).longValue());
    }
    return a;
  }

  /** Element i of a JSON list. */
  public static Object at(Object list, int i) {
    return ((List<?>) list).get(i);
  }

  public static int size(Object list) {
    return ((List<?>) list).size();
  }

  private static void flatten(Object value, List<Number> out) {
    if (value instanceof List<?> list) {
      for (Object item : list) {
        flatten(item, out);
      }
    } else if (value == null || value instanceof Number) {
      out.add((Number) value);
    } else {
      throw new IllegalArgumentException("expected numbers or lists, got " + value.getClass().getSimpleName());
    }
  }
}
