package io.seqpack.model;

/**
 * The one place where state-dict names are spelled. They follow a PyTorch module with attributes {@code
 * embedding}, {@code rnn} and {@code fc}, as in the tutorial: {@code rnn.weight_ih_l0_reverse} and so on.
 */
public final class WeightNames {
  private WeightNames() {}

  public static final String EMBEDDING = "embedding.weight";
  public static final String FC_WEIGHT = "fc.weight";
  public static final String FC_BIAS = "fc.bias";

  public static String weightIh(int layer, boolean reverse) {
    return rnn("weight_ih", layer, reverse);
  }

  public static String weightHh(int layer, boolean reverse) {
    return rnn("weight_hh", layer, reverse);
  }

  public static String biasIh(int layer, boolean reverse) {
    return rnn("bias_ih", layer, reverse);
  }

  public static String biasHh(int layer, boolean reverse) {
    return rnn("bias_hh", layer, reverse);
  }

  /** LSTM projection {@code [proj_size, hidden_size]}, present only when proj_size > 0. */
  public static String weightHr(int layer, boolean reverse) {
    return rnn("weight_hr", layer, reverse);
  }

  private static String rnn(String kind, int layer, boolean reverse) {
    return "rnn." + kind + "_l" + layer + (reverse ? "_reverse" : "");
  }
}
