package io.seqpack.model.parts;

/**
 * Per-thread scratch of the parts' forwards (a pooling's energies, an attention's hidden units): arrays that only
 * grow, so steady-state scoring allocates nothing. The engine keeps one per thread; not thread-safe.
 */
public final class Scratch {
  private final float[][] buffers = new float[4][0];

  /** Buffer {@code slot} (0-3) holding at least {@code size} floats; contents not kept across calls. */
  public float[] floats(int slot, long size) {
    float[] b = buffers[slot];
    if (b.length < size) {
      long grown = Math.min(Integer.MAX_VALUE - 8, b.length + (long) b.length / 2); // amortize growth
      b = new float[Math.toIntExact(Math.max(size, grown))];
      buffers[slot] = b;
    }
    return b;
  }
}
