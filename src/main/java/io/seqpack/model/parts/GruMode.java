package io.seqpack.model.parts;

/** {@code nn.GRU}: gates r, z, n. JSON: {@code "GRU"}. */
public record GruMode() implements RecurrentMode {
  @Override
  public int gates() {
    return 3;
  }
}
