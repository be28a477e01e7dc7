package io.seqpack.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A realistic summary of an incremental nightly run, built the way the job builds it (Longs, Doubles, Lists,
 * LinkedHashMaps), with internally consistent figures: the histogram, the buckets and the totals agree.
 */
final class ExampleSummary {
  private ExampleSummary() {}

  /** Histogram bins of width 8 over lengths [1, 257). */
  static final int LENGTH_BINS = 32;
  /** Buckets (lengths 1–16, 17–32, 33–64, 65–128, 129–256); all upper bounds + 1 fall inside the histogram. */
  static final long[][] BUCKET_RANGES = {{1, 16}, {17, 32}, {33, 64}, {65, 128}, {129, 256}};
  static final int THROUGHPUT_POINTS = 14;
  static final int SCORE_BINS = 20;
  static final int FEATURES = 2;

  static Map<String, Object> build() {
    // lengths: a skewed (log-normal-like) distribution over bins [1+8i, 9+8i)
    List<Object> edges = new ArrayList<>();
    List<Object> counts = new ArrayList<>();
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
    Map<String, Object> histogram = new LinkedHashMap<>();
    histogram.put("bin_edges", edges);
    histogram.put("counts", counts);

    List<Object> buckets = new ArrayList<>();
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
      long b = (rows + rowsPerBatch - 1) / rowsPerBatch;
      // padded slots: per batch, rows × the batch's longest; sorted by length, so close to tokens
      long padded = Math.round(tok / (0.97 - 0.05 * buckets.size()));
      Map<String, Object> bucket = new LinkedHashMap<>();
      bucket.put("min_length", r[0]);
      bucket.put("max_length", r[1]);
      bucket.put("rows", rows);
      bucket.put("tokens", tok);
      bucket.put("batches", b);
      bucket.put("padded_slots", padded);
      buckets.add(bucket);
      scored += rows;
      tokens += tok;
      batches += b;
      slots += padded;
    }

    Map<String, Object> rejects = new TreeMap<>();
    rejects.put("EMPTY_SEQUENCE", 41L);
    rejects.put("NULL_SEQUENCE", 27L);
    rejects.put("TOKEN_OUT_OF_RANGE", 9L);
    rejects.put("TOO_LONG", 120L);
    long rejected = 41 + 27 + 9 + 120;

    double wall = 93.418;
    List<Object> throughput = new ArrayList<>();
    for (int i = 1; i <= THROUGHPUT_POINTS; i++) {
      double t = 4.0 + (wall - 4.0) * i / THROUGHPUT_POINTS;
      double share = Math.min(1.0, Math.pow((double) i / THROUGHPUT_POINTS, 1.15));
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("seconds", Math.round(t * 1000) / 1000.0);
      p.put("rows", Math.round(scored * share));
      p.put("tokens", Math.round(tokens * share));
      throughput.add(p);
    }

    List<Object> scores = new ArrayList<>();
    for (int f = 0; f < FEATURES; f++) {
      List<Object> e = new ArrayList<>();
      List<Object> c = new ArrayList<>();
      double lo = f == 0 ? -4.0 : 0.0;
      double hi = f == 0 ? 4.0 : 1.0;
      for (int i = 0; i <= SCORE_BINS; i++) {
        e.add(lo + (hi - lo) * i / SCORE_BINS);
      }
      double[] w = new double[SCORE_BINS];
      double total = 0;
      for (int i = 0; i < SCORE_BINS; i++) {
        double mid = (i + 0.5) / SCORE_BINS;
        // feature 0: logits around +0.4; feature 1: a probability skewed to low values
        w[i] = f == 0 ? Math.exp(-Math.pow((mid - 0.55) / 0.14, 2) / 2) : Math.pow(mid, 1.2) * Math.pow(1 - mid, 4);
        total += w[i];
      }
      long left = scored;
      for (int i = 0; i < SCORE_BINS; i++) {
        long n = i == SCORE_BINS - 1 ? left : Math.min(left, Math.round(scored * w[i] / total));
        c.add(n);
        left -= n;
      }
      Map<String, Object> h = new LinkedHashMap<>();
      h.put("feature", (long) f);
      h.put("bin_edges", e);
      h.put("counts", c);
      scores.add(h);
    }

    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("id_col", "id");
    settings.put("seq_col", "tokens");
    settings.put("keep_cols", List.of("customer", "day"));
    settings.put("per_step", false);
    settings.put("max_length", 256L);
    settings.put("batch_tokens", 16384L);
    settings.put("max_batch_rows", 1024L);
    settings.put("master", "spark://spark-master:7077");
    settings.put("max_reject_fraction", 0.01);

    Map<String, Object> run = new LinkedHashMap<>();
    run.put("id", "nightly-2025-03-14T02:00:00Z");
    run.put("new_files", 3L);
    run.put("new_rows", scored + rejected);
    run.put("incremental", true);

    Map<String, Object> s = new LinkedHashMap<>();
    s.put("seqpack_version", "0.1.0");
    s.put("model_dir", "/models/churn-gru/v7");
    s.put("model_hash", "sha256:5f2c0a9e4b7d13c86e0f2a41b9d7c3e8a1f6b02d94c7e5a3b8d1f0c2e4a6b9d7");
    s.put("input", "hdfs:///data/events/2025-03-14");
    s.put("output", "hdfs:///scores/churn/2025-03-14");
    s.put("rejects", "hdfs:///scores/churn/2025-03-14_rejects");
    s.put("input_rows", scored + rejected);
    s.put("scored_rows", scored);
    s.put("rejected_rows", rejected);
    s.put("rejects_by_reason", rejects);
    s.put("tokens_scored", tokens);
    s.put("batches", batches);
    s.put("mean_batch_fill", Math.round(1000.0 * tokens / slots) / 1000.0);
    s.put("wall_seconds", wall);
    s.put("tokens_per_second", Math.round(1000.0 * tokens / wall) / 1000.0);
    s.put("engine_seconds", 151.207);
    s.put("executors", List.of("0@4121", "1@4133"));
    s.put("settings", settings);
    s.put("length_histogram", histogram);
    s.put("buckets", buckets);
    s.put("throughput", throughput);
    s.put("score_histograms", scores);
    s.put("run", run);
    return s;
  }
}
