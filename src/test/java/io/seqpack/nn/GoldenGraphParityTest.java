package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelLoader;
import io.seqpack.pack.Packing;
import io.seqpack.testing.Golden;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every {@code golden/graph/<case>/} fixture: a user-style PyTorch module with its own attribute names, exported
 * through {@code export_pytorch.py --module/--spec} (format 2), scored by the engine with the vocabulary tables on
 * and off. The expected values are what the user's own {@code forward} returned (see {@code
 * python/seqpack_torch/golden_models.py}): RNN output, h_n, the vector the heads see, every head, per-step scores, all within
 * {@value GoldenParityTest#TOLERANCE} absolute.
 */
class GoldenGraphParityTest {
  @TestFactory
  Stream<DynamicTest> matchesTheUsersModule() {
    List<Path> cases = Golden.graphCases();
    assertTrue(cases.size() >= 17, "golden/graph/ fixtures found: " + cases);
    List<DynamicTest> tests = new ArrayList<>();
    for (Path dir : cases) {
      for (boolean table : new boolean[] {true, false}) {
        String name = dir.getFileName() + (table ? " [vocab tables]" : " [gemm]");
        tests.add(DynamicTest.dynamicTest(name, () -> check(dir, table, name)));
      }
    }
    return tests.stream();
  }

  @SuppressWarnings("unchecked")
  private static void check(Path dir, boolean table, String name) {
    Map<String, Object> c = Golden.readCase(dir);
    LoadedModel loaded = ModelLoader.load(dir);
    ModelGraph graph = loaded.graph();
    SequenceModel model = new SequenceModel(loaded,
        new SequenceModel.Options(table ? SequenceModel.DEFAULT_VOCAB_TABLE_MAX_FLOATS : 0));
    boolean anyTokens = graph.inputs().stream().anyMatch(in -> in.kind() == io.seqpack.model.ModelSpec.InputKind.TOKENS);
    // step layers sit between the embedding and W_ih: nothing to fold into a table
    assertEquals(table && anyTokens && graph.stepLayers().isEmpty(), model.usesVocabTable(), "vocab tables in use");
    RaggedBatch batch = Golden.graphBatch(graph, c);

    double worst = 0;
    String worstKey = "-";
    RnnResult rnn = model.runRnn(batch);
    float[] padded = Packing.padPackedSequence(rnn.output(), true, 0f, null).padded().data();
    Map<String, float[]> actual = new java.util.LinkedHashMap<>();
    actual.put("rnn_output", padded);
    actual.put("h_n", rnn.hN());
    boolean perStep = c.containsKey("step_scores");
    assertEquals(perStep, graph.supportsPerStep(), "per-step scores defined");
    Scores scores = model.score(batch, perStep, true);
    actual.put("embedding", scores.embedding());
    Map<String, Object> heads = (Map<String, Object>) c.get("heads");
    assertEquals(graph.heads().size(), heads.size(), "heads");
    for (int h = 0; h < graph.heads().size(); h++) {
      actual.put("heads." + graph.heads().get(h).name(), scores.heads().get(h));
    }
    if (perStep) {
      actual.put("step_scores", scores.stepScores());
    }
    for (Map.Entry<String, float[]> e : actual.entrySet()) {
      String key = e.getKey();
      Object expectedJson = key.startsWith("heads.") ? heads.get(key.substring(6)) : c.get(key);
      float[] expected = Golden.floats(expectedJson);
      assertEquals(expected.length, e.getValue().length, name + ": size of " + key);
      for (int i = 0; i < expected.length; i++) {
        double err = Math.abs((double) expected[i] - e.getValue()[i]);
        assertFalse(Double.isNaN(err), name + ": NaN in " + key);
        if (err > worst) {
          worst = err;
          worstKey = key;
        }
      }
    }
    System.out.printf(Locale.ROOT, "golden graph %-40s worst %.3g (%s)%n", name, worst, worstKey);
    assertTrue(worst <= GoldenParityTest.TOLERANCE, name + ": " + worstKey + " differs by " + worst);
  }
}
