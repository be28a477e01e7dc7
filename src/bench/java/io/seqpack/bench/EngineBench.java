package io.seqpack.bench;

import io.seqpack.batching.BatchPlan;
import io.seqpack.batching.LengthBucketer;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.SafeTensors;
import io.seqpack.model.Tensor;
import io.seqpack.model.parts.StepInput;
import io.seqpack.model.parts.TokenInput;
import io.seqpack.nn.Gemm;
import io.seqpack.nn.Scores;
import io.seqpack.nn.SequenceModel;
import io.seqpack.pack.PackedLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Single-thread benchmark of the core engine ({@code io.seqpack.nn}), the counterpart of {@code
 * scripts/bench_torch.py}; {@code scripts/bench} runs both and prints one table.
 *
 * <pre>
 * EngineBench data  --out DIR [--sequences N] [--vocab V] [--seed S]
 *     DIR/{uniform,lognormal,heavy}/{lengths.i32,tokens.i32}: little-endian int32, lengths uniform in 1..64,
 *     min(512, 1 + floor(lognormal(3, 1))), and heavy: 80% uniform in 1..16, 19% log-uniform in 17..999, 1% uniform
 *     in 1000..4000 (the tail: a few rows multiplied alone for thousands of steps); tokens uniform in [0, V)
 * EngineBench model --out DIR --mode RNN_TANH|LSTM|GRU [--hidden 256] [--vocab 10000] [--embedding 100] [--seed S]
 *     a model directory with PyTorch-like init (scripts/bench prefers scripts/bench_torch.py --make-models, which
 *     writes the same layout from torch so both sides share byte-identical weights)
 * EngineBench run   --models DIR --data DIR [--names rnn_tanh,lstm,gru] [--dists uniform,lognormal,heavy] [--runs 3]
 *     [--warmup-seconds 3] [--json OUT]
 *     GFLOP/s of the time loop's product on the engine's kernel (GemmProbe; best of a probe before the models and one after each model ×
 *     distribution), then per model × distribution: tokens/s and sequences/s of
 *     LengthBucketer(BatchPlan.defaults()) batches scored by SequenceModel.score, one thread; writes
 *     DATA/DIST/scores_NAME.f32 (scores in input order) for the PyTorch side to compare.
 * EngineBench multi-data --model DIR --data DIR --out DIR [--seed S]
 *     inputs for a several-input model (format 2) on the sequences (lengths) of DATA: per step input NAME of the
 *     model, OUT/NAME.i32 (token ids: DATA's tokens modulo the vocabulary for the first token input, uniform for
 *     the others) or OUT/NAME.f32 (SIZE gaussian floats per step); per static input OUT/NAME.f32 (SIZE per row);
 *     OUT/lengths.i32
 * EngineBench multi --model DIR --data DIR [--runs 3] [--warmup-seconds 3] [--max-pass-seconds S] [--json OUT]
 *     tokens (= steps) per second of the model on multi-data's inputs: LengthBucketer batches, one RaggedBatch
 *     column per model input in the model's order plus the static features, SequenceModel.score, one thread;
 *     writes DATA/scores_multi.f32
 * </pre>
 */
public final class EngineBench {
  private EngineBench() {}

  /** The length distributions of the engine's data and runs. */
  public static final String[] DISTRIBUTIONS = {"uniform", "lognormal", "heavy"};

  /**
   * The ones the peers and the Spark job run on by default: padded batches of {@code heavy}'s 4,000-step rows would
   * time the padding more than the peers ({@code scripts/bench --peer-dists uniform,lognormal,heavy} runs them on
   * it too, and prints their padded / valid steps).
   */
  public static final String[] PEER_DISTRIBUTIONS = {"uniform", "lognormal"};

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0) {
      usage();
    }
    Map<String, String> opts = options(Arrays.copyOfRange(argv, 1, argv.length));
    switch (argv[0]) {
      case "data" -> writeData(Path.of(need(opts, "out")), intOpt(opts, "sequences", 20_000),
          intOpt(opts, "vocab", 10_000), Long.parseLong(opts.getOrDefault("seed", "42")));
      case "model" -> writeModel(Path.of(need(opts, "out")), need(opts, "mode"), intOpt(opts, "hidden", 256),
          intOpt(opts, "vocab", 10_000), intOpt(opts, "embedding", 100),
          Long.parseLong(opts.getOrDefault("seed", "0")));
      case "run" -> run(opts);
      case "multi-data" -> writeMultiData(Path.of(need(opts, "model")), Path.of(need(opts, "data")),
          Path.of(need(opts, "out")), Long.parseLong(opts.getOrDefault("seed", "5")));
      case "multi" -> runMulti(opts);
      default -> usage();
    }
  }

  private static void usage() {
    System.err.println("usage: EngineBench data|model|run [--option value ...] (see the class javadoc)");
    System.exit(2);
  }

  static Map<String, String> options(String[] args) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value, got " + args[i]);
      }
      m.put(args[i].substring(2), args[++i]);
    }
    return m;
  }

  static String need(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null) {
      throw new IllegalArgumentException("missing --" + name);
    }
    return v;
  }

  static int intOpt(Map<String, String> opts, String name, int def) {
    return opts.containsKey(name) ? Integer.parseInt(opts.get(name)) : def;
  }

  // ------------------------------------------------------------------------------------------------ data

  /** A dataset: sequence i is {@code tokens[offsets[i] .. offsets[i+1])}. */
  record Dataset(int[] lengths, int[] offsets, int[] tokens) {
    int size() {
      return lengths.length;
    }

    long totalTokens() {
      return offsets[lengths.length];
    }
  }

  static int[] lengths(String distribution, int n, SplittableRandom random) {
    int[] lengths = new int[n];
    for (int i = 0; i < n; i++) {
      lengths[i] = switch (distribution) {
        case "uniform" -> 1 + random.nextInt(64);
        case "lognormal" -> (int) Math.min(512, 1 + Math.floor(Math.exp(3 + gaussian(random))));
        case "heavy" -> heavyTailLength(random);
        default -> throw new IllegalArgumentException("unknown distribution " + distribution);
      };
    }
    return lengths;
  }

  /** 80% of rows 1..16 steps, 19% log-uniform in 17..999, 1% 1,000..4,000. */
  private static int heavyTailLength(SplittableRandom random) {
    double u = random.nextDouble();
    if (u < 0.80) {
      return 1 + random.nextInt(16);
    }
    if (u < 0.99) {
      return (int) Math.floor(17 * Math.pow(1000 / 17.0, random.nextDouble()));
    }
    return 1000 + random.nextInt(3001);
  }

  private static double gaussian(SplittableRandom random) { // Box-Muller, deterministic across JVMs
    double u1 = 1.0 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  static void writeData(Path out, int sequences, int vocab, long seed) throws IOException {
    for (int d = 0; d < DISTRIBUTIONS.length; d++) {
      SplittableRandom random = new SplittableRandom(seed + 1000L * d);
      int[] lengths = lengths(DISTRIBUTIONS[d], sequences, random);
      long total = Arrays.stream(lengths).asLongStream().sum();
      int[] tokens = new int[Math.toIntExact(total)];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = random.nextInt(vocab);
      }
      Path dir = out.resolve(DISTRIBUTIONS[d]);
      Files.createDirectories(dir);
      writeInts(dir.resolve("lengths.i32"), lengths);
      writeInts(dir.resolve("tokens.i32"), tokens);
      System.err.printf(Locale.ROOT, "bench data: %s: %d sequences, %d tokens, mean length %.1f -> %s%n",
          DISTRIBUTIONS[d], sequences, total, total / (double) sequences, dir);
    }
  }

  static Dataset readData(Path dir) throws IOException {
    int[] lengths = readInts(dir.resolve("lengths.i32"));
    int[] tokens = readInts(dir.resolve("tokens.i32"));
    int[] offsets = new int[lengths.length + 1];
    for (int i = 0; i < lengths.length; i++) {
      offsets[i + 1] = offsets[i] + lengths[i];
    }
    if (offsets[lengths.length] != tokens.length) {
      throw new IOException(dir + ": lengths sum to " + offsets[lengths.length] + " but there are " + tokens.length
          + " tokens");
    }
    return new Dataset(lengths, offsets, tokens);
  }

  private static void writeInts(Path path, int[] values) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    Files.write(path, b.array());
  }

  static int[] readInts(Path path) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
    int[] v = new int[b.remaining() / 4];
    b.asIntBuffer().get(v);
    return v;
  }

  private static void writeFloats(Path path, float[] values) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    Files.write(path, b.array());
  }

  // ------------------------------------------------------------------------------------------------ model

  /** A tokens → mode(hidden) → fc(hidden → 1), pooling last model with PyTorch's default init distributions. */
  static void writeModel(Path out, String mode, int hidden, int vocab, int embedding, long seed) throws IOException {
    int gates = switch (mode) {
      case "RNN_TANH", "RNN_RELU" -> 1;
      case "LSTM" -> 4;
      case "GRU" -> 3;
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    };
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Tensor> t = new LinkedHashMap<>();
    float[] emb = new float[vocab * embedding];
    for (int i = 0; i < emb.length; i++) {
      emb[i] = (float) gaussian(random);
    }
    t.put("embedding.weight", new Tensor("embedding.weight", new int[] {vocab, embedding}, emb));
    double bound = 1 / Math.sqrt(hidden);
    t.put("rnn.weight_ih_l0", uniform("rnn.weight_ih_l0", random, bound, gates * hidden, embedding));
    t.put("rnn.weight_hh_l0", uniform("rnn.weight_hh_l0", random, bound, gates * hidden, hidden));
    t.put("rnn.bias_ih_l0", uniform("rnn.bias_ih_l0", random, bound, gates * hidden));
    t.put("rnn.bias_hh_l0", uniform("rnn.bias_hh_l0", random, bound, gates * hidden));
    t.put("fc.weight", uniform("fc.weight", random, bound, 1, hidden));
    t.put("fc.bias", uniform("fc.bias", random, bound, 1));
    Files.createDirectories(out);
    Files.write(out.resolve(ModelLoader.MODEL_SAFETENSORS), SafeTensors.write(t, Map.of("format", "pt")));
    String json = "{\n  \"format\": \"seqpack-model/1\",\n"
        + "  \"input\": {\"kind\": \"tokens\", \"vocab_size\": " + vocab + ", \"embedding_dim\": " + embedding
        + ", \"padding_idx\": null},\n"
        + "  \"rnn\": {\"mode\": \"" + mode + "\", \"hidden_size\": " + hidden
        + ", \"num_layers\": 1, \"bidirectional\": false, \"bias\": true, \"proj_size\": 0},\n"
        + "  \"head\": {\"pooling\": \"last\", \"out_features\": 1, \"activation\": \"none\"}\n}\n";
    Files.writeString(out.resolve(ModelLoader.MODEL_JSON), json);
    System.err.println("bench model: " + mode + " " + hidden + " -> " + out);
  }

  private static Tensor uniform(String name, SplittableRandom random, double bound, int... shape) {
    float[] v = new float[Arrays.stream(shape).reduce(1, Math::multiplyExact)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
    }
    return new Tensor(name, shape, v);
  }

  // ------------------------------------------------------------------------------------------------ run

  private static void run(Map<String, String> opts) throws IOException {
    Path models = Path.of(need(opts, "models"));
    Path data = Path.of(need(opts, "data"));
    String[] names = opts.getOrDefault("names", "rnn_tanh,lstm,gru").split(",");
    String[] dists = opts.getOrDefault("dists", String.join(",", DISTRIBUTIONS)).split(",");
    int runs = Math.max(1, intOpt(opts, "runs", 3));
    double warmupSeconds = Double.parseDouble(opts.getOrDefault("warmup-seconds", "3"));
    double maxPassSeconds = Double.parseDouble(opts.getOrDefault("max-pass-seconds", "1e9"));

    StringBuilder json = new StringBuilder();
    json.append("{\n  \"engine\": {\"gemm\": \"").append(Gemm.backend()).append("\", \"kernels\": \"")
        .append(SequenceModel.kernelsOnThisCpu()).append("\", \"openblas_core\": \"").append(Gemm.blasCore())
        .append("\", \"cpu\": \"").append(io.seqpack.nn.OpenBlasCore.CpuInfo.current().describe())
        .append("\", \"java\": \"")
        .append(System.getProperty("java.version")).append("\", \"threads\": 1},\n");

    // roofline: [m × 256] · [256 × G·256] on the time loop's kernel (GemmProbe), pure kernel and through Gemm, at
    // every power of two m up to the largest batch (the per-step batch sizes the engine actually multiplies)
    int[] ms = opts.containsKey("quick") ? new int[] {1, 16, 256} : new int[] {1, 2, 4, 8, 16, 32, 64, 128, 256};
    int[] gateCounts = {1, 3, 4};
    // G -> {kernel GFLOP/s, Gemm.multiply GFLOP/s} at ms[i]: the best of the probe before the models and the
    // re-probes after each model's timed passes, so a slow moment of the shared machine during one short probe
    // does not lower the roofline (the engine's figure is a best of several passes too)
    Map<Integer, double[][]> sgemm = new LinkedHashMap<>();
    for (int g : gateCounts) {
      sgemm.put(g, new double[2][ms.length]);
      probe(sgemm, g, ms, "");
    }
    StringBuilder results = new StringBuilder();
    boolean first = true;
    for (String name : names) {
      LoadedModel loaded = ModelLoader.load(models.resolve(name));
      SequenceModel model = new SequenceModel(loaded, opts.containsKey("vocab-table-max-floats")
          ? new SequenceModel.Options(Long.parseLong(opts.get("vocab-table-max-floats")))
          : SequenceModel.Options.DEFAULT);
      int gates = loaded.spec().rnn().mode().gates();
      int hidden = loaded.spec().rnn().hiddenSize();
      for (String dist : dists) {
        Dataset ds = readData(data.resolve(dist));
        float[] scores = new float[ds.size()];
        Arrays.fill(scores, Float.NaN); // time-boxed passes may leave sequences unscored
        // warm-up: score batches until warmupSeconds have passed (at most one pass)
        pass(model, ds, scores, warmupSeconds);
        double[] seconds = new double[runs]; // thread CPU seconds per token, scaled to the whole dataset
        double[] wall = new double[runs];
        for (int r = 0; r < runs; r++) {
          double[] t = pass(model, ds, scores, maxPassSeconds);
          seconds[r] = t[0];
          wall[r] = t[1];
        }
        writeFloats(data.resolve(dist).resolve("scores_" + name + ".f32"), scores);
        double[] sorted = seconds.clone(); // CPU time: robust to other load on the machine
        Arrays.sort(sorted);
        double best = sorted[0];
        double median = sorted[runs / 2];
        long tokens = ds.totalTokens();
        double flopsPerToken = 2.0 * gates * hidden * hidden;
        probe(sgemm, gates, ms, " (again, after " + name + " " + dist + ")");
        double[] curve = sgemm.get(gates)[0];
        double peakRoofline = curve[curve.length - 1] * 1e9 / flopsPerToken; // SGEMM at the largest m
        double roofline = shapeRoofline(ds, ms, curve, flopsPerToken);
        System.err.printf(Locale.ROOT,
            "engine %-9s %-9s %9.0f tok/s (best; median %9.0f) %8.0f seq/s  roofline at batch shapes %9.0f tok/s"
                + " -> %.2f (at m=%d: %.0f -> %.2f)%n",
            name, dist, tokens / best, tokens / median, ds.size() / best, roofline, tokens / best / roofline,
            ms[ms.length - 1], peakRoofline, tokens / best / peakRoofline);
        results.append(first ? "" : ",\n").append(String.format(Locale.ROOT,
            "    {\"model\": \"%s\", \"mode\": \"%s\", \"hidden\": %d, \"dist\": \"%s\", \"sequences\": %d, "
                + "\"tokens\": %d, \"runs\": %d, \"cpu_seconds\": %s, \"wall_seconds\": %s, \"tok_per_s_best\": %.1f, \"tok_per_s_median\": %.1f, \"wall_tok_per_s_best\": %.1f, "
                + "\"seq_per_s_best\": %.1f, \"vocab_table\": %b, \"flops_per_token\": %.0f, \"roofline_tok_per_s\": %.1f, "
                + "\"roofline_fraction\": %.4f, \"peak_roofline_tok_per_s\": %.1f, \"peak_roofline_fraction\": %.4f}",
            name, loaded.spec().rnn().mode(), hidden, dist, ds.size(), tokens, runs, Arrays.toString(seconds), Arrays.toString(wall),
            tokens / best, tokens / median, tokens / Arrays.stream(wall).min().getAsDouble(), ds.size() / best,
            model.usesVocabTable(), flopsPerToken, roofline, tokens / best / roofline, peakRoofline,
            tokens / best / peakRoofline));
        first = false;
      }
    }
    json.append("  \"sgemm\": [\n");
    first = true;
    for (Map.Entry<Integer, double[][]> e : sgemm.entrySet()) {
      for (int i = 0; i < ms.length; i++) {
        json.append(first ? "" : ",\n").append(String.format(Locale.ROOT,
            "    {\"m\": %d, \"n\": %d, \"k\": 256, \"kernel_gflops\": %.2f, \"gemm_gflops\": %.2f}",
            ms[i], e.getKey() * 256, e.getValue()[0][i], e.getValue()[1][i]));
        first = false;
      }
    }
    json.append("\n  ],\n  \"results\": [\n").append(results).append("\n  ]\n}\n");
    if (opts.containsKey("json")) {
      Files.writeString(Path.of(opts.get("json")), json.toString());
    } else {
      System.out.print(json);
    }
  }

  /**
   * SGEMM {@code [m × 256] · [256 × G·256]} at every m of {@code ms}, pure kernel and through {@code Gemm}, printed;
   * keeps the best rate seen so far per point in {@code sgemm.get(g)}.
   */
  private static void probe(Map<Integer, double[][]> sgemm, int g, int[] ms, String when) {
    double[][] best = sgemm.get(g);
    for (int i = 0; i < ms.length; i++) {
      double[] r = GemmProbe.measure(ms[i], g * 256, 256);
      best[0][i] = Math.max(best[0][i], r[0]);
      best[1][i] = Math.max(best[1][i], r[1]);
      System.err.printf(Locale.ROOT, "sgemm m=%-4d n=%-5d k=256: kernel %6.1f GFLOP/s   Gemm.multiply %6.1f GFLOP/s%s%n",
          ms[i], g * 256, r[0], r[1], when);
    }
  }

  /**
   * The roofline at the shapes the engine multiplies: the job's buckets ({@code LengthBucketer}, default plan) cut
   * into packed steps, each step of {@code m} rows costing {@code m × flopsPerToken} at the SGEMM rate measured
   * for that m (interpolated in log2 m between the probed sizes). Tokens per second if the time loop did
   * nothing but its recurrent products at the measured BLAS speed.
   */
  static double shapeRoofline(Dataset ds, int[] ms, double[] gflops, double flopsPerToken) {
    Iterator<Integer> ids = IntStream.range(0, ds.size()).iterator();
    LengthBucketer<Integer> bucketer = new LengthBucketer<>(ids, i -> ds.lengths()[i], BatchPlan.defaults());
    double seconds = 0;
    long tokens = 0;
    while (bucketer.hasNext()) {
      List<Integer> batch = bucketer.next();
      int[] lengths = batch.stream().mapToInt(i -> ds.lengths()[i]).toArray();
      for (int m : PackedLayout.of(lengths).batchSizes()) {
        seconds += m * flopsPerToken / (interpolate(ms, gflops, m) * 1e9);
        tokens += m;
      }
    }
    return tokens / seconds;
  }

  /** {@code values} at {@code m}, linear in log2 m between the probed {@code ms} (clamped at both ends). */
  static double interpolate(int[] ms, double[] values, int m) {
    if (m <= ms[0]) {
      return values[0];
    }
    for (int i = 1; i < ms.length; i++) {
      if (m <= ms[i]) {
        double f = (Math.log(m) - Math.log(ms[i - 1])) / (Math.log(ms[i]) - Math.log(ms[i - 1]));
        return values[i - 1] + f * (values[i] - values[i - 1]);
      }
    }
    return values[values.length - 1];
  }

  /**
   * Buckets the dataset like the Spark job and scores the batches, stopping after the batch that crosses {@code
   * maxSeconds} of CPU time (windows are random samples of the data, so a prefix of batches is representative).
   *
   * @return {@code {thread CPU seconds, wall seconds}} scaled from the tokens scored to the whole dataset
   */
  private static double[] pass(SequenceModel model, Dataset ds, float[] scores, double maxSeconds) {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long cpu0 = mx.getCurrentThreadCpuTime();
    long wall0 = System.nanoTime();
    long limit = (long) Math.min(Long.MAX_VALUE / 2, maxSeconds * 1e9);
    long done = 0;
    Iterator<Integer> ids = IntStream.range(0, ds.size()).iterator();
    LengthBucketer<Integer> bucketer = new LengthBucketer<>(ids, i -> ds.lengths()[i], BatchPlan.defaults());
    while (bucketer.hasNext()) {
      List<Integer> batch = bucketer.next();
      int[] offsets = new int[batch.size() + 1];
      for (int i = 0; i < batch.size(); i++) {
        offsets[i + 1] = offsets[i] + ds.lengths()[batch.get(i)];
      }
      int[] tokens = new int[offsets[batch.size()]];
      for (int i = 0; i < batch.size(); i++) {
        int id = batch.get(i);
        System.arraycopy(ds.tokens(), ds.offsets()[id], tokens, offsets[i], ds.lengths()[id]);
      }
      Scores s = model.score(new RaggedBatch(offsets, tokens, null, 1), false);
      for (int i = 0; i < batch.size(); i++) {
        scores[batch.get(i)] = s.scores()[i];
      }
      done += tokens.length;
      if (mx.getCurrentThreadCpuTime() - cpu0 > limit) {
        break;
      }
    }
    double scale = ds.totalTokens() / (double) done;
    return new double[] {(mx.getCurrentThreadCpuTime() - cpu0) / 1e9 * scale, (System.nanoTime() - wall0) / 1e9 * scale};
  }

  // ------------------------------------------------------------------------------------------------ multi-input

  /** A several-input dataset: per step input one int or float array over all steps; per row the statics. */
  record MultiData(int[] lengths, int[] offsets, List<int[]> tokens, List<float[]> features, float[] statics) {
    long totalSteps() {
      return offsets[lengths.length];
    }
  }

  static void writeMultiData(Path modelDir, Path data, Path out, long seed) throws IOException {
    ModelGraph graph = ModelLoader.load(modelDir).graph();
    Dataset ds = readData(data);
    SplittableRandom random = new SplittableRandom(seed);
    Files.createDirectories(out);
    writeInts(out.resolve("lengths.i32"), ds.lengths());
    long steps = ds.totalTokens();
    boolean firstTokens = true;
    for (StepInput in : graph.inputs()) {
      if (in.kind() == io.seqpack.model.ModelSpec.InputKind.TOKENS) {
        int[] ids = new int[Math.toIntExact(steps)];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = firstTokens ? ds.tokens()[i] % ((TokenInput) in).vocabSize()
              : random.nextInt(((TokenInput) in).vocabSize());
        }
        firstTokens = false;
        writeInts(out.resolve(in.name() + ".i32"), ids);
      } else {
        writeFloats(out.resolve(in.name() + ".f32"), gaussians(random, Math.toIntExact(steps * in.width())));
      }
    }
    for (ModelGraph.StaticInput st : graph.statics()) {
      writeFloats(out.resolve(st.name() + ".f32"), gaussians(random, ds.size() * st.size()));
    }
    System.err.printf(Locale.ROOT, "bench multi data: %d rows, %d steps, inputs %s, statics %s -> %s%n", ds.size(),
        steps, graph.inputs().stream().map(StepInput::name).toList(),
        graph.statics().stream().map(ModelGraph.StaticInput::name).toList(), out);
  }

  private static float[] gaussians(SplittableRandom random, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) gaussian(random);
    }
    return v;
  }

  static MultiData readMultiData(ModelGraph graph, Path dir) throws IOException {
    int[] lengths = readInts(dir.resolve("lengths.i32"));
    int[] offsets = new int[lengths.length + 1];
    for (int i = 0; i < lengths.length; i++) {
      offsets[i + 1] = offsets[i] + lengths[i];
    }
    List<int[]> tokens = new ArrayList<>();
    List<float[]> features = new ArrayList<>();
    for (StepInput in : graph.inputs()) {
      boolean isTokens = in.kind() == io.seqpack.model.ModelSpec.InputKind.TOKENS;
      tokens.add(isTokens ? readInts(dir.resolve(in.name() + ".i32")) : null);
      features.add(isTokens ? null : readFloatsFile(dir.resolve(in.name() + ".f32")));
    }
    float[] statics = new float[lengths.length * graph.staticWidth()];
    int at = 0;
    for (ModelGraph.StaticInput st : graph.statics()) { // interleave: row r holds every static input in order
      float[] v = readFloatsFile(dir.resolve(st.name() + ".f32"));
      for (int r = 0; r < lengths.length; r++) {
        System.arraycopy(v, r * st.size(), statics, r * graph.staticWidth() + at, st.size());
      }
      at += st.size();
    }
    return new MultiData(lengths, offsets, tokens, features, statics);
  }

  private static float[] readFloatsFile(Path path) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[b.remaining() / 4];
    b.asFloatBuffer().get(v);
    return v;
  }

  private static void runMulti(Map<String, String> opts) throws IOException {
    Path modelDir = Path.of(need(opts, "model"));
    Path data = Path.of(need(opts, "data"));
    int runs = Math.max(1, intOpt(opts, "runs", 3));
    double warmupSeconds = Double.parseDouble(opts.getOrDefault("warmup-seconds", "3"));
    double maxPassSeconds = Double.parseDouble(opts.getOrDefault("max-pass-seconds", "1e9"));
    LoadedModel loaded = ModelLoader.load(modelDir);
    ModelGraph graph = loaded.graph();
    SequenceModel model = new SequenceModel(loaded);
    MultiData md = readMultiData(graph, data);
    float[] scores = new float[md.lengths().length];
    Arrays.fill(scores, Float.NaN);
    multiPass(model, graph, md, scores, warmupSeconds);
    double[] seconds = new double[runs];
    double[] wall = new double[runs];
    for (int r = 0; r < runs; r++) {
      double[] t = multiPass(model, graph, md, scores, maxPassSeconds);
      seconds[r] = t[0];
      wall[r] = t[1];
    }
    writeFloats(data.resolve("scores_multi.f32"), scores);
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    long steps = md.totalSteps();
    String inputs = graph.inputs().stream().map(i -> i.name() + (i.kind() == io.seqpack.model.ModelSpec.InputKind.TOKENS
        ? " tokens " + ((TokenInput) i).vocabSize() + "x" + i.width() : " features " + i.width())).toList().toString();
    System.err.printf(Locale.ROOT, "engine multi-input %s + static %d, %s %d: %9.0f tok/s (best; median %9.0f)%n",
        inputs, graph.staticWidth(), graph.rnn().mode(), graph.rnn().hiddenSize(), steps / sorted[0],
        steps / sorted[runs / 2]);
    String json = String.format(Locale.ROOT,
        "{\n  \"model\": \"multi\", \"inputs\": \"%s\", \"static_width\": %d, \"mode\": \"%s\", \"hidden\": %d, "
            + "\"sequences\": %d, \"steps\": %d, \"runs\": %d, \"cpu_seconds\": %s, \"wall_seconds\": %s, "
            + "\"tok_per_s_best\": %.1f, \"tok_per_s_median\": %.1f, \"vocab_table\": %b, \"kernels\": \"%s\"\n}\n",
        inputs, graph.staticWidth(), graph.rnn().mode(), graph.rnn().hiddenSize(), md.lengths().length, steps, runs,
        Arrays.toString(seconds), Arrays.toString(wall), steps / sorted[0], steps / sorted[runs / 2],
        model.usesVocabTable(), SequenceModel.kernelsOnThisCpu());
    if (opts.containsKey("json")) {
      Files.writeString(Path.of(opts.get("json")), json);
    } else {
      System.out.print(json);
    }
  }

  /** {@link #pass} for a several-input model: each batch copies every column's rows and the statics. */
  private static double[] multiPass(SequenceModel model, ModelGraph graph, MultiData md, float[] scores,
      double maxSeconds) {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long cpu0 = mx.getCurrentThreadCpuTime();
    long wall0 = System.nanoTime();
    long limit = (long) Math.min(Long.MAX_VALUE / 2, maxSeconds * 1e9);
    long done = 0;
    int staticWidth = graph.staticWidth();
    List<StepInput> inputs = graph.inputs();
    Iterator<Integer> ids = IntStream.range(0, md.lengths().length).iterator();
    LengthBucketer<Integer> bucketer = new LengthBucketer<>(ids, i -> md.lengths()[i], BatchPlan.defaults());
    while (bucketer.hasNext()) {
      List<Integer> batch = bucketer.next();
      int[] offsets = new int[batch.size() + 1];
      for (int i = 0; i < batch.size(); i++) {
        offsets[i + 1] = offsets[i] + md.lengths()[batch.get(i)];
      }
      int steps = offsets[batch.size()];
      List<RaggedBatch.Column> columns = new ArrayList<>(inputs.size());
      for (int c = 0; c < inputs.size(); c++) {
        int[] allTokens = md.tokens().get(c);
        if (allTokens != null) {
          int[] t = new int[steps];
          for (int i = 0; i < batch.size(); i++) {
            int id = batch.get(i);
            System.arraycopy(allTokens, md.offsets()[id], t, offsets[i], md.lengths()[id]);
          }
          columns.add(RaggedBatch.Column.ofTokens(t));
        } else {
          int w = inputs.get(c).width();
          float[] all = md.features().get(c);
          float[] f = new float[steps * w];
          for (int i = 0; i < batch.size(); i++) {
            int id = batch.get(i);
            System.arraycopy(all, md.offsets()[id] * w, f, offsets[i] * w, md.lengths()[id] * w);
          }
          columns.add(RaggedBatch.Column.ofFeatures(f, w));
        }
      }
      float[] statics = new float[batch.size() * staticWidth];
      for (int i = 0; i < batch.size(); i++) {
        System.arraycopy(md.statics(), batch.get(i) * staticWidth, statics, i * staticWidth, staticWidth);
      }
      Scores s = model.score(new RaggedBatch(offsets, columns, statics, staticWidth), false);
      for (int i = 0; i < batch.size(); i++) {
        scores[batch.get(i)] = s.scores()[i];
      }
      done += steps;
      if (mx.getCurrentThreadCpuTime() - cpu0 > limit) {
        break;
      }
    }
    double scale = md.totalSteps() / (double) done;
    return new double[] {(mx.getCurrentThreadCpuTime() - cpu0) / 1e9 * scale, (System.nanoTime() - wall0) / 1e9 * scale};
  }
}
