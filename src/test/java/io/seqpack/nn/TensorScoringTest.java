package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.seqpack.model.ModelLoader;
import io.seqpack.testing.Golden;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The ND4J tensor API on padded batches, against PyTorch's golden scores; padding values are never read. */
class TensorScoringTest {
  @Test
  void paddedTokenTensorsScoreAsPyTorch() {
    Map<String, Object> c = Golden.readCase(Golden.root().resolve("tutorial"));
    SequenceModel model = new SequenceModel(ModelLoader.load(Golden.root().resolve("tutorial")));
    int[] lengths = Golden.ints(c.get("lengths"));
    int t = java.util.Arrays.stream(lengths).max().orElseThrow();
    long[] padded = new long[lengths.length * t];
    java.util.Arrays.fill(padded, 7); // padding a wrong read would show: a real token id, not 0
    for (int b = 0; b < lengths.length; b++) {
      int[] seq = Golden.ints(Golden.at(c.get("inputs"), b));
      for (int s = 0; s < seq.length; s++) {
        padded[b * t + s] = seq[s];
      }
    }
    INDArray tokens = Nd4j.createFromArray(padded).reshape(lengths.length, t);
    INDArray scores = TensorScoring.scoreTokens(model, tokens, Nd4j.createFromArray(lengths));
    assertArrayEquals(new long[] {lengths.length, 1}, scores.shape());
    assertEquals(DataType.FLOAT, scores.dataType());
    assertArrayEquals(Golden.floats(c.get("scores")), scores.data().asFloat(), 1e-5f);
  }

  @Test
  void paddedFeatureTensorsScoreAsPyTorch() {
    Map<String, Object> c = Golden.readCase(Golden.root().resolve("features_lstm"));
    SequenceModel model = new SequenceModel(ModelLoader.load(Golden.root().resolve("features_lstm")));
    int[] lengths = Golden.ints(c.get("lengths"));
    int t = java.util.Arrays.stream(lengths).max().orElseThrow();
    int f = Golden.floats(Golden.at(Golden.at(c.get("inputs"), 0), 0)).length;
    double[] padded = new double[lengths.length * t * f];
    java.util.Arrays.fill(padded, Double.NaN); // NaN padding would poison any score that read it
    for (int b = 0; b < lengths.length; b++) {
      for (int s = 0; s < lengths[b]; s++) {
        float[] step = Golden.floats(Golden.at(Golden.at(c.get("inputs"), b), s));
        for (int j = 0; j < f; j++) {
          padded[(b * t + s) * f + j] = step[j];
        }
      }
    }
    INDArray features = Nd4j.createFromArray(padded).reshape(lengths.length, t, f);
    INDArray scores = TensorScoring.scoreFeatures(model, features, Nd4j.createFromArray(lengths));
    assertArrayEquals(Golden.floats(c.get("scores")), scores.data().asFloat(), 1e-5f);
  }

  @Test
  void refusesLengthsThePaddedTensorCannotHold() {
    SequenceModel model = new SequenceModel(ModelLoader.load(Golden.root().resolve("tutorial")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorScoring.scoreTokens(
        model, Nd4j.zeros(DataType.INT32, 2, 3), Nd4j.createFromArray(3, 4)));
    assertEquals("Cannot score tensors: lengths[1] is 4, expected 1 to 3 (PyTorch cannot pack length 0; a row "
        + "cannot be longer than the padded tensor)", e.getMessage());
  }
}
