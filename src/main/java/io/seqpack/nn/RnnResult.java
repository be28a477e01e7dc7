package io.seqpack.nn;

import io.seqpack.pack.PackedSequence;

/**
 * What PyTorch's RNN module returns for a packed input.
 *
 * @param output the last layer's output, {@code [sum(lengths), D*P]} packed (forward half, then backward half)
 * @param hN {@code [numLayers*D, B, P]}: final hidden state of every layer and direction, layer-major and
 *     direction-minor (index {@code 2l} forward, {@code 2l+1} backward of layer l), rows in original order
 * @param cN {@code [numLayers*D, B, H]}: final LSTM cell states, same order; null for other modes
 * @param stateSize P = proj_size or hidden_size
 * @param hiddenSize H
 */
public record RnnResult(PackedSequence output, float[] hN, float[] cN, int layers, int stateSize, int hiddenSize) {
  public int batch() {
    return output.layout().batch();
  }

  /** {@code h_n[k, b, j]}. */
  public float hN(int k, int b, int j) {
    return hN[(k * batch() + b) * stateSize + j];
  }

  /** {@code c_n[k, b, j]} (LSTM only). */
  public float cN(int k, int b, int j) {
    return cN[(k * batch() + b) * hiddenSize + j];
  }
}
