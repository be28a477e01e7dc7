package io.seqpack.model.parts;

/** {@code nn.Dropout}: the identity at inference. JSON: {@code {"type": "dropout"}}. */
public record DropoutLayer() implements Elementwise {
  @Override
  public float apply(float v) {
    return v;
  }

  @Override
  public String description() {
    return "dropout";
  }
}
