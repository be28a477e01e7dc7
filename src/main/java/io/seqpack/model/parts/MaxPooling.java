package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Recurrent;

/** {@code "max"}: the elementwise maximum of the output over the row's valid steps. */
public record MaxPooling() implements PoolingPart {
  @Override
  public String description() {
    return "max";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      for (int s = 0; s < layout.batch(); s++) {
        int dst = layout.sortedIndices()[s] * stride + column;
        System.arraycopy(output, s * width, pooled, dst, width);
        for (int t = 1, length = layout.sortedLengths()[s]; t < length; t++) {
          int src = layout.packedRow(s, t) * width;
          for (int j = 0; j < width; j++) {
            pooled[dst + j] = Math.max(pooled[dst + j], output[src + j]);
          }
        }
      }
    };
  }
}
