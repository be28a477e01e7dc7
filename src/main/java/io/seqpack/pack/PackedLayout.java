package io.seqpack.pack;

import java.util.Arrays;

/**
 * Where every step of every sequence lives in PyTorch's packed, time-major layout, computed from the lengths
 * alone (what {@code pack_padded_sequence(..., enforce_sorted=False)} derives before touching any data).
 *
 * <p>Sequences are sorted by length, longest first; packed row {@code stepOffsets[t] + s} holds step {@code t}
 * of the sequence at sorted position {@code s}, and the rows alive at step {@code t} are the contiguous prefix
 * {@code s < batchSizes[t]}.
 *
 * <p>Ties: this sort is stable (equal lengths keep their original order). PyTorch uses {@code
 * torch.sort(lengths, descending=True)}, whose order among equal lengths is not documented; since sequences are
 * independent and every result is un-permuted, only {@code sortedIndices}/{@code unsortedIndices} themselves can
 * differ on ties, never the outputs.
 *
 * <p>The arrays returned by the accessors are the layout's own (no copies, for the engine's inner loops); treat
 * them as read-only.
 */
public final class PackedLayout {
  private final int[] lengths;
  private final int[] sortedLengths;
  private final int[] sortedIndices;
  private final int[] unsortedIndices;
  private final int[] batchSizes;
  private final int[] stepOffsets;
  private final int totalRows;

  private PackedLayout(int[] lengths) {
    this.lengths = lengths;
    int batch = lengths.length;
    this.sortedIndices = stableDescendingOrder(lengths);
    this.sortedLengths = new int[batch];
    this.unsortedIndices = new int[batch];
    for (int s = 0; s < batch; s++) {
      sortedLengths[s] = lengths[sortedIndices[s]];
      unsortedIndices[sortedIndices[s]] = s;
    }
    int steps = batch == 0 ? 0 : sortedLengths[0];
    this.batchSizes = new int[steps];
    this.stepOffsets = new int[steps + 1];
    // batchSizes[t] = #sequences longer than t; walk the sorted lengths from the shortest up
    int alive = batch;
    for (int t = 0; t < steps; t++) {
      while (sortedLengths[alive - 1] <= t) {
        alive--;
      }
      batchSizes[t] = alive;
      stepOffsets[t + 1] = Math.addExact(stepOffsets[t], alive);
    }
    this.totalRows = stepOffsets[steps];
  }

  /**
   * The layout of a batch with these sequence lengths (original order).
   *
   * @throws IllegalArgumentException with PyTorch's messages for an empty batch or a length ≤ 0
   */
  public static PackedLayout of(int[] lengths) {
    if (lengths.length == 0) {
      throw new IllegalArgumentException("Cannot pack empty tensors.");
    }
    for (int i = 0; i < lengths.length; i++) {
      if (lengths[i] <= 0) {
        throw new IllegalArgumentException(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
                + " (lengths[" + i + "] = " + lengths[i] + ")");
      }
    }
    return new PackedLayout(lengths.clone());
  }

  private static int[] stableDescendingOrder(int[] lengths) {
    // Sorting (MAX - length, index) packed into one long is a stable descending sort without boxing.
    long[] keys = new long[lengths.length];
    for (int i = 0; i < lengths.length; i++) {
      keys[i] = ((long) (Integer.MAX_VALUE - lengths[i]) << 32) | i;
    }
    Arrays.sort(keys);
    int[] order = new int[lengths.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = (int) keys[i];
    }
    return order;
  }

  /** Number of sequences B. */
  public int batch() {
    return lengths.length;
  }

  /** Number of time steps T = the longest length = {@code batchSizes().length}. */
  public int maxLength() {
    return batchSizes.length;
  }

  /** Number of packed rows = sum of lengths. */
  public int totalRows() {
    return totalRows;
  }

  /** {@code [B]} lengths in the original order. */
  public int[] lengths() {
    return lengths;
  }

  /** {@code [B]} lengths in sorted (descending) order. */
  public int[] sortedLengths() {
    return sortedLengths;
  }

  /** {@code [B]}: sorted position s holds original sequence {@code sortedIndices[s]}. */
  public int[] sortedIndices() {
    return sortedIndices;
  }

  /** {@code [B]}: original sequence i sits at sorted position {@code unsortedIndices[i]} (inverse of sortedIndices). */
  public int[] unsortedIndices() {
    return unsortedIndices;
  }

  /** {@code [T]}: number of sequences with length > t. */
  public int[] batchSizes() {
    return batchSizes;
  }

  /** {@code [T + 1]}: first packed row of step t; {@code stepOffsets[T] == totalRows()}. */
  public int[] stepOffsets() {
    return stepOffsets;
  }

  /** Packed row of step {@code t} of the sequence at sorted position {@code s}. */
  public int packedRow(int s, int t) {
    return stepOffsets[t] + s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PackedLayout other && Arrays.equals(lengths, other.lengths);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(lengths);
  }

  @Override
  public String toString() {
    return "PackedLayout[lengths=" + Arrays.toString(lengths) + ", batchSizes=" + Arrays.toString(batchSizes)
        + ", sortedIndices=" + Arrays.toString(sortedIndices) + "]";
  }
}
