package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelGraph.Recurrent;
import io.seqpack.util.Checks;
import java.util.List;

/**
 * {@code {"query_attention": {"query": "attn.q"}}}: attention with one learned query vector: {@code e_t = o_t ·
 * q}, softmax over the row's valid steps, {@code Σ a_t o_t}; {@code query} names a 1-D parameter of the RNN
 * output's width ({@code [O]}).
 */
public record QueryAttentionPooling(String query) implements PoolingPart {
  public QueryAttentionPooling {
    Checks.required("query", query, "the name of a parameter [O]");
  }

  @JsonCreator
  static QueryAttentionPooling json(@JsonProperty("query") String query) {
    return new QueryAttentionPooling(query);
  }

  @Override
  public List<Param> params(Recurrent rnn) {
    return List.of(new Param(query, new int[] {rnn.outputSize()}, "rnn output", "query attention pooling"));
  }

  @Override
  public String description() {
    return "query_attention(" + query + ")";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    float[] q = model.tensor(query).data();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      float[] energy = scratch.floats(1, layout.totalRows());
      for (int s = 0; s < layout.batch(); s++) {
        Attention.byQuery(output, layout, s, q, width, energy, pooled, layout.sortedIndices()[s] * stride + column);
      }
    };
  }
}
