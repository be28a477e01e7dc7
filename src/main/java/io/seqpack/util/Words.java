package io.seqpack.util;

/** Counts in messages, with the noun's number right: {@code count(1, "row")} is {@code "1 row"}. */
public final class Words {
  private Words() {}

  /** {@code n} and {@code noun}, adding {@code s} unless {@code n} is 1. */
  public static String count(long n, String noun) {
    return count(n, noun, noun + "s");
  }

  /** {@code n} and {@code singular} or {@code plural}: {@code count(2, "batch", "batches")}. */
  public static String count(long n, String singular, String plural) {
    return n + " " + noun(n, singular, plural);
  }

  /** {@code singular} when {@code n} is 1, else {@code plural}: for counts formatted elsewhere. */
  public static String noun(long n, String singular, String plural) {
    return n == 1 ? singular : plural;
  }
}
