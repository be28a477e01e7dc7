package io.seqpack.summary;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A realistic summary of an incremental nightly run, with internally consistent figures: the histogram, the
 * buckets and the totals agree. {@link #build()} is the example; tests that need a variant change a field of
 * {@link #builder()} and take its {@link #summary()}.
 */
public final class ExampleSummary {
  /** Histogram bins of width 8 over lengths [1, 257). */
  public static final int LENGTH_BINS = 32;
  /** Buckets (lengths 1–16, 17–32, 33–64, 65–128, 129–256); all upper bounds + 1 fall inside the histogram. */
  public static final long[][] BUCKET_RANGES = {{1, 16}, {17, 32}, {33, 64}, {65, 128}, {129, 256}};
  public static final int THROUGHPUT_POINTS = 14;
  public static final int SCORE_BINS = 20;
  public static final int FEATURES = 2;
  /** The example model's heads: a churn probability and a value (a linear head), one output each. */
  public static final List<String> HEADS = List.of("churn", "value");
  public static final long RUN_ID = 412;

  // Every component of the summary, set to the example's values; summary() makes the record.
  public RunSummary.Run run;
  public String seqpackVersion = "0.1.0";
  public RunSummary.Status status = RunSummary.Status.OK;
  public String startedAt = "2025-03-15T02:00:04Z";
  public List<String> commandLine = List.of("seqpack", "score", "--incremental", "--checkpoint",
      "hdfs:///checkpoints/churn", "--model", "/models/churn-gru/v7", "--input", "hdfs:///data/events/2025-03-14",
      "--output", "hdfs:///scores/churn/2025-03-14", "--keep-cols", "customer,day");
  public String modelDir = "/models/churn-gru/v7";
  public String input = "hdfs:///data/events/2025-03-14";
  public String output = "hdfs:///scores/churn/2025-03-14";
  public String rejects = "hdfs:///scores/churn/2025-03-14_rejects";
  public int inputFiles = 3;
  public List<RunSummary.SkippedFile> skippedFiles = List.of();
  public long inputRows;
  public long scoredRows;
  public long rejectedRows;
  public Map<String, Long> rejectsByReason;
  public Map<String, List<String>> rejectExamples;
  public long tokensScored;
  public long batches;
  public double wallSeconds = 93.418;
  /** False leaves the scoring part out (the fields below are then unused). */
  public boolean scored = true;
  public String modelHash = "sha256:5f2c0a9e4b7d13c86e0f2a41b9d7c3e8a1f6b02d94c7e5a3b8d1f0c2e4a6b9d7";
  public String modelVerification = "verified";
  public RunSummary.ModelCard modelCard = new RunSummary.ModelCard(
      List.of(new RunSummary.ModelCard.Input("events", "tokens(vocab=5000, dim=64, padding_idx=0)", "tokens"),
          new RunSummary.ModelCard.Input("tenure", "static(size=1, after_pooling)", "tenure_days")),
      List.of("GRU(hidden=128, layers=2, unidirectional, bias)", "pooling last"),
      List.of(new RunSummary.ModelCard.Head("churn", "Linear(129\u21921) \u2192 sigmoid", 1),
          new RunSummary.ModelCard.Head("value", "Linear(129\u219232) \u2192 relu \u2192 Linear(32\u21921) \u2192 none", 1)),
      List.of("F32"), 487_234);
  public double meanBatchFill;
  public double tokensPerSecond;
  public double engineSeconds = 151.207;
  public List<String> executors = List.of("0@4121", "1@4133");
  public List<String> kernels = List.of("gemm openblas SkylakeX, gates vector-api (16 floats, fma)");
  public List<RunSummary.ExecutorMemory> executorMemory = List.of(
      new RunSummary.ExecutorMemory("0@4121", 703_594_496L, 1_073_741_824L, 1_193_279_488L, 45_088_768L),
      new RunSummary.ExecutorMemory("1@4133", 812_646_400L, 1_073_741_824L, 1_216_348_160L, 45_088_768L));
  public RunSummary.Settings settings = new RunSummary.Settings("id", "tokens", Map.of(), List.of("customer", "day"),
      List.of(), false, false, 256, 16384, 1024, "spark://spark-master:7077", 0.01, false, Map.of(), null);
  public RunSummary.LengthHistogram lengthHistogram;
  public List<RunSummary.Bucket> buckets;
  public List<RunSummary.ScoreHistogram> scoreHistograms;
  public List<RunSummary.ThroughputPoint> throughput;
  public List<RunSummary.Deciles> scoreDeciles = List.of();
  public java.util.Map<String, RunSummary.HeadDrift> drift;
  /** Null: a run into folders; see {@link #intoTables()}. */
  public RunSummary.Tables tables;

  private ExampleSummary() {}

  public static RunSummary build() {
    return builder().summary();
  }

  /**
   * An incremental run that found no new files: zero rows, no rejects, no scoring part (what the job writes when
   * nothing landed since the last run).
   */
  public static RunSummary nothingNew() {
    ExampleSummary b = builder();
    b.run = new RunSummary.Run(RUN_ID + 1, "hdfs:///checkpoints/churn", 0, List.of(), 0, 0,
        b.run.totalScoredRows(), b.run.totalRejectedRows());
    b.inputFiles = 0;
    b.inputRows = 0;
    b.scoredRows = 0;
    b.rejectedRows = 0;
    b.rejectsByReason = Map.of();
    b.rejectExamples = Map.of();
    b.tokensScored = 0;
    b.batches = 0;
    b.wallSeconds = 1.204;
    b.scored = false;
    return b.summary();
  }

  /**
   * The example compared with a baseline run whose churn scores sat lower (PSI 0.31, shifted) and whose value
   * scores were the same (PSI 0.02): its histograms are this run's, moved down two bins for churn.
   */
  public static RunSummary withBaseline() {
    ExampleSummary b = builder();
    Map<String, RunSummary.HeadDrift> drift = new java.util.LinkedHashMap<>();
    for (RunSummary.ScoreHistogram h : b.scoreHistograms) {
      List<Long> counts = new ArrayList<>(h.counts());
      if (h.head().equals("churn")) {
        for (int i = 0; i < counts.size(); i++) {
          counts.set(i, i + 2 < h.counts().size() ? h.counts().get(i + 2) : 0L);
        }
        counts.set(0, counts.get(0) + h.counts().get(0) + h.counts().get(1));
      }
      RunSummary.ScoreHistogram base = new RunSummary.ScoreHistogram(h.head(), 0, h.binEdges(), counts, 0, 0, 0);
      drift.put(h.head(), new RunSummary.HeadDrift(h.head().equals("churn") ? 0.3127 : 0.0213, base.rows(),
          h.rows(), 10, "hdfs:///scores/churn/2025-03-13", null, List.of(base)));
    }
    b.drift = drift;
    return b.summary();
  }

  /**
   * The example as an incremental run from an Iceberg table into two: read after one snapshot up to another,
   * three source rows deleted meanwhile (not scored), both commits made.
   */
  public static RunSummary intoTables() {
    ExampleSummary b = builder();
    b.input = "lake.db.events";
    b.output = "lake.db.churn_scores";
    b.rejects = "lake.db.churn_scores_rejects";
    b.inputFiles = 0;
    b.run = new RunSummary.Run(RUN_ID, "hdfs:///checkpoints/churn-tables", 0, List.of(), b.inputRows, 0,
        b.run.totalScoredRows(), b.run.totalRejectedRows());
    b.tables = new RunSummary.Tables("6f1c2d9e-3b7a-4e21-9c55-0a8d4f7b21e3", 4_412_100_233_871_552_001L,
        7_301_993_412_655_080_112L, 3, 2_915_447_108_332_761_409L, 5_508_123_990_417_263_775L, false);
    return b.summary();
  }

  /** The summary of these fields. */
  public RunSummary summary() {
    RunSummary.Scoring scoring = scored ? new RunSummary.Scoring(modelHash, modelVerification, modelCard, meanBatchFill, tokensPerSecond,
        engineSeconds, executors, kernels, executorMemory, settings, lengthHistogram, buckets, scoreHistograms, throughput,
        scoreDeciles, drift) : null;
    return new RunSummary(run, seqpackVersion, status, startedAt, commandLine, modelDir, input, output, rejects,
        inputFiles, skippedFiles, inputRows, scoredRows, rejectedRows, rejectsByReason, rejectExamples, tokensScored,
        batches, wallSeconds, scoring, tables);
  }

  /** The example's fields, ready to change. */
  public static ExampleSummary builder() {
    ExampleSummary b = new ExampleSummary();
    // lengths: a skewed (log-normal-like) distribution over bins [1+8i, 9+8i)
    List<Long> edges = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    long[] perLength = new long[257];
    for (int len = 1; len <= 256; len++) {
      double z = (Math.log(len) - Math.log(28)) / 0.7;
      perLength[len] = Math.round(2600 * Math.exp(-z * z / 2));
    }
    for (int i = 0; i <= LENGTH_BINS; i++) {
      edges.add((long) (1 + 8 * i));
    }
    for (int i = 0; i < LENGTH_BINS; i++) {
      long c = 0;
      for (int len = 1 + 8 * i; len < 9 + 8 * i; len++) {
        c += perLength[len];
      }
      counts.add(c);
    }
    b.lengthHistogram = new RunSummary.LengthHistogram(edges, counts);

    List<RunSummary.Bucket> buckets = new ArrayList<>();
    long scored = 0;
    long tokens = 0;
    long batches = 0;
    long slots = 0;
    for (long[] r : BUCKET_RANGES) {
      long rows = 0;
      long tok = 0;
      for (long len = r[0]; len <= r[1]; len++) {
        rows += perLength[(int) len];
        tok += perLength[(int) len] * len;
      }
      long rowsPerBatch = Math.max(1, 16384 / r[1]);
      long n = (rows + rowsPerBatch - 1) / rowsPerBatch;
      // padded slots: per batch, rows × the batch's longest; sorted by length, so close to tokens
      long padded = Math.round(tok / (0.97 - 0.05 * buckets.size()));
      buckets.add(new RunSummary.Bucket(r[0], r[1], rows, tok, n, padded));
      scored += rows;
      tokens += tok;
      batches += n;
      slots += padded;
    }
    b.buckets = buckets;

    Map<String, Long> rejects = new TreeMap<>();
    rejects.put("EMPTY_SEQUENCE", 41L);
    rejects.put("NULL_SEQUENCE", 27L);
    rejects.put("TOKEN_OUT_OF_RANGE", 9L);
    rejects.put("TOO_LONG", 120L);
    long rejected = 41 + 27 + 9 + 120;

    List<RunSummary.ThroughputPoint> throughput = new ArrayList<>();
    for (int i = 1; i <= THROUGHPUT_POINTS; i++) {
      double t = 4.0 + (b.wallSeconds - 4.0) * i / THROUGHPUT_POINTS;
      double share = Math.min(1.0, Math.pow((double) i / THROUGHPUT_POINTS, 1.15));
      throughput.add(new RunSummary.ThroughputPoint(Math.round(t * 1000) / 1000.0, Math.round(scored * share),
          Math.round(tokens * share)));
    }
    b.throughput = throughput;

    List<RunSummary.ScoreHistogram> scores = new ArrayList<>();
    for (int f = 0; f < FEATURES; f++) {
      List<Double> e = new ArrayList<>();
      List<Long> c = new ArrayList<>();
      double lo = f == 0 ? 0.0 : -10.0;
      double hi = f == 0 ? 1.0 : 10.0;
      for (int i = 0; i <= SCORE_BINS; i++) {
        e.add(lo + (hi - lo) * i / SCORE_BINS);
      }
      double[] w = new double[SCORE_BINS];
      double total = 0;
      for (int i = 0; i < SCORE_BINS; i++) {
        double mid = (i + 0.5) / SCORE_BINS;
        // churn: a probability skewed to low values; value: around +1 on [-10, 10]
        w[i] = f == 0 ? Math.pow(mid, 1.2) * Math.pow(1 - mid, 4) : Math.exp(-Math.pow((mid - 0.55) / 0.14, 2) / 2);
        total += w[i];
      }
      long left = scored;
      for (int i = 0; i < SCORE_BINS; i++) {
        long n = i == SCORE_BINS - 1 ? left : Math.min(left, Math.round(scored * w[i] / total));
        c.add(n);
        left -= n;
      }
      scores.add(new RunSummary.ScoreHistogram(HEADS.get(f), 0, e, c, 0, 0, 0));
    }
    b.scoreHistograms = scores;

    b.run = new RunSummary.Run(RUN_ID, "hdfs:///checkpoints/churn", 3, List.of(
        "hdfs:///data/events/2025-03-14/part-0.parquet", "hdfs:///data/events/2025-03-14/part-1.parquet",
        "hdfs:///data/events/2025-03-14/part-2.parquet"), scored + rejected, 0, 41 * scored, 41 * rejected);
    b.inputRows = scored + rejected;
    b.scoredRows = scored;
    b.rejectedRows = rejected;
    b.rejectsByReason = rejects;
    b.rejectExamples = Map.of("EMPTY_SEQUENCE", List.of("c-100231", "c-100877", "c-104412"),
        "NULL_SEQUENCE", List.of("c-200015", "c-200419", "c-201003"), "TOKEN_OUT_OF_RANGE",
        List.of("c-300007", "c-300952"), "TOO_LONG", List.of("c-400001", "c-400017", "c-400233"));
    b.tokensScored = tokens;
    b.batches = batches;
    b.meanBatchFill = Math.round(1000.0 * tokens / slots) / 1000.0;
    b.tokensPerSecond = Math.round(1000.0 * tokens / b.wallSeconds) / 1000.0;
    return b;
  }
}
