package io.seqpack.pack;

import java.util.Arrays;
import java.util.List;

/**
 * {@code pad_sequence}, {@code pack_padded_sequence(enforce_sorted=False)} and {@code pad_packed_sequence} from
 * {@code torch.nn.utils.rnn}, float32, with PyTorch's results and error messages.
 */
public final class Packing {
  private Packing() {}

  /** The result of {@link #padPackedSequence}: the padded batch and the lengths, both in the original order. */
  public record Unpacked(PaddedTensor padded, int[] lengths) {}

  /**
   * {@code pad_sequence(sequences, batch_first, padding_value)}: stacks sequences of {@code [len_i, width]}
   * (each a row-major array of {@code len_i * width} floats; length 0 allowed) into {@code [T, B, width]} or
   * {@code [B, T, width]}, {@code T = max len_i}, filling the rest with {@code paddingValue}.
   */
  public static PaddedTensor padSequence(
      List<float[]> sequences, int width, boolean batchFirst, float paddingValue) {
    if (sequences.isEmpty()) {
      throw new IllegalArgumentException("Cannot pad sequences: received an empty list of sequences");
    }
    if (width <= 0) {
      throw new IllegalArgumentException("Cannot pad sequences: width must be positive, got " + width);
    }
    int batch = sequences.size();
    int steps = 0;
    for (int b = 0; b < batch; b++) {
      int floats = sequences.get(b).length;
      if (floats % width != 0) {
        throw new IllegalArgumentException("Cannot pad sequences: sequence " + b + " has " + floats
            + " floats, not a multiple of width " + width);
      }
      steps = Math.max(steps, floats / width);
    }
    float[] data = new float[Math.multiplyExact(Math.multiplyExact(batch, steps), width)];
    if (paddingValue != 0f) {
      Arrays.fill(data, paddingValue);
    }
    PaddedTensor padded = new PaddedTensor(data, batch, steps, width, batchFirst);
    for (int b = 0; b < batch; b++) {
      float[] seq = sequences.get(b);
      int len = seq.length / width;
      if (batchFirst) {
        System.arraycopy(seq, 0, data, padded.index(b, 0), len * width); // steps of b are contiguous
      } else {
        for (int t = 0; t < len; t++) {
          System.arraycopy(seq, t * width, data, padded.index(b, t), width);
        }
      }
    }
    return padded;
  }

  /**
   * {@code pack_padded_sequence(input, lengths, batch_first=input.batchFirst(), enforce_sorted=False)}: sorts by
   * length (see {@link PackedLayout} on ties) and interleaves the valid steps time-major. Steps beyond a
   * sequence's length are ignored, as in PyTorch.
   */
  public static PackedSequence packPaddedSequence(PaddedTensor input, int[] lengths) {
    if ((long) input.batch() * input.steps() * input.width() == 0) {
      throw new IllegalArgumentException("Cannot pack empty tensors.");
    }
    if (lengths.length != input.batch()) {
      throw new IllegalArgumentException("Expected `len(lengths)` to be equal to batch_size, but got "
          + lengths.length + " (batch_size=" + input.batch() + ")");
    }
    PackedLayout layout = PackedLayout.of(lengths);
    if (layout.maxLength() > input.steps()) {
      int longest = layout.sortedIndices()[0];
      throw new IllegalArgumentException("Cannot pack padded sequence: lengths[" + longest + "] = "
          + lengths[longest] + " exceeds the padded length " + input.steps());
    }
    int width = input.width();
    float[] data = new float[Math.multiplyExact(layout.totalRows(), width)];
    int[] sorted = layout.sortedIndices();
    for (int t = 0; t < layout.maxLength(); t++) {
      for (int s = 0; s < layout.batchSizes()[t]; s++) {
        System.arraycopy(input.data(), input.index(sorted[s], t), data, layout.packedRow(s, t) * width, width);
      }
    }
    return new PackedSequence(data, width, layout);
  }

  /**
   * {@code pad_packed_sequence(sequence, batch_first, padding_value, total_length)}: the inverse of packing,
   * with rows and lengths back in the original order. {@code T = totalLength} when given, else the longest
   * length.
   */
  public static Unpacked padPackedSequence(
      PackedSequence sequence, boolean batchFirst, float paddingValue, Integer totalLength) {
    PackedLayout layout = sequence.layout();
    int steps = layout.maxLength();
    if (totalLength != null) {
      if (totalLength < steps) {
        throw new IllegalArgumentException("Expected total_length to be at least the length of the longest "
            + "sequence in input, but got total_length=" + totalLength + " and max sequence length being "
            + steps);
      }
      steps = totalLength;
    }
    int batch = layout.batch();
    int width = sequence.width();
    float[] data = new float[Math.multiplyExact(Math.multiplyExact(batch, steps), width)];
    if (paddingValue != 0f) {
      Arrays.fill(data, paddingValue);
    }
    PaddedTensor padded = new PaddedTensor(data, batch, steps, width, batchFirst);
    int[] sorted = layout.sortedIndices();
    for (int t = 0; t < layout.maxLength(); t++) {
      for (int s = 0; s < layout.batchSizes()[t]; s++) {
        System.arraycopy(sequence.data(), layout.packedRow(s, t) * width, data, padded.index(sorted[s], t), width);
      }
    }
    return new Unpacked(padded, layout.lengths().clone());
  }
}
