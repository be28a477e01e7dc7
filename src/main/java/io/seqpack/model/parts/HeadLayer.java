package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.util.StrictJson;
import java.util.List;

/**
 * One layer of a head's {@code nn.Sequential}: one record per layer type, spelled {@code {"type": "linear", ...}}
 * and registered in {@link PartRegistry#HEAD_LAYERS}.
 */
public interface HeadLayer {
  /**
   * Width after this layer given the width reaching it.
   *
   * @throws io.seqpack.model.StrictJson.Invalid when the layer's declared width disagrees
   */
  default int outputWidth(int width) {
    return width;
  }

  /**
   * Checks what this layer shares with the graph's per-step inputs (a tied head reads an input's embedding).
   *
   * @throws io.seqpack.model.StrictJson.Invalid when the layer names an input part that is not there or differs
   */
  default void checkInputs(List<StepInput> inputs) {}

  /** The tensors this layer reads; {@code where} names the layer in messages. */
  default List<Param> params(String where) {
    return List.of();
  }

  /** One line for {@code inspect-model}, e.g. {@code Linear(16→8)}. */
  String description();

  /** The forward over rows of {@code width} floats, bound to its tensors. */
  Layer bind(LoadedModel model, int width);

  /**
   * A bound layer whose outputs can be computed a block of columns at a time (a product with a large table), so
   * a top-k over a catalogue never holds more than {@code rows × blockSize()} outputs.
   */
  interface ColumnBlocks extends Layer {
    /** Width of the whole output. */
    int outWidth();

    /** Columns per block (the last block may be narrower). */
    int blockSize();

    /**
     * {@code out[count, to - from]}: output columns {@code [from, to)} of {@link #apply}, {@code from} a multiple of
     * {@link #blockSize()}, {@code to = min(from + blockSize(), outWidth())}.
     */
    void applyBlock(float[] x, int count, int width, int from, float[] out);
  }

  /** A bound layer; immutable, shared by all threads. */
  @FunctionalInterface
  interface Layer {
    /** Applies the layer to {@code x[count, width]}; returns the result (x itself, or a new array). */
    float[] apply(float[] x, int count, int width);
  }
}
