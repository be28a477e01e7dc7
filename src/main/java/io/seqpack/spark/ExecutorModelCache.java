package io.seqpack.spark;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelBytes;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.spark.broadcast.Broadcast;

/**
 * Decodes a broadcast model once per executor JVM and shares it across tasks (the model is immutable and
 * thread-safe). Keyed by the content hash computed on the driver, so a second job with the same model in the
 * same JVM reuses it too.
 */
final class ExecutorModelCache {
  private static final ConcurrentMap<String, SequenceModel> MODELS = new ConcurrentHashMap<>();

  private ExecutorModelCache() {}

  static SequenceModel get(Broadcast<ModelBytes> model, ScoreSettings settings) {
    return MODELS.computeIfAbsent(
        settings.modelHash(),
        hash -> {
          LoadedModel loaded =
              ModelLoader.load(model.value(), "broadcast model " + hash, settings.allowNonFiniteWeights());
          return new SequenceModel(loaded);
        });
  }

  /** Number of distinct models decoded in this JVM (for tests). */
  static int size() {
    return MODELS.size();
  }
}
