package io.seqpack.util;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqpack.SeqpackException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * seqpack's own JSON files (the run summary, the incremental checkpoint's metadata, manifests and lock) as Java
 * records mapped by Jackson databind: a component {@code scoredRows} is the key {@code scored_rows}, keys are
 * written in component order. Reading is strict: unknown keys, missing keys, {@code null} (unless a component says
 * {@code @JsonSetter(nulls = Nulls.SET)}), duplicate keys, trailing text, a value of another type (no {@code "2"}
 * for 2, no 2.5 for an integer), non-finite numbers and negative integers (every integer in these files counts
 * rows, files, bytes, runs or milliseconds) are refused in one line that names the file and the JSON path: {@code
 * Cannot read summary out/_seqpack_summary.json: buckets[2].max_length: expected an integer >= 0, found "many"}.
 */
public final class JsonRecords {
  private JsonRecords() {}

  /** Two-space indented objects, {@code "key": value}, arrays on one line as {@code [1, 2]}. */
  static final PrettyPrinter PRETTY = new MinimalPrettyPrinter() {
    @Override
    public void beforeObjectEntries(JsonGenerator g) throws IOException {
      newline(g, 0);
    }

    @Override
    public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
      g.writeRaw(',');
      newline(g, 0);
    }

    @Override
    public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
      g.writeRaw(": ");
    }

    @Override
    public void writeEndObject(JsonGenerator g, int entries) throws IOException {
      if (entries > 0) {
        newline(g, -1);
      }
      g.writeRaw('}');
    }

    @Override
    public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
      g.writeRaw(", ");
    }

    private void newline(JsonGenerator g, int levels) throws IOException {
      g.writeRaw("\n" + "  ".repeat(g.getOutputContext().getNestingDepth() + levels));
    }
  };

  private static final ObjectMapper MAPPER = mapper();

  private static ObjectMapper mapper() {
    SimpleModule counts = new SimpleModule("seqpack-counts");
    counts.addDeserializer(Long.class, new Count<>(Long.class, Long::valueOf));
    counts.addDeserializer(long.class, new Count<>(long.class, Long::valueOf));
    counts.addDeserializer(Integer.class, new Count<>(Integer.class, Math::toIntExact));
    counts.addDeserializer(int.class, new Count<>(int.class, Math::toIntExact));
    counts.addDeserializer(Double.class, new Finite<>(Double.class));
    counts.addDeserializer(double.class, new Finite<>(double.class));
    JsonMapper mapper = JsonMapper.builder()
        .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES,
            DeserializationFeature.FAIL_ON_TRAILING_TOKENS, DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .defaultSetterInfo(JsonSetter.Value.forValueNulls(Nulls.FAIL))
        .addModule(counts)
        .build();
    for (CoercionInputShape shape : new CoercionInputShape[] {CoercionInputShape.Integer, CoercionInputShape.Float,
        CoercionInputShape.Boolean, CoercionInputShape.String, CoercionInputShape.EmptyString}) {
      mapper.coercionConfigDefaults().setCoercion(shape, CoercionAction.Fail); // no "2" for 2, no 2 for "2"
    }
    return mapper;
  }

  /** Reads {@code text} as a {@code type}; {@code what} names it in messages ({@code "summary out/x.json"}). */
  public static <T> T read(String text, Class<T> type, String what,
      Function<String, ? extends SeqpackException> error) {
    return map(() -> MAPPER.readValue(text, type), what, error);
  }

  /** Reads {@code text} as a JSON object, strictly, for checks before {@link #bind} (e.g. of a format key). */
  public static ObjectNode readObject(String text, String what,
      Function<String, ? extends SeqpackException> error) {
    return read(text, ObjectNode.class, what, error);
  }

  /** Maps a tree read by {@link #readObject} to a {@code type}. */
  public static <T> T bind(JsonNode tree, Class<T> type, String what,
      Function<String, ? extends SeqpackException> error) {
    return map(() -> MAPPER.treeToValue(tree, type), what, error);
  }

  /** A record as a tree, to be arranged before {@link #writePretty}. */
  public static ObjectNode tree(Object value) {
    return MAPPER.valueToTree(value);
  }

  /** A record's keys and values in file order (nested records as maps), e.g. for a table of settings. */
  public static Map<String, Object> fields(Object value) {
    return MAPPER.convertValue(value, new TypeReference<LinkedHashMap<String, Object>>() {});
  }

  /** Compact JSON, for a value shown in a report. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) { // records and trees of them always map
      throw new UncheckedIOException(e);
    }
  }

  /** Two-space indented JSON ending in a newline, for files people read. */
  public static String writePretty(Object value) {
    try {
      return MAPPER.writer(PRETTY).writeValueAsString(value) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private interface Mapping<T> {
    T run() throws IOException;
  }

  private static <T> T map(Mapping<T> mapping, String what,
      Function<String, ? extends SeqpackException> error) {
    try {
      return mapping.run();
    } catch (JsonMappingException e) { // no cause: Jackson's messages span lines, ours says it all in one
      throw error.apply("Cannot read " + what + ": " + path(e) + reason(e));
    } catch (IOException e) { // malformed: no path, the position instead
      String message = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.getMessage();
      String at = e instanceof JsonProcessingException p && p.getLocation() != null
          ? " (line " + p.getLocation().getLineNr() + ", column " + p.getLocation().getColumnNr() + ")" : "";
      throw error.apply("Cannot read " + what + ": malformed JSON" + at + ": " + firstLine(message));
    }
  }

  private static final Pattern MISSING = Pattern.compile("Missing (?:required )?creator property .*", Pattern.DOTALL);

  /** {@code buckets[2].max_length: } from the exception's path. */
  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? "" : sb + ": ";
  }

  private static String reason(JsonMappingException e) {
    if (e instanceof UnrecognizedPropertyException) {
      return "unknown key";
    }
    if (MISSING.matcher(e.getOriginalMessage()).matches()) {
      return "missing";
    }
    if (e.getCause() instanceof IllegalArgumentException bad) { // a record's own check, or Count or Finite
      return firstLine(bad.getMessage());
    }
    JavaType target = targetOf(e);
    String found = found(e);
    return (target == null ? "expected a value" : "expected " + expected(target.getRawClass()))
        + (found == null ? "" : ", found " + found);
  }

  private static JavaType targetOf(JsonMappingException e) {
    return e instanceof MismatchedInputException m && m.getTargetType() != null
        ? MAPPER.constructType(m.getTargetType()) : null;
  }

  private static String expected(Class<?> type) {
    if (type == long.class || type == Long.class || type == int.class || type == Integer.class) {
      return "an integer >= 0";
    } else if (type == double.class || type == Double.class) {
      return "a finite number";
    } else if (type == boolean.class || type == Boolean.class) {
      return "true or false";
    } else if (type == String.class) {
      return "a string";
    } else if (Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    return "an object";
  }

  /** The value the parser stopped at, as JSON ({@code "many"}, {@code 2.5}, {@code an array}). */
  private static String found(JsonMappingException e) {
    if (!(e.getProcessor() instanceof JsonParser p) || p.currentToken() == null) {
      return null;
    }
    try {
      JsonToken t = p.currentToken();
      return switch (t) {
        case START_ARRAY -> "an array";
        case START_OBJECT, FIELD_NAME -> "an object";
        case VALUE_STRING -> MAPPER.writeValueAsString(p.getText());
        default -> p.getText();
      };
    } catch (IOException ex) {
      return null;
    }
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.lines().findFirst().orElse("").strip();
  }

  /** Integers are counts: an integer token (no 2.5, no "2") that is 0 or more. */
  private static final class Count<T extends Number> extends StdScalarDeserializer<T> {
    private final java.util.function.LongFunction<T> box;

    Count(Class<T> type, java.util.function.LongFunction<T> box) {
      super(type);
      this.box = box;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
        return (T) ctxt.handleUnexpectedToken(handledType(), p);
      }
      long value = p.getLongValue(); // refuses values beyond long
      if (value < 0) {
        throw new IllegalArgumentException("expected an integer >= 0, found " + value);
      }
      try {
        return box.apply(value);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("expected an integer >= 0 that fits in 32 bits, found " + value);
      }
    }
  }

  /** JSON has no infinity, but a number literal can overflow to it ({@code 1e400}). */
  private static final class Finite<T> extends StdScalarDeserializer<T> {
    Finite(Class<T> type) {
      super(type);
    }

    @Override
    @SuppressWarnings("unchecked")
    public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (!p.currentToken().isNumeric()) {
        return (T) ctxt.handleUnexpectedToken(handledType(), p);
      }
      double value = p.getDoubleValue();
      if (!Double.isFinite(value)) {
        throw new IllegalArgumentException("expected a finite number, found " + p.getText());
      }
      return (T) Double.valueOf(value);
    }
  }
}
