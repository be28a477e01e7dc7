package io.seqpack.model.parts;

import io.seqpack.pack.PackedLayout;
import java.util.Arrays;

/** The softmax over a row's valid steps and the weighted sum of its outputs, shared by the attention kinds. */
final class Attention {
  private Attention() {}

  /** Dot-product attention of sorted row {@code s}: {@code e_t = o_t · q}, then {@link #weightedSum}. */
  static void byQuery(float[] output, PackedLayout layout, int s, float[] q, int width, float[] energy,
      float[] pooled, int dst) {
    int length = layout.sortedLengths()[s];
    float max = Float.NEGATIVE_INFINITY;
    for (int t = 0; t < length; t++) {
      int r = layout.packedRow(s, t);
      float e = 0f;
      for (int j = 0; j < width; j++) {
        e += output[r * width + j] * q[j];
      }
      energy[r] = e;
      max = Math.max(max, e);
    }
    weightedSum(output, layout, s, length, energy, max, width, pooled, dst);
  }

  /**
   * {@code pooled[dst .. + width] = Σ_t softmax(energy)_t · output[t]} over sorted row {@code s}'s first
   * {@code length} steps; {@code max} is the largest energy (subtracted before exp, as torch.softmax does).
   */
  static void weightedSum(float[] output, PackedLayout layout, int s, int length, float[] energy, float max,
      int width, float[] pooled, int dst) {
    float sum = 0f;
    for (int t = 0; t < length; t++) {
      sum += (float) Math.exp(energy[layout.packedRow(s, t)] - max);
    }
    Arrays.fill(pooled, dst, dst + width, 0f);
    for (int t = 0; t < length; t++) {
      int r = layout.packedRow(s, t);
      float a = (float) Math.exp(energy[r] - max) / sum;
      int src = r * width;
      for (int j = 0; j < width; j++) {
        pooled[dst + j] += a * output[src + j];
      }
    }
  }
}
