package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.util.Checks;
import java.util.List;

/**
 * {@code nn.LayerNorm} over the last dimension: {@code (x − mean) / sqrt(var + eps) · weight + bias} with the row's
 * mean and biased variance. JSON: {@code {"type": "layer_norm", "module": "norm", "size": 8, "eps": 1e-5,
 * "affine": true}}.
 */
public record LayerNorm(String module, Integer size, double eps, boolean affine) implements Norm {
  public LayerNorm {
    Param.modulePath("module", module);
  }

  @JsonCreator
  static LayerNorm json(@JsonProperty("module") String module, @JsonProperty("size") Integer size,
      @JsonProperty("eps") Double eps, @JsonProperty("affine") Boolean affine) {
    return new LayerNorm(module, size == null ? null : Checks.integer("size", size, 1, Param.MAX_DIM),
        Checks.number("eps", eps, 0, 1, 1e-5), Checks.bool(affine, true));
  }

  @Override
  public Norm withSize(int width) {
    return new LayerNorm(module, width, eps, affine);
  }

  @Override
  public List<Param> params(String where) {
    return affineParams(where);
  }

  @Override
  public String description() {
    return "LayerNorm(" + size + ")";
  }

  @Override
  public NormOp bindNorm(LoadedModel model) {
    int n = size;
    float[] weight = affine ? model.tensor(Param.tensorName(module, "weight")).data() : null;
    float[] bias = affine ? model.tensor(Param.tensorName(module, "bias")).data() : null;
    return (x, off, stride, rows) -> {
      for (int r = 0; r < rows; r++) {
        int o = off + r * stride;
        double mean = 0;
        for (int j = 0; j < n; j++) {
          mean += x[o + j];
        }
        mean /= n;
        double var = 0;
        for (int j = 0; j < n; j++) {
          double d = x[o + j] - mean;
          var += d * d;
        }
        var /= n;
        float m = (float) mean;
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        for (int j = 0; j < n; j++) {
          float y = (x[o + j] - m) * rstd;
          x[o + j] = weight == null ? y : y * weight[j] + bias[j];
        }
      }
    };
  }
}
