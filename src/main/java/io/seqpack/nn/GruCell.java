package io.seqpack.nn;

/**
 * {@code nn.GRU} step; gates stacked in PyTorch's order <b>r, z, n</b>, with {@code b_hn} inside the reset
 * product (the cuDNN / "linear before reset" form, not Cho et al.'s):
 *
 * <pre>{@code
 * r  = σ(W_ir x + b_ir + W_hr h + b_hr)
 * z  = σ(W_iz x + b_iz + W_hz h + b_hz)
 * n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 * h' = (1 − z) ⊙ n + z ⊙ h                 computed as (h − n) ⊙ z + n, as ATen does
 * }</pre>
 *
 * <p>{@code W_ih [3H, input]}, {@code W_hh [3H, H]}, state {@code [batch, hidden]}.
 */
final class GruCell extends Cell {
  /** A trainable initial state {@code [H]} for the rows starting this step, or null for zeros. */
  private final float[] initialH;

  GruCell(int hidden, float[] hiddenBias, float[] initialGates, float[] initialH) {
    super(hidden, 3, hiddenBias, initialGates);
    this.initialH = initialH;
  }

  @Override
  void step(int rows, int prevRows, float[] pre, int[] preRows, int rowBase, float[] gates, float[] out,
      int prevOff, int outOff, int outLd, Workspace ws) {
    final int h = hidden;
    float touched = 0f;
    for (int row = 0; row < rows; row++) {
      touched += touchAhead(pre, preRows, rowBase, row, rows);
      int r = row * gateWidth;
      int z = r + h;
      int n = z + h;
      int p = preRows[rowBase + row];
      GateMath.sigmoidOfSum(pre, p, gates, r, hiddenBias, 0, gates, r, 2 * h); // r and z are adjacent
      if (row < prevRows || initialH == null) {
        GateMath.gruState(pre, p + 2 * h, gates, r, z, n, hiddenBias, 2 * h, out, prevOff + row * outLd,
            row >= prevRows, out, outOff + row * outLd, h);
      } else {
        GateMath.gruState(pre, p + 2 * h, gates, r, z, n, hiddenBias, 2 * h, initialH, 0, false, out,
            outOff + row * outLd, h);
      }
    }
    GateMath.keep(touched, ws);
  }
}
