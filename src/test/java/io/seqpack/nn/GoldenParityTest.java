package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.parts.LstmMode;
import io.seqpack.pack.PackedLayout;
import io.seqpack.pack.Packing;
import io.seqpack.pack.PaddedTensor;
import io.seqpack.testing.Golden;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every {@code golden/<case>/} fixture produced by PyTorch (see {@code golden/FORMAT.md}), run with the
 * vocabulary table on and off: packing internals, RNN output, h_n, c_n, pooled, logits, scores, per-step scores
 * and the tutorial's {@code output[:, -1, :]} pitfall, all within {@value #TOLERANCE} absolute.
 */
class GoldenParityTest {
  static final float TOLERANCE = 1e-5f;

  private static final Map<String, Double> WORST_PER_RUN = new LinkedHashMap<>();

  @TestFactory
  Stream<DynamicTest> matchesPyTorch() {
    List<Path> cases = Golden.modelCases();
    assertFalse(cases.isEmpty(), "no golden/<case>/ fixtures found under " + Golden.root());
    List<DynamicTest> tests = new ArrayList<>();
    for (Path dir : cases) {
      boolean tokens = ModelLoader.load(dir).spec().input().kind() == InputKind.TOKENS;
      for (boolean table : tokens ? new boolean[] {true, false} : new boolean[] {false}) {
        String name = dir.getFileName() + (tokens ? (table ? " [vocab table]" : " [gemm]") : " [features]");
        tests.add(DynamicTest.dynamicTest(name, () -> checkCase(dir, table, name)));
      }
    }
    return tests.stream();
  }

  @AfterAll
  static void printOverall() {
    double overall = WORST_PER_RUN.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    System.out.printf(Locale.ROOT, "golden parity: %d runs, overall worst abs error %.3g%n", WORST_PER_RUN.size(),
        overall);
  }

  private static void checkCase(Path dir, boolean table, String name) {
    Map<String, Object> c = Golden.readCase(dir);
    LoadedModel loaded = ModelLoader.load(dir);
    SequenceModel model = new SequenceModel(loaded,
        new SequenceModel.Options(table ? SequenceModel.DEFAULT_VOCAB_TABLE_MAX_FLOATS : 0));
    boolean tokens = loaded.spec().input().kind() == InputKind.TOKENS;
    assertEquals(table && tokens, model.usesVocabTable(), "vocab table in use");
    RaggedBatch batch = batchOf(c.get("inputs"), tokens, loaded.spec().input().rnnInputSize());
    int[] lengths = Golden.ints(c.get("lengths"));
    assertArrayEquals(lengths, batch.lengths(), "lengths");

    Errors errors = new Errors();
    RnnResult rnn = model.runRnn(batch);
    PackedLayout layout = rnn.output().layout();
    assertArrayEquals(Golden.ints(c.get("batch_sizes")), layout.batchSizes(), "batch_sizes");
    String ties = checkPermutation(c, layout, lengths);

    PaddedTensor padded = Packing.padPackedSequence(rnn.output(), true, 0f, null).padded();
    errors.compare("rnn_output", Golden.floats(c.get("rnn_output")), padded.data());
    errors.compare("h_n", Golden.floats(c.get("h_n")), rnn.hN());
    if (loaded.spec().rnn().mode() instanceof LstmMode) {
      errors.compare("c_n", Golden.floats(c.get("c_n")), rnn.cN());
    }
    float[] pooled = model.pool(rnn, batch);
    errors.compare("pooled", Golden.floats(c.get("pooled")), pooled);
    errors.compare("logits", Golden.floats(c.get("logits")), model.applyHead(pooled, lengths.length, false));

    Scores scores = model.score(batch, true);
    errors.compare("scores", Golden.floats(c.get("scores")), scores.scores());
    errors.compare("step_scores", Golden.floats(c.get("step_scores")), scores.stepScores());

    // the tutorial's pitfall: output[:, -1, :] after pad_packed_sequence is padding for shorter rows
    int width = model.outputWidth();
    float[] lastColumn = new float[lengths.length * width];
    for (int b = 0; b < lengths.length; b++) {
      System.arraycopy(padded.data(), padded.index(b, padded.steps() - 1), lastColumn, b * width, width);
    }
    float[] tutorial = model.applyHead(lastColumn, lengths.length);
    errors.compare("tutorial_last_column", Golden.floats(c.get("tutorial_last_column")), tutorial);
    int misScored = 0;
    for (int i = 0; i < tutorial.length; i++) {
      misScored += Math.abs(tutorial[i] - scores.scores()[i]) > 1e-4 ? 1 : 0;
    }
    if (dir.getFileName().toString().equals("tutorial")) {
      assertTrue(misScored > 0, "the tutorial's output[:, -1, :] pitfall should change some scores");
    }

    WORST_PER_RUN.put(name, errors.worst);
    System.out.printf(Locale.ROOT, "golden %-36s worst %.3g (%s); output[:, -1, :] changes %d of %d scores%s%n",
        name, errors.worst, errors.worstKey, misScored, tutorial.length, ties);
    assertTrue(errors.worst <= TOLERANCE, name + ": " + errors.worstKey + " differs by " + errors.worst);
  }

  /**
   * sorted_indices must match PyTorch's exactly unless torch.sort reordered ties (it is unstable above 16 rows);
   * then both must be descending-by-length orders of the same rows, and outputs are compared in original order
   * anyway.
   */
  private static String checkPermutation(Map<String, Object> c, PackedLayout layout, int[] lengths) {
    int[] torchSorted = Golden.ints(c.get("sorted_indices"));
    int[] torchUnsorted = Golden.ints(c.get("unsorted_indices"));
    if (Arrays.equals(torchSorted, layout.sortedIndices())) {
      assertArrayEquals(torchUnsorted, layout.unsortedIndices(), "unsorted_indices");
      return "";
    }
    assertArrayEquals(layout.sortedLengths(), Arrays.stream(torchSorted).map(i -> lengths[i]).toArray(),
        "sorted_indices differ beyond the order of ties");
    return " [torch ordered ties differently; compared in original order]";
  }

  private static RaggedBatch batchOf(Object inputs, boolean tokens, int width) {
    int batch = Golden.size(inputs);
    if (tokens) {
      int[][] sequences = new int[batch][];
      for (int b = 0; b < batch; b++) {
        sequences[b] = Golden.ints(Golden.at(inputs, b));
      }
      return RaggedBatch.ofTokens(sequences);
    }
    float[][][] sequences = new float[batch][][];
    for (int b = 0; b < batch; b++) {
      Object seq = Golden.at(inputs, b);
      sequences[b] = new float[Golden.size(seq)][];
      for (int t = 0; t < sequences[b].length; t++) {
        sequences[b][t] = Golden.floats(Golden.at(seq, t));
      }
    }
    return RaggedBatch.ofFeatures(sequences, width);
  }

  /** Worst absolute error over the compared outputs; a length or NaN mismatch counts as infinite. */
  private static final class Errors {
    double worst;
    String worstKey = "-";

    void compare(String key, float[] expected, float[] actual) {
      double err = 0;
      if (actual == null || expected.length != actual.length) {
        err = Double.POSITIVE_INFINITY;
      } else {
        for (int i = 0; i < expected.length; i++) {
          if (Float.isNaN(expected[i]) != Float.isNaN(actual[i])) {
            err = Double.POSITIVE_INFINITY;
          } else if (!Float.isNaN(expected[i])) {
            err = Math.max(err, Math.abs((double) expected[i] - actual[i]));
          }
        }
      }
      if (err >= worst) {
        worst = err;
        worstKey = key;
      }
    }
  }
}
