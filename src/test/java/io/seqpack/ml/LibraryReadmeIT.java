package io.seqpack.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.testing.Golden;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README "Use seqpack as a library": its Java class compiled and run in a new JVM with conf/java17-options.txt and
 * the README's log4j2 lines, scoring the tutorial model as PyTorch does; the options file is the pom's list; the
 * jars carry no log4j2 configuration.
 */
class LibraryReadmeIT {
  private static final Path README = Path.of("README.md");
  private static final Path JAVA17_OPTIONS = Path.of("conf", "java17-options.txt");
  private static final Path TUTORIAL = Golden.root().resolve("tutorial");

  @TempDir Path tmp;

  /** The fenced block between {@code <!-- readme-test:NAME begin -->} and {@code <!-- readme-test:NAME end -->}. */
  private static String readmeBlock(String name) throws IOException {
    String readme = Files.readString(README);
    String begin = "<!-- readme-test:" + name + " begin -->";
    String end = "<!-- readme-test:" + name + " end -->";
    int from = readme.indexOf(begin);
    int to = readme.indexOf(end);
    assertTrue(from >= 0 && to > from, "README.md has no block " + begin + " ... " + end);
    List<String> lines = new ArrayList<>(readme.substring(from + begin.length(), to).strip().lines().toList());
    assertTrue(lines.get(0).startsWith("```") && lines.get(lines.size() - 1).equals("```"),
        "README.md block " + name + " is one fenced code block");
    return String.join("\n", lines.subList(1, lines.size() - 1)) + "\n";
  }

  @Test
  void theReadmeClassCompilesScoresLikePyTorchAndSavesThePipeline() throws Exception {
    String source = readmeBlock("library-class");
    Matcher publicClass = Pattern.compile("public class (\\w+)").matcher(source);
    assertTrue(publicClass.find(), "the README's Java block declares a public class");
    String className = publicClass.group(1);
    Path sources = Files.createDirectories(tmp.resolve("src"));
    Path classes = Files.createDirectories(tmp.resolve("classes"));
    Path file = Files.writeString(sources.resolve(className + ".java"), source);
    String classpath = System.getProperty("java.class.path");
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "a JDK (javax.tools) runs the tests");
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int compiled = javac.run(null, diagnostics, diagnostics, "-classpath", classpath, "-d", classes.toString(),
        file.toString());
    assertEquals(0, compiled, () -> "README class does not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8));

    Path log4j2 = Files.writeString(tmp.resolve("log4j2.properties"), readmeBlock("log4j2"));
    Path pipeline = tmp.resolve("pipeline");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "@" + JAVA17_OPTIONS.toAbsolutePath(), "-Xmx1g", "-Dlog4j2.configurationFile=" + log4j2,
        "-cp", classes + java.io.File.pathSeparator + classpath, className, TUTORIAL.toString(), pipeline.toString()));
    Path log = tmp.resolve("child.log");
    Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the README class finished");
    String output = Files.readString(log);
    assertEquals(0, child.exitValue(), () -> "README class failed:\n" + output);

    // show(false): |id |length|scores|, the scores of PyTorch's h_n (golden/tutorial/case.json) within 1e-5
    Object want = Golden.readCase(TUTORIAL).get("scores");
    Pattern row = Pattern.compile("(?m)^\\|(\\d+)\\s*\\|(\\d+)\\s*\\|\\[([^\\]]*)\\]\\s*\\|$");
    Map<Integer, Float> scores = new HashMap<>();
    Map<Integer, Integer> lengths = new HashMap<>();
    for (Matcher m = row.matcher(output); m.find(); ) {
      scores.put(Integer.parseInt(m.group(1)), Float.parseFloat(m.group(3)));
      lengths.put(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }
    assertEquals(Map.of(0, 3, 1, 2, 2, 4, 3, 1), lengths, output);
    for (int id = 0; id < 4; id++) {
      assertEquals(Golden.floats(Golden.at(want, id))[0], scores.get(id), 1e-5, "row " + id);
    }
    // the README's log4j2 lines keep Spark's INFO log (hundreds of lines, starting with its version) off the screen
    assertFalse(output.contains("Running Spark version"), output);
    assertTrue(output.lines().count() <= 30, () -> output.lines().count() + " lines:\n" + output);

    System.out.print(output);
    try (Stream<Path> metadata = Files.walk(pipeline.resolve("metadata"))) {
      assertTrue(metadata.filter(Files::isRegularFile).anyMatch(f -> read(f).contains("PipelineModel")),
          "a PipelineModel's metadata in " + pipeline);
    }
    try (Stream<Path> stages = Files.list(pipeline.resolve("stages"))) {
      List<Path> saved = stages.toList();
      assertEquals(1, saved.size(), saved.toString());
      for (String f : List.of("model.json", "model.safetensors")) {
        assertEquals(-1, Files.mismatch(TUTORIAL.resolve(f),
            saved.get(0).resolve(SequenceScorerTransformer.MODEL_DIR).resolve(f)), f + " saved with the pipeline");
      }
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void theJava17OptionsFileHoldsThePomsList() throws IOException {
    String pom = System.getProperty("seqpack.jvmOpens");
    assertNotNull(pom, "failsafe passes the pom's spark.jvm.opens as seqpack.jvmOpens");
    assertEquals(Arrays.asList(pom.trim().split("\\s+")), Files.readAllLines(JAVA17_OPTIONS),
        JAVA17_OPTIONS + " must list the pom's spark.jvm.opens, one option a line");
  }

  @Test
  void theJarsShipNoLog4j2Configuration() throws IOException {
    String shaded = System.getProperty("seqpack.shadedJar");
    assertNotNull(shaded, "failsafe passes the shaded jar's path as seqpack.shadedJar");
    for (String jar : List.of(shaded, shaded.replace("-all.jar", ".jar"))) {
      try (ZipFile zip = new ZipFile(jar)) {
        for (String name : List.of("log4j2.properties", "log4j2.xml", "log4j2.yaml", "log4j2.yml", "log4j2.json",
            "log4j2-test.properties", "log4j2-test.xml")) {
          assertEquals(null, zip.getEntry(name), jar + " must leave logging to the application: it has " + name);
        }
      }
    }
  }
}
