package io.seqpack.nn;

import java.util.Arrays;
import java.util.List;

/**
 * Output of {@link SequenceModel#score}, rows in the batch's original order: per head {@code [B, width]} after
 * its activation; the vector the heads saw ({@code embedding}, {@code [B, embeddingWidth]}) when asked for, else
 * null; {@code stepScores}, present only when per-step scores were asked for, is {@code [totalSteps, width]} of
 * the one head, in the batch's own step order (row i's steps at {@code stepOffsets[i] .. stepOffsets[i+1]}).
 * A head asked for its top k has {@code top.get(h)} (and a null entry in {@code heads}); the others a null
 * {@code top} entry ({@code top} itself is null when no head was). Per-step scores of a top-k head are {@code
 * stepTop} (one row per step, in the order of {@code stepScores}) instead of {@code stepScores}.
 */
public record Scores(List<float[]> heads, int[] headWidths, float[] embedding, int embeddingWidth,
    float[] stepScores, int[] stepOffsets, List<TopK> top, TopK stepTop) {
  /** Scores without top-k. */
  public Scores(List<float[]> heads, int[] headWidths, float[] embedding, int embeddingWidth, float[] stepScores,
      int[] stepOffsets) {
    this(heads, headWidths, embedding, embeddingWidth, stepScores, stepOffsets, null, null);
  }

  /** Index of step t of row i in {@code stepScores} / {@code stepTop} rows. */
  public int stepRow(int i, int t) {
    return stepOffsets[i] + t;
  }

  /** Head {@code head}'s top k, or null when its whole vector was computed. */
  public TopK top(int head) {
    return top == null ? null : top.get(head);
  }

  public int size() {
    return stepOffsets.length - 1;
  }

  /** {@code [B, outFeatures]}: the first head's scores. */
  public float[] scores() {
    return heads.get(0);
  }

  /** Width of the first head. */
  public int outFeatures() {
    return headWidths[0];
  }

  /** {@code [outFeatures]}: the first head's scores of row i. */
  public float[] row(int i) {
    return row(0, i);
  }

  /** The scores of head {@code head} for row i. */
  public float[] row(int head, int i) {
    int w = headWidths[head];
    return Arrays.copyOfRange(heads.get(head), i * w, (i + 1) * w);
  }

  /** {@code [embeddingWidth]}: the vector the heads saw for row i. */
  public float[] embeddingRow(int i) {
    if (embedding == null) {
      throw new IllegalStateException("the embedding was not asked for");
    }
    return Arrays.copyOfRange(embedding, i * embeddingWidth, (i + 1) * embeddingWidth);
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
    int w = headWidths[0];
    int from = (stepOffsets[i] + t) * w;
    return Arrays.copyOfRange(stepScores, from, from + w);
  }
}
