package io.seqpack.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.seqpack.data.RaggedBatch;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.parts.TokenInput;
import io.seqpack.testing.Golden;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A row's outputs do not depend on its batch-mates, its position in the batch, or the thread scoring it. */
class BatchIndependenceTest {
  private static final float TOLERANCE = 1e-6f;

  private static SequenceModel model(String caseName) {
    return new SequenceModel(ModelLoader.load(Golden.root().resolve(caseName)));
  }

  private static int[][] randomTokens(Random random, int rows, int vocab, int maxLength) {
    int[][] sequences = new int[rows][];
    for (int i = 0; i < rows; i++) {
      sequences[i] = random.ints(1 + random.nextInt(maxLength), 0, vocab).toArray();
    }
    return sequences;
  }

  @ParameterizedTest
  @ValueSource(strings = {"lstm_bi2", "gru_bi3", "lstm_proj_bi2", "rnn_tanh_mean_bi_softmax"})
  void rowScoresDoNotDependOnBatchMates(String caseName) {
    SequenceModel model = model(caseName);
    Random random = new Random(11);
    int[][] rows = randomTokens(random, 40, ((TokenInput) model.graph().inputs().get(0)).vocabSize(), 15);
    Scores together = model.score(RaggedBatch.ofTokens(rows), true);
    // each row alone
    for (int i = 0; i < rows.length; i++) {
      Scores alone = model.score(RaggedBatch.ofTokens(new int[][] {rows[i]}), true);
      assertArrayEquals(together.row(i), alone.row(0), TOLERANCE, "row " + i + " alone");
      for (int t = 0; t < rows[i].length; t++) {
        assertArrayEquals(together.step(i, t), alone.step(0, t), TOLERANCE, "row " + i + " step " + t);
      }
    }
    // shuffled, in random sub-batches with other random rows
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < rows.length; i++) {
      order.add(i);
    }
    Collections.shuffle(order, random);
    for (int from = 0; from < rows.length; ) {
      int size = 1 + random.nextInt(9);
      List<int[]> batch = new ArrayList<>();
      List<Integer> ids = new ArrayList<>();
      for (int j = from; j < Math.min(rows.length, from + size); j++) {
        batch.add(rows[order.get(j)]);
        ids.add(order.get(j));
        batch.add(randomTokens(random, 1, ((TokenInput) model.graph().inputs().get(0)).vocabSize(), 20)[0]); // a stranger
        ids.add(-1);
      }
      Scores scores = model.score(RaggedBatch.ofTokens(batch.toArray(new int[0][])), false);
      for (int k = 0; k < ids.size(); k++) {
        if (ids.get(k) >= 0) {
          assertArrayEquals(together.row(ids.get(k)), scores.row(k), TOLERANCE, "row " + ids.get(k) + " in a mix");
        }
      }
      from += size;
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lstm_bi2", "gru_bi3"})
  void concurrentThreadsShareOneModel(String caseName) throws Exception {
    SequenceModel model = model(caseName);
    Random random = new Random(5);
    List<int[][]> batches = new ArrayList<>();
    List<Scores> expected = new ArrayList<>();
    for (int b = 0; b < 24; b++) {
      int[][] rows = randomTokens(random, 1 + random.nextInt(30), ((TokenInput) model.graph().inputs().get(0)).vocabSize(), 25);
      batches.add(rows);
      expected.add(model.score(RaggedBatch.ofTokens(rows), true));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Scores>> futures = new ArrayList<>();
      for (int repeat = 0; repeat < 4; repeat++) {
        for (int[][] rows : batches) {
          futures.add(pool.submit(() -> model.score(RaggedBatch.ofTokens(rows), true)));
        }
      }
      for (int i = 0; i < futures.size(); i++) {
        Scores got = futures.get(i).get();
        Scores want = expected.get(i % batches.size());
        assertArrayEquals(want.scores(), got.scores(), 0f);
        assertArrayEquals(want.stepScores(), got.stepScores(), 0f);
      }
    } finally {
      pool.shutdown();
    }
  }
}
