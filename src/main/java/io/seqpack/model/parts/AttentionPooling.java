package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelGraph.Recurrent;
import io.seqpack.model.ModelJson;
import io.seqpack.nn.Gemm;
import java.util.Arrays;
import java.util.List;

/**
 * Additive attention (HAN-style): {@code e_t = context · tanh(proj · h_t + b)}, softmax over the row's valid
 * steps, {@code Σ a_t h_t}; {@code proj} an {@code nn.Linear(O, size)}, {@code context} an {@code nn.Linear(size,
 * 1, bias=False)}. JSON: {@code {"attention": {"proj": "attn.proj", "context": "attn.v", "size": 10}}}.
 */
public record AttentionPooling(String proj, String context, int size) implements PoolingPart {
  public AttentionPooling {
    ModelJson.modulePath("proj", proj);
    ModelJson.modulePath("context", context);
    ModelJson.integer("size", size, 1, Param.MAX_DIM);
  }

  @JsonCreator
  static AttentionPooling json(@JsonProperty("proj") String proj, @JsonProperty("context") String context,
      @JsonProperty("size") Integer size) {
    return new AttentionPooling(proj, context, ModelJson.integer("size", size, 1, Param.MAX_DIM));
  }

  @Override
  public List<Param> params(Recurrent rnn) {
    return List.of(
        new Param(Param.tensorName(proj, "weight"), new int[] {size, rnn.outputSize()}, "attention size, rnn output",
            "attention pooling"),
        new Param(Param.tensorName(proj, "bias"), new int[] {size}, "attention size", "attention pooling"),
        new Param(Param.tensorName(context, "weight"), new int[] {1, size}, "1, attention size",
            "attention pooling"));
  }

  @Override
  public String description() {
    return "attention(" + size + ")";
  }

  @Override
  public Pooler bind(LoadedModel model, Recurrent rnn) {
    int width = rnn.outputSize();
    Gemm.Weights weights = Gemm.prepare(model.tensor(Param.tensorName(proj, "weight")).data(), 0, size, width);
    float[] bias = model.tensor(Param.tensorName(proj, "bias")).data();
    float[] v = model.tensor(Param.tensorName(context, "weight")).data();
    return (output, layout, pooled, stride, column, scratch) -> {
      int rows = layout.totalRows();
      float[] units = scratch.floats(0, (long) rows * size);
      Gemm.multiply(rows, output, 0, width, weights, units, 0, size, false);
      float[] energy = scratch.floats(1, rows);
      for (int r = 0; r < rows; r++) { // e_r = context · tanh(proj · h_r + b)
        float e = 0f;
        for (int a = 0; a < size; a++) {
          e += v[a] * (float) Math.tanh(units[r * size + a] + bias[a]);
        }
        energy[r] = e;
      }
      for (int s = 0; s < layout.batch(); s++) { // softmax over the row's valid steps, then Σ a_t h_t
        int length = layout.sortedLengths()[s];
        int dst = layout.sortedIndices()[s] * stride + column;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < length; t++) {
          max = Math.max(max, energy[layout.packedRow(s, t)]);
        }
        float sum = 0f;
        for (int t = 0; t < length; t++) {
          sum += (float) Math.exp(energy[layout.packedRow(s, t)] - max);
        }
        Arrays.fill(pooled, dst, dst + width, 0f);
        for (int t = 0; t < length; t++) {
          int r = layout.packedRow(s, t);
          float a = (float) Math.exp(energy[r] - max) / sum;
          int src = r * width;
          for (int j = 0; j < width; j++) {
            pooled[dst + j] += a * output[src + j];
          }
        }
      }
    };
  }
}
