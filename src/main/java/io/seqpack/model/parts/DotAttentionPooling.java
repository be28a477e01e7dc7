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
 * {@code {"dot_attention": {"query": [-2, -1]}}}: attention whose query is the final state, no parameters:
 * {@code q = cat(h_n[i] for i in query)} (as {@link HiddenPooling}; its width must be the output's), {@code e_t =
 * o_t · q}, softmax over the row's valid steps, {@code Σ a_t o_t}. It is {@code torch.bmm(output, q.unsqueeze(2))},
 * a softmax over time and {@code torch.bmm(output.transpose(1, 2), weights)} in published text classifiers.
 */
public record DotAttentionPooling(List<Integer> query) implements PoolingPart {
  public DotAttentionPooling {
    query = Checks.list("query", query, 1, 64, "indices into h_n");
  }

  @JsonCreator
  static DotAttentionPooling json(@JsonProperty("query") List<Integer> query) {
    return new DotAttentionPooling(query);
  }

  @Override
  public int width(Recurrent rnn) {
    int q = HiddenPooling.rows(query, rnn, "dot_attention.query").length * rnn.stateSize();
    if (q != rnn.outputSize()) {
      throw new StrictJson.Invalid("dot_attention.query", query.toString() + " (" + q + " floats)",
          "final states as wide as the RNN output (" + rnn.outputSize() + ")");
    }
    return rnn.outputSize();
  }

  @Override
  public boolean needsFinalStates() {
    return true;
  }

  @Override
  public String description() {
    return "dot_attention(query=" + query.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]"))
        + ")";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int[] rows = HiddenPooling.rows(query, rnn, "dot_attention.query");
    int state = rnn.stateSize();
    int width = rnn.outputSize();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      int batch = layout.batch();
      float[] q = scratch.floats(0, width);
      float[] energy = scratch.floats(1, layout.totalRows());
      for (int s = 0; s < batch; s++) {
        int original = layout.sortedIndices()[s];
        for (int i = 0; i < rows.length; i++) {
          System.arraycopy(hN, (rows[i] * batch + original) * state, q, i * state, state);
        }
        Attention.byQuery(output, layout, s, q, width, energy, pooled, original * stride + column);
      }
    };
  }
}
