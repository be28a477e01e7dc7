package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.nn.FastMath;
import io.seqpack.util.StrictJson;

/**
 * {@code nn.GELU(approximate=...)}: {@code none} is the exact {@code 0.5·x·(1 + erf(x/√2))}, {@code tanh} is
 * {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. JSON: {@code {"type": "gelu", "approximate": "tanh"}}
 * ({@code approximate} defaults to {@code none}).
 */
public record GeluLayer(boolean tanh) implements Elementwise {
  private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

  @JsonCreator
  static GeluLayer json(@JsonProperty("approximate") String approximate) {
    if (approximate != null && !approximate.equals("none") && !approximate.equals("tanh")) {
      throw new StrictJson.Invalid("approximate", StrictJson.quote(approximate), "none or tanh");
    }
    return new GeluLayer("tanh".equals(approximate));
  }

  @Override
  public float apply(float v) {
    return tanh
        ? (float) (0.5 * v * (1.0 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))))
        : (float) (0.5 * v * (1.0 + FastMath.erf(v / Math.sqrt(2.0))));
  }

  @Override
  public String description() {
    return tanh ? "gelu(tanh)" : "gelu";
  }
}
