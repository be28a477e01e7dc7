package io.seqpack.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import io.seqpack.util.StrictJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * JSON for tests through the strict mapper, as plain Java values: objects as {@code Map<String, Object>} in key
 * order, arrays as lists, integers as {@code Long} (or {@code BigInteger}), other numbers as {@code Double}.
 */
public final class TestJson {
  private TestJson() {}

  public static Object parse(String text) {
    try {
      return StrictJson.MAPPER.reader().with(DeserializationFeature.USE_LONG_FOR_INTS).readValue(text, Object.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    return (Map<String, Object>) parse(text);
  }

  public static String write(Object value) {
    try {
      return StrictJson.MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Two-space indented, ending in a newline, as seqpack writes its files. */
  public static String writePretty(Object value) {
    try {
      return StrictJson.MAPPER.writer(StrictJson.PRETTY).writeValueAsString(value) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
