package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.nn.Gemm;
import io.seqpack.util.Checks;
import io.seqpack.util.StrictJson;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code nn.Linear}: {@code y = x·Wᵀ + b}, {@code W} {@code [out_features, in_features]}. JSON: {@code {"type":
 * "linear", "module": "mlp.0", "in_features": 16, "out_features": 8, "bias": true}}.
 */
public record LinearLayer(String module, int inFeatures, int outFeatures, boolean bias) implements HeadLayer {
  public LinearLayer {
    Param.modulePath("module", module);
  }

  @JsonCreator
  static LinearLayer json(@JsonProperty("module") String module, @JsonProperty("in_features") Integer inFeatures,
      @JsonProperty("out_features") Integer outFeatures, @JsonProperty("bias") Boolean bias) {
    return new LinearLayer(module, Checks.integer("in_features", inFeatures, 1, Param.MAX_DIM),
        Checks.integer("out_features", outFeatures, 1, Param.MAX_DIM), Checks.bool(bias, true));
  }

  public String weight() {
    return Param.tensorName(module, "weight");
  }

  public String biasName() {
    return Param.tensorName(module, "bias");
  }

  @Override
  public int outputWidth(int width) {
    if (inFeatures != width) {
      throw new StrictJson.Invalid("in_features", Integer.toString(inFeatures), width
          + " (the width reaching this layer)");
    }
    return outFeatures;
  }

  @Override
  public List<Param> params(String where) {
    List<Param> out = new ArrayList<>();
    out.add(new Param(weight(), new int[] {outFeatures, inFeatures}, "out_features, in_features", where));
    if (bias) {
      out.add(new Param(biasName(), new int[] {outFeatures}, "out_features", where));
    }
    return out;
  }

  @Override
  public String description() {
    return "Linear(" + inFeatures + "→" + outFeatures + ")";
  }

  @Override
  public Layer bind(LoadedModel model, int width) {
    Gemm.Weights w = Gemm.prepare(model.tensor(weight()).data(), 0, outFeatures, inFeatures);
    float[] b = bias ? model.tensor(biasName()).data() : null;
    return (x, count, in) -> {
      float[] out = new float[count * outFeatures];
      Gemm.multiply(count, x, 0, in, w, out, 0, outFeatures, false);
      if (b != null) {
        for (int r = 0; r < count; r++) {
          for (int j = 0; j < outFeatures; j++) {
            out[r * outFeatures + j] += b[j];
          }
        }
      }
      return out;
    };
  }
}
