package io.seqpack.data;

/**
 * A batch of variable-length sequences stored without padding: sequence {@code i} occupies steps {@code
 * offsets[i] .. offsets[i+1]-1}. Token sequences keep their ids in {@code tokens}; feature sequences keep
 * {@code width} floats per step in {@code features} (step {@code s} at {@code features[s*width ..]}).
 * Exactly one of {@code tokens}/{@code features} is non-null.
 */
public record RaggedBatch(int[] offsets, int[] tokens, float[] features, int width) {

  public static RaggedBatch ofTokens(int[][] sequences) {
    int[] offsets = offsetsOf(sequences.length, i -> sequences[i].length);
    int[] tokens = new int[offsets[sequences.length]];
    for (int i = 0; i < sequences.length; i++) {
      System.arraycopy(sequences[i], 0, tokens, offsets[i], sequences[i].length);
    }
    return new RaggedBatch(offsets, tokens, null, 1);
  }

  /** {@code sequences[i][t]} is the feature vector of step t of sequence i; all of width {@code width}. */
  public static RaggedBatch ofFeatures(float[][][] sequences, int width) {
    int[] offsets = offsetsOf(sequences.length, i -> sequences[i].length);
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
    return new RaggedBatch(offsets, null, features, width);
  }

  private static int[] offsetsOf(int n, java.util.function.IntUnaryOperator length) {
    int[] offsets = new int[n + 1];
    for (int i = 0; i < n; i++) {
      offsets[i + 1] = Math.addExact(offsets[i], length.applyAsInt(i));
    }
    return offsets;
  }

  public boolean isTokens() {
    return tokens != null;
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
