package io.seqpack.model.parts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ModelFormatException;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.Scores;
import io.seqpack.nn.SequenceModel;
import io.seqpack.testing.Golden;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The tied head ({@code h · Eᵀ + b} with an input's embedding table) on the GRU4Rec golden fixtures: what
 * model.json may say about it, and {@code exclude_padding} against PyTorch's own scores.
 */
class TiedLayerTest {
  private static final Path TIED = Golden.root().resolve("graph/m_gru4rec_tied");
  private static final Path DENSE_BIAS = Golden.root().resolve("graph/n_gru4rec_dense_bias");

  @Test
  void sharesTheInputsTableAndStoresOnlyTheBias() {
    LoadedModel model = ModelLoader.load(DENSE_BIAS);
    assertEquals(java.util.Set.of("item_emb.weight", "gru.weight_ih_l0", "gru.weight_hh_l0", "dense.weight",
        "dense.bias", "By.weight"), model.tensors().keySet());
    assertEquals("Linear(10→6) → tied(item_emb: 6→60, bias By.weight) → log_softmax",
        model.graph().heads().get(0).description());
    assertEquals(60, model.graph().outFeatures(0));
  }

  @Test
  void refusesATableThatIsNotAnInputsEmbedding() throws IOException {
    assertEquals("Cannot read model.json in m: heads[0].layers[0].embedding: \"gru\", expected the embedding of a"
        + " tokens input (item_emb)", loadError(TIED, "\"embedding\": \"item_emb\",\n          \"num",
            "\"embedding\": \"gru\",\n          \"num"));
  }

  @Test
  void refusesAVectorWiderThanTheTable() throws IOException {
    assertEquals("Cannot read model.json in m: heads[0].layers[0].num_embeddings: [60, 10], expected [60, 8]"
        + " (num_embeddings, embedding_dim of input items's embedding item_emb)",
        loadError(TIED, "\"embedding_dim\": 8,\n          \"exclude", "\"embedding_dim\": 10,\n          \"exclude"));
  }

  /**
   * PyTorch's {@code log_softmax} with the padding item's logit at {@code -inf} is, for every other item, the
   * unmasked log-probability minus {@code log(1 - p_pad)}: derived from the fixture's own values.
   */
  @Test
  void excludedPaddingScoresMinusInfinityAndRenormalises() throws IOException {
    Map<String, Object> c = Golden.readCase(DENSE_BIAS);
    LoadedModel plain = ModelLoader.load(DENSE_BIAS);
    LoadedModel excluding = load(DENSE_BIAS, "\"exclude_padding\": false", "\"exclude_padding\": true");
    Scores scores = new SequenceModel(excluding).score(Golden.graphBatch(excluding.graph(), c), false);
    float[] expected = Golden.floats(((Map<?, ?>) c.get("heads")).get("next_item"));
    int items = plain.graph().outFeatures(0);
    for (int r = 0; r < scores.size(); r++) {
      double keep = Math.log1p(-Math.exp(expected[r * items]));
      float[] row = scores.row(r);
      assertEquals(Float.NEGATIVE_INFINITY, row[0]);
      for (int j = 1; j < items; j++) {
        assertEquals(expected[r * items + j] - keep, row[j], 1e-5, "row " + r + " item " + j);
      }
    }
  }

  @Test
  void refusesExcludingPaddingWithoutAPaddingIndex() throws IOException {
    String error = loadError(TIED, "\"padding_idx\": 0", "\"padding_idx\": null", "\"exclude_padding\": false",
        "\"exclude_padding\": true");
    assertTrue(error.endsWith("heads[0].layers[0].exclude_padding: true, expected false (input items has no"
        + " padding_idx)"), error);
  }

  private static String loadError(Path dir, String... replacements) throws IOException {
    return assertThrows(ModelFormatException.class, () -> load(dir, replacements)).getMessage();
  }

  private static LoadedModel load(Path dir, String... replacements) throws IOException {
    String json = Files.readString(dir.resolve("model.json"));
    for (int i = 0; i < replacements.length; i += 2) {
      assertTrue(json.contains(replacements[i]), replacements[i]);
      json = json.replace(replacements[i], replacements[i + 1]);
    }
    return ModelLoader.load(new ModelBytes(json.getBytes(StandardCharsets.UTF_8),
        Files.readAllBytes(dir.resolve("model.safetensors"))), "m", false);
  }
}
