package io.seqpack.model.parts;

/**
 * A recurrent mode, PyTorch's {@code nn.RNN} (tanh or relu), {@code nn.LSTM} or {@code nn.GRU}: one record per mode,
 * spelled in {@code model.json}'s {@code "mode"} as PyTorch names it and registered in {@link
 * PartRegistry#RECURRENT_MODES}. The mode declares the shapes of its weights (gate blocks) and the options it
 * allows; the recurrent stack ({@link io.seqpack.model.ModelGraph.Recurrent}) declares the tensors from them. Its
 * step math is the engine's cell for it ({@code io.seqpack.nn}, kept beside the kernels it shares).
 */
public interface RecurrentMode {
  /** Gate blocks stacked in {@code weight_ih} / {@code weight_hh}: {@code [gates·hidden_size, ·]}. */
  int gates();

  /** Whether the mode carries a cell state beside h (LSTM's c): {@code c0} may be given, and there is a {@code c_n}. */
  default boolean hasCellState() {
    return false;
  }

  /** Whether {@code proj_size > 0} may project h ({@code weight_hr}, LSTM only in PyTorch). */
  default boolean projects() {
    return false;
  }

  /** As written in {@code model.json} and shown by {@code inspect-model}, e.g. {@code LSTM}. */
  default String spelling() {
    return PartRegistry.RECURRENT_MODES.nameOf(this);
  }
}
