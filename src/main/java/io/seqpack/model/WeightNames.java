package io.seqpack.model;

/**
 * The one place where state-dict names are spelled. They follow a PyTorch module with attributes {@code
 * embedding}, {@code rnn} and {@code fc}, as in the tutorial: {@code rnn.weight_ih_l0_reverse} and so on.
 */
public final class WeightNames {
  private WeightNames() {}

  /** The module paths of a format-1 model ({@link ModelSpec#toGraph()} builds its graph from them). */
  public static final String EMBEDDING_MODULE = "embedding";
  public static final String RNN_MODULE = "rnn";
  public static final String FC_MODULE = "fc";

  public static final String EMBEDDING = EMBEDDING_MODULE + ".weight";
  public static final String FC_WEIGHT = FC_MODULE + ".weight";
  public static final String FC_BIAS = FC_MODULE + ".bias";

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
    return RNN_MODULE + "." + kind + "_l" + layer + (reverse ? "_reverse" : "");
  }
}
