package io.seqpack.nn;

import io.seqpack.pack.PackedLayout;
import java.util.Arrays;

/**
 * The one time loop shared by every mode: runs a {@link Cell} over packed, time-major data in one direction,
 * as ATen's {@code PackedLayer} / {@code ReversedPackedLayer} do.
 *
 * <p>Step t works on the contiguous prefix of the first {@code batchSizes[t]} rows. The hidden state is never
 * copied: {@code h_{t-1}} is read straight from the previous step's rows of the output. Forward, the prefix
 * shrinks as sequences end (their final state stays where it was written). Backward, it grows: rows joining at
 * their own last valid step start from the initial state (zero, or a trainable h0).
 */
final class Recurrence {
  private Recurrence() {}

  /**
   * @param pre the hoisted input projection {@code x·W_ihᵀ + b_ih}: packed row r's {@code G*H} values start at
   *     {@code pre[preRows[r]]} (rows of {@code [N, G*H]}, or of the vocabulary table)
   * @param out {@code [N, outLd]}: this direction's state is written to columns {@code outCol .. outCol+P}
   */
  static void run(Cell cell, Gemm.Weights hiddenWeights, float[] pre, int[] preRows, PackedLayout layout,
      boolean reverse,
      float[] out, int outCol, int outLd, Workspace ws) {
    int[] batchSizes = layout.batchSizes();
    int[] stepOffsets = layout.stepOffsets();
    int steps = batchSizes.length;
    int gateWidth = cell.gateWidth;
    float[] gates = ws.gates;
    for (int k = 0; k < steps; k++) {
      int t = reverse ? steps - 1 - k : k;
      int rows = batchSizes[t];
      int prevStep = reverse ? t + 1 : t - 1;
      int prevRows = prevStep < 0 || prevStep >= steps ? 0 : Math.min(rows, batchSizes[prevStep]);
      int prevOff = prevRows == 0 ? 0 : stepOffsets[prevStep] * outLd + outCol;
      if (prevRows > 0) {
        Gemm.multiply(prevRows, out, prevOff, outLd, hiddenWeights, gates, 0, gateWidth, false);
      }
      if (cell.initialGates == null) {
        Arrays.fill(gates, prevRows * gateWidth, rows * gateWidth, 0f); // zero state: h·W_hhᵀ = 0
      } else {
        for (int r = prevRows; r < rows; r++) { // a trainable h0: its product, the same for every row
          System.arraycopy(cell.initialGates, 0, gates, r * gateWidth, gateWidth);
        }
      }
      cell.step(rows, prevRows, pre, preRows, stepOffsets[t], gates, out, prevOff,
          stepOffsets[t] * outLd + outCol, outLd, ws);
    }
  }
}
