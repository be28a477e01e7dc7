package io.seqpack.model;

/**
 * The architecture described by a model directory's {@code model.json} (format {@code seqpack-model/1}).
 *
 * <pre>{@code
 * {
 *   "format": "seqpack-model/1",
 *   "input": {"kind": "tokens", "vocab_size": 11, "embedding_dim": 100, "padding_idx": null},
 *   "rnn": {"mode": "RNN_TANH", "hidden_size": 256, "num_layers": 1, "bidirectional": false,
 *           "bias": true, "proj_size": 0},
 *   "head": {"pooling": "last", "out_features": 1, "activation": "none"}
 * }
 * }</pre>
 */
public record ModelSpec(InputSpec input, RnnSpec rnn, HeadSpec head) {
  public static final String FORMAT = "seqpack-model/1";

  public enum InputKind {
    TOKENS,
    FEATURES
  }

  /**
   * What one step of a sequence is: a token id looked up in an embedding of {@code [vocabSize, embeddingDim]}
   * (with an optional {@code paddingIdx}, which only matters in training), or {@code inputSize} floats.
   * Fields that do not apply to the kind are 0 / null.
   */
  public record InputSpec(InputKind kind, int vocabSize, int embeddingDim, Integer paddingIdx, int inputSize) {
    public static InputSpec tokens(int vocabSize, int embeddingDim, Integer paddingIdx) {
      return new InputSpec(InputKind.TOKENS, vocabSize, embeddingDim, paddingIdx, 0);
    }

    public static InputSpec features(int inputSize) {
      return new InputSpec(InputKind.FEATURES, 0, 0, null, inputSize);
    }

    /** Width of the vector the first RNN layer sees per step: embedding_dim or input_size. */
    public int rnnInputSize() {
      return kind == InputKind.TOKENS ? embeddingDim : inputSize;
    }
  }

  /** PyTorch's {@code nn.RNN(nonlinearity=tanh|relu)}, {@code nn.LSTM}, {@code nn.GRU}. */
  public enum RnnMode {
    RNN_TANH(1),
    RNN_RELU(1),
    LSTM(4),
    GRU(3);

    private final int gates;

    RnnMode(int gates) {
      this.gates = gates;
    }

    /** Number of stacked gate blocks in {@code weight_ih}/{@code weight_hh}: 1, 4 (i,f,g,o) or 3 (r,z,n). */
    public int gates() {
      return gates;
    }
  }

  public record RnnSpec(
      RnnMode mode, int hiddenSize, int numLayers, boolean bidirectional, boolean bias, int projSize) {
    public int directions() {
      return bidirectional ? 2 : 1;
    }

    /** Size of h per direction: proj_size when LSTM projections are on, else hidden_size. */
    public int stateSize() {
      return projSize > 0 ? projSize : hiddenSize;
    }

    /** Last dimension of the RNN's output: directions * stateSize. */
    public int outputSize() {
      return directions() * stateSize();
    }
  }

  public enum Pooling {
    LAST,
    MEAN,
    MAX
  }

  public enum Activation {
    NONE,
    SIGMOID,
    SOFTMAX
  }

  public record HeadSpec(Pooling pooling, int outFeatures, Activation activation) {}
}
