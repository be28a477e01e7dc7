package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.util.Checks;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code nn.BatchNorm1d} in eval mode: {@code (x − running_mean) / sqrt(running_var + eps) · weight + bias}, folded
 * to {@code x·α + β} per feature with {@code α = weight / sqrt(running_var + eps)}, {@code β = bias − mean·α} as
 * ATen's CPU kernel does. JSON: {@code {"type": "batch_norm", "module": "mlp.2", "size": 8, "eps": 1e-5,
 * "affine": true}}.
 */
public record BatchNorm(String module, Integer size, double eps, boolean affine) implements Norm {
  public BatchNorm {
    Param.modulePath("module", module);
  }

  @JsonCreator
  static BatchNorm json(@JsonProperty("module") String module, @JsonProperty("size") Integer size,
      @JsonProperty("eps") Double eps, @JsonProperty("affine") Boolean affine) {
    return new BatchNorm(module, size == null ? null : Checks.integer("size", size, 1, Param.MAX_DIM),
        Checks.number("eps", eps, 0, 1, 1e-5), Checks.bool(affine, true));
  }

  @Override
  public Norm withSize(int width) {
    return new BatchNorm(module, width, eps, affine);
  }

  @Override
  public List<Param> params(String where) {
    int[] shape = {size};
    List<Param> out = new ArrayList<>();
    out.add(new Param(Param.tensorName(module, "running_mean"), shape, "size", where));
    out.add(new Param(Param.tensorName(module, "running_var"), shape, "size", where));
    out.addAll(affineParams(where));
    return out;
  }

  @Override
  public String description() {
    return "BatchNorm1d(" + size + ")";
  }

  @Override
  public NormOp bindNorm(LoadedModel model) {
    int n = size;
    float[] weight = affine ? model.tensor(Param.tensorName(module, "weight")).data() : null;
    float[] bias = affine ? model.tensor(Param.tensorName(module, "bias")).data() : null;
    float[] mean = model.tensor(Param.tensorName(module, "running_mean")).data();
    float[] var = model.tensor(Param.tensorName(module, "running_var")).data();
    float[] alpha = new float[n];
    float[] beta = new float[n];
    for (int j = 0; j < n; j++) {
      float invstd = (float) (1.0 / Math.sqrt((double) var[j] + eps));
      alpha[j] = weight == null ? invstd : invstd * weight[j];
      beta[j] = (bias == null ? 0f : bias[j]) - mean[j] * alpha[j];
    }
    return (x, off, stride, rows) -> {
      for (int r = 0; r < rows; r++) {
        int o = off + r * stride;
        for (int j = 0; j < n; j++) {
          x[o + j] = x[o + j] * alpha[j] + beta[j];
        }
      }
    };
  }
}
