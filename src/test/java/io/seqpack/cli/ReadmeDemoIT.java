package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, {@code scripts/seqpack demo}, run as a user runs it: a separate process; and {@code
 * seqpack score} in a terminal (a pseudo-terminal from util-linux {@code script}), where its progress is one line
 * that updates in place.
 */
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
    // nor the JVM's "WARNING: Using incubator modules" (the launcher drops that one line) or any other WARNING
    assertFalse(output.contains("WARNING:"), output);
    assertFalse(output.contains("\u001b"), "escape codes in:\n" + output);
    assertFalse(output.contains("[Stage "), "Spark's progress bar in:\n" + output);
    long lines = output.lines().count();
    assertTrue(lines <= 30, lines + " lines:\n" + output);
    assertTrue(output.lines().anyMatch(l -> l.startsWith("kernels: gemm ")), "the kernels line in:\n" + output);
    assertTrue(new File(tmp.toFile(), "demo/predictions/_SUCCESS").exists());
    assertTrue(new File(tmp.toFile(), "demo/predictions/_seqpack_summary.json").exists());
  }

  @Test
  void scoreInATerminalDrawsOneProgressLineThatUpdatesInPlace() throws Exception {
    Assumptions.assumeTrue(new File("/usr/bin/script").canExecute(), "needs util-linux script for a pseudo-terminal");
    Path demo = tmp.resolve("demo");
    assertEquals(0, launcher(List.of("scripts/seqpack", "demo", "--dir", demo.toString()), tmp.resolve("demo.log")),
        Files.readString(tmp.resolve("demo.log")));
    String score = String.join(" ", "scripts/seqpack", "score", "--input", demo.resolve("input.parquet").toString(),
        "--model", demo.resolve("model").toString(), "--output", tmp.resolve("scored").toString());
    Path log = tmp.resolve("score-tty.log");
    // script -e: its exit status is the command's; -f: flush as it goes; the typescript goes to /dev/null
    assertEquals(0, launcher(List.of("script", "-qefc", score, "/dev/null"), log), Files.readString(log));
    String screen = Files.readString(log, StandardCharsets.UTF_8);
    assertTrue(screen.contains("\rseqpack: 4 of 4 rows (100%), "), "the progress line in:\n" + screen);
    int last = screen.lastIndexOf("\rseqpack: 4 of 4 rows (100%)");
    assertTrue(screen.indexOf("\n", last) > last, "the progress line ends with a newline:\n" + screen);
    assertFalse(screen.contains("stage "), "per-stage log lines are for logs, not terminals:\n" + screen);
    assertFalse(screen.contains("WARNING:"), "a JVM warning on the terminal:\n" + screen);
    assertTrue(Files.exists(tmp.resolve("scored/_SUCCESS")), "the scored output");
  }

  /** Runs a command from the project folder with the test settings, output to a log; its exit status. */
  private static int launcher(List<String> command, Path log) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SEQPACK_NO_BUILD", "1");
    pb.environment().put("SEQPACK_JAVA_OPTS", "-Xmx1g");
    pb.environment().put("TERM", "xterm");
    Process p = pb.start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command + " did not finish in 300 s:\n" + Files.readString(log));
    }
    return p.exitValue();
  }
}
