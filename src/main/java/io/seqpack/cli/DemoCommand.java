package io.seqpack.cli;

import io.seqpack.SeqpackException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.data.RaggedBatch;
import io.seqpack.job.ScoreJob;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.RnnResult;
import io.seqpack.nn.SequenceModel;
import io.seqpack.pack.Packing;
import io.seqpack.pack.PaddedTensor;
import io.seqpack.summary.RunSummary;
import io.seqpack.util.JsonRecords;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code seqpack demo}: the PyTorch padding/packing tutorial, end to end through the real job. Writes the
 * tutorial's four sequences and a tutorial-shaped model (vocab 11, embedding 100, RNN 256, one output; the
 * weights PyTorch made with seed 0, shipped in the jar), scores them with {@code seqpack score} in local mode,
 * and shows what the tutorial's {@code output[:, -1, :]} would have returned instead.
 */
@Command(name = "demo",
    header = "score the PyTorch tutorial's four sequences with a tutorial-shaped model, end to end",
    description = "Scores the PyTorch packing tutorial's sequences [1,2,3], [4,5], [6,7,8,9], [10] with a "
        + "tutorial-shaped model (embedding 11x100 -> RNN 100->256 -> linear 256->1) through the real Spark job, "
        + "prints the predictions (shape [4, 1]) next to PyTorch's own numbers, and explains why the tutorial's "
        + "output[:, -1, :] is wrong for three of the four rows.")
final class DemoCommand implements Cli.Command {
  @Option(names = "--dir", paramLabel = "DIR",
      description = "where to write input.parquet, model/, predictions/ (default: a new temporary folder)")
  String dir;

  @Mixin Cli.SparkFlags spark;
  @Mixin Cli.Common common;

  static final int[][] SEQUENCES = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9}, {10}};
  private static final String[] MODEL_FILES = {"model.json", "model.safetensors"};

  @Override
  public void execute(PrintStream out) {
    Path dir = this.dir != null ? Path.of(Cli.required("demo", "--dir", this.dir)) : tempDir();
    Path modelDir = dir.resolve("model");
    writeModel(modelDir);
    String input = dir.resolve("input.parquet").toString();
    String output = dir.resolve("predictions").toString();
    out.println("seqpack demo: working in " + dir);

    float[][] seqpackScores;
    SparkSession session = Sessions.create("seqpack demo", spark.master, spark.conf);
    try {
      writeInput(session, input);
      ScoreJob.Options options =
          new ScoreJob.Options(input, modelDir, output, null, "id", "seq", List.of(), false, 0,
              BatchPlan.defaults(), true, false, 1.0);
      RunSummary summary = ScoreJob.run(session, options);
      seqpackScores = new float[SEQUENCES.length][];
      for (Row r : session.read().parquet(output).orderBy("id").collectAsList()) {
        seqpackScores[(int) r.getLong(0)] = toFloats(r.getList(2));
      }
      out.printf("scored %d rows (%d tokens) in %d batch(es); rejected %d; summary: %s/%s%n",
          summary.scoredRows(), summary.tokensScored(), summary.batches(), summary.rejectedRows(), output,
          RunSummary.FILE);
      out.println("kernels: " + String.join("; ", summary.scoring().kernels()) + " on "
          + io.seqpack.nn.OpenBlasCore.CpuInfo.current().describe());
    } finally {
      session.stop();
    }
    float[] pitfall = tutorialLastColumn(modelDir);
    PytorchExpected pytorch = pytorchExpected();
    printTable(out, seqpackScores, pitfall, pytorch);
  }

  /** What the tutorial does: unpack, take the last padded column for every row, apply the linear layer. */
  static float[] tutorialLastColumn(Path modelDir) {
    SequenceModel model = new SequenceModel(ModelLoader.load(modelDir));
    RnnResult rnn = model.runRnn(RaggedBatch.ofTokens(SEQUENCES));
    PaddedTensor padded = Packing.padPackedSequence(rnn.output(), true, 0f, null).padded();
    int width = padded.width();
    float[] lastColumn = new float[padded.batch() * width];
    for (int b = 0; b < padded.batch(); b++) {
      for (int j = 0; j < width; j++) {
        lastColumn[b * width + j] = padded.get(b, padded.steps() - 1, j);
      }
    }
    return model.applyHead(lastColumn, padded.batch());
  }

  private static void printTable(PrintStream out, float[][] scores, float[] pitfall, PytorchExpected pytorch) {
    int maxLength = 0;
    for (int[] s : SEQUENCES) {
      maxLength = Math.max(maxLength, s.length);
    }
    out.println();
    out.printf("predictions: shape [%d, %d]%n", scores.length, scores[0].length);
    out.printf("%-4s %-14s %-7s %-16s %-16s %-22s%n", "id", "sequence", "length", "seqpack", "PyTorch h_n",
        "tutorial output[:,-1]");
    for (int i = 0; i < SEQUENCES.length; i++) {
      double torch = pytorch.scores().get(i).get(0);
      boolean wrong = SEQUENCES[i].length < maxLength;
      out.printf("%-4d %-14s %-7d %-16.7f %-16.7f %-10.7f %s%n", i, java.util.Arrays.toString(SEQUENCES[i]),
          SEQUENCES[i].length, scores[i][0], torch, pitfall[i], wrong ? "<- padding, not the sequence" : "ok");
    }
    out.println();
    out.println("""
        Why three of the four tutorial values are wrong: after pad_packed_sequence the output has one column per
        step of the LONGEST sequence (4 here). output[:, -1, :] reads column 4 for every row, but only [6,7,8,9]
        has a 4th step; for the others that column is the zero padding, so the linear layer sees a zero vector
        and returns its bias (the same number for all three). seqpack scores the last VALID step of each row
        (h_n, what PyTorch's RNN returns as its final state), so every row gets its own prediction, equal to
        PyTorch's within float32 rounding.""");
  }

  private static void writeModel(Path modelDir) {
    try {
      Files.createDirectories(modelDir);
      for (String name : MODEL_FILES) {
        try (InputStream in = DemoCommand.class.getResourceAsStream("/io/seqpack/demo/" + name)) {
          if (in == null) {
            throw new SeqpackException("Cannot find the demo model resource " + name + " in the seqpack jar");
          }
          Files.write(modelDir.resolve(name), in.readAllBytes());
        }
      }
    } catch (IOException e) {
      throw new SeqpackException("Cannot write the demo model to " + modelDir + ": " + e.getMessage(), e);
    }
  }

  /** {@code pytorch_expected.json}, written by {@code scripts/make_golden.py} (case 'tutorial'). */
  private record PytorchExpected(String source, List<List<Integer>> inputs, List<List<Double>> scores,
      List<List<Double>> tutorialLastColumn) {}

  private static PytorchExpected pytorchExpected() {
    try (InputStream in = DemoCommand.class.getResourceAsStream("/io/seqpack/demo/pytorch_expected.json")) {
      return JsonRecords.read(new String(in.readAllBytes(), StandardCharsets.UTF_8), PytorchExpected.class,
          "the demo's PyTorch reference values", SeqpackException::new);
    } catch (IOException | NullPointerException e) {
      throw new SeqpackException("Cannot read the demo's PyTorch reference values from the seqpack jar", e);
    }
  }

  private static void writeInput(SparkSession spark, String path) {
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, false), false)));
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < SEQUENCES.length; i++) {
      List<Integer> seq = new ArrayList<>();
      for (int token : SEQUENCES[i]) {
        seq.add(token);
      }
      rows.add(RowFactory.create((long) i, seq));
    }
    spark.createDataFrame(rows, schema).coalesce(1).write().mode("overwrite").parquet(path);
  }

  private static float[] toFloats(List<Object> values) {
    float[] f = new float[values.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = ((Number) values.get(i)).floatValue();
    }
    return f;
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("seqpack-demo-");
    } catch (IOException e) {
      throw new SeqpackException("Cannot create a temporary folder for the demo: " + e.getMessage(), e);
    }
  }
}
