package io.seqpack.nn;

import io.seqpack.data.RaggedBatch;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The engine for JVM code that holds its batches as ND4J tensors, padded the way PyTorch users hold them: {@code
 * tokens [B, T]} (any integer type) or {@code features [B, T, F]} (float or double) with {@code lengths [B]},
 * scored exactly like the rest of seqpack (only the first {@code lengths[b]} steps of row b are read; padding never
 * is), returning {@code [B, out]} float32 scores of the model's first head.
 *
 * <p>ND4J is the tensor type of this API, not of the computation: the engine's matrix products call OpenBLAS's
 * {@code sgemm} directly, because ND4J's {@code mmul} measured about half its speed at these shapes (8–30 µs fixed
 * cost per op, see {@code docs/performance.md}). Tensors are read with one bulk copy of their buffer
 * ({@code data().asInt()} / {@code asFloat()}, about 50× faster than {@code toIntMatrix()}).
 */
public final class TensorScoring {
  private TensorScoring() {}

  /** {@code [B, out]}: the scores of a single token-input model for {@code tokens [B, T]}, {@code lengths [B]}. */
  public static INDArray scoreTokens(SequenceModel model, INDArray tokens, INDArray lengths) {
    Gemm.backend(); // OpenBLAS loads (with its core chosen) before ND4J's own natives do
    check(tokens.rank() == 2, "tokens must be [B, T], got shape " + shape(tokens));
    int b = (int) tokens.size(0);
    int t = (int) tokens.size(1);
    int[] lens = lengths(lengths, b, t);
    int[] padded = tokens.castTo(DataType.INT32).dup('c').data().asInt();
    int[] offsets = RaggedBatch.offsetsOf(b, i -> lens[i]);
    int[] ragged = new int[offsets[b]];
    for (int i = 0; i < b; i++) {
      System.arraycopy(padded, i * t, ragged, offsets[i], lens[i]);
    }
    return result(model.score(new RaggedBatch(offsets, ragged, null, 1), false), b);
  }

  /** {@code [B, out]}: the scores of a single feature-input model for {@code features [B, T, F]}. */
  public static INDArray scoreFeatures(SequenceModel model, INDArray features, INDArray lengths) {
    Gemm.backend();
    check(features.rank() == 3, "features must be [B, T, F], got shape " + shape(features));
    int b = (int) features.size(0);
    int t = (int) features.size(1);
    int f = (int) features.size(2);
    int[] lens = lengths(lengths, b, t);
    float[] padded = features.castTo(DataType.FLOAT).dup('c').data().asFloat();
    int[] offsets = RaggedBatch.offsetsOf(b, i -> lens[i]);
    float[] ragged = new float[offsets[b] * f];
    for (int i = 0; i < b; i++) {
      System.arraycopy(padded, i * t * f, ragged, offsets[i] * f, lens[i] * f);
    }
    RaggedBatch batch = new RaggedBatch(offsets, List.of(RaggedBatch.Column.ofFeatures(ragged, f)), null, 0);
    return result(model.score(batch, false), b);
  }

  private static int[] lengths(INDArray lengths, int b, int t) {
    check(lengths.rank() == 1 && lengths.size(0) == b, "lengths must be [" + b + "], got shape " + shape(lengths));
    int[] lens = lengths.castTo(DataType.INT32).dup().data().asInt();
    for (int i = 0; i < b; i++) {
      check(lens[i] >= 1 && lens[i] <= t, "lengths[" + i + "] is " + lens[i] + ", expected 1 to " + t
          + " (PyTorch cannot pack length 0; a row cannot be longer than the padded tensor)");
    }
    return lens;
  }

  private static INDArray result(Scores scores, int b) {
    return Nd4j.create(scores.scores(), new long[] {b, scores.outFeatures()}, 'c');
  }

  private static String shape(INDArray a) {
    return java.util.Arrays.toString(a.shape());
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("Cannot score tensors: " + message);
    }
  }
}
