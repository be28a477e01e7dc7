package io.seqpack.util;

import java.util.function.Function;

/** Tiny precondition helpers (seqpack does not pull in Guava; Spark shades its own). */
public final class Checks {
  private Checks() {}

  /** Throws {@link IllegalArgumentException} with a formatted message when {@code condition} is false. */
  public static void checkArgument(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new IllegalArgumentException(String.format(format, args));
    }
  }

  /** Throws the exception built by {@code error} from the formatted message when {@code condition} is false. */
  public static <E extends RuntimeException> void check(
      boolean condition, Function<String, E> error, String format, Object... args) {
    if (!condition) {
      throw error.apply(String.format(format, args));
    }
  }
}
