package io.seqpack.nn;

/**
 * {@code nn.RNN} (Elman) step, one gate block:
 *
 * <pre>{@code h_t = act(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh)}, act = tanh or relu</pre>
 *
 * <p>{@code W_ih [H, input]}, {@code W_hh [H, H]}, state {@code [batch, hidden]}.
 */
final class SimpleRnnCell extends Cell {
  private final boolean relu;

  SimpleRnnCell(int hidden, float[] hiddenBias, boolean relu, float[] initialGates) {
    super(hidden, 1, hiddenBias, initialGates);
    this.relu = relu;
  }

  @Override
  void step(int rows, int prevRows, float[] pre, int[] preRows, int rowBase, float[] gates, float[] out,
      int prevOff, int outOff, int outLd, Workspace ws) {
    final int h = hidden;
    float touched = 0f;
    for (int r = 0; r < rows; r++) {
      touched += touchAhead(pre, preRows, rowBase, r, rows);
      int d = outOff + r * outLd;
      if (relu) {
        GateMath.sum(pre, preRows[rowBase + r], gates, r * h, hiddenBias, 0, out, d, h);
        FastMath.relu(out, d, h);
      } else {
        GateMath.tanhOfSum(pre, preRows[rowBase + r], gates, r * h, hiddenBias, 0, out, d, h);
      }
    }
    GateMath.keep(touched, ws);
  }
}
