package io.seqpack.nn;

/**
 * The per-mode math of one recurrent time step, shared driver in {@link Recurrence}. A cell sees the rows
 * active at step t (sorted order, a contiguous prefix) and writes their new hidden state.
 *
 * <p>Inputs of {@link #step}, for active rows {@code r < rows}:
 * <ul>
 *   <li>{@code pre[preOff + r*G*H ..]}: {@code x_t·W_ihᵀ + b_ih}, {@code [rows, G*H]};
 *   <li>{@code gates[r*G*H ..]}: {@code h_{t-1}·W_hhᵀ} (without bias) for rows {@code r < prevRows}, zero for the
 *       rows starting this step from the zero state ("fresh" rows), {@code [rows, G*H]}; overwritten;
 *   <li>{@code out[prevOff + r*outLd ..]}: {@code h_{t-1}} for {@code r < prevRows};
 *   <li>{@code ws.cellState[r*H ..]}: LSTM {@code c_{t-1}} for {@code r < prevRows}.
 * </ul>
 * It writes {@code h_t} to {@code out[outOff + r*outLd ..]} ({@code [rows, P]}). Cells are immutable.
 */
abstract class Cell {
  /** H. */
  final int hidden;
  /** G*H: width of the stacked gates. */
  final int gateWidth;
  /** {@code b_hh}, {@code [G*H]}, or null when the RNN has no bias. */
  final float[] hiddenBias;

  Cell(int hidden, int gates, float[] hiddenBias) {
    this.hidden = hidden;
    this.gateWidth = gates * hidden;
    this.hiddenBias = hiddenBias;
  }

  abstract void step(
      int rows, int prevRows, float[] pre, int preOff, float[] gates, float[] out, int prevOff, int outOff, int outLd,
      Workspace ws);

  /**
   * {@code gates[g + j] = pre[p + j] + (gates[g + j] + b_hh[from + j])} for j in [0, len): PyTorch's grouping
   * {@code (x·W_ihᵀ + b_ih) + (h·W_hhᵀ + b_hh)}, biases never folded.
   */
  final void addInputAndBias(float[] pre, int p, float[] gates, int g, int from, int len) {
    float[] b = hiddenBias;
    if (b == null) {
      for (int j = 0; j < len; j++) {
        gates[g + j] = pre[p + j] + gates[g + j];
      }
    } else {
      for (int j = 0; j < len; j++) {
        gates[g + j] = pre[p + j] + (gates[g + j] + b[from + j]);
      }
    }
  }
}
