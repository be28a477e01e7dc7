package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command, {@code scripts/seqpack demo}, run as a user runs it: a separate process. */
class ReadmeDemoIT {
  @TempDir Path tmp;

  @Test
  void launcherRunsTheDemo() throws Exception {
    Path log = tmp.resolve("demo.log");
    ProcessBuilder pb = new ProcessBuilder("scripts/seqpack", "demo", "--dir", tmp.resolve("demo").toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("SEQPACK_NO_BUILD", "1"); // the build that runs this test just compiled everything
    pb.environment().put("SEQPACK_JAVA_OPTS", "-Xmx1g");
    Process p = pb.start();
    boolean finished = p.waitFor(300, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertTrue(finished, "demo did not finish in 300 s:\n" + output);
    assertEquals(0, p.exitValue(), output);
    assertTrue(output.contains("predictions: shape [4, 1]"), output);
    assertTrue(output.contains("<- padding, not the sequence"), output);
    // a clean first screen: no JVM warnings from recording the class-data archive, no escape codes, no progress bar
    assertFalse(output.contains("[warning]"), output);
    assertFalse(output.contains("\u001b"), "escape codes in:\n" + output);
    assertFalse(output.contains("[Stage "), "Spark's progress bar in:\n" + output);
    long lines = output.lines().count();
    assertTrue(lines <= 30, lines + " lines:\n" + output);
    assertTrue(output.lines().anyMatch(l -> l.startsWith("kernels: gemm ")), "the kernels line in:\n" + output);
    assertTrue(new File(tmp.toFile(), "demo/predictions/_SUCCESS").exists());
    assertTrue(new File(tmp.toFile(), "demo/predictions/_seqpack_summary.json").exists());
  }
}
