package io.seqpack.pack;

/**
 * PyTorch's {@code PackedSequence}: {@code data} is {@code [sum(lengths), width]} row-major, time-major
 * interleaved (all sequences alive at step 0 in sorted order, then step 1, ...); row {@code
 * layout.packedRow(s, t)} is step t of the sequence at sorted position s. {@code layout} carries {@code
 * batch_sizes}, {@code sorted_indices} and {@code unsorted_indices}.
 */
public record PackedSequence(float[] data, int width, PackedLayout layout) {
  public PackedSequence {
    if (width < 0 || data.length != (long) layout.totalRows() * width) {
      throw new IllegalArgumentException("Cannot build PackedSequence: data has " + data.length
          + " floats, expected " + layout.totalRows() + " rows x " + width);
    }
  }

  /** Element j of step t of the sequence at sorted position s. */
  public float get(int s, int t, int j) {
    return data[layout.packedRow(s, t) * width + j];
  }
}
