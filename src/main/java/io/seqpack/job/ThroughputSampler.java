package io.seqpack.job;

import io.seqpack.spark.ScoreMetrics;
import io.seqpack.summary.RunSummary;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples the cumulative rows and tokens scored about once a second on the driver (a daemon thread reading the
 * accumulators, which grow as tasks finish), plus a start and an end point. Bounded: past {@value #MAX_POINTS}
 * points every other point is dropped and the interval doubles.
 */
final class ThroughputSampler implements AutoCloseable {
  static final int MAX_POINTS = 1000;
  private final ScoreMetrics metrics;
  private final long start;
  private final List<long[]> points = new ArrayList<>(); // {nanos since start, rows, tokens}
  private final Thread thread;
  private volatile boolean stopped;
  private long intervalMillis = 1000;

  private ThroughputSampler(ScoreMetrics metrics, long startNanos) {
    this.metrics = metrics;
    this.start = startNanos;
    points.add(new long[] {0, 0, 0});
    thread = new Thread(this::loop, "seqpack-throughput");
    thread.setDaemon(true);
  }

  /** Starts sampling; {@code startNanos} is the job's start ({@link System#nanoTime()}). */
  static ThroughputSampler start(ScoreMetrics metrics, long startNanos) {
    ThroughputSampler s = new ThroughputSampler(metrics, startNanos);
    s.thread.start();
    return s;
  }

  private void loop() {
    while (!stopped) {
      try {
        Thread.sleep(intervalMillis);
      } catch (InterruptedException e) {
        return;
      }
      sample();
    }
  }

  private synchronized void sample() {
    points.add(new long[] {System.nanoTime() - start, metrics.rowsScored(), metrics.tokens()});
    if (points.size() > MAX_POINTS) {
      List<long[]> kept = new ArrayList<>();
      for (int i = 0; i < points.size(); i += 2) {
        kept.add(points.get(i));
      }
      points.clear();
      points.addAll(kept);
      intervalMillis *= 2;
    }
  }

  /** Stops the thread and adds the end point. */
  @Override
  public void close() {
    if (stopped) {
      return;
    }
    stopped = true;
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sample();
  }

  /** The samples, cumulative, in time order; seconds to the millisecond. */
  synchronized List<RunSummary.ThroughputPoint> points() {
    List<RunSummary.ThroughputPoint> out = new ArrayList<>();
    for (long[] p : points) {
      out.add(new RunSummary.ThroughputPoint(Math.round(p[0] / 1e6) / 1000.0, p[1], p[2]));
    }
    return out;
  }
}
