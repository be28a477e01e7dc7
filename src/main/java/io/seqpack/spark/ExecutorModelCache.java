package io.seqpack.spark;

import io.seqpack.ModelFormatException;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.Tensor;
import io.seqpack.nn.SequenceModel;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * Decodes a broadcast model once per executor JVM and shares it across tasks (the model is immutable and
 * thread-safe). Keyed by the content hash computed on the driver and the engine options, so a second job with the
 * same model in the same JVM reuses it too.
 *
 * <p>Bounded: least-recently-used models are dropped once the decoded weights of all cached models exceed the
 * budget ({@value #BUDGET_KEY}, default {@value #DEFAULT_BUDGET_BYTES} bytes: two large models), so a long-lived
 * shared cluster that rotates models nightly does not keep every version. The model just decoded is always kept,
 * even alone over budget; a dropped model still scoring in a running task stays alive until that task ends.
 */
final class ExecutorModelCache {
  /** Spark conf key of the budget in bytes of decoded weights per executor JVM. */
  static final String BUDGET_KEY = "spark.seqpack.modelCacheBytes";

  /** 1 GiB: room for two large models of 512 MiB of float32 weights each (e.g. a 500k × 256 embedding). */
  static final long DEFAULT_BUDGET_BYTES = 1L << 30;

  private record Entry(SequenceModel model, long bytes) {}

  /** In access order: the first entry is the least recently used. Guarded by itself. */
  private static final LinkedHashMap<String, Entry> MODELS = new LinkedHashMap<>(16, 0.75f, true);

  /** One lock per key being decoded, so concurrent tasks decode a model once and other models meanwhile. */
  private static final ConcurrentMap<String, Object> DECODING = new ConcurrentHashMap<>();

  private static long totalBytes;

  private ExecutorModelCache() {}

  static SequenceModel get(Broadcast<ShippedModel> model, ScoreSettings settings) {
    String hash = settings.modelHash();
    return get(key(hash, settings.engine()), settings.modelCacheBytes(),
        () -> load(model.value(), settings.allowNonFiniteWeights(), ExecutorModelCache::executorHadoopConf),
        settings.engine());
  }

  /**
   * Models the driver of this JVM loaded and is scoring with, by content hash (weakly held: the driver's scorer
   * keeps them alive). In local mode the executor is the driver's JVM: it takes the driver's tensors instead of
   * decoding a second copy of the weights.
   */
  private static final Map<String, WeakReference<LoadedModel>> DRIVER_MODELS = new ConcurrentHashMap<>();

  /** Lets executors in this JVM (local mode) use {@code model}, loaded and validated by the driver. */
  static void shareDriverModel(LoadedModel model) {
    DRIVER_MODELS.values().removeIf(ref -> ref.get() == null);
    DRIVER_MODELS.put(model.contentHash(), new WeakReference<>(model));
  }

  /**
   * The model a broadcast describes: the driver's own when this JVM is the driver's (local mode), else decoded
   * from the broadcast bytes, or streamed from the model directory (checked to still have the driver's content
   * hash).
   */
  static LoadedModel load(ShippedModel shipped, boolean allowNonFinite, Supplier<Configuration> hadoop) {
    WeakReference<LoadedModel> ref = DRIVER_MODELS.get(shipped.contentHash());
    LoadedModel driver = ref == null ? null : ref.get();
    if (driver != null) {
      return driver;
    }
    if (shipped.bytes() != null) {
      return ModelLoader.load(shipped.bytes(), "broadcast model " + shipped.contentHash(), allowNonFinite);
    }
    LoadedModel read;
    try {
      read = SequenceScorer.loadModel(shipped.directory(), hadoop.get(), allowNonFinite);
    } catch (ModelFormatException e) {
      throw new ModelFormatException(e.getMessage() + " (on an executor: a model.safetensors over "
          + SequenceScorer.BROADCAST_MAX_KEY + " bytes is read by each executor from the model directory, which must "
          + "be on a file system they can read; or raise " + SequenceScorer.BROADCAST_MAX_KEY + " to broadcast it)",
          e);
    }
    if (!read.contentHash().equals(shipped.contentHash())) {
      throw new ModelFormatException("Cannot load model " + shipped.directory() + " on an executor: its content "
          + "hash is " + read.contentHash() + ", expected " + shipped.contentHash() + " (the one the driver read; "
          + "the files changed after the job started)");
    }
    return read;
  }

  /** The Hadoop configuration of an executor: defaults plus the job's {@code spark.hadoop.*} settings. */
  private static Configuration executorHadoopConf() {
    Configuration conf = new Configuration();
    SparkEnv env = SparkEnv.get();
    if (env != null) {
      for (Tuple2<String, String> kv : env.conf().getAllWithPrefix("spark.hadoop.")) {
        conf.set(kv._1(), kv._2());
      }
    }
    return conf;
  }

  static String key(String modelHash, SequenceModel.Options engine) {
    return modelHash + "/vocabTableMaxFloats=" + engine.vocabTableMaxFloats();
  }

  /** The cached engine for {@code key}, decoding it with {@code load} if it is not cached. */
  static SequenceModel get(String key, long budgetBytes, Supplier<LoadedModel> load, SequenceModel.Options engine) {
    SequenceModel cached = lookup(key);
    if (cached != null) {
      return cached;
    }
    Object lock = DECODING.computeIfAbsent(key, k -> new Object());
    synchronized (lock) {
      try {
        cached = lookup(key);
        if (cached != null) {
          return cached;
        }
        LoadedModel loaded = load.get();
        SequenceModel decoded = new SequenceModel(loaded, engine);
        put(key, new Entry(decoded, weightBytes(loaded)), budgetBytes);
        return decoded;
      } finally {
        DECODING.remove(key, lock);
      }
    }
  }

  private static SequenceModel lookup(String key) {
    synchronized (MODELS) {
      Entry e = MODELS.get(key);
      return e == null ? null : e.model();
    }
  }

  private static void put(String key, Entry entry, long budgetBytes) {
    synchronized (MODELS) {
      Entry old = MODELS.put(key, entry);
      totalBytes += entry.bytes() - (old == null ? 0 : old.bytes());
      Iterator<Map.Entry<String, Entry>> eldest = MODELS.entrySet().iterator();
      while (totalBytes > budgetBytes && eldest.hasNext()) {
        Map.Entry<String, Entry> e = eldest.next();
        if (!e.getKey().equals(key)) {
          totalBytes -= e.getValue().bytes();
          eldest.remove();
        }
      }
    }
  }

  /** The float32 weights a model holds in memory (vocabulary tables come on top, bounded by their option). */
  static long weightBytes(LoadedModel model) {
    long floats = 0;
    for (Tensor t : model.tensors().values()) {
      floats += t.data().length;
    }
    return 4 * floats;
  }

  /** Number of distinct models decoded and still cached in this JVM (for tests). */
  static int size() {
    synchronized (MODELS) {
      return MODELS.size();
    }
  }

  /** The cached keys, least recently used first (for tests). */
  static List<String> keys() {
    synchronized (MODELS) {
      return new ArrayList<>(MODELS.keySet());
    }
  }

  /** Empties the cache (for tests). */
  static void clear() {
    synchronized (MODELS) {
      MODELS.clear();
      totalBytes = 0;
    }
    DRIVER_MODELS.clear();
  }
}
