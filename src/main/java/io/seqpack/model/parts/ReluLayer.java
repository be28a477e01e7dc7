package io.seqpack.model.parts;

/** {@code nn.ReLU}: {@code max(x, 0)}. JSON: {@code {"type": "relu"}}. */
public record ReluLayer() implements Elementwise {
  @Override
  public float apply(float v) {
    return v < 0f ? 0f : v;
  }

  @Override
  public String description() {
    return "relu";
  }
}
