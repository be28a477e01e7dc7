package io.seqpack.nn;

/**
 * {@code nn.LSTM} step; gates stacked in PyTorch's order <b>i, f, g, o</b>:
 *
 * <pre>{@code
 * i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
 * g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
 * c' = f ⊙ c + i ⊙ g
 * h' = o ⊙ tanh(c')                         (proj_size > 0: h' = W_hr · (o ⊙ tanh(c')))
 * }</pre>
 *
 * <p>{@code W_ih [4H, input]}, {@code W_hh [4H, P]}, {@code W_hr [P, H]}; c is {@code [batch, hidden]}, h is
 * {@code [batch, P]} with P = proj_size or hidden_size.
 */
final class LstmCell extends Cell {
  /** {@code W_hr}, or null without projections. */
  private final Gemm.Weights projection;

  /** A trainable initial cell state {@code [H]} for the rows starting this step, or null for zeros. */
  private final float[] initialC;

  LstmCell(int hidden, float[] hiddenBias, Gemm.Weights projection, float[] initialGates, float[] initialC) {
    super(hidden, 4, hiddenBias, initialGates);
    this.projection = projection;
    this.initialC = initialC;
  }

  @Override
  void step(int rows, int prevRows, float[] pre, int[] preRows, int rowBase, float[] gates, float[] out,
      int prevOff, int outOff, int outLd, Workspace ws) {
    final int h = hidden;
    final float[] c = ws.cellState;
    final float[] unprojected = ws.cellTemp;
    float touched = 0f;
    for (int r = 0; r < rows; r++) {
      touched += touchAhead(pre, preRows, rowBase, r, rows);
      int i = r * gateWidth;
      int f = i + h;
      int g = f + h;
      int o = g + h;
      int p = preRows[rowBase + r];
      GateMath.sigmoidOfSum(pre, p, gates, i, hiddenBias, 0, gates, i, 2 * h); // i and f are adjacent
      GateMath.tanhOfSum(pre, p + 2 * h, gates, g, hiddenBias, 2 * h, gates, g, h);
      GateMath.sigmoidOfSum(pre, p + 3 * h, gates, o, hiddenBias, 3 * h, gates, o, h);
      int cr = r * h;
      if (r >= prevRows) { // initial state: c0, or zero (f ⊙ 0 vanishes, f is finite)
        if (initialC != null) {
          System.arraycopy(initialC, 0, c, cr, h);
        } else {
          java.util.Arrays.fill(c, cr, cr + h, 0f);
        }
      }
      if (projection == null) {
        GateMath.lstmState(gates, i, f, g, o, c, cr, out, outOff + r * outLd, h);
      } else {
        GateMath.lstmState(gates, i, f, g, o, c, cr, unprojected, cr, h);
      }
    }
    GateMath.keep(touched, ws);
    if (projection != null) {
      Gemm.multiply(rows, unprojected, 0, h, projection, out, outOff, outLd, false);
    }
  }
}
