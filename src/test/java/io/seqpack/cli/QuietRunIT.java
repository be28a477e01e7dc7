package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A healthy run, with rejects, through the launcher as users start it: no warning the user cannot act on (the
 * only one allowed is about their own OpenBLAS environment), and seqpack's lines in one format.
 */
class QuietRunIT {
  @TempDir Path tmp;

  record Run(int status, String stdout, List<String> stderr) {}

  private Run seqpack(String... args) throws IOException, InterruptedException {
    Path out = tmp.resolve("stdout.txt");
    Path err = tmp.resolve("stderr.txt");
    List<String> command = new ArrayList<>(List.of("scripts/seqpack"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().put("SEQPACK_NO_BUILD", "1"); // built by the lifecycle already
    pb.environment().put("SEQPACK_CDS", "0");
    pb.environment().put("SEQPACK_JAVA_OPTS", "-Xmx1g");
    int status = pb.start().waitFor();
    return new Run(status, Files.readString(out, StandardCharsets.UTF_8),
        Files.readAllLines(err, StandardCharsets.UTF_8));
  }

  private static void assertNoWarning(Run run) {
    List<String> warnings = run.stderr().stream()
        .filter(line -> line.contains("WARN"))
        .filter(line -> !line.contains("OpenBLAS runs its")) // the user's own environment: actionable
        .toList();
    assertEquals(List.of(), warnings, String.join("\n", run.stderr()));
  }

  @Test
  void aRunWithRejectsPrintsNoWarning() throws Exception {
    Path demo = tmp.resolve("demo");
    Run made = seqpack("demo", "--dir", demo.toString(), "--master", "local[1]");
    assertEquals(0, made.status(), String.join("\n", made.stderr()));
    assertNoWarning(made);

    Path output = tmp.resolve("scores");
    Run scored = seqpack("score", "--input", demo.resolve("input.parquet").toString(), "--model",
        demo.resolve("model").toString(), "--output", output.toString(), "--max-length", "2", "--master", "local[1]");
    assertEquals(0, scored.status(), String.join("\n", scored.stderr()));
    assertTrue(scored.stdout().contains("\"TOO_LONG\""), scored.stdout());
    assertNoWarning(scored);
  }
}
