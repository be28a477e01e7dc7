package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Recurrent;

/** {@code "mean"}: the mean of the output over the row's valid steps. */
public record MeanPooling() implements PoolingPart {
  @Override
  public String description() {
    return "mean";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      for (int s = 0; s < layout.batch(); s++) {
        int length = layout.sortedLengths()[s];
        meanOfSteps(output, layout, s, 0, length, width, pooled, layout.sortedIndices()[s] * stride + column);
      }
    };
  }

  /** {@code dest[dst .. + width]} = mean of sorted row {@code s}'s output at steps {@code from .. to-1}. */
  static void meanOfSteps(float[] output, io.seqpack.pack.PackedLayout layout, int s, int from, int to, int width,
      float[] dest, int dst) {
    java.util.Arrays.fill(dest, dst, dst + width, 0f);
    for (int t = from; t < to; t++) {
      int src = layout.packedRow(s, t) * width;
      for (int j = 0; j < width; j++) {
        dest[dst + j] += output[src + j];
      }
    }
    for (int j = 0; j < width; j++) {
      dest[dst + j] /= to - from;
    }
  }
}
