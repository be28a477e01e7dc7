package io.seqpack.pack;

/**
 * A dense padded batch as PyTorch lays it out: {@code [steps, batch, width]} (time-major, PyTorch's default) or
 * {@code [batch, steps, width]} when {@code batchFirst}, row-major.
 */
public record PaddedTensor(float[] data, int batch, int steps, int width, boolean batchFirst) {
  public PaddedTensor {
    if (batch < 0 || steps < 0 || width < 0 || data.length != (long) batch * steps * width) {
      throw new IllegalArgumentException("Cannot build PaddedTensor: data has " + data.length + " floats, expected "
          + (batchFirst ? "[" + batch + ", " + steps : "[" + steps + ", " + batch) + ", " + width + "]");
    }
  }

  /** Offset in {@code data} of the first element of step t of sequence b. */
  public int index(int b, int t) {
    return (batchFirst ? b * steps + t : t * batch + b) * width;
  }

  public float get(int b, int t, int j) {
    return data[index(b, t) + j];
  }

  /** The PyTorch shape of this tensor. */
  public int[] shape() {
    return batchFirst ? new int[] {batch, steps, width} : new int[] {steps, batch, width};
  }
}
