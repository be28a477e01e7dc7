package io.seqpack.data;

import java.util.List;

/**
 * A batch of variable-length sequences stored without padding: sequence {@code i} occupies steps {@code
 * offsets[i] .. offsets[i+1]-1} of every column. A model with several per-step inputs reads one {@link Column} per
 * input, in the model's input order, all with the same lengths; {@code statics} holds {@code staticWidth} floats
 * per row ({@code [B, staticWidth]}, every static feature of the model in order), or is empty.
 */
public record RaggedBatch(int[] offsets, List<Column> columns, float[] statics, int staticWidth) {
  /**
   * One per-step input: token ids in {@code tokens} (one per step), or {@code width} floats per step in {@code
   * features} (step {@code s} at {@code features[s*width ..]}). Exactly one of the two is non-null.
   */
  public record Column(int[] tokens, float[] features, int width) {
    public static Column ofTokens(int[] tokens) {
      return new Column(tokens, null, 1);
    }

    public static Column ofFeatures(float[] features, int width) {
      return new Column(null, features, width);
    }

    public boolean isTokens() {
      return tokens != null;
    }
  }

  public RaggedBatch {
    columns = List.copyOf(columns);
    if (statics == null) {
      statics = new float[0];
    }
  }

  /** A batch of one per-step input and no static features. */
  public RaggedBatch(int[] offsets, int[] tokens, float[] features, int width) {
    this(offsets, List.of(new Column(tokens, features, width)), new float[0], 0);
  }

  public static RaggedBatch ofTokens(int[][] sequences) {
    int[] offsets = offsetsOf(sequences.length, i -> sequences[i].length);
    return new RaggedBatch(offsets, tokensOf(sequences, offsets), null, 1);
  }

  /** {@code sequences[i][t]} is the feature vector of step t of sequence i; all of width {@code width}. */
  public static RaggedBatch ofFeatures(float[][][] sequences, int width) {
    int[] offsets = offsetsOf(sequences.length, i -> sequences[i].length);
    return new RaggedBatch(offsets, List.of(Column.ofFeatures(featuresOf(sequences, width, offsets), width)), null, 0);
  }

  /** The token ids of {@code sequences} laid out at {@code offsets}. */
  public static int[] tokensOf(int[][] sequences, int[] offsets) {
    int[] tokens = new int[offsets[sequences.length]];
    for (int i = 0; i < sequences.length; i++) {
      System.arraycopy(sequences[i], 0, tokens, offsets[i], sequences[i].length);
    }
    return tokens;
  }

  /** The feature vectors of {@code sequences} ({@code [B][len_i][width]}) laid out at {@code offsets}. */
  public static float[] featuresOf(float[][][] sequences, int width, int[] offsets) {
    float[] features = new float[offsets[sequences.length] * width];
    for (int i = 0; i < sequences.length; i++) {
      for (int t = 0; t < sequences[i].length; t++) {
        if (sequences[i][t].length != width) {
          throw new IllegalArgumentException(
              "sequence " + i + " step " + t + " has " + sequences[i][t].length + " features, expected " + width);
        }
        System.arraycopy(sequences[i][t], 0, features, (offsets[i] + t) * width, width);
      }
    }
    return features;
  }

  public static int[] offsetsOf(int n, java.util.function.IntUnaryOperator length) {
    int[] offsets = new int[n + 1];
    for (int i = 0; i < n; i++) {
      offsets[i + 1] = Math.addExact(offsets[i], length.applyAsInt(i));
    }
    return offsets;
  }

  private Column only() {
    if (columns.size() != 1) {
      throw new IllegalStateException("the batch has " + columns.size() + " columns; use columns()");
    }
    return columns.get(0);
  }

  /** Whether the batch's only column holds token ids. */
  public boolean isTokens() {
    return only().isTokens();
  }

  /** The token ids of the batch's only column (null for a feature column). */
  public int[] tokens() {
    return only().tokens();
  }

  /** The features of the batch's only column (null for a token column). */
  public float[] features() {
    return only().features();
  }

  /** Floats per step of the batch's only column (1 for tokens). */
  public int width() {
    return only().width();
  }

  public int size() {
    return offsets.length - 1;
  }

  public int length(int i) {
    return offsets[i + 1] - offsets[i];
  }

  public int[] lengths() {
    int[] lengths = new int[size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = length(i);
    }
    return lengths;
  }

  public int maxLength() {
    int max = 0;
    for (int i = 0; i < size(); i++) {
      max = Math.max(max, length(i));
    }
    return max;
  }

  public int totalSteps() {
    return offsets[size()];
  }
}
