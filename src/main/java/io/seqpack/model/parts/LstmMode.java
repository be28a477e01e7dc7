package io.seqpack.model.parts;

/**
 * {@code nn.LSTM}: gates i, f, g, o, a cell state c, and optionally h projected to {@code proj_size} by {@code
 * weight_hr}. JSON: {@code "LSTM"}.
 */
public record LstmMode() implements RecurrentMode {
  @Override
  public int gates() {
    return 4;
  }

  @Override
  public boolean hasCellState() {
    return true;
  }

  @Override
  public boolean projects() {
    return true;
  }
}
