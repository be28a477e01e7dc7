package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Recurrent;

/** {@code "first"}: {@code output[:, 0, :]}, the output at step 0 (forward after one step, backward after all). */
public record FirstPooling() implements PoolingPart {
  @Override
  public String description() {
    return "first";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      for (int s = 0; s < layout.batch(); s++) {
        System.arraycopy(output, s * width, pooled, layout.sortedIndices()[s] * stride + column, width);
      }
    };
  }
}
