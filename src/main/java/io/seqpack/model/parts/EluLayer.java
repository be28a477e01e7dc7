package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.util.Checks;

/** {@code nn.ELU}: {@code x if x > 0 else alpha·(exp(x) − 1)}. JSON: {@code {"type": "elu", "alpha": 1.0}}. */
public record EluLayer(double alpha) implements Elementwise {
  @JsonCreator
  static EluLayer json(@JsonProperty("alpha") Double alpha) {
    return new EluLayer(Checks.number("alpha", alpha, -1e6, 1e6, 1.0));
  }

  @Override
  public float apply(float v) {
    return v > 0f ? v : (float) Math.expm1(v) * (float) alpha;
  }

  @Override
  public String description() {
    return "ELU(" + alpha + ")";
  }
}
