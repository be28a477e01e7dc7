package io.seqpack.model.parts;

/** {@code nn.Tanh}. JSON: {@code {"type": "tanh"}}. */
public record TanhLayer() implements Elementwise {
  @Override
  public float apply(float v) {
    return (float) Math.tanh(v);
  }

  @Override
  public String description() {
    return "tanh";
  }
}
