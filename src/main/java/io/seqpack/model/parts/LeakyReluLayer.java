package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.util.Checks;

/** {@code nn.LeakyReLU}: {@code x if x > 0 else x·negative_slope}. JSON: {@code {"type": "leaky_relu", "negative_slope": 0.01}}. */
public record LeakyReluLayer(double negativeSlope) implements Elementwise {
  @JsonCreator
  static LeakyReluLayer json(@JsonProperty("negative_slope") Double negativeSlope) {
    return new LeakyReluLayer(Checks.number("negative_slope", negativeSlope, -1e6, 1e6, 0.01));
  }

  @Override
  public float apply(float v) {
    return v > 0f ? v : v * (float) negativeSlope;
  }

  @Override
  public String description() {
    return "LeakyReLU(" + negativeSlope + ")";
  }
}
