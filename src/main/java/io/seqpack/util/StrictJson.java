package io.seqpack.util;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.seqpack.SeqpackException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one strict JSON adapter: every JSON text seqpack reads goes through a mapper of {@link #mapper} and every
 * refusal through {@link #read}, worded {@code Cannot read <what>: <json path>: <actual>, expected <what>}. Strict:
 * unknown fields, null for primitives, duplicate keys, trailing content, scalar coercions ({@code "2"} for 2, 2.5
 * for an integer), nesting deeper than {@link #MAX_DEPTH}, numbers longer than {@link #MAX_NUMBER_CHARS} digits and
 * the escapes Jackson lets through are refused. Domain rules belong to the records, which throw {@link Invalid}.
 */
public final class StrictJson {
  /** Deepest nesting accepted; no file of seqpack's nests more than five levels. */
  public static final int MAX_DEPTH = 64;

  /** Longest number literal in digits: bounds BigInteger / double parsing work. */
  public static final int MAX_NUMBER_CHARS = 400;

  /** Longest JSON value, path or name shown in a message. */
  public static final int MAX_SHOWN_CHARS = 60;

  private StrictJson() {}

  /** A strict mapper with {@code modules} (a file family's own deserializers); snake_case field names. */
  public static ObjectMapper mapper(Module... modules) {
    return JsonMapper.builder(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // no symbol table shared across documents: crafted keys that collide in it make Jackson throw
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH)
                .maxNumberLength(MAX_NUMBER_CHARS).maxStringLength(Integer.MAX_VALUE) // callers bound the text
                .maxNameLength(Integer.MAX_VALUE).build())
            .build())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES,
            DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .addModules(modules)
        // no scalar becomes another type, except an integer literal a float
        .withCoercionConfigDefaults(c -> List.of(CoercionInputShape.Integer, CoercionInputShape.Float,
            CoercionInputShape.Boolean, CoercionInputShape.String, CoercionInputShape.EmptyString)
            .forEach(shape -> c.setCoercion(shape, CoercionAction.Fail)))
        .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.TryConvert))
        .withCoercionConfig(LogicalType.Float, c -> c.setCoercion(CoercionInputShape.Float, CoercionAction.TryConvert)
            .setCoercion(CoercionInputShape.Integer, CoercionAction.TryConvert))
        .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.TryConvert))
        .withCoercionConfig(LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.Boolean, CoercionAction.TryConvert))
        .build();
  }

  /** The mapper without modules: writing the safetensors header, tests. */
  public static final ObjectMapper MAPPER = mapper();

  /** A value a record refused: at {@code field} (a JSON path relative to where it was thrown, may be empty). */
  public static class Invalid extends RuntimeException {
    private final String field;

    public Invalid(String field, String actual, String expected) {
      this(field, actual + ", expected " + expected);
    }

    private Invalid(String field, String message) {
      super(message, null, false, false);
      this.field = field;
    }

    /** This refusal at {@code outer} + its field: {@code heads[0]} + {@code layers[1].in_features}. */
    public Invalid within(String outer) {
      return new Invalid(join(outer, field), getMessage());
    }
  }

  /** A parse or bind step; {@link #read} words its failures. */
  public interface Step<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code step}, turning every refusal into {@code error} of {@code Cannot read <what>: <path>: <reason>};
   * {@code root} (may be null) is the tree being bound, to quote the value at the path.
   */
  public static <T> T read(String what, JsonNode root, Function<String, ? extends SeqpackException> error,
      Step<T> step) {
    try {
      return step.run();
    } catch (JsonMappingException e) { // Jackson's messages span lines, ours says it all in one
      throw error.apply("Cannot read " + what + ": " + (String.valueOf(e.getOriginalMessage()).startsWith("Trailing token")
          ? malformed(e) : describe(e, root)));
    } catch (Invalid e) { // thrown outside Jackson (a check across records)
      throw error.apply("Cannot read " + what + ": " + show(e.field) + ": " + e.getMessage());
    } catch (IOException e) {
      throw error.apply("Cannot read " + what + ": " + malformed(e));
    }
  }

  /** {@code text} as a JSON object, for checks before {@link #bind} (e.g. of a format key); {@code what} names it. */
  public static ObjectNode readObject(ObjectMapper mapper, String text, String what,
      Function<String, ? extends SeqpackException> error) {
    return read(what, null, error, () -> {
      JsonNode tree = tree(mapper, text);
      if (!tree.isObject()) {
        throw new Invalid("", text(tree), "an object");
      }
      return (ObjectNode) tree;
    });
  }

  /** {@code tree} (from {@link #readObject}) as a {@code type}. */
  public static <T> T bind(ObjectMapper mapper, JsonNode tree, Class<T> type, String what,
      Function<String, ? extends SeqpackException> error) {
    return read(what, tree, error, () -> mapper.treeToValue(tree, type));
  }

  /** The tree of {@code text}, refusing the escapes Jackson lets through; to be run inside {@link #read}. */
  public static JsonNode tree(ObjectMapper mapper, String text) throws IOException {
    JsonNode tree = mapper.readTree(text);
    checkEscapes(text);
    if (tree == null || tree.isMissingNode()) {
      throw new JsonParseException(null, "no JSON value");
    }
    return tree;
  }

  /**
   * Refuses {@code \\u} escapes whose digits are not ASCII (Jackson reads U+0661 by its low byte, as {@code a}) and
   * escaped surrogates that do not pair (no UTF-8 can hold them). Jackson has accepted {@code text}, so every
   * backslash opens an escape.
   */
  private static void checkEscapes(String text) throws JsonParseException {
    int pendingHigh = -1; // where an escaped high surrogate's low half must start
    for (int i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i + 2)) {
      boolean unicode = text.charAt(i + 1) == 'u';
      if (unicode && !HEX4.matcher(text.substring(i + 2, i + 6)).matches()) {
        throw badEscape(text, "invalid \\u escape", i);
      }
      char c = unicode ? (char) Integer.parseInt(text.substring(i + 2, i + 6), 16) : 0;
      if ((pendingHigh >= 0 || Character.isLowSurrogate(c)) && !(pendingHigh == i && Character.isLowSurrogate(c))) {
        throw badEscape(text, "lone surrogate", pendingHigh >= 0 ? pendingHigh - 6 : i);
      }
      pendingHigh = Character.isHighSurrogate(c) ? i + 6 : -1;
      i += unicode ? 4 : 0;
    }
    if (pendingHigh >= 0) {
      throw badEscape(text, "lone surrogate", pendingHigh - 6);
    }
  }

  private static final Pattern HEX4 = Pattern.compile("[0-9a-fA-F]{4}");

  /** Jackson's pointer to where a container started: no source to show, and the line and column follow. */
  private static final Pattern SOURCE = Pattern.compile("\\s*\\(?(for \\w+ starting at|start marker at) \\[Source.*$");

  private static JsonParseException badEscape(String text, String what, int at) {
    return new JsonParseException(null, what + " " + text.substring(at, Math.min(at + 6, text.length()))
        + " at character " + at);
  }

  private static String malformed(IOException e) {
    String message = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
    message = message == null ? "" : message.lines().findFirst().orElse("").strip();
    if (e instanceof StreamConstraintsException && message.startsWith("Document nesting depth")) {
      message = "nesting deeper than " + MAX_DEPTH;
    } else if (e instanceof StreamConstraintsException && message.startsWith("Number value length")) {
      message = "a number longer than " + MAX_NUMBER_CHARS + " digits";
    } else if (message.contains("expected a hex-digit")) {
      message = "invalid \\u escape: " + message;
    } else if (message.startsWith("Trailing token")) {
      message = "content after the JSON value";
    } else if (message.startsWith("Duplicate field '") && message.endsWith("'")) {
      message = "duplicate key " + quote(message.substring("Duplicate field '".length(), message.length() - 1));
    }
    JsonLocation at = e instanceof JsonProcessingException p ? p.getLocation() : null;
    return "malformed JSON" + (at == null || at.getLineNr() < 0 ? "" : " (line " + at.getLineNr() + ", column "
        + at.getColumnNr() + ")") + ": " + SOURCE.matcher(message).replaceFirst("");
  }

  /** {@code <path>: <actual>, expected <what>} for a mapping exception. */
  private static String describe(JsonMappingException e, JsonNode root) {
    String path = path(e.getPath());
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof Invalid invalid) {
        return show(join(path, invalid.field)) + ": " + invalid.getMessage();
      } else if (c instanceof IllegalArgumentException check) { // a record's own check, in its own words
        return show(path) + ": " + String.valueOf(check.getMessage()).lines().findFirst().orElse("");
      }
    }
    if (e instanceof UnrecognizedPropertyException u) {
      return show(path) + ": unknown field, expected one of " + u.getKnownPropertyIds().stream()
          .map(String::valueOf).sorted().collect(Collectors.joining(", "));
    }
    Class<?> target = e instanceof MismatchedInputException m ? m.getTargetType() : null;
    if (target == null && e.getCause() instanceof InputCoercionException c) {
      target = c.getTargetType(); // a number too large for its field
    }
    String expected = target != null ? expectedFor(target) : "a valid value";
    if (e instanceof InvalidNullException) {
      return show(path) + ": null, expected " + expected;
    }
    JsonNode value = root == null ? null : at(root, e.getPath());
    if (root != null && value == null && String.valueOf(e.getOriginalMessage()).startsWith("Missing")) {
      return show(path) + ": missing";
    }
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
    } else if (Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    } else if (type.isEnum()) {
      return "one of " + Arrays.stream(type.getEnumConstants()).map(String::valueOf).collect(Collectors.joining(", "));
    }
    return "an object";
  }

  /** The node at a mapping exception's path, or null when the path leaves the tree. */
  private static JsonNode at(JsonNode root, List<JsonMappingException.Reference> path) {
    JsonNode node = root;
    for (int i = 0; i < path.size() && node != null; i++) {
      node = path.get(i).getFieldName() != null ? node.get(path.get(i).getFieldName()) : node.get(path.get(i).getIndex());
    }
    return node;
  }

  /** {@code heads[0].layers[1].in_features}. */
  private static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference ref : refs) {
      if (ref.getFieldName() != null) {
        path.append(path.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  /** {@code outer.field}, {@code outer[i]}, or either alone when the other is empty. */
  public static String join(String outer, String field) {
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

  /** A string as JSON text, cut. */
  public static String quote(String s) {
    return shorten(TextNode.valueOf(s).toString());
  }

  /** {@code s} cut to {@value #MAX_SHOWN_CHARS} characters, saying how long it was. */
  public static String shorten(String s) {
    return s.length() <= MAX_SHOWN_CHARS ? s : s.substring(0, MAX_SHOWN_CHARS) + "...(" + s.length() + " chars)";
  }

  /** Files people read: two-space indented objects, {@code "key": value}, arrays on one line as {@code [1, 2]}. */
  public static final PrettyPrinter PRETTY = new DefaultPrettyPrinter(Separators.createDefaultInstance()
      .withObjectFieldValueSpacing(Separators.Spacing.AFTER).withArrayValueSpacing(Separators.Spacing.AFTER)
      .withObjectEmptySeparator("").withArrayEmptySeparator(""))
      .withObjectIndenter(new DefaultIndenter("  ", "\n")).withArrayIndenter(DefaultPrettyPrinter.NopIndenter.instance);
}
