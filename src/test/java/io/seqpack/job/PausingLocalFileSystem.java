package io.seqpack.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The local file system, except that it stops the JVM's progress (for a test's {@code kill -9}) just before a
 * table checkpoint records a run's outcome: the rename of a {@code state-<n>.json} without a pending run. It
 * first creates the file {@code seqpack.test.pause-marker} (Hadoop setting) to say it is there. Test-only: a
 * child driver gets it with {@code --conf spark.hadoop.fs.file.impl=io.seqpack.job.PausingLocalFileSystem}.
 */
public class PausingLocalFileSystem extends LocalFileSystem {
  private static final Pattern STATE = Pattern.compile("state-\\d+\\.json");
  private static final Pattern PENDING = Pattern.compile("\"pending\"\\s*:\\s*\\{");

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    String marker = getConf().get("seqpack.test.pause-marker");
    if (marker != null && STATE.matcher(dst.getName()).matches()) {
      String state = new String(Files.readAllBytes(pathToFile(src).toPath()), StandardCharsets.UTF_8);
      if (!PENDING.matcher(state).find()) {
        Files.writeString(java.nio.file.Path.of(marker), dst.toString());
        try {
          Thread.sleep(Long.MAX_VALUE); // until the test's kill -9
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    return super.rename(src, dst);
  }
}
