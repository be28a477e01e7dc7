package io.seqpack.util;

import io.seqpack.util.StrictJson.Invalid;
import java.util.List;

/**
 * The range checks of records read from JSON or built in code (the model's parts): each names its field and throws
 * {@link Invalid}, which {@link StrictJson#read} words with the JSON path. A null value is an absent field.
 */
public final class Checks {
  private Checks() {}

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
    if (value != null && !(value >= min && value <= max)) {
      throw new Invalid(field, value.toString(), "a number in [" + min + ", " + max + "]");
    }
    return value == null ? absent : value;
  }

  public static boolean bool(Boolean value, boolean absent) {
    return value == null ? absent : value;
  }

  public static <T> T required(String field, T value, String expected) {
    if (value == null) {
      throw new Invalid(field, "missing", expected);
    }
    return value;
  }

  public static <T> List<T> list(String field, List<T> value, int min, int max, String what) {
    if (value == null || value.size() < min || value.size() > max) {
      throw new Invalid(field, value == null ? "missing" : value.size() + " entries", "an array of " + min + " to "
          + max + " " + what);
    }
    return List.copyOf(value);
  }
}
