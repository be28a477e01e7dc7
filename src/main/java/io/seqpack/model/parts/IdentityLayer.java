package io.seqpack.model.parts;

/** {@code nn.Identity}. JSON: {@code {"type": "identity"}}. */
public record IdentityLayer() implements Elementwise {
  @Override
  public float apply(float v) {
    return v;
  }

  @Override
  public String description() {
    return "identity";
  }
}
