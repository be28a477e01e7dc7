package io.seqpack.model.parts;

/** {@code nn.RNN(nonlinearity='relu')}: {@code h' = relu(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)}. JSON: {@code "RNN_RELU"}. */
public record RnnReluMode() implements RecurrentMode {
  @Override
  public int gates() {
    return 1;
  }
}
