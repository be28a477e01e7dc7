package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Recurrent;

/**
 * {@code "last"}: {@code cat(h_n[-2], h_n[-1])}: the forward direction's state at the row's last step, the
 * backward direction's at step 0 (where its pass ends).
 */
public record LastPooling() implements PoolingPart {
  @Override
  public String description() {
    return "last";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    int state = rnn.stateSize();
    boolean backward = rnn.bidirectional();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      for (int s = 0; s < layout.batch(); s++) {
        int dst = layout.sortedIndices()[s] * stride + column;
        System.arraycopy(output, layout.packedRow(s, layout.sortedLengths()[s] - 1) * width, pooled, dst, state);
        if (backward) {
          System.arraycopy(output, s * width + state, pooled, dst + state, state);
        }
      }
    };
  }
}
