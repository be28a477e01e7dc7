package io.seqpack.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The peer libraries of {@code scripts/bench}: DJL on libtorch and ONNX Runtime scoring the bench's models, exported
 * by {@code scripts/bench_peers.py export} from the same safetensors the engine reads, on the same sequences.
 *
 * <pre>
 * PeerBench run --lib djl|ort --models DIR --data DIR --peers DIR [--names rnn_tanh,lstm,gru]
 *     [--dists uniform,lognormal] [--runs 3] [--warmup-seconds 2] [--max-pass-seconds 1e9] [--batch 256] [--json OUT]
 * </pre>
 *
 * <p>Per model and distribution: rows sorted by length (descending, stable, like the PyTorch side), cut into batches
 * of up to 256, each batch padded to its longest row ({@code tokens [B, T]} and {@code lengths [B]}, int64) and
 * scored; the batches are visited in a seeded random order so that a time-boxed pass scores a fair sample, and the
 * time is scaled up to the whole dataset (tokens per thread-CPU second, as for the engine and PyTorch; the process
 * CPU time is recorded too, to show no work ran on other threads). The data is in memory; padding each batch is part
 * of the timed loop, as {@code pad_sequence} is on the PyTorch side.
 *
 * <p>Before any timing, the peer scores PEERS/NAME/check_DIST.f32's rows (PyTorch's scores of the first rows of
 * the data, batched the same way) and the run fails if any score differs by more than {@value #TOLERANCE}.
 *
 * <p>DJL: {@code PEERS/NAME/model.pt} (TorchScript) on libtorch, one intra-op and one inter-op thread (set by
 * {@code scripts/bench}: {@code -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1}, {@code
 * OMP_NUM_THREADS=1}), offline. ORT: {@code PEERS/NAME/model.onnx} on the CPU execution provider, intra- and
 * inter-op threads 1, sequential execution, all graph optimisations.
 */
public final class PeerBench {
  private PeerBench() {}

  /** Largest accepted |peer − PyTorch| score difference on the check rows. */
  static final double TOLERANCE = 1e-4;

  /** One library scoring padded batches. */
  interface Peer extends AutoCloseable {
    /**
     * The model's outputs, in its output order, for {@code rows} rows padded to {@code steps}: {@code tokens[r *
     * steps + t]}, {@code lengths[r]}; each a {@code float[]} or (int64 outputs, e.g. top-k ids) a {@code long[]}.
     */
    List<Object> outputs(long[] tokens, long[] lengths, int rows, int steps) throws Exception;

    /** The scores: the model's only (or first) output. */
    default float[] score(long[] tokens, long[] lengths, int rows, int steps) throws Exception {
      return (float[]) outputs(tokens, lengths, rows, steps).get(0);
    }

    @Override
    void close() throws Exception;
  }

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0 || !argv[0].equals("run")) {
      System.err.println("usage: PeerBench run --lib djl|ort [--option value ...] (see the class javadoc)");
      System.exit(2);
    }
    Map<String, String> opts = EngineBench.options(Arrays.copyOfRange(argv, 1, argv.length));
    String lib = EngineBench.need(opts, "lib");
    if (!lib.equals("djl") && !lib.equals("ort")) {
      throw new IllegalArgumentException("--lib must be djl or ort, not " + lib);
    }
    run(lib, opts);
  }

  // ------------------------------------------------------------------------------------------------ the peers

  /** DJL's PyTorch engine: libtorch runs the TorchScript module in the calling thread. */
  static final class Djl implements Peer {
    private final NDManager manager;
    private final Model model;
    private final Block block;
    private final ParameterStore parameters;

    Djl(Path dir) throws Exception {
      manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
      model = Model.newInstance(dir.getFileName().toString(), Device.cpu(), "PyTorch");
      model.load(dir, "model"); // dir/model.pt
      block = model.getBlock();
      parameters = new ParameterStore(manager, false);
    }

    /** Engine, version and what libtorch reports about its build (torch::show_config's feature names). */
    static String describe() {
      Engine engine = Engine.getEngine("PyTorch");
      return "DJL " + Engine.getDjlVersion() + " + libtorch " + engine.getVersion() + " (features: "
          + String.join(" ", new TreeSet<>(JniUtils.getFeatures())) + "; intra-op threads " + JniUtils.getNumThreads()
          + ", inter-op threads " + JniUtils.getNumInteropThreads() + ", grad mode " + JniUtils.isGradMode() + ")";
    }

    @Override
    public List<Object> outputs(long[] tokens, long[] lengths, int rows, int steps) {
      try (NDManager batch = manager.newSubManager()) {
        NDArray t = batch.create(tokens, new Shape(rows, steps));
        NDArray l = batch.create(lengths, new Shape(rows));
        NDList out = block.forward(parameters, new NDList(t, l), false);
        List<Object> values = new ArrayList<>(out.size());
        for (NDArray a : out) {
          values.add(a.getDataType() == DataType.INT64 ? a.toLongArray() : a.toFloatArray());
        }
        out.close();
        return values;
      }
    }

    @Override
    public void close() {
      model.close();
      manager.close();
    }
  }

  /** ONNX Runtime's CPU execution provider, one thread. */
  static final class Ort implements Peer {
    private final OrtEnvironment env;
    private final OrtSession session;

    Ort(Path file) throws OrtException {
      env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "seqpack-bench");
      OrtSession.SessionOptions options = new OrtSession.SessionOptions();
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      session = env.createSession(file.toString(), options);
    }

    static String describe() {
      return "ONNX Runtime " + OrtEnvironment.getEnvironment().getVersion() + " (execution provider CPU, the "
          + "session's only one; available: " + OrtEnvironment.getAvailableProviders() + "; intra-op threads 1, "
          + "inter-op threads 1, sequential)";
    }

    @Override
    public List<Object> outputs(long[] tokens, long[] lengths, int rows, int steps) throws OrtException {
      try (OnnxTensor t = OnnxTensor.createTensor(env, LongBuffer.wrap(tokens), new long[] {rows, steps});
          OnnxTensor l = OnnxTensor.createTensor(env, LongBuffer.wrap(lengths), new long[] {rows});
          OrtSession.Result result = session.run(Map.of("tokens", t, "lengths", l))) {
        List<Object> values = new ArrayList<>(result.size());
        for (Map.Entry<String, OnnxValue> e : result) {
          OnnxTensor out = (OnnxTensor) e.getValue();
          if (out.getInfo().type == OnnxJavaType.INT64) {
            LongBuffer b = out.getLongBuffer();
            long[] v = new long[b.remaining()];
            b.get(v);
            values.add(v);
          } else {
            FloatBuffer b = out.getFloatBuffer();
            float[] v = new float[b.remaining()];
            b.get(v);
            values.add(v);
          }
        }
        return values;
      }
    }

    @Override
    public void close() throws OrtException {
      session.close();
    }
  }

  // ------------------------------------------------------------------------------------------------ run

  private static void run(String lib, Map<String, String> opts) throws Exception {
    Path models = Path.of(EngineBench.need(opts, "models"));
    Path data = Path.of(EngineBench.need(opts, "data"));
    Path peers = Path.of(EngineBench.need(opts, "peers"));
    String[] names = opts.getOrDefault("names", "rnn_tanh,lstm,gru").split(",");
    String[] dists = opts.getOrDefault("dists", String.join(",", EngineBench.PEER_DISTRIBUTIONS)).split(",");
    int runs = Math.max(1, EngineBench.intOpt(opts, "runs", 3));
    int batchSize = EngineBench.intOpt(opts, "batch", 256);
    double warmupSeconds = Double.parseDouble(opts.getOrDefault("warmup-seconds", "2"));
    double maxPassSeconds = Double.parseDouble(opts.getOrDefault("max-pass-seconds", "1e9"));

    String description = null;
    StringBuilder rowsJson = new StringBuilder();
    for (String name : names) {
      if (!Files.exists(models.resolve(name).resolve("model.safetensors"))) {
        throw new IOException("no model " + models.resolve(name));
      }
      Path dir = peers.resolve(name);
      try (Peer peer = lib.equals("djl") ? new Djl(dir) : new Ort(dir.resolve("model.onnx"))) {
        if (description == null) {
          description = lib.equals("djl") ? Djl.describe() : Ort.describe();
          System.err.println("peer " + lib + ": " + description);
        }
        for (String dist : dists) {
          EngineBench.Dataset ds = EngineBench.readData(data.resolve(dist));
          // the check: PyTorch's scores of the first rows, batched as PyTorch batched them
          float[] expected = readFloats(dir.resolve("check_" + dist + ".f32"));
          float[] checkScores = new float[expected.length];
          for (int[] ids : batches(ds, expected.length, batchSize)) {
            scoreBatch(peer, ds, ids, checkScores);
          }
          double checkDiff = 0;
          for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(checkScores[i] - expected[i]);
            if (!(d <= TOLERANCE)) { // NaN fails too
              throw new IllegalStateException(String.format(Locale.ROOT,
                  "%s %s %s: row %d scores %.8g, PyTorch %.8g (|diff| %.3g > %.0e): the peer does not compute the "
                      + "same model; not timing it", lib, name, dist, i, checkScores[i], expected[i], d, TOLERANCE));
            }
            checkDiff = Math.max(checkDiff, d);
          }
          // timing: every row, sorted batches in a seeded random order (a time-boxed prefix is a fair sample)
          List<int[]> batches = batches(ds, ds.size(), batchSize);
          long padded = 0; // rows x longest row, summed over the batches: what a padded batch costs in steps
          for (int[] ids : batches) {
            padded += (long) ids.length * ds.lengths()[ids[0]];
          }
          shuffle(batches, new SplittableRandom(7));
          float[] scores = new float[ds.size()];
          Arrays.fill(scores, Float.NaN);
          pass(peer, ds, batches, scores, warmupSeconds);
          double[] cpu = new double[runs];
          double[] wall = new double[runs];
          double[] process = new double[runs];
          for (int r = 0; r < runs; r++) {
            double[] t = pass(peer, ds, batches, scores, maxPassSeconds);
            cpu[r] = t[0];
            wall[r] = t[1];
            process[r] = t[2];
          }
          double engineDiff = maxDiff(scores, data.resolve(dist).resolve("scores_" + name + ".f32"));
          double[] sorted = cpu.clone();
          Arrays.sort(sorted);
          long tokens = ds.totalTokens();
          System.err.printf(Locale.ROOT,
              "peer %-3s %-9s %-9s %9.0f tok/s (best; median %9.0f)  check vs torch (%d rows) %.1e  vs engine %.1e"
                  + "  process/thread CPU %.2f  padded/valid steps %.2f%n",
              lib, name, dist, tokens / sorted[0], tokens / sorted[runs / 2], expected.length, checkDiff, engineDiff,
              process[0] / cpu[0], padded / (double) tokens);
          rowsJson.append(rowsJson.length() == 0 ? "" : ",\n").append(String.format(Locale.ROOT,
              "    {\"model\": \"%s\", \"dist\": \"%s\", \"sequences\": %d, \"tokens\": %d, \"runs\": %d, "
                  + "\"cpu_seconds\": %s, \"wall_seconds\": %s, \"process_cpu_seconds\": %s, "
                  + "\"tok_per_s_best\": %.1f, \"tok_per_s_median\": %.1f, \"wall_tok_per_s_best\": %.1f, "
                  + "\"padded_steps\": %d, \"check_rows\": %d, \"max_abs_diff_vs_torch\": %.3e, "
                  + "\"max_abs_diff_vs_engine\": %.3e}",
              name, dist, ds.size(), tokens, runs, Arrays.toString(cpu), Arrays.toString(wall),
              Arrays.toString(process), tokens / sorted[0], tokens / sorted[runs / 2],
              tokens / Arrays.stream(wall).min().getAsDouble(), padded, expected.length, checkDiff, engineDiff));
        }
      }
    }
    String json = "{\n  \"lib\": \"" + lib + "\", \"library\": \"" + description.replace("\"", "'")
        + "\", \"batch\": " + batchSize + ", \"timing\": \"thread CPU time\",\n  \"results\": [\n" + rowsJson
        + "\n  ]\n}\n";
    if (opts.containsKey("json")) {
      Files.writeString(Path.of(opts.get("json")), json);
    } else {
      System.out.print(json);
    }
  }

  /** The first {@code n} rows sorted by length, longest first (stable), in batches of up to {@code size}. */
  static List<int[]> batches(EngineBench.Dataset ds, int n, int size) {
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Integer.compare(ds.lengths()[b], ds.lengths()[a]));
    List<int[]> batches = new ArrayList<>();
    for (int i = 0; i < n; i += size) {
      batches.add(Arrays.stream(order, i, Math.min(n, i + size)).mapToInt(Integer::intValue).toArray());
    }
    return batches;
  }

  static void shuffle(List<int[]> list, SplittableRandom random) {
    for (int i = list.size() - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int[] t = list.get(i);
      list.set(i, list.get(j));
      list.set(j, t);
    }
  }

  /** Rows padded to the longest of them, as the peers take them: {@code tokens[r * steps + t]}, int64. */
  record Padded(long[] tokens, long[] lengths, int rows, int steps, long validSteps) {
    static Padded of(EngineBench.Dataset ds, int[] ids) {
      int steps = 0;
      for (int id : ids) {
        steps = Math.max(steps, ds.lengths()[id]);
      }
      long[] tokens = new long[ids.length * steps];
      long[] lengths = new long[ids.length];
      long count = 0;
      for (int r = 0; r < ids.length; r++) {
        int id = ids[r];
        int len = ds.lengths()[id];
        int from = ds.offsets()[id];
        for (int t = 0; t < len; t++) {
          tokens[r * steps + t] = ds.tokens()[from + t];
        }
        lengths[r] = len;
        count += len;
      }
      return new Padded(tokens, lengths, ids.length, steps, count);
    }

    List<Object> outputsOf(Peer peer) throws Exception {
      return peer.outputs(tokens, lengths, rows, steps);
    }
  }

  /** Pads the rows {@code ids} to the longest, scores them and stores the scores at their row numbers. */
  private static long scoreBatch(Peer peer, EngineBench.Dataset ds, int[] ids, float[] scores) throws Exception {
    Padded batch = Padded.of(ds, ids);
    float[] s = peer.score(batch.tokens(), batch.lengths(), batch.rows(), batch.steps());
    if (s.length != ids.length) {
      throw new IllegalStateException("the peer returned " + s.length + " scores for " + ids.length + " rows");
    }
    for (int r = 0; r < ids.length; r++) {
      scores[ids[r]] = s[r];
    }
    return batch.validSteps();
  }

  /** {@code {thread CPU s, wall s, process CPU s}}, scaled from the tokens scored to the whole dataset. */
  private static double[] pass(Peer peer, EngineBench.Dataset ds, List<int[]> batches, float[] scores,
      double maxSeconds) throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = mx.getCurrentThreadCpuTime();
    long proc0 = os.getProcessCpuTime();
    long wall0 = System.nanoTime();
    long limit = (long) Math.min(Long.MAX_VALUE / 2, maxSeconds * 1e9);
    long done = 0;
    for (int[] ids : batches) {
      done += scoreBatch(peer, ds, ids, scores);
      if (mx.getCurrentThreadCpuTime() - cpu0 > limit) {
        break;
      }
    }
    double scale = ds.totalTokens() / (double) done;
    return new double[] {(mx.getCurrentThreadCpuTime() - cpu0) / 1e9 * scale, (System.nanoTime() - wall0) / 1e9 * scale,
        (os.getProcessCpuTime() - proc0) / 1e9 * scale};
  }

  static float[] readFloats(Path path) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[b.remaining() / 4];
    b.asFloatBuffer().get(v);
    return v;
  }

  /** Largest |a − b| over rows where both are numbers (NaN when the file is missing or nothing overlaps). */
  static double maxDiff(float[] scores, Path other) throws IOException {
    if (!Files.exists(other)) {
      return Double.NaN;
    }
    float[] o = readFloats(other);
    double worst = Double.NaN;
    for (int i = 0; i < Math.min(o.length, scores.length); i++) {
      if (!Float.isNaN(o[i]) && !Float.isNaN(scores[i])) {
        double d = Math.abs(o[i] - scores[i]);
        worst = Double.isNaN(worst) ? d : Math.max(worst, d);
      }
    }
    return worst;
  }
}
