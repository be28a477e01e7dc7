package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.SafeTensors;
import io.seqpack.model.Tensor;
import io.seqpack.testing.Golden;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The top-k selection: PyTorch's order (score descending, ties to the lower index), exclusions, blockwise heads. */
class TopKTest {
  @Test
  void ranksByScoreThenLowerIndex() {
    float[] row = {0.5f, 2f, 0.5f, -1f, 2f, 0.5f};
    TopK top = TopK.of(row, 1, 6, 4, null);
    assertArrayEquals(new int[] {1, 4, 0, 2}, top.ids(0));
    assertArrayEquals(new float[] {2f, 2f, 0.5f, 0.5f}, top.scores(0));
  }

  @Test
  void kEqualToTheWidthSortsTheWholeRow() {
    float[] rows = {3f, 1f, 2f, 1f, /* row 1 */ 0f, 0f, 0f, 0f};
    TopK top = TopK.of(rows, 2, 4, 4, null);
    assertArrayEquals(new int[] {0, 2, 1, 3}, top.ids(0));
    assertArrayEquals(new int[] {0, 1, 2, 3}, top.ids(1));
  }

  @Test
  void leavesOutTheExcludedItemsAndMayReturnFewer() {
    float[] rows = {3f, 1f, 2f, 4f, /* row 1 */ 3f, 1f, 2f, 4f};
    TopK top = TopK.of(rows, 2, 4, 3, new int[][] {{0, 3}, null});
    assertArrayEquals(new int[] {2, 1}, top.ids(0));
    assertArrayEquals(new int[] {3, 0, 2}, top.ids(1));
  }

  /** The tied heads' blockwise selection against the whole activated vectors (PyTorch's, in the fixtures). */
  @Test
  void tiedHeadsSelectAsTheWholeVector() {
    for (String name : new String[] {"m_gru4rec_tied", "n_gru4rec_dense_bias"}) {
      Path dir = Golden.root().resolve("graph/" + name);
      Map<String, Object> c = Golden.readCase(dir);
      LoadedModel loaded = ModelLoader.load(dir);
      RaggedBatch batch = Golden.graphBatch(loaded.graph(), c);
      float[] torch = Golden.floats(((Map<?, ?>) c.get("heads")).get("next_item"));
      Scores scores = new SequenceModel(loaded).score(batch, false, false, new int[] {10}, 0);
      TopK expected = TopK.of(torch, batch.size(), 60, 10, seen(batch));
      for (int r = 0; r < batch.size(); r++) {
        assertArrayEquals(expected.ids(r), scores.top(0).ids(r), name + " row " + r);
        assertArrayEquals(expected.scores(r), scores.top(0).scores(r), 1e-5f, name + " row " + r);
      }
    }
  }

  /**
   * Rows full of ties, ±0, NaN and infinities, with and without exclusions, against a stable sort of the whole row
   * in {@link Float#compare} order: the selection's early rejection of scores below its worst kept one keeps the
   * order exactly.
   */
  @Test
  void equalsAStableSortOfTheWholeRow() {
    float[] pool = {1f, 1f, 0.5f, 0f, -0f, -2f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3f};
    Random random = new Random(11);
    for (int trial = 0; trial < 500; trial++) {
      int width = 1 + random.nextInt(60);
      int k = 1 + random.nextInt(width);
      float[] row = new float[width];
      for (int j = 0; j < width; j++) {
        row[j] = pool[random.nextInt(pool.length)];
      }
      int[] excluded = trial % 2 == 0 ? null
          : random.ints(random.nextInt(width), 0, width).sorted().distinct().toArray();
      Integer[] order = java.util.stream.IntStream.range(0, width)
          .filter(j -> excluded == null || java.util.Arrays.binarySearch(excluded, j) < 0).boxed()
          .toArray(Integer[]::new);
      java.util.Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a])); // stable: ties keep the lower index
      int[] expected = java.util.Arrays.stream(order).limit(k).mapToInt(Integer::intValue).toArray();
      assertArrayEquals(expected, TopK.of(row, 1, width, k, new int[][] {excluded}).ids(0),
          "trial " + trial + ": " + java.util.Arrays.toString(row));
    }
  }

  /** 10,000 items: three blocks, a running log Σ exp across them, against the model's own whole softmax. */
  @Test
  void selectsAcrossItemBlocks() {
    int items = 10_000;
    int dim = 4;
    String json = "{\"format\": \"seqpack-model/2\", \"inputs\": [{\"name\": \"items\", \"kind\": \"tokens\","
        + " \"vocab_size\": " + items + ", \"embedding_dim\": " + dim + ", \"padding_idx\": 0, \"embedding\": \"emb\","
        + " \"norm\": null}], \"static\": [], \"rnn\": {\"module\": \"gru\", \"mode\": \"GRU\", \"input_size\": "
        + dim + ", \"hidden_size\": " + dim + ", \"num_layers\": 1, \"bidirectional\": false, \"bias\": false,"
        + " \"proj_size\": 0, \"h0\": null, \"c0\": null}, \"pooling\": [\"last\"], \"heads\": [{\"name\": \"next\","
        + " \"activation\": \"softmax\", \"layers\": [{\"type\": \"tied\", \"embedding\": \"emb\", \"num_embeddings\": "
        + items + ", \"embedding_dim\": " + dim + ", \"bias\": \"out_bias\", \"exclude_padding\": true}]}]}";
    Random random = new Random(7);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("emb.weight", tensor("emb.weight", random, 3f, items, dim));
    tensors.put("gru.weight_ih_l0", tensor("gru.weight_ih_l0", random, 1f, 3 * dim, dim));
    tensors.put("gru.weight_hh_l0", tensor("gru.weight_hh_l0", random, 1f, 3 * dim, dim));
    tensors.put("out_bias", tensor("out_bias", random, 1f, items));
    LoadedModel loaded = ModelLoader.load(new ModelBytes(json.getBytes(StandardCharsets.UTF_8),
        SafeTensors.write(tensors, Map.of())), "test", false);
    SequenceModel model = new SequenceModel(loaded);
    RaggedBatch batch = RaggedBatch.ofTokens(new int[][] {{5, 9_999, 4_097}, {1}, {8_000, 2, 8_000, 3}});
    float[] whole = model.score(batch, false, false).scores();
    Scores top = model.score(batch, false, false, new int[] {25}, 0);
    TopK expected = TopK.of(whole, 3, items, 25, seen(batch));
    for (int r = 0; r < 3; r++) {
      assertArrayEquals(expected.ids(r), top.top(0).ids(r), "row " + r);
      assertArrayEquals(expected.scores(r), top.top(0).scores(r), 1e-5f, "row " + r); // whole: a float sum
      assertEquals(0f, whole[r * items], "the padding item scores 0 after the softmax");
    }
  }

  private static int[][] seen(RaggedBatch batch) {
    int[][] out = new int[batch.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = java.util.Arrays.stream(batch.tokens(), batch.offsets()[r], batch.offsets()[r + 1]).sorted()
          .distinct().toArray();
    }
    return out;
  }

  private static Tensor tensor(String name, Random random, float scale, int... shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    float[] data = new float[n];
    for (int i = 0; i < n; i++) {
      data[i] = (float) random.nextGaussian() * scale;
    }
    return new Tensor(name, shape, data);
  }
}
