package io.seqpack.model;

import java.util.Arrays;

/**
 * A named float32 tensor in row-major (C) order, as read from safetensors. {@code data.length} equals the
 * product of {@code shape}.
 */
public record Tensor(String name, int[] shape, float[] data) {
  public int rows() {
    return shape.length == 0 ? 1 : shape[0];
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  public long numel() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }
}
