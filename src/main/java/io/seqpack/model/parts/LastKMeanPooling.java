package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelGraph.Recurrent;
import io.seqpack.util.Checks;

/**
 * {@code {"last_k_mean": {"k": 5}}}: the mean of the output over the row's last {@code min(k, length)} valid steps
 * ({@code output[i, L-k':L].mean(0)} with {@code k' = min(k, L)}); both directions' outputs at those steps.
 */
public record LastKMeanPooling(int k) implements PoolingPart {
  public LastKMeanPooling {
    Checks.integer("k", k, 1, Param.MAX_DIM);
  }

  @JsonCreator
  static LastKMeanPooling json(@JsonProperty("k") Integer k) {
    return new LastKMeanPooling(Checks.integer("k", k, 1, Param.MAX_DIM));
  }

  @Override
  public String description() {
    return "last_k_mean(" + k + ")";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      for (int s = 0; s < layout.batch(); s++) {
        int length = layout.sortedLengths()[s];
        MeanPooling.meanOfSteps(output, layout, s, Math.max(0, length - k), length, width, pooled,
            layout.sortedIndices()[s] * stride + column);
      }
    };
  }
}
