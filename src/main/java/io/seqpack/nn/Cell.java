package io.seqpack.nn;

/**
 * The per-mode math of one recurrent time step, shared driver in {@link Recurrence}. A cell sees the rows
 * active at step t (sorted order, a contiguous prefix) and writes their new hidden state.
 *
 * <p>Inputs of {@link #step}, for active rows {@code r < rows}:
 * <ul>
 *   <li>{@code pre[preRows[rowBase + r] ..]}: {@code x_t·W_ihᵀ + b_ih} of row r, {@code G*H} floats: a row of the
 *       hoisted input projection, or of the vocabulary table for the row's token (so the table is never copied);
 *   <li>{@code gates[r*G*H ..]}: {@code h_{t-1}·W_hhᵀ} (without bias) for rows {@code r < prevRows}; for the rows
 *       starting this step ("fresh" rows) the product of the initial state ({@link #initialGates}, or zero),
 *       {@code [rows, G*H]}; may be overwritten;
 *   <li>{@code out[prevOff + r*outLd ..]}: {@code h_{t-1}} for {@code r < prevRows};
 *   <li>{@code ws.cellState[r*H ..]}: LSTM {@code c_{t-1}} for {@code r < prevRows}.
 * </ul>
 * It writes {@code h_t} to {@code out[outOff + r*outLd ..]} ({@code [rows, P]}). Cells are immutable.
 *
 * <p>Gate math runs as a few fused passes per row over data in L1 ({@link GateMath}: activation of the sum, then
 * the state update), on the Vector API when the JVM has it. Sums keep PyTorch's grouping {@code (x·W_ihᵀ + b_ih) +
 * (h·W_hhᵀ + b_hh)}, biases never folded.
 */
abstract class Cell {
  /** H. */
  final int hidden;
  /** G*H: width of the stacked gates. */
  final int gateWidth;
  /** {@code b_hh}, {@code [G*H]}; all zeros when the RNN has no bias. */
  final float[] hiddenBias;

  /**
   * {@code h0·W_hhᵀ} ({@code [G*H]}) of a trainable initial state: the recurrent product of the rows starting a step
   * ({@link Recurrence}); null for the zero state, whose product is zero.
   */
  final float[] initialGates;

  Cell(int hidden, int gates, float[] hiddenBias, float[] initialGates) {
    this.hidden = hidden;
    this.gateWidth = gates * hidden;
    this.hiddenBias = hiddenBias != null ? hiddenBias : new float[gates * hidden];
    this.initialGates = initialGates;
  }

  /**
   * {@link GateMath#touch} of the input projection of row {@code row + TOUCH_AHEAD} of this step (0 past the last
   * row): called at the top of each row, it starts the next rows' cache misses early.
   */
  final float touchAhead(float[] pre, int[] preRows, int rowBase, int row, int rows) {
    int ahead = row + GateMath.TOUCH_AHEAD;
    return ahead < rows ? GateMath.touch(pre, preRows[rowBase + ahead], gateWidth) : 0f;
  }

  abstract void step(int rows, int prevRows, float[] pre, int[] preRows, int rowBase, float[] gates, float[] out,
      int prevOff, int outOff, int outLd, Workspace ws);
}
