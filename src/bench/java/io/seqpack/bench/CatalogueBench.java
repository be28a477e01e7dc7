package io.seqpack.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqpack.batching.BatchPlan;
import io.seqpack.batching.LengthBucketer;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import io.seqpack.nn.TopK;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The catalogue row of {@code scripts/bench} (issue 21): the top k of a GRU4Rec-shaped model's logits over a whole
 * item catalogue (a tied head, {@code h · Eᵀ}), rows per thread-CPU second, on seqpack's engine or a peer; the
 * model, the peers' files and the check set come from {@code scripts/bench_catalogue.py make} (one safetensors
 * file for every side).
 *
 * <pre>
 * CatalogueBench run --lib engine|djl|ort --dir DIR --data DIR [--runs 3] [--warmup-seconds 2]
 *     [--max-pass-seconds 1e9] [--batch 256] [--json OUT]
 * </pre>
 *
 * <p>engine: {@code SequenceModel.score} with {@code topK = {k}} on {@link LengthBucketer} batches (what the Spark
 * job runs: the tied head in item blocks with a running top k). djl, ort: {@code DIR/peers/model.pt} / {@code
 * model.onnx}, {@code torch.topk(h @ E.T, k)} inside the module, on padded batches of rows sorted by length in a
 * seeded random order (as {@link PeerBench}).
 *
 * <p>Before timing, every side scores the check rows ({@code DIR/check_ids.i32}, {@code check_scores.f32}:
 * PyTorch's top k under torch.topk's order, a tie to the lower index) and stops unless each row's ids are the
 * same, in the same order, and each score is within {@value #SCORE_TOLERANCE}; an id may differ only where
 * PyTorch's own scores tie within {@value #TIE} (two items whose order float rounding decides), and such swaps are
 * counted and reported.
 */
public final class CatalogueBench {
  private CatalogueBench() {}

  /** Largest accepted |side − PyTorch| top-k score difference. */
  static final double SCORE_TOLERANCE = 1e-4;

  /** Scores closer than this are a tie that summation order may break either way. */
  static final double TIE = 1e-5;

  /** The top k ids and scores of some rows, row {@code r}'s at {@code r·k .. r·k + k)}. */
  record Top(int[] ids, float[] scores) {}

  /** One library computing the top k of the rows it is given. */
  interface Side extends AutoCloseable {
    /** The batches a pass over the first {@code n} rows scores, in the order it scores them. */
    List<int[]> batches(EngineBench.Dataset ds, int n);

    /** The top k of rows {@code ids}, in that order. */
    Top top(EngineBench.Dataset ds, int[] ids) throws Exception;

    @Override
    default void close() throws Exception {}
  }

  /** seqpack's engine: the Spark job's batches and scoring call, one thread. */
  record Engine(SequenceModel model, int k) implements Side {
    @Override
    public List<int[]> batches(EngineBench.Dataset ds, int n) {
      LengthBucketer<Integer> bucketer = new LengthBucketer<>(IntStream.range(0, n).iterator(),
          i -> ds.lengths()[i], BatchPlan.defaults());
      List<int[]> batches = new ArrayList<>();
      bucketer.forEachRemaining(b -> batches.add(b.stream().mapToInt(Integer::intValue).toArray()));
      return batches;
    }

    @Override
    public Top top(EngineBench.Dataset ds, int[] ids) {
      int[] offsets = new int[ids.length + 1];
      for (int i = 0; i < ids.length; i++) {
        offsets[i + 1] = offsets[i] + ds.lengths()[ids[i]];
      }
      int[] tokens = new int[offsets[ids.length]];
      for (int i = 0; i < ids.length; i++) {
        System.arraycopy(ds.tokens(), ds.offsets()[ids[i]], tokens, offsets[i], ds.lengths()[ids[i]]);
      }
      TopK top = model.score(new RaggedBatch(offsets, tokens, null, 1), false, false, new int[] {k}, -1).top(0);
      return new Top(top.ids(), top.scores());
    }
  }

  /** A peer running {@code torch.topk} inside its module: outputs (scores, ids), {@code [rows, k]} each. */
  record PeerSide(PeerBench.Peer peer, int batchSize) implements Side {
    @Override
    public List<int[]> batches(EngineBench.Dataset ds, int n) {
      List<int[]> batches = PeerBench.batches(ds, n, batchSize);
      PeerBench.shuffle(batches, new SplittableRandom(7)); // a time-boxed prefix is a fair sample
      return batches;
    }

    @Override
    public Top top(EngineBench.Dataset ds, int[] ids) throws Exception {
      List<Object> out = PeerBench.Padded.of(ds, ids).outputsOf(peer);
      long[] topIds = (long[]) out.get(1);
      return new Top(Arrays.stream(topIds).mapToInt(Math::toIntExact).toArray(), (float[]) out.get(0));
    }

    @Override
    public void close() throws Exception {
      peer.close();
    }
  }

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0 || !argv[0].equals("run")) {
      System.err.println("usage: CatalogueBench run --lib engine|djl|ort [--option value ...] (see the class javadoc)");
      System.exit(2);
    }
    Map<String, String> opts = EngineBench.options(Arrays.copyOfRange(argv, 1, argv.length));
    String lib = EngineBench.need(opts, "lib");
    Path dir = Path.of(EngineBench.need(opts, "dir"));
    JsonNode meta = new ObjectMapper().readTree(dir.resolve("CATALOGUE").toFile());
    int k = meta.get("k").asInt();
    int batchSize = EngineBench.intOpt(opts, "batch", 256);
    String description;
    Side side;
    switch (lib) {
      case "engine" -> {
        side = new Engine(new SequenceModel(ModelLoader.load(dir.resolve("model"))), k);
        description = "seqpack engine: " + SequenceModel.kernelsOnThisCpu() + ", Java "
            + System.getProperty("java.version");
      }
      case "djl" -> {
        side = new PeerSide(new PeerBench.Djl(dir.resolve("peers")), batchSize);
        description = PeerBench.Djl.describe();
      }
      case "ort" -> {
        side = new PeerSide(new PeerBench.Ort(dir.resolve("peers").resolve("model.onnx")), batchSize);
        description = PeerBench.Ort.describe();
      }
      default -> throw new IllegalArgumentException("--lib must be engine, djl or ort, not " + lib);
    }
    System.err.println("catalogue " + lib + ": " + description);
    try (side) {
      run(lib, description, side, k, dir, meta, opts);
    }
  }

  private static void run(String lib, String description, Side side, int k, Path dir, JsonNode meta,
      Map<String, String> opts) throws Exception {
    EngineBench.Dataset ds = EngineBench.readData(Path.of(EngineBench.need(opts, "data")));
    int runs = Math.max(1, EngineBench.intOpt(opts, "runs", 3));
    double warmupSeconds = Double.parseDouble(opts.getOrDefault("warmup-seconds", "2"));
    double maxPassSeconds = Double.parseDouble(opts.getOrDefault("max-pass-seconds", "1e9"));
    int checkRows = meta.get("check_rows").asInt();
    int[] expectedIds = EngineBench.readInts(dir.resolve("check_ids.i32"));
    float[] expectedScores = PeerBench.readFloats(dir.resolve("check_scores.f32")); // k + 1 per row
    Top checked = topOfRows(side, ds, side.batches(ds, checkRows), checkRows, k);
    double[] agreement = compare(lib, checked, expectedIds, expectedScores, checkRows, k);

    List<int[]> batches = side.batches(ds, ds.size());
    pass(side, ds, batches, warmupSeconds);
    double[] cpu = new double[runs];
    double[] wall = new double[runs];
    for (int r = 0; r < runs; r++) {
      double[] t = pass(side, ds, batches, maxPassSeconds);
      cpu[r] = t[0];
      wall[r] = t[1];
    }
    double[] sorted = cpu.clone();
    Arrays.sort(sorted);
    int rows = ds.size();
    System.err.printf(Locale.ROOT, "catalogue %-6s %d items top-%d: %7.0f rows/s (best; median %7.0f)  check %d rows:"
            + " ids equal, %d near-tie swaps, max |score - torch| %.1e%n", lib, meta.get("items").asInt(), k,
        rows / sorted[0], rows / sorted[runs / 2], checkRows, (int) agreement[1], agreement[0]);
    String json = String.format(Locale.ROOT,
        "{\n  \"lib\": \"%s\", \"library\": \"%s\", \"items\": %d, \"hidden\": %d, \"k\": %d, \"rows\": %d, "
            + "\"tokens\": %d, \"runs\": %d, \"cpu_seconds\": %s, \"wall_seconds\": %s, \"rows_per_s_best\": %.1f, "
            + "\"rows_per_s_median\": %.1f, \"check_rows\": %d, \"near_tie_swaps\": %d, "
            + "\"max_abs_score_diff_vs_torch\": %.3e\n}\n",
        lib, description.replace("\"", "'"), meta.get("items").asInt(), meta.get("hidden").asInt(), k, rows,
        ds.totalTokens(), runs, Arrays.toString(cpu), Arrays.toString(wall), rows / sorted[0],
        rows / sorted[runs / 2], checkRows, (int) agreement[1], agreement[0]);
    if (opts.containsKey("json")) {
      Files.writeString(Path.of(opts.get("json")), json);
    } else {
      System.out.print(json);
    }
  }

  /** The top k of rows {@code 0 .. n)} in row order, scored batch by batch. */
  private static Top topOfRows(Side side, EngineBench.Dataset ds, List<int[]> batches, int n, int k)
      throws Exception {
    int[] ids = new int[n * k];
    float[] scores = new float[n * k];
    for (int[] batch : batches) {
      Top top = side.top(ds, batch);
      for (int i = 0; i < batch.length; i++) {
        System.arraycopy(top.ids(), i * k, ids, batch[i] * k, k);
        System.arraycopy(top.scores(), i * k, scores, batch[i] * k, k);
      }
    }
    return new Top(ids, scores);
  }

  /**
   * Checks a side's top k against PyTorch's ({@code expectedScores} has k + 1 per row, to see a tie at the
   * boundary); returns {@code {max |score diff|, near-tie swaps}}, or stops the bench naming the first row that
   * disagrees.
   */
  static double[] compare(String lib, Top got, int[] expectedIds, float[] expectedScores, int rows, int k) {
    double worst = 0;
    int swaps = 0;
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < k; i++) {
        float expected = expectedScores[r * (k + 1) + i];
        double diff = Math.abs(got.scores()[r * k + i] - expected);
        if (!(diff <= SCORE_TOLERANCE)) {
          throw new IllegalStateException(String.format(Locale.ROOT, "catalogue %s: row %d's score %d is %.8g, "
              + "PyTorch's %.8g (|diff| %.2e > %.0e): not timing it", lib, r, i, got.scores()[r * k + i], expected,
              diff, SCORE_TOLERANCE));
        }
        worst = Math.max(worst, diff);
        if (got.ids()[r * k + i] != expectedIds[r * k + i]) {
          boolean tiedWithNeighbour = expectedScores[r * (k + 1) + i] - expectedScores[r * (k + 1) + i + 1] <= TIE
              || i > 0 && expectedScores[r * (k + 1) + i - 1] - expected <= TIE;
          if (!tiedWithNeighbour) {
            throw new IllegalStateException(String.format(Locale.ROOT, "catalogue %s: row %d's top ids %s, "
                + "PyTorch's %s: not timing it", lib, r, Arrays.toString(Arrays.copyOfRange(got.ids(), r * k,
                r * k + k)), Arrays.toString(Arrays.copyOfRange(expectedIds, r * k, r * k + k))));
          }
          swaps++;
        }
      }
    }
    return new double[] {worst, swaps};
  }

  /** {@code {thread CPU s, wall s}} of scoring the batches until {@code maxSeconds} of CPU, scaled to all rows. */
  private static double[] pass(Side side, EngineBench.Dataset ds, List<int[]> batches, double maxSeconds)
      throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long cpu0 = mx.getCurrentThreadCpuTime();
    long wall0 = System.nanoTime();
    long limit = (long) Math.min(Long.MAX_VALUE / 2, maxSeconds * 1e9);
    long done = 0;
    for (int[] batch : batches) {
      side.top(ds, batch);
      done += batch.length;
      if (mx.getCurrentThreadCpuTime() - cpu0 > limit) {
        break;
      }
    }
    double scale = ds.size() / (double) done;
    return new double[] {(mx.getCurrentThreadCpuTime() - cpu0) / 1e9 * scale,
        (System.nanoTime() - wall0) / 1e9 * scale};
  }
}
