package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.seqpack.ModelFormatException;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelSpec;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelSpec.HeadSpec;
import io.seqpack.model.ModelSpec.InputSpec;
import io.seqpack.model.ModelSpec.Pooling;
import io.seqpack.model.parts.GruMode;
import io.seqpack.model.parts.RnnReluMode;
import io.seqpack.model.parts.RnnTanhMode;
import io.seqpack.model.ModelSpec.RnnSpec;
import io.seqpack.model.Tensor;
import io.seqpack.model.WeightNames;
import io.seqpack.pack.Packing;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tiny hand-made models whose outputs can be worked out on paper. */
class SequenceModelTest {

  private static final class Weights {
    final Map<String, Tensor> tensors = new LinkedHashMap<>();

    Weights put(String name, int[] shape, float... data) {
      tensors.put(name, new Tensor(name, shape, data));
      return this;
    }

    LoadedModel model(ModelSpec spec) {
      return new LoadedModel(spec, tensors, "hand-made");
    }
  }

  private static int[] shape(int... dims) {
    return dims;
  }

  /** 1 feature in, hidden 1, W_ih = W_hh = 1, no bias, relu: h_t is the running sum of positive inputs. */
  private static LoadedModel runningSumRnn(boolean bidirectional, Pooling pooling) {
    ModelSpec spec = new ModelSpec(InputSpec.features(1),
        new RnnSpec(new RnnReluMode(), 1, 1, bidirectional, false, 0), new HeadSpec(pooling, 1, Activation.NONE));
    Weights w = new Weights();
    for (int d = 0; d < (bidirectional ? 2 : 1); d++) {
      w.put(WeightNames.weightIh(0, d == 1), shape(1, 1), 1f).put(WeightNames.weightHh(0, d == 1), shape(1, 1), 1f);
    }
    int width = bidirectional ? 2 : 1;
    return w.put(WeightNames.FC_WEIGHT, shape(1, width), bidirectional ? new float[] {1f, 100f} : new float[] {1f})
        .put(WeightNames.FC_BIAS, shape(1), 0f)
        .model(spec);
  }

  private static RaggedBatch features(float[]... sequences) {
    float[][][] steps = new float[sequences.length][][];
    for (int i = 0; i < sequences.length; i++) {
      steps[i] = new float[sequences[i].length][];
      for (int t = 0; t < sequences[i].length; t++) {
        steps[i][t] = new float[] {sequences[i][t]};
      }
    }
    return RaggedBatch.ofFeatures(steps, 1);
  }

  @Test
  void reluRnnWithUnitWeightsComputesRunningSums() {
    SequenceModel model = new SequenceModel(runningSumRnn(false, Pooling.LAST));
    RaggedBatch batch = features(new float[] {1, 2}, new float[] {5}, new float[] {1, 2, 3});
    Scores scores = model.score(batch, true);
    assertArrayEquals(new float[] {3, 5, 6}, scores.scores());
    assertArrayEquals(new float[] {1, 3, 5, 1, 3, 6}, scores.stepScores());
    assertArrayEquals(new float[] {3}, scores.step(2, 1));

    RnnResult rnn = model.runRnn(batch);
    assertArrayEquals(new float[] {3, 5, 6}, rnn.hN());
    assertNull(rnn.cN());
    // packed, sorted by length: [third, first, second] at t=0, then [third, first], then [third]
    assertArrayEquals(new float[] {1, 1, 5, 3, 3, 6}, rnn.output().data());
  }

  @Test
  void reverseDirectionStartsAtEachRowsOwnLastStep() {
    SequenceModel model = new SequenceModel(runningSumRnn(true, Pooling.LAST));
    RaggedBatch batch = features(new float[] {1, 2, 3}, new float[] {10});
    RnnResult rnn = model.runRnn(batch);
    // h_n [D=2, B=2, 1]: forward finals (6, 10), backward finals = sums from the end (6, 10)
    assertArrayEquals(new float[] {6, 10, 6, 10}, rnn.hN());
    // output[b, t] = (prefix sum, suffix sum)
    Packing.Unpacked unpacked = Packing.padPackedSequence(rnn.output(), true, 0f, null);
    assertArrayEquals(new float[] {1, 6, 3, 5, 6, 3, 10, 10, 0, 0, 0, 0}, unpacked.padded().data());
    // LAST = cat(h_n[-2], h_n[-1]) → fc [1, 100]
    assertArrayEquals(new float[] {606, 1010}, model.score(batch, false).scores());
  }

  @Test
  void meanAndMaxPoolOnlyValidSteps() {
    RaggedBatch batch = features(new float[] {1, 2, 3}, new float[] {4});
    // outputs (fwd, bwd): row 0 (1,6) (3,5) (6,3); row 1 (4,4)
    assertArrayEquals(new float[] {10f / 3 + 100 * 14f / 3, 4 + 400},
        new SequenceModel(runningSumRnn(true, Pooling.MEAN)).score(batch, false).scores(), 1e-3f);
    assertArrayEquals(new float[] {6 + 600, 404},
        new SequenceModel(runningSumRnn(true, Pooling.MAX)).score(batch, false).scores());
  }

  @Test
  void tanhRnnMatchesHandComputation() {
    ModelSpec spec = new ModelSpec(InputSpec.tokens(3, 1, null),
        new RnnSpec(new RnnTanhMode(), 1, 1, false, true, 0), new HeadSpec(Pooling.LAST, 1, Activation.SIGMOID));
    LoadedModel loaded = new Weights()
        .put(WeightNames.EMBEDDING, shape(3, 1), 0f, 0.5f, -1f)
        .put(WeightNames.weightIh(0, false), shape(1, 1), 2f)
        .put(WeightNames.weightHh(0, false), shape(1, 1), 0.5f)
        .put(WeightNames.biasIh(0, false), shape(1), 0.1f)
        .put(WeightNames.biasHh(0, false), shape(1), -0.2f)
        .put(WeightNames.FC_WEIGHT, shape(1, 1), 3f)
        .put(WeightNames.FC_BIAS, shape(1), -1f)
        .model(spec);
    double h1 = Math.tanh(2 * 0.5 + 0.1 + (0 - 0.2));
    double h2 = Math.tanh(2 * -1 + 0.1 + (0.5 * h1 - 0.2));
    double expected = 1 / (1 + Math.exp(-(3 * h2 - 1)));
    for (long table : new long[] {0, SequenceModel.DEFAULT_VOCAB_TABLE_MAX_FLOATS}) {
      SequenceModel model = new SequenceModel(loaded, new SequenceModel.Options(table));
      assertEquals(table > 0, model.usesVocabTable());
      Scores scores = model.score(RaggedBatch.ofTokens(new int[][] {{1, 2}}), false);
      assertEquals(expected, scores.scores()[0], 1e-6);
    }
  }

  @Test
  void softmaxHeadSumsToOne() {
    ModelSpec spec = new ModelSpec(InputSpec.features(1),
        new RnnSpec(new RnnReluMode(), 1, 1, false, false, 0), new HeadSpec(Pooling.LAST, 3, Activation.SOFTMAX));
    LoadedModel loaded = new Weights()
        .put(WeightNames.weightIh(0, false), shape(1, 1), 1f)
        .put(WeightNames.weightHh(0, false), shape(1, 1), 1f)
        .put(WeightNames.FC_WEIGHT, shape(3, 1), 1f, 2f, 3f)
        .put(WeightNames.FC_BIAS, shape(3), 0f, 0f, 0f)
        .model(spec);
    float[] p = new SequenceModel(loaded).score(features(new float[] {1}), false).row(0);
    double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    assertArrayEquals(new float[] {(float) (Math.exp(1) / z), (float) (Math.exp(2) / z), (float) (Math.exp(3) / z)},
        p, 1e-7f);
  }

  @Test
  void rejectsBatchesTheModelCannotRead() {
    SequenceModel model = new SequenceModel(runningSumRnn(false, Pooling.LAST));
    assertEquals("Cannot score batch: the model reads feature vectors for input seq but the batch holds token ids",
        assertThrows(IllegalArgumentException.class,
            () -> model.score(RaggedBatch.ofTokens(new int[][] {{1}}), false)).getMessage());
    assertEquals("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
            + " (lengths[1] = 0)",
        assertThrows(IllegalArgumentException.class,
            () -> model.score(features(new float[] {1}, new float[0]), false)).getMessage());
    assertEquals(0, model.score(features(), true).scores().length);
  }

  @Test
  void rejectsTokenOutsideVocabulary() {
    ModelSpec spec = new ModelSpec(InputSpec.tokens(2, 1, null),
        new RnnSpec(new GruMode(), 1, 1, false, false, 0), new HeadSpec(Pooling.LAST, 1, Activation.NONE));
    LoadedModel loaded = new Weights()
        .put(WeightNames.EMBEDDING, shape(2, 1), 0f, 1f)
        .put(WeightNames.weightIh(0, false), shape(3, 1), 1f, 1f, 1f)
        .put(WeightNames.weightHh(0, false), shape(3, 1), 1f, 1f, 1f)
        .put(WeightNames.FC_WEIGHT, shape(1, 1), 1f)
        .put(WeightNames.FC_BIAS, shape(1), 0f)
        .model(spec);
    SequenceModel model = new SequenceModel(loaded);
    assertEquals("Cannot score batch: token id 2 of input seq at row 0 step 1 is outside the vocabulary [0, 2)",
        assertThrows(IllegalArgumentException.class,
            () -> model.score(RaggedBatch.ofTokens(new int[][] {{1, 2}}), false)).getMessage());
  }

  @Test
  void rejectsTensorOfWrongShape() {
    Weights w = new Weights();
    LoadedModel good = runningSumRnn(false, Pooling.LAST);
    w.tensors.putAll(good.tensors());
    w.put(WeightNames.weightHh(0, false), shape(2, 1), 1f, 1f);
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> new SequenceModel(w.model(good.spec())));
    assertEquals("Cannot build model: tensor rnn.weight_hh_l0 has shape [2, 1], expected [1, 1]", e.getMessage());
  }
}
