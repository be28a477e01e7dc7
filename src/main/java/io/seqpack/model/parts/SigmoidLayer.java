package io.seqpack.model.parts;

/** {@code nn.Sigmoid}: {@code 1 / (1 + exp(−x))}. JSON: {@code {"type": "sigmoid"}}. */
public record SigmoidLayer() implements Elementwise {
  @Override
  public float apply(float v) {
    return (float) (1.0 / (1.0 + Math.exp(-v)));
  }

  @Override
  public String description() {
    return "sigmoid";
  }
}
