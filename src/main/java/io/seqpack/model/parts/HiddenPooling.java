package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Recurrent;
import io.seqpack.util.Checks;
import io.seqpack.util.StrictJson;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code {"hidden": {"indices": [-1, -2]}}}: {@code cat(h_n[i] for i in indices)}, the final states of any layers
 * and directions in any order. {@code h_n} is layer-major, direction-minor ({@code 2l} forward, {@code 2l+1}
 * backward of layer {@code l}); a negative index counts from the end, as in Python. {@code "last"} is {@code [-2,
 * -1]} of a bidirectional RNN; {@code [-1, -2]} is {@code torch.cat((hidden[-1], hidden[-2]), dim=1)} (backward
 * state first); {@code [0, 1, 2, 3]} is every layer's, {@code h_n.permute(1, 0, 2).reshape(B, -1)}.
 */
public record HiddenPooling(List<Integer> indices) implements PoolingPart {
  public HiddenPooling {
    indices = Checks.list("indices", indices, 1, 64, "indices into h_n");
  }

  @JsonCreator
  static HiddenPooling json(@JsonProperty("indices") List<Integer> indices) {
    return new HiddenPooling(indices);
  }

  /** {@code indices} as non-negative rows of {@code h_n}, checked against the stack. */
  static int[] rows(List<Integer> indices, Recurrent rnn, String field) {
    int states = rnn.numLayers() * rnn.directions();
    int[] rows = new int[indices.size()];
    for (int i = 0; i < rows.length; i++) {
      int k = Checks.required(field, indices.get(i), "an integer");
      if (k < -states || k >= states) {
        throw new StrictJson.Invalid(field + "[" + i + "]", Integer.toString(k), "an index into h_n's " + states
            + " final states (" + rnn.numLayers() + " layers × " + rnn.directions() + " directions), -" + states
            + ".." + (states - 1));
      }
      rows[i] = k < 0 ? k + states : k;
    }
    return rows;
  }

  @Override
  public int width(Recurrent rnn) {
    return rows(indices, rnn, "hidden.indices").length * rnn.stateSize();
  }

  @Override
  public boolean needsFinalStates() {
    return true;
  }

  @Override
  public String description() {
    return "hidden" + indices.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"));
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int[] rows = rows(indices, rnn, "hidden.indices");
    int state = rnn.stateSize();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      int batch = layout.batch();
      for (int b = 0; b < batch; b++) {
        for (int i = 0; i < rows.length; i++) {
          System.arraycopy(hN, (rows[i] * batch + b) * state, pooled, b * stride + column + i * state, state);
        }
      }
    };
  }
}
