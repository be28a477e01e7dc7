package io.seqpack.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import io.seqpack.testing.Golden;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The executor model cache without Spark: decode once, least recently used out first, byte budget. */
class ExecutorModelCacheTest {
  private static final SequenceModel.Options ENGINE = SequenceModel.Options.DEFAULT;

  @AfterEach
  void empty() {
    ExecutorModelCache.clear();
  }

  @Test
  void decodesOnceAndDropsTheLeastRecentlyUsedOverBudget() {
    LoadedModel lstm = ModelLoader.load(Golden.root().resolve("lstm"));
    LoadedModel gru = ModelLoader.load(Golden.root().resolve("gru"));
    LoadedModel rnn = ModelLoader.load(Golden.root().resolve("rnn_tanh"));
    long budget = ExecutorModelCache.weightBytes(lstm) + ExecutorModelCache.weightBytes(gru);
    AtomicInteger decoded = new AtomicInteger();
    ExecutorModelCache.clear();
    SequenceModel a = ExecutorModelCache.get("lstm", budget, () -> count(decoded, lstm), ENGINE);
    assertSame(a, ExecutorModelCache.get("lstm", budget, () -> count(decoded, lstm), ENGINE));
    ExecutorModelCache.get("gru", budget, () -> count(decoded, gru), ENGINE);
    assertEquals(2, decoded.get());
    ExecutorModelCache.get("lstm", budget, () -> count(decoded, lstm), ENGINE); // lstm is now the most recent
    ExecutorModelCache.get("rnn", budget, () -> count(decoded, rnn), ENGINE);
    assertEquals(List.of("lstm", "rnn"), ExecutorModelCache.keys(), "gru, the least recently used, is dropped");
    assertEquals(3, decoded.get());
    ExecutorModelCache.get("big", 0, () -> count(decoded, lstm), ENGINE);
    assertEquals(List.of("big"), ExecutorModelCache.keys(), "a model over budget is kept, alone");
  }

  private static LoadedModel count(AtomicInteger n, LoadedModel model) {
    n.incrementAndGet();
    return model;
  }
}
