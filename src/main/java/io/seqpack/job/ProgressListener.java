package io.seqpack.job;

import io.seqpack.util.Words;
import io.seqpack.spark.ScoreMetrics;
import java.io.PrintStream;
import java.util.Locale;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The progress of a run for people watching it. In a terminal: one line on stderr that updates in place as tasks
 * finish (rows read of the input's rows, tokens, tokens per second, elapsed time), ended by {@link #finish()}.
 * Otherwise (a log file, a scheduler's capture): one log line per finished stage, no control characters.
 */
final class ProgressListener extends SparkListener {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressListener.class);
  /** Redraws at most this often; tasks of a big job finish many times a second. */
  private static final long REDRAW_NANOS = 250_000_000L;

  private final ScoreMetrics metrics;
  private final long inputRows;
  private final long startNanos;
  private final PrintStream terminal; // null: log lines instead
  private long lastDraw;
  private int drawnWidth;

  private ProgressListener(ScoreMetrics metrics, long inputRows, long startNanos, PrintStream terminal) {
    this.metrics = metrics;
    this.inputRows = inputRows;
    this.startNanos = startNanos;
    this.terminal = terminal;
  }

  /** The line on stderr when this JVM runs in a terminal (and TERM is not {@code dumb}), else log lines. */
  static ProgressListener forThisProcess(ScoreMetrics metrics, long inputRows, long startNanos) {
    boolean interactive = System.console() != null && !"dumb".equals(System.getenv("TERM"));
    return new ProgressListener(metrics, inputRows, startNanos, interactive ? System.err : null);
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd event) {
    if (terminal != null) {
      draw(false);
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted event) {
    if (terminal != null) {
      draw(true);
      return;
    }
    StageInfo stage = event.stageInfo();
    LOG.info("seqpack: stage {} ({}) done; so far {} scored, {}, {}", stage.stageId(),
        Words.count(stage.numTasks(), "task"), Words.count(metrics.rowsScored(), "row"),
        Words.count(metrics.tokens(), "token"), Words.count(metrics.batches(), "batch", "batches"));
  }

  /** Draws the final state and ends the line, so what follows starts on a line of its own. */
  synchronized void finish() {
    if (terminal != null && drawnWidth > 0) {
      draw(true);
      terminal.println();
      drawnWidth = 0;
    }
  }

  private synchronized void draw(boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastDraw = now;
    String line = line(metrics.rowsSeen(), inputRows, metrics.tokens(), (now - startNanos) / 1e9);
    // Pad over a longer previous line instead of a clear-to-end escape: only \r is needed.
    String padded = line.length() < drawnWidth ? line + " ".repeat(drawnWidth - line.length()) : line;
    terminal.print("\r" + padded);
    terminal.flush();
    drawnWidth = line.length();
  }

  /** {@code seqpack: 1,234,567 of 10,000,000 rows (12%), 41.2M tokens, 312k tokens/s, 1:23}. */
  static String line(long rows, long inputRows, long tokens, double seconds) {
    String share = inputRows > 0 ? String.format(Locale.ROOT, " (%d%%)", Math.min(100, 100 * rows / inputRows)) : "";
    long s = (long) seconds;
    String elapsed = s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    return String.format(Locale.ROOT, "seqpack: %,d of %,d rows%s, %s tokens, %s tokens/s, %s", rows, inputRows,
        share, compact(tokens), compact(seconds > 0 ? (long) (tokens / seconds) : 0), elapsed);
  }

  private static String compact(long v) {
    if (v >= 10_000_000) {
      return String.format(Locale.ROOT, "%.1fM", v / 1e6);
    }
    if (v >= 10_000) {
      return String.format(Locale.ROOT, "%dk", v / 1000);
    }
    return Long.toString(v);
  }
}
