package io.seqpack.job;

import io.seqpack.ConfigException;
import io.seqpack.summary.Drift;
import io.seqpack.summary.RunSummary;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The run a run's scores are compared with ({@code --drift-baseline}, or an incremental run's last committed
 * run): its summary and how messages name it.
 */
record DriftBaseline(RunSummary summary, String shownAs) {

  /**
   * Reads {@code path}, a previous run's output folder or its {@value RunSummary#FILE}, and checks it has deciles
   * of exactly {@code heads}.
   *
   * @throws io.seqpack.SeqpackException one line: the file is missing, unreadable, of another summary format, or
   *     its heads differ
   */
  static DriftBaseline read(Configuration hadoop, String path, List<String> heads) {
    DriftBaseline baseline = new DriftBaseline(readSummary(hadoop, path), path);
    Drift.checkHeads(baseline.summary(), path, heads);
    return baseline;
  }

  /** Whether the baseline's run scored and recorded deciles (summaries of older versions did not). */
  boolean hasDeciles() {
    return summary.scoring() != null && !summary.scoring().scoreDeciles().isEmpty();
  }

  /** The summary at {@code path} (a folder or the file), without the head check. */
  static RunSummary readSummary(Configuration hadoop, String path) {
    Path file = path.endsWith(".json") ? new Path(path) : new Path(path, RunSummary.FILE);
    String text;
    try {
      FileSystem fs = file.getFileSystem(hadoop);
      if (!fs.exists(file)) {
        throw new ConfigException("Cannot read --drift-baseline " + path + ": " + file + " does not exist; pass a "
            + "previous run's output folder or its " + RunSummary.FILE);
      }
      try (InputStream in = fs.open(file)) {
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new ConfigException("Cannot read --drift-baseline " + path + ": " + e.getMessage(), e);
    }
    return RunSummary.fromJson(text, file.toString());
  }
}
