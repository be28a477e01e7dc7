package io.seqpack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.model.SafeTensors;
import io.seqpack.model.Tensor;
import io.seqpack.spark.LocalSpark;
import io.seqpack.summary.RunSummary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Score drift end to end through the CLI: a golden sigmoid model (three outputs) scores two samples of the same
 * token distribution, then a copy whose head bias is shifted scores the second sample.
 */
class DriftIT {
  private static final Path MODEL = Path.of("src/test/resources/golden/gru_mean_sigmoid");
  @TempDir static Path tmp;
  private static String first;
  private static String second;
  private static Path shifted;
  private static Path baseline;

  record Result(int status, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @BeforeAll
  static void writeInputsModelAndBaseline() throws IOException {
    SparkSession spark = LocalSpark.start();
    try {
      first = write(spark, "first", new Random(1));
      second = write(spark, "second", new Random(2));
    } finally {
      spark.stop();
    }
    shifted = tmp.resolve("shifted-model");
    Files.createDirectories(shifted);
    Files.copy(MODEL.resolve("model.json"), shifted.resolve("model.json"));
    Map<String, Tensor> tensors = new TreeMap<>(SafeTensors.read(Files.readAllBytes(MODEL.resolve(
        "model.safetensors")), "model.safetensors"));
    Tensor bias = tensors.get("fc.bias");
    float[] moved = bias.data().clone();
    for (int k = 0; k < moved.length; k++) {
      moved[k] += 2.0f; // every output's logit up by 2: the scores move well past their deciles
    }
    tensors.put("fc.bias", new Tensor("fc.bias", bias.shape(), moved));
    Files.write(shifted.resolve("model.safetensors"), SafeTensors.write(tensors, Map.of("format", "pt")));

    baseline = tmp.resolve("baseline");
    Result r = score(first, MODEL, baseline);
    assertEquals(0, r.status(), r.err());
  }

  /** 3000 rows of 1 to 12 tokens drawn uniformly from the model's 20. */
  private static String write(SparkSession spark, String name, Random random) {
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("seq", DataTypes.createArrayType(DataTypes.IntegerType, false), false);
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 3000; id++) {
      int[] seq = random.ints(1 + random.nextInt(12), 0, 20).toArray();
      rows.add(RowFactory.create(id, java.util.Arrays.stream(seq).boxed().toList()));
    }
    String path = tmp.resolve(name + ".parquet").toString();
    spark.createDataFrame(rows, schema).repartition(2).write().parquet(path);
    return path;
  }

  private static Result score(String input, Path model, Path output, String... more) {
    List<String> args = new ArrayList<>(List.of("score", "--input", input, "--model", model.toString(), "--output",
        output.toString(), "--master", "local[2]"));
    args.addAll(List.of(more));
    return run(args.toArray(new String[0]));
  }

  private static void assertOneLineError(Result r, int status, String expected) {
    assertEquals(status, r.status(), "stdout: " + r.out() + "\nstderr: " + r.err());
    String lastLine = r.err().strip().lines().reduce((a, b) -> b).orElse("");
    assertEquals(expected, lastLine);
  }

  @Test
  void everySummaryRecordsDecilesPerHeadAndOutput() {
    RunSummary s = RunSummary.read(baseline.resolve(RunSummary.FILE));
    List<RunSummary.Deciles> deciles = s.scoring().scoreDeciles();
    assertEquals(3, deciles.size());
    for (RunSummary.Deciles d : deciles) {
      assertEquals(3000, d.rows());
      // this small random model's scores lie within a few grid cells of 0.54, so some deciles merge
      assertTrue(d.edges().size() >= 3, d.toString());
    }
    assertNull(s.scoring().drift());
  }

  @Test
  void freshRowsOfTheSameDistributionAreStable() {
    Path out = tmp.resolve("same");
    Result r = score(second, MODEL, out, "--drift-baseline", baseline.toString(), "--max-drift", "0.2");
    assertEquals(0, r.status(), r.err());
    RunSummary.HeadDrift d = only(RunSummary.read(out.resolve(RunSummary.FILE)).scoring().drift());
    assertTrue(d.psi() < 0.1, "PSI " + d.psi());
    assertEquals(3000, d.baselineRows());
    assertEquals(3000, d.rows());
    assertEquals(baseline.toString(), d.baseline());
    assertEquals(3, d.perOutput().size());
  }

  @Test
  void aShiftedHeadBiasIsShifted() {
    Path out = tmp.resolve("shifted-out");
    Result r = score(second, shifted, out, "--drift-baseline", baseline.resolve(RunSummary.FILE).toString());
    assertEquals(0, r.status(), r.err());
    RunSummary.HeadDrift d = only(RunSummary.read(out.resolve(RunSummary.FILE)).scoring().drift());
    assertTrue(d.psi() > 0.25, "PSI " + d.psi());
  }

  @Test
  void maxDriftRefusesAShiftedRunAndPublishesNothing() throws IOException {
    Path out = tmp.resolve("refused");
    Result r = score(second, shifted, out, "--drift-baseline", baseline.toString(), "--max-drift", "0.2");
    assertEquals(3, r.status(), r.err());
    String line = r.err().strip().lines().reduce((a, b) -> b).orElse("");
    assertTrue(line.matches("seqpack: score drift: head '[^']+' PSI [0-9.]+ > 0\\.2 against "
        + java.util.regex.Pattern.quote(baseline.toString())
        + "; nothing was published \\(raise --max-drift to accept\\)"), line);
    assertFalse(Files.exists(out), "no output folder");
    try (Stream<Path> files = Files.walk(tmp)) {
      assertTrue(files.noneMatch(p -> p.toString().startsWith(out.toString()) && p.toString().endsWith(".parquet")));
    }
    Path refused = Path.of(out + "._refused_summary.json");
    RunSummary s = RunSummary.read(refused);
    assertTrue(only(s.scoring().drift()).psi() > 0.2);
  }

  @Test
  void aMissingBaselineIsOneLineAndExitTwo() {
    Path missing = tmp.resolve("no-such-run");
    Result r = score(second, MODEL, tmp.resolve("o-missing"), "--drift-baseline", missing.toString());
    assertOneLineError(r, 2, "seqpack: error: Cannot read --drift-baseline " + missing + ": "
        + missing.resolve(RunSummary.FILE) + " does not exist; pass a previous run's output folder or its "
        + RunSummary.FILE);
  }

  @Test
  void aBaselineOfOtherHeadsIsOneLineAndExitTwo() throws IOException {
    String text = Files.readString(baseline.resolve(RunSummary.FILE));
    String head = RunSummary.read(baseline.resolve(RunSummary.FILE)).scoring().scoreDeciles().get(0).head();
    Path other = tmp.resolve("other-heads.json");
    Files.writeString(other, text.replace("\"" + head + "\"", "\"churn\""));
    Result r = score(second, MODEL, tmp.resolve("o-heads"), "--drift-baseline", other.toString());
    assertOneLineError(r, 2, "seqpack: error: Cannot compare with baseline " + other + ": its heads are [churn], "
        + "this model's are [" + head + "]; pass the output folder or summary of a run of this model");
  }

  @Test
  void aSummaryOfFormatOneIsOneLineAndExitTwo() throws IOException {
    Path old = tmp.resolve("format1.json");
    Files.writeString(old, Files.readString(baseline.resolve(RunSummary.FILE))
        .replaceFirst("\"summary_format\"\\s*:\\s*2", "\"summary_format\": 1"));
    Result r = score(second, MODEL, tmp.resolve("o-old"), "--drift-baseline", old.toString());
    assertEquals(2, r.status(), r.err());
    String line = r.err().strip();
    assertEquals(1, line.lines().count(), line);
    assertTrue(line.startsWith("seqpack: error: Cannot read summary " + old + ": summary_format is 1"), line);
  }

  @Test
  void anIncrementalRunComparesWithTheLastCommittedOneAndARefusedRunIsRetried() throws IOException {
    Path in = tmp.resolve("incoming");
    Path cp = tmp.resolve("checkpoint");
    Path out = tmp.resolve("incremental-out");
    copyParquet(Path.of(first), in);
    String[] flags = {"--incremental", "--checkpoint", cp.toString(), "--max-drift", "0.2"};
    Result r1 = score(in.toString(), MODEL, out, flags);
    assertEquals(0, r1.status(), r1.err());
    assertNull(RunSummary.read(out.resolve(RunSummary.FILE)).scoring().drift(), "the first run has no baseline");
    List<Path> manifests = list(cp.resolve("manifest"));
    List<Path> outputs = parquet(out);

    copyParquet(Path.of(second), in);
    Result refused = score(in.toString(), shifted, out, flags);
    assertEquals(3, refused.status(), refused.err());
    assertTrue(refused.err().strip().lines().reduce((a, b) -> b).orElse("").startsWith(
        "seqpack: score drift: head 'scores' PSI "), refused.err());
    assertEquals(manifests, list(cp.resolve("manifest")), "nothing committed");
    assertEquals(outputs, parquet(out), "nothing published");

    Result retried = score(in.toString(), MODEL, out, flags);
    assertEquals(0, retried.status(), retried.err());
    RunSummary s = RunSummary.read(out.resolve(RunSummary.FILE));
    assertEquals(3000, s.run().newRows(), "the refused run's files are scored again");
    RunSummary.HeadDrift d = only(s.scoring().drift());
    assertTrue(d.psi() < 0.1, "PSI " + d.psi());
    assertEquals(out.resolve(RunSummary.FILE).toString(), d.baseline());
  }

  private static void copyParquet(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (Path p : parquet(from)) {
      Files.copy(p, to.resolve(p.getFileName()));
    }
  }

  private static List<Path> parquet(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(p -> p.toString().endsWith(".parquet")).sorted().toList();
    }
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.sorted().toList();
    }
  }

  private static RunSummary.HeadDrift only(Map<String, RunSummary.HeadDrift> drift) {
    assertNotNull(drift);
    assertEquals(1, drift.size(), drift.toString());
    return drift.values().iterator().next();
  }
}
