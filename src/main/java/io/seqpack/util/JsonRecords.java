package io.seqpack.util;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqpack.SeqpackException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * seqpack's own JSON files (the run summary, the incremental checkpoint's metadata, manifests and lock, the demo's
 * expected scores) as Java records on the {@link StrictJson} mapper: a component {@code scoredRows} is the key
 * {@code scored_rows}, keys are written in component order. On top of {@link StrictJson}'s strictness these files
 * refuse missing keys and {@code null} (unless a component says {@code @JsonSetter(nulls = Nulls.SET)}), and
 * their own rule: every integer counts rows, files, bytes, runs or milliseconds, so it is 0 or more, and every
 * number is finite. {@code Cannot read summary out/_seqpack_summary.json: buckets[2].max_length: "many", expected
 * an integer >= 0}.
 */
public final class JsonRecords {
  private JsonRecords() {}

  private static final ObjectMapper MAPPER = StrictJson.mapper(new SimpleModule("seqpack-counts")
          .addDeserializer(Long.class, new Count<>(Long.class, Long::valueOf))
          .addDeserializer(long.class, new Count<>(long.class, Long::valueOf))
          .addDeserializer(Integer.class, new Count<>(Integer.class, Math::toIntExact))
          .addDeserializer(int.class, new Count<>(int.class, Math::toIntExact))
          .addDeserializer(Double.class, new Finite<>(Double.class))
          .addDeserializer(double.class, new Finite<>(double.class)))
      .setDefaultSetterInfo(JsonSetter.Value.forValueNulls(Nulls.FAIL))
      .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

  /** Reads {@code text} as a {@code type}; {@code what} names it in messages ({@code "summary out/x.json"}). */
  public static <T> T read(String text, Class<T> type, String what,
      Function<String, ? extends SeqpackException> error) {
    return bind(readObject(text, what, error), type, what, error);
  }

  /** {@link StrictJson#readObject} with these files' mapper. */
  public static ObjectNode readObject(String text, String what, Function<String, ? extends SeqpackException> error) {
    return StrictJson.readObject(MAPPER, text, what, error);
  }

  /** {@link StrictJson#bind} with these files' mapper. */
  public static <T> T bind(JsonNode tree, Class<T> type, String what,
      Function<String, ? extends SeqpackException> error) {
    return StrictJson.bind(MAPPER, tree, type, what, error);
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
      return MAPPER.writer(StrictJson.PRETTY).writeValueAsString(value) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
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
        throw new StrictJson.Invalid("", StrictJson.text(ctxt.readTree(p)), "an integer >= 0");
      }
      long value = p.getLongValue(); // refuses values beyond long
      if (value < 0) {
        throw new StrictJson.Invalid("", String.valueOf(value), "an integer >= 0");
      }
      try {
        return box.apply(value);
      } catch (ArithmeticException e) {
        throw new StrictJson.Invalid("", String.valueOf(value), "an integer >= 0 that fits in 32 bits");
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
        throw new StrictJson.Invalid("", StrictJson.text(ctxt.readTree(p)), "a finite number");
      }
      double value = p.getDoubleValue();
      if (!Double.isFinite(value)) {
        throw new StrictJson.Invalid("", p.getText(), "a finite number");
      }
      return (T) Double.valueOf(value);
    }
  }
}
