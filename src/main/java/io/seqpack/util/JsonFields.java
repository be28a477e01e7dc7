package io.seqpack.util;

import io.seqpack.SeqpackException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Typed, path-aware reads from one parsed JSON object, shared by the strict readers of {@code model.json}, the
 * safetensors header and the run summary. Every problem is worded {@code <path> is <actual>, expected <expected>}
 * and turned into an exception by one factory, so all three files report errors the same way.
 *
 * <p>A key that is absent takes the caller's default (or is an error when there is none); a key that is present
 * must hold the right type — {@code null} never stands in for a default.
 */
public final class JsonFields {
  private static final int MAX_SHOWN_CHARS = 60;
  private static final String COUNT = "an integer >= 0";

  /** Names (keys, tensor names, dtype strings) from a file are cut to this many characters in messages. */
  public static final int MAX_NAME_CHARS = 200;

  private final Map<String, Object> fields;
  private final String name;
  private final String prefix;
  private final Function<String, ? extends SeqpackException> error;

  private JsonFields(Map<String, Object> fields, String name, String prefix,
      Function<String, ? extends SeqpackException> error) {
    this.fields = fields;
    this.name = name;
    this.prefix = prefix;
    this.error = error;
  }

  /**
   * Wraps a parsed top-level value that must be an object.
   *
   * @param what how messages call the value, e.g. {@code "model.json"} or {@code "the header"}
   * @param prefix prepended to each key to name it in messages, e.g. {@code ""} or {@code "tensor x: "}
   * @param error turns a message tail into the exception to throw (adds the "Cannot read ... in ...:" part)
   */
  public static JsonFields of(Object value, String what, String prefix,
      Function<String, ? extends SeqpackException> error) {
    if (!(value instanceof Map)) {
      throw error.apply(what + " is " + show(value) + ", expected a JSON object");
    }
    return new JsonFields(asMap(value), what, prefix, error);
  }

  /** How messages name this object, e.g. {@code the header} or {@code buckets[2]}. */
  public String name() {
    return name;
  }

  /** The object's keys, in file order. */
  public Set<String> keys() {
    return fields.keySet();
  }

  /** The raw parsed value of {@code key} (null when absent). */
  public Object value(String key) {
    return fields.get(key);
  }

  /** The name of {@code key} as messages show it, e.g. {@code rnn.hidden_size}. */
  public String path(String key) {
    return prefix + shorten(key);
  }

  /** Fails on the first key not in {@code allowed}; the message lists the allowed keys. */
  public JsonFields only(String... allowed) {
    List<String> known = Arrays.asList(allowed);
    for (String key : fields.keySet()) {
      if (!known.contains(key)) {
        throw error.apply(path(key) + " is not a known field, expected one of " + String.join(", ", allowed));
      }
    }
    return this;
  }

  /** Whether {@code key} is present (even with a {@code null} value). */
  public boolean has(String key) {
    return fields.containsKey(key);
  }

  /** A required nested object; its keys are named {@code <path>.<key>} in messages. */
  public JsonFields object(String key) {
    Object value = required(key, "an object");
    if (!(value instanceof Map)) {
      throw invalid(key, "an object");
    }
    return new JsonFields(asMap(value), path(key), path(key) + ".", error);
  }

  /** A required string. */
  public String string(String key) {
    Object value = required(key, "a string");
    if (!(value instanceof String s)) {
      throw invalid(key, "a string");
    }
    return s;
  }

  /** A required boolean. */
  public boolean bool(String key) {
    required(key, "true or false");
    return bool(key, false);
  }

  /** A string, or null when the key is absent or null. */
  public String nullableString(String key) {
    Object value = fields.get(key);
    if (value != null && !(value instanceof String)) {
      throw invalid(key, "null or a string");
    }
    return (String) value;
  }

  /** A boolean, or {@code defaultValue} when absent. */
  public boolean bool(String key, boolean defaultValue) {
    if (!has(key)) {
      return defaultValue;
    }
    if (!(fields.get(key) instanceof Boolean b)) {
      throw invalid(key, "true or false");
    }
    return b;
  }

  /** A required integer in {@code [min, max]}; {@code 2.5}, {@code "3"} and out-of-range values are errors. */
  public int integer(String key, int min, int max) {
    required(key, rangeText(min, max));
    return integerOr(key, min, max, 0);
  }

  /** An integer in {@code [min, max]}, or {@code defaultValue} when absent. */
  public int integerOr(String key, int min, int max, int defaultValue) {
    if (!has(key)) {
      return defaultValue;
    }
    Long value = asLong(fields.get(key));
    if (value == null || value < min || value > max) {
      throw invalid(key, rangeText(min, max));
    }
    return value.intValue();
  }

  /** A required integer {@code >= 0} that may need 64 bits (a count of rows, tokens, ...). */
  public long count(String key) {
    required(key, COUNT);
    Long value = asLong(fields.get(key));
    if (value == null || value < 0) {
      throw invalid(key, COUNT);
    }
    return value;
  }

  /** A required array of integers {@code >= 0}; a bad item is named {@code <path>[i]}. */
  public List<Long> counts(String key) {
    return convertedItems(key, "an array of integers >= 0", COUNT, item -> {
      Long value = asLong(item);
      return value == null || value < 0 ? null : value;
    });
  }

  /** A required array of strings; a bad item is named {@code <path>[i]}. */
  public List<String> strings(String key) {
    return convertedItems(key, "an array of strings", "a string", item -> item instanceof String s ? s : null);
  }

  /** A required array of finite numbers, as doubles; a bad item is named {@code <path>[i]}. */
  public List<Double> numbers(String key) {
    return convertedItems(key, "an array of numbers", "a finite number", JsonFields::asFinite);
  }

  private <T> List<T> convertedItems(String key, String expected, String expectedItem, Function<Object, T> convert) {
    Object value = required(key, expected);
    if (!(value instanceof List<?> list)) {
      throw invalid(key, expected);
    }
    List<T> out = new java.util.ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      T item = convert.apply(list.get(i));
      if (item == null) {
        throw error.apply(path(key) + "[" + i + "] is " + show(list.get(i)) + ", expected " + expectedItem);
      }
      out.add(item);
    }
    return List.copyOf(out);
  }

  /** An integer in {@code [min, max]}, or null when the key is absent or null. */
  public Integer nullableInteger(String key, int min, int max) {
    if (!has(key) || fields.get(key) == null) {
      return null;
    }
    Long value = asLong(fields.get(key));
    if (value == null || value < min || value > max) {
      throw invalid(key, "null or " + rangeText(min, max));
    }
    return value.intValue();
  }

  /**
   * A required array of integers, each in {@code [min, max]}, with a length in {@code [minCount, maxCount]}.
   *
   * @param expected how the message describes a valid value, e.g. {@code "an array of two integers ..."}
   */
  public long[] integers(String key, int minCount, int maxCount, long min, long max, String expected) {
    Object value = required(key, expected);
    if (!(value instanceof List<?> list) || list.size() < minCount || list.size() > maxCount) {
      throw invalid(key, expected);
    }
    long[] out = new long[list.size()];
    for (int i = 0; i < out.length; i++) {
      Long item = asLong(list.get(i));
      if (item == null || item < min || item > max) {
        throw invalid(key, expected);
      }
      out[i] = item;
    }
    return out;
  }

  /** A required array with a length in {@code [minCount, maxCount]}, its items as parsed. */
  public List<Object> list(String key, int minCount, int maxCount) {
    String expected = "an array of " + minCount + " to " + maxCount + " items";
    Object value = required(key, expected);
    if (!(value instanceof List<?> list) || list.size() < minCount || list.size() > maxCount) {
      throw invalid(key, expected);
    }
    return List.copyOf(list);
  }

  /** A required array of objects, each named {@code <path>[i].<key>} in messages. */
  public List<JsonFields> objects(String key, int minCount, int maxCount) {
    return objectItems(key, list(key, minCount, maxCount));
  }

  /** A required array of objects of any length, each named {@code <path>[i].<key>} in messages. */
  public List<JsonFields> objects(String key) {
    Object value = required(key, "an array of objects");
    if (!(value instanceof List<?> list)) {
      throw invalid(key, "an array of objects");
    }
    return objectItems(key, list);
  }

  private List<JsonFields> objectItems(String key, List<?> items) {
    List<JsonFields> out = new java.util.ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      String where = path(key) + "[" + i + "]";
      out.add(JsonFields.of(items.get(i), where, where + ".", error));
    }
    return out;
  }

  /** A required finite number (an integer literal too), as a double. */
  public double number(String key) {
    Double value = asFinite(required(key, "a finite number"));
    if (value == null) {
      throw invalid(key, "a finite number");
    }
    return value;
  }

  /** A number in {@code [min, max]}, or {@code defaultValue} when absent. */
  public double number(String key, double defaultValue, double min, double max) {
    if (!has(key)) {
      return defaultValue;
    }
    Object value = fields.get(key);
    double d = value instanceof Number n ? n.doubleValue() : Double.NaN;
    if (!(d >= min && d <= max)) {
      throw invalid(key, "a number in [" + min + ", " + max + "]");
    }
    return d;
  }

  /**
   * A required string that must spell one of {@code values}; the message lists every allowed spelling.
   *
   * @param spelling how each constant is written in the file
   */
  public <E extends Enum<E>> E choice(String key, E[] values, Function<E, String> spelling) {
    String allowed = Arrays.stream(values).map(spelling).collect(Collectors.joining(", "));
    Object value = required(key, "one of " + allowed);
    for (E candidate : values) {
      if (spelling.apply(candidate).equals(value)) {
        return candidate;
      }
    }
    throw invalid(key, "one of " + allowed);
  }

  /** Like {@link #choice(String, Enum[], Function)} but {@code defaultValue} when absent. */
  public <E extends Enum<E>> E choiceOr(String key, E[] values, Function<E, String> spelling, E defaultValue) {
    return has(key) ? choice(key, values, spelling) : defaultValue;
  }

  /** The error {@code <path> is <actual value>, expected <expected>} for a present key. */
  public SeqpackException invalid(String key, String expected) {
    return error.apply(path(key) + " is " + show(fields.get(key)) + ", expected " + expected);
  }

  /** An error with a free-form message tail. */
  public SeqpackException fail(String message) {
    return error.apply(message);
  }

  private Object required(String key, String expected) {
    if (!has(key)) {
      throw error.apply(path(key) + " is missing, expected " + expected);
    }
    return fields.get(key);
  }

  /** A JSON number as a finite double, or null for anything else (1e400 parses to infinity: not finite). */
  private static Double asFinite(Object value) {
    return value instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
  }

  private static String rangeText(int min, int max) {
    return "an integer in [" + min + ", " + max + "]";
  }

  /** An integral JSON number as a long, or null for anything else (fractions, strings, huge integers). */
  private static Long asLong(Object value) {
    return value instanceof Long l ? l : null;
  }

  /**
   * A name taken from a file, cut to {@link #MAX_NAME_CHARS} characters (plus "...") so that a hostile file
   * cannot make an error message arbitrarily long.
   */
  public static String shorten(String name) {
    return name.length() <= MAX_NAME_CHARS ? name : name.substring(0, MAX_NAME_CHARS) + "...";
  }

  /** A value as it appeared in the file (compact JSON), shortened for messages. */
  public static String show(Object value) {
    // Numbers as parsed (Json.write would print an overflowed 1e400 as null); everything else as JSON, written
    // only as far as shown: the value can be a list of millions of items.
    StringBuilder sb = new StringBuilder();
    if (value instanceof Number) {
      sb.append(value);
    } else {
      appendShown(value, sb);
    }
    return sb.length() <= MAX_SHOWN_CHARS ? sb.toString() : sb.substring(0, MAX_SHOWN_CHARS) + "...";
  }

  /** Appends compact JSON for {@code value} to {@code sb}, stopping once it is longer than shown. */
  private static void appendShown(Object value, StringBuilder sb) {
    if (value instanceof Map<?, ?> map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (sb.length() > MAX_SHOWN_CHARS) {
          return;
        }
        sb.append(first ? "" : ",");
        first = false;
        appendShown(String.valueOf(e.getKey()), sb);
        sb.append(':');
        appendShown(e.getValue(), sb);
      }
      sb.append('}');
    } else if (value instanceof List<?> list) {
      sb.append('[');
      boolean first = true;
      for (Object item : list) {
        if (sb.length() > MAX_SHOWN_CHARS) {
          return;
        }
        sb.append(first ? "" : ",");
        first = false;
        appendShown(item, sb);
      }
      sb.append(']');
    } else if (value instanceof String s && s.length() > MAX_SHOWN_CHARS) {
      sb.append(Json.write(s.substring(0, MAX_SHOWN_CHARS + 1)));
    } else {
      sb.append(Json.write(value));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object value) {
    return (Map<String, Object>) value;
  }
}
