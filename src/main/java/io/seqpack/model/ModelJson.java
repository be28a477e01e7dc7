package io.seqpack.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.seqpack.ModelFormatException;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code model.json} as records: one strict Jackson mapper (unknown fields, nulls for primitives, duplicate keys,
 * trailing tokens and scalar coercions all refused; snake_case field names) and the one adapter that turns its
 * exceptions, and the {@link Invalid} checks of the records' compact constructors, into {@code Cannot read
 * model.json in DIR: <json path>: <what>, expected <what>}.
 */
public final class ModelJson {
  /** Deepest nesting accepted; a model.json nests four levels. */
  public static final int MAX_DEPTH = 64;

  /** Longest JSON value or name shown in a message. */
  private static final int MAX_SHOWN_CHARS = 60;

  public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
          .build())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES,
          DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .addModule(io.seqpack.model.parts.PartRegistry.jacksonModule())
      .withCoercionConfigDefaults(c -> {
        c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        c.setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
        c.setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        c.setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
      })
      .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.TryConvert))
      .withCoercionConfig(LogicalType.Float, c -> c.setCoercion(CoercionInputShape.Float, CoercionAction.TryConvert)
          .setCoercion(CoercionInputShape.Integer, CoercionAction.TryConvert))
      .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.TryConvert))
      .withCoercionConfig(LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.Boolean, CoercionAction.TryConvert))
      .build();

  private ModelJson() {}

  /**
   * A value a record refused in its compact constructor: {@code field} (a path relative to the record, may be
   * empty), the value as JSON text ({@code missing} when absent) and what was expected.
   */
  public static final class Invalid extends RuntimeException {
    private final String field;

    public Invalid(String field, String actual, String expected) {
      super(actual + ", expected " + expected);
      this.field = field;
    }

    /** A path of {@code outer} + this field: {@code heads[0]} + {@code layers[1].in_features}. */
    public Invalid within(String outer) {
      return new Invalid(join(outer, field), getMessage());
    }

    private Invalid(String field, String message) {
      super(message);
      this.field = field;
    }
  }

  /** The parsed tree of a model.json text, or the error for malformed JSON. */
  static JsonNode tree(String text, String source) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(prefix(source) + "invalid JSON (" + e.getOriginalMessage() + ")", e);
    }
  }

  /**
   * {@code tree} as a {@code type} record, then {@code build} of it (checks across parts, which throw {@link
   * Invalid} with a path from the top level); every refusal in the one message shape.
   */
  static <T, R> R bind(JsonNode tree, Class<T> type, String source, java.util.function.Function<T, R> build) {
    if (tree == null || tree.isMissingNode()) {
      throw new ModelFormatException(prefix(source) + "invalid JSON (no content)");
    }
    if (!tree.isObject()) { // databind maps a top-level null to a null record
      throw new ModelFormatException(prefix(source) + "the top level: " + text(tree) + ", expected an object");
    }
    try {
      refuseNulls(tree, "");
      return build.apply(MAPPER.treeToValue(tree, type));
    } catch (JsonMappingException e) {
      throw new ModelFormatException(prefix(source) + describe(e, tree), e);
    } catch (JsonProcessingException e) {
      throw new ModelFormatException(prefix(source) + "invalid JSON (" + e.getOriginalMessage() + ")", e);
    } catch (Invalid e) { // thrown by a constructor Jackson did not call (the graph's cross-part checks)
      throw new ModelFormatException(prefix(source) + show(e.field) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Refuses JSON null except as the value of a field that may be null: records map an absent field and a null
   * one alike (to the default), and only these fields mean something by null.
   */
  private static void refuseNulls(JsonNode node, String path) {
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> {
        if (e.getValue().isNull() && !NULLABLE.contains(e.getKey())) {
          throw new Invalid(join(path, e.getKey()), "null", "a value (only " + String.join(", ", NULLABLE)
              + " may be null)");
        }
        refuseNulls(e.getValue(), join(path, e.getKey()));
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

  static String prefix(String source) {
    return "Cannot read model.json in " + source + ": ";
  }

  private static String describe(JsonMappingException e, JsonNode root) {
    String path = path(e.getPath());
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof Invalid invalid) {
        return show(join(path, invalid.field)) + ": " + invalid.getMessage();
      }
    }
    if (e instanceof UnrecognizedPropertyException u) {
      return show(path) + ": unknown field, expected one of " + known(u.getKnownPropertyIds());
    }
    Class<?> target = e instanceof MismatchedInputException m ? m.getTargetType() : null;
    if (target == null && e.getCause() instanceof com.fasterxml.jackson.core.exc.InputCoercionException c) {
      target = c.getTargetType(); // a number too large for its field
    }
    String expected = target != null ? expectedFor(target) : "a valid value";
    if (e instanceof InvalidNullException) {
      return show(path) + ": null, expected " + expected;
    }
    JsonNode value = at(root, e.getPath());
    return show(path) + ": " + (value == null ? "invalid" : text(value)) + ", expected " + expected;
  }

  private static String expectedFor(Class<?> type) {
    if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
      return "an integer";
    } else if (type == Double.class || type == double.class) {
      return "a number";
    } else if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    } else if (type == String.class) {
      return "a string";
    } else if (Collection.class.isAssignableFrom(type)) {
      return "an array";
    }
    return "an object";
  }

  private static String known(Collection<Object> ids) {
    return ids.stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
  }

  /** The node at a mapping exception's path, or null when the path leaves the tree. */
  private static JsonNode at(JsonNode root, List<JsonMappingException.Reference> path) {
    JsonNode node = root;
    for (JsonMappingException.Reference ref : path) {
      if (node == null) {
        return null;
      }
      node = ref.getFieldName() != null ? node.get(ref.getFieldName()) : node.get(ref.getIndex());
    }
    return node;
  }

  private static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : refs) {
      if (ref.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  static String join(String outer, String field) {
    return outer.isEmpty() ? field : field.isEmpty() ? outer : field.startsWith("[") ? outer + field
        : outer + "." + field;
  }

  private static String show(String path) {
    return path.isEmpty() ? "the top level" : shorten(path);
  }

  /** A JSON value as its text, cut to {@value #MAX_SHOWN_CHARS} characters. */
  public static String text(JsonNode value) {
    return shorten(value.toString());
  }

  static String shorten(String s) {
    return s.length() <= MAX_SHOWN_CHARS ? s : s.substring(0, MAX_SHOWN_CHARS) + "...(" + s.length() + " chars)";
  }

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
      throw new Invalid(field, value == null ? "missing" : quote(value), "a dotted module path such as encoder.lstm");
    }
    return value;
  }

  /** An input, static feature or head name, unique among {@code taken} (which it joins). */
  public static String name(String field, String value, Set<String> taken, String among) {
    if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]{0,127}") || !taken.add(value)) {
      throw new Invalid(field, value == null ? "missing" : quote(value),
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
    throw new Invalid("", text(value), "one of "
        + java.util.Arrays.stream(values).map(spelling).collect(Collectors.joining(", ")));
  }

  public static String quote(String s) {
    return shorten(com.fasterxml.jackson.databind.node.TextNode.valueOf(s).toString());
  }
}
