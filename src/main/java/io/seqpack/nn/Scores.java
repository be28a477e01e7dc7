package io.seqpack.nn;

import java.util.Arrays;

/**
 * Output of {@link SequenceModel#score}: {@code scores} is {@code [B, outFeatures]} (after the activation) in the
 * batch's original row order; {@code stepScores}, present only when per-step scores were asked for, is {@code
 * [totalSteps, outFeatures]} in the batch's own step order (row i's steps at {@code stepOffsets[i] ..
 * stepOffsets[i+1]}), else null.
 */
public record Scores(float[] scores, int outFeatures, float[] stepScores, int[] stepOffsets) {
  public int size() {
    return stepOffsets.length - 1;
  }

  /** {@code [outFeatures]}: the scores of row i. */
  public float[] row(int i) {
    return Arrays.copyOfRange(scores, i * outFeatures, (i + 1) * outFeatures);
  }

  /** {@code [outFeatures]}: the score of step t of row i. */
  public float[] step(int i, int t) {
    if (stepScores == null) {
      throw new IllegalStateException("per-step scores were not computed");
    }
    int length = stepOffsets[i + 1] - stepOffsets[i];
    if (t < 0 || t >= length) {
      throw new IndexOutOfBoundsException("step " + t + " of row " + i + " (length " + length + ")");
    }
    int from = (stepOffsets[i] + t) * outFeatures;
    return Arrays.copyOfRange(stepScores, from, from + outFeatures);
  }
}
