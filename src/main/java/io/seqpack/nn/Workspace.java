package io.seqpack.nn;

/**
 * Per-thread scratch buffers of a {@link SequenceModel}. They only grow (to the largest batch a thread has
 * seen), so steady-state scoring allocates nothing per step and little per batch. Not thread-safe: each thread
 * gets its own through the model's {@code ThreadLocal}.
 */
final class Workspace {
  /** {@code [N, input]}: the layer-0 input gathered into packed order. */
  float[] layerInput = new float[0];
  /** Two {@code [N, D*P]} layer outputs, alternated so layer l reads one while writing the other. */
  float[] outputA = new float[0];
  float[] outputB = new float[0];
  /** {@code [N, G*H]}: hoisted input projection of one direction. */
  float[] pre = new float[0];
  /** {@code [N]}: where packed row r's input projection starts in the projection (or vocabulary table) array. */
  int[] preRows = new int[0];
  /** {@code [B, G*H]}: the recurrent product of one step, combined into gate values in place. */
  float[] gates = new float[0];
  /** {@code [B, H]}: LSTM cell state of one direction, sorted order. */
  float[] cellState = new float[0];
  /** {@code [B, H]}: LSTM o⊙tanh(c) before the projection. */
  float[] cellTemp = new float[0];
  /** Scratch of the pooling parts (an attention's hidden units and energies). */
  final io.seqpack.model.parts.Scratch parts = new io.seqpack.model.parts.Scratch();
  /** {@code [B, embeddingWidth]}: pooled vectors in original order. */
  float[] pooled = new float[0];
  /** h_n [layers*D, B, P] while scoring, for pooling parts that read the final states of every layer. */
  float[] finalStates = new float[0];
  /** Sink of {@link GateMath#touch} (never read). */
  int touched;

  /** {@code buffer} if it holds at least {@code size} floats, else a larger replacement (contents not kept). */
  static float[] grow(float[] buffer, long size) {
    if (buffer.length >= size) {
      return buffer;
    }
    long grown = Math.min(Integer.MAX_VALUE - 8, buffer.length + (long) buffer.length / 2); // amortize growth
    return new float[Math.toIntExact(Math.max(size, grown))];
  }
}
