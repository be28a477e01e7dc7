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
  GruCell(int hidden, float[] hiddenBias) {
    super(hidden, 3, hiddenBias);
  }

  @Override
  void step(int rows, int prevRows, float[] pre, int[] preRows, int rowBase, float[] gates, float[] out,
      int prevOff, int outOff, int outLd, Workspace ws) {
    final int h = hidden;
    final float[] b = hiddenBias;
    final float[] prev = ws.stateTemp;
    for (int row = 0; row < rows; row++) {
      int g = row * gateWidth;
      int p = preRows[rowBase + row];
      int dst = outOff + row * outLd;
      // h_{t-1} of this row; copied so that the fused loop reads and writes different arrays (C2 vectorizes it)
      if (row < prevRows) {
        System.arraycopy(out, prevOff + row * outLd, prev, 0, h);
      } else { // zero initial state
        java.util.Arrays.fill(prev, 0, h, 0f);
      }
      for (int j = 0; j < h; j++) {
        float r = FastMath.sigmoid(pre[p + j] + (gates[g + j] + b[j]));
        float z = FastMath.sigmoid(pre[p + h + j] + (gates[g + h + j] + b[h + j]));
        float n = FastMath.tanh(pre[p + 2 * h + j] + r * (gates[g + 2 * h + j] + b[2 * h + j]));
        out[dst + j] = (prev[j] - n) * z + n;
      }
    }
  }
}
