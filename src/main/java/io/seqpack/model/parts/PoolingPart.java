package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelGraph.Recurrent;
import io.seqpack.pack.PackedLayout;
import java.util.List;

/**
 * A pooling kind: each row's valid steps of the last layer's output ({@code [T, O]}, {@code O =} {@link
 * Recurrent#outputSize()}) to {@code O} floats. One record per kind, its JSON spelling registered in {@link
 * PartRegistry#POOLING}: {@code "last"} or {@code {"attention": {...}}}.
 */
public interface PoolingPart {
  /** The tensors this kind reads, given the recurrent stack it pools. */
  default List<Param> params(Recurrent rnn) {
    return List.of();
  }

  /** How many floats this part adds to the pooled vector (the RNN's output width for most kinds). */
  default int width(Recurrent rnn) {
    return rnn.outputSize();
  }

  /** Whether the part reads the final states of every layer and direction ({@code h_n}), not only the output. */
  default boolean needsFinalStates() {
    return false;
  }

  /** One line for {@code inspect-model}, e.g. {@code attention(10)}. */
  String description();

  /** The forward, bound to its tensors. */
  Pooler bind(LoadedModel model, Recurrent rnn);

  /** A bound pooling; immutable, shared by all threads. */
  @FunctionalInterface
  interface Pooler {
    /**
     * Pools {@code output[N, O]} (packed, time-major) of each row into {@code pooled[row * stride + column ..
     * + width]}, rows in original order. {@code hN} is {@code h_n [layers*D, B, P]} (original order) for a part
     * that {@link #needsFinalStates()}, else null.
     */
    void pool(float[] output, float[] hN, PackedLayout layout, float[] pooled, int stride, int column,
        Scratch scratch);
  }
}
