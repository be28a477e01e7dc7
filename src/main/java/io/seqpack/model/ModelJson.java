package io.seqpack.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqpack.ModelFormatException;
import io.seqpack.model.parts.PartRegistry;
import io.seqpack.util.StrictJson;
import io.seqpack.util.StrictJson.Invalid;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code model.json} as records: the {@link StrictJson} mapper with the parts' deserializers, nulls refused where
 * they mean nothing, and the checks the records' compact constructors share ({@link StrictJson.Invalid} on
 * failure); every refusal reads {@code Cannot read model.json in DIR: <json path>: <what>, expected <what>}.
 */
public final class ModelJson {
  public static final ObjectMapper MAPPER = StrictJson.mapper(PartRegistry.jacksonModule());

  private ModelJson() {}

  /** The parsed tree of a model.json text, or the error for malformed JSON. */
  static JsonNode tree(String text, String source) {
    return StrictJson.read(what(source), null, ModelFormatException::new, () -> StrictJson.tree(MAPPER, text));
  }

  /**
   * {@code tree} as a {@code type} record, then {@code build} of it (checks across parts, which throw {@link
   * Invalid} with a path from the top level); every refusal in the one message shape.
   */
  static <T, R> R bind(JsonNode tree, Class<T> type, String source, Function<T, R> build) {
    return StrictJson.read(what(source), tree, ModelFormatException::new, () -> {
      if (!tree.isObject()) { // databind maps a top-level null to a null record
        throw new Invalid("", StrictJson.text(tree), "an object");
      }
      refuseNulls(tree, "");
      return build.apply(MAPPER.treeToValue(tree, type));
    });
  }

  private static String what(String source) {
    return "model.json in " + source;
  }

  /**
   * Refuses JSON null except as the value of a field that may be null: records map an absent field and a null
   * one alike (to the default), and only these fields mean something by null.
   */
  private static void refuseNulls(JsonNode node, String path) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> {
        if (e.getValue().isNull() && !NULLABLE.contains(e.getKey())) {
          throw new Invalid(StrictJson.join(path, e.getKey()), "null", "a value (only " + String.join(", ", NULLABLE)
              + " may be null)");
        }
        refuseNulls(e.getValue(), StrictJson.join(path, e.getKey()));
      });
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        if (node.get(i).isNull()) {
          throw new Invalid(path + "[" + i + "]", "null", "a value");
        }
        refuseNulls(node.get(i), path + "[" + i + "]");
      }
    }
  }

  /** The fields whose null means something: no padding index, no norm, zero initial states. */
  private static final List<String> NULLABLE = List.of("padding_idx", "norm", "h0", "c0");

  // ---------------------------------------------------------------------------------- checks for compact constructors

  public static int integer(String field, Integer value, int min, int max) {
    if (value == null || value < min || value > max) {
      throw new Invalid(field, value == null ? "missing" : value.toString(), "an integer in [" + min + ", " + max + "]");
    }
    return value;
  }

  public static int integer(String field, Integer value, int min, int max, int absent) {
    return value == null ? absent : integer(field, value, min, max);
  }

  public static double number(String field, Double value, double min, double max, double absent) {
    if (value == null) {
      return absent;
    }
    if (!(value >= min && value <= max)) {
      throw new Invalid(field, value.toString(), "a number in [" + min + ", " + max + "]");
    }
    return value;
  }

  public static boolean bool(String field, Boolean value, boolean absent) {
    return value == null ? absent : value;
  }

  public static <T> T required(String field, T value, String expected) {
    if (value == null) {
      throw new Invalid(field, "missing", expected);
    }
    return value;
  }

  public static <T> List<T> list(String field, List<T> value, int min, int max, String what) {
    String expected = "an array of " + min + " to " + max + " " + what;
    if (value == null || value.size() < min || value.size() > max) {
      throw new Invalid(field, value == null ? "missing" : value.size() + " entries", expected);
    }
    return List.copyOf(value);
  }

  /** A dotted module path such as {@code encoder.lstm} (empty for the top-level module). */
  public static String modulePath(String field, String value) {
    if (value == null || value.length() > 1000 || !value.matches("([A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*)?")) {
      throw new Invalid(field, value == null ? "missing" : StrictJson.quote(value), "a dotted module path such as encoder.lstm");
    }
    return value;
  }

  /** An input, static feature or head name, unique among {@code taken} (which it joins). */
  public static String name(String field, String value, Set<String> taken, String among) {
    if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]{0,127}") || !taken.add(value)) {
      throw new Invalid(field, value == null ? "missing" : StrictJson.quote(value),
          "a name of letters, digits and _ (not starting with a digit) not used by another " + among);
    }
    return value;
  }

  /** The constant of {@code values} spelled {@code value}, for an enum's {@code @JsonCreator}. */
  public static <E extends Enum<E>> E choice(JsonNode value, E[] values, java.util.function.Function<E, String> spelling) {
    for (E e : values) {
      if (value.isTextual() && spelling.apply(e).equals(value.asText())) {
        return e;
      }
    }
    throw new Invalid("", StrictJson.text(value), "one of "
        + java.util.Arrays.stream(values).map(spelling).collect(Collectors.joining(", ")));
  }
}
