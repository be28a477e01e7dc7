package io.seqpack.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.seqpack.ModelFormatException;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import io.seqpack.testing.Golden;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
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

  @Test
  void anExecutorInTheDriversJvmTakesTheDriversTensors() {
    Path dir = Golden.root().resolve("graph/m_gru4rec_tied");
    ModelBytes bytes = ModelLoader.readDirectory(dir);
    LoadedModel driver = ModelLoader.load(bytes, dir.toString());
    ShippedModel shipped = ShippedModel.inline(bytes, driver.contentHash());
    assertNotSame(driver, ExecutorModelCache.load(shipped, false, Configuration::new), "not shared: decoded");
    ExecutorModelCache.shareDriverModel(driver);
    assertSame(driver, ExecutorModelCache.load(shipped, false, Configuration::new));
    assertSame(driver, ExecutorModelCache.load(ShippedModel.atDirectory("file:/nowhere", driver.contentHash()),
        false, Configuration::new), "a model shipped by directory is not read again either");
  }

  @Test
  void aModelShippedByDirectoryIsStreamedFromItAndMustKeepItsHash() {
    Path dir = Golden.root().resolve("graph/m_gru4rec_tied");
    LoadedModel driver = ModelLoader.load(dir);
    String uri = dir.toAbsolutePath().toUri().toString();
    LoadedModel read = ExecutorModelCache.load(ShippedModel.atDirectory(uri, driver.contentHash()), false,
        Configuration::new);
    assertNotSame(driver, read);
    assertEquals(driver.contentHash(), read.contentHash());
    assertArrayEquals(driver.tensor("item_emb.weight").data(), read.tensor("item_emb.weight").data());
    ModelFormatException e = assertThrows(ModelFormatException.class, () -> ExecutorModelCache.load(
        ShippedModel.atDirectory(uri, "0".repeat(64)), false, Configuration::new));
    assertEquals("Cannot load model " + uri + " on an executor: its content hash is " + driver.contentHash()
        + ", expected " + "0".repeat(64) + " (the one the driver read; the files changed after the job started)",
        e.getMessage());
    Path missing = dir.resolveSibling("no_such_model");
    ModelFormatException unreadable = assertThrows(ModelFormatException.class, () -> ExecutorModelCache.load(
        ShippedModel.atDirectory(missing.toUri().toString(), driver.contentHash()), false, Configuration::new));
    assertEquals("Cannot read model directory " + missing.toUri() + ": it does not exist (on an executor: a "
        + "model.safetensors over spark.seqpack.modelBroadcastMaxBytes bytes is read by each executor from the model "
        + "directory, which must be on a file system they can read; or raise spark.seqpack.modelBroadcastMaxBytes "
        + "to broadcast it)", unreadable.getMessage());
  }

  private static LoadedModel count(AtomicInteger n, LoadedModel model) {
    n.incrementAndGet();
    return model;
  }
}
