package io.seqpack.model.parts;

/** {@code nn.RNN(nonlinearity='tanh')}: {@code h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)}. JSON: {@code "RNN_TANH"}. */
public record RnnTanhMode() implements RecurrentMode {
  @Override
  public int gates() {
    return 1;
  }
}
