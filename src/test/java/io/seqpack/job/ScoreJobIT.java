package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ConfigException;
import io.seqpack.InputSchemaException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.model.ModelLoader;
import io.seqpack.spark.LocalSpark;
import io.seqpack.summary.RunSummary;
import io.seqpack.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch job end to end in local mode, on Parquet written by Spark, against PyTorch's golden values. */
class ScoreJobIT {
  private static final double TOLERANCE = 1e-5;
  private static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void startSpark() {
    spark = LocalSpark.start();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private ScoreJob.Options options(String input, Path model, String output, boolean perStep, BatchPlan plan) {
    return new ScoreJob.Options(input, model, output, null, "id", "seq", List.of(), perStep, 0, plan, false, false, 1.0);
  }

  /** Scores a golden case through Parquet and the job; checks scores and step scores against PyTorch. */
  private double scoreGoldenCase(String name, DataType element, int partitions, BatchPlan plan) throws Exception {
    GoldenInputs golden = new GoldenInputs(name);
    String input = tmp.resolve(name + "-" + plan.batchTokens() + "-in").toString();
    golden.dataset(spark, element, partitions).write().parquet(input);
    String output = tmp.resolve(name + "-" + plan.batchTokens() + "-out").toString();

    RunSummary summary = ScoreJob.run(spark, options(input, golden.dir, output, true, plan));

    float[][] expected = golden.rows("scores");
    float[][][] expectedSteps = golden.stepScores();
    assertEquals(expected.length, summary.inputRows());
    assertEquals(expected.length, summary.scoredRows());
    assertEquals(0, summary.rejectedRows());
    List<Row> rows = spark.read().parquet(output).orderBy("id").collectAsList();
    assertEquals(expected.length, rows.size());
    double worst = 0;
    for (Row row : rows) {
      int id = (int) row.getLong(0);
      List<Object> scores = row.getList(2);
      assertEquals(expectedSteps[id].length, row.getInt(1), "length of row " + id);
      assertEquals(expected[id].length, scores.size());
      for (int k = 0; k < scores.size(); k++) {
        worst = Math.max(worst, Math.abs(((Float) scores.get(k)) - expected[id][k]));
      }
      List<Object> steps = row.getList(3);
      assertEquals(expectedSteps[id].length, steps.size());
      for (int t = 0; t < steps.size(); t++) {
        float[] step = Golden.floats(toJava(steps.get(t)));
        for (int k = 0; k < step.length; k++) {
          worst = Math.max(worst, Math.abs(step[k] - expectedSteps[id][t][k]));
        }
      }
    }
    assertTrue(worst <= TOLERANCE, name + ": worst error " + worst);
    return worst;
  }

  private static Object toJava(Object value) {
    return value instanceof scala.collection.Seq<?> seq ? scala.jdk.javaapi.CollectionConverters.asJava(seq) : value;
  }

  @Test
  void tokenModelsMatchPyTorchWhateverThePartitioningAndBatching() throws Exception {
    BatchPlan tiny = new BatchPlan(40, 3, 2); // many small batches, several windows
    for (String name : List.of("tutorial", "gru_bi3", "lstm_proj_bi2", "rnn_tanh_mean_bi_softmax", "ties_b20",
        "long_gru_bi")) {
      double a = scoreGoldenCase(name, DataTypes.IntegerType, 3, tiny);
      double b = scoreGoldenCase(name, DataTypes.LongType, 1, BatchPlan.defaults());
      System.out.printf("ScoreJobIT %-26s worst |seqpack - PyTorch| = %.2e (small batches), %.2e (defaults)%n",
          name, a, b);
    }
  }

  @Test
  void featureModelsMatchPyTorchWithFloatAndDoubleColumns() throws Exception {
    for (String name : List.of("features_gru_bi2", "features_lstm_mean_bi", "features_rnn_relu_bi")) {
      double a = scoreGoldenCase(name, DataTypes.DoubleType, 2, new BatchPlan(16, 2, 1));
      double b = scoreGoldenCase(name, DataTypes.FloatType, 1, BatchPlan.defaults());
      System.out.printf("ScoreJobIT %-26s worst |seqpack - PyTorch| = %.2e (double), %.2e (float)%n", name, a, b);
    }
  }

  @Test
  void everyRowIsScoredOrRejectedWithItsReason() throws Exception {
    GoldenInputs golden = new GoldenInputs("gru"); // a token model
    int vocab = 20;
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.StringType, true),
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.LongType, true), true)));
    List<Row> rows = new ArrayList<>();
    Map<String, String> expectedReason = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      rows.add(RowFactory.create("good-" + i, longs(1 + i % 25, i)));
    }
    rows.add(RowFactory.create(null, longs(3, 1)));
    rows.add(RowFactory.create("null-seq", null));
    expectedReason.put("null-seq", "NULL_SEQUENCE");
    rows.add(RowFactory.create("empty", List.of()));
    expectedReason.put("empty", "EMPTY_SEQUENCE");
    rows.add(RowFactory.create("negative", List.of(1L, -1L, 2L)));
    expectedReason.put("negative", "TOKEN_OUT_OF_RANGE");
    rows.add(RowFactory.create("too-big", List.of(1L, 2L, (long) vocab)));
    expectedReason.put("too-big", "TOKEN_OUT_OF_RANGE");
    rows.add(RowFactory.create("huge", List.of(1L << 40)));
    expectedReason.put("huge", "TOKEN_OUT_OF_RANGE");
    List<Long> withNull = new ArrayList<>(List.of(1L, 2L));
    withNull.add(null);
    rows.add(RowFactory.create("null-token", withNull));
    expectedReason.put("null-token", "TOKEN_OUT_OF_RANGE");
    rows.add(RowFactory.create("long", longs(31, 0)));
    expectedReason.put("long", "TOO_LONG");
    String input = tmp.resolve("mixed").toString();
    spark.createDataFrame(rows, schema).repartition(3).write().parquet(input);
    String output = tmp.resolve("mixed-out").toString();

    ScoreJob.Options opts = new ScoreJob.Options(input, golden.dir, output, null, "id", "seq", List.of(), false, 30,
        new BatchPlan(50, 4, 2), false, false, 1.0);
    RunSummary summary = ScoreJob.run(spark, opts);

    assertEquals(rows.size(), summary.inputRows());
    assertEquals(40, summary.scoredRows());
    assertEquals(rows.size() - 40, summary.rejectedRows());
    Map<String, Long> byReason = summary.rejectsByReason();
    assertEquals(Map.of("NULL_ID", 1L, "NULL_SEQUENCE", 1L, "EMPTY_SEQUENCE", 1L, "TOKEN_OUT_OF_RANGE", 4L,
        "TOO_LONG", 1L), byReason);
    // up to three example ids per reason, each a row rejected for that reason; a null id is no example
    assertEquals(Map.of("NULL_SEQUENCE", List.of("null-seq"), "EMPTY_SEQUENCE", List.of("empty"), "TOO_LONG",
        List.of("long")), Map.of("NULL_SEQUENCE", summary.rejectExamples().get("NULL_SEQUENCE"), "EMPTY_SEQUENCE",
        summary.rejectExamples().get("EMPTY_SEQUENCE"), "TOO_LONG", summary.rejectExamples().get("TOO_LONG")));
    assertEquals(null, summary.rejectExamples().get("NULL_ID"));
    List<String> tokenExamples = summary.rejectExamples().get("TOKEN_OUT_OF_RANGE");
    assertEquals(3, tokenExamples.size(), tokenExamples.toString());
    tokenExamples.forEach(id -> assertEquals("TOKEN_OUT_OF_RANGE", expectedReason.get(id), id));
    assertEquals(3, new java.util.HashSet<>(tokenExamples).size());
    Dataset<Row> rejects = spark.read().parquet(output + "_rejects");
    assertEquals(List.of("id", "reason", "detail"), List.of(rejects.schema().fieldNames()));
    for (Row r : rejects.collectAsList()) {
      String id = r.getString(0);
      if (id == null) {
        assertEquals("NULL_ID", r.getString(1));
        continue;
      }
      assertEquals(expectedReason.get(id), r.getString(1), "reason of " + id);
    }
    Map<String, String> details = new HashMap<>();
    rejects.collectAsList().forEach(r -> details.put(r.getString(0), r.getString(2)));
    assertEquals("token -1 at step 1 is outside [0, 20)", details.get("negative"));
    assertEquals("token 20 at step 2 is outside [0, 20)", details.get("too-big"));
    assertEquals("token at step 2 is null", details.get("null-token"));
    assertEquals("length 31 exceeds --max-length 30", details.get("long"));

    Dataset<Row> predictions = spark.read().parquet(output);
    assertEquals("struct<id:string,length:int,scores:array<float>>", predictions.schema().simpleString());
    assertEquals(40, predictions.filter("id like 'good-%'").count());

    // the summary file the job wrote, read through the codec: the record run() returned, with this input's figures
    Path summaryFile = Path.of(output, RunSummary.FILE);
    assertTrue(Files.readString(summaryFile).startsWith("{\n  \"summary_format\": 2,\n"));
    RunSummary written = RunSummary.read(summaryFile);
    assertEquals(summary, written);
    assertEquals(rows.size(), written.inputRows());
    assertEquals(written.inputRows(), written.scoredRows() + written.rejectedRows());
    assertEquals(Map.of("NULL_ID", 1L, "NULL_SEQUENCE", 1L, "EMPTY_SEQUENCE", 1L, "TOKEN_OUT_OF_RANGE", 4L,
        "TOO_LONG", 1L), written.rejectsByReason());
    long goodTokens = 0;
    for (int i = 0; i < 40; i++) {
      goodTokens += 1 + i % 25;
    }
    assertEquals(goodTokens, written.tokensScored());
    assertNull(written.run(), "a batch run has no run part");
    RunSummary.Scoring scoring = written.scoring();
    assertEquals(ModelLoader.load(golden.dir).contentHash(), scoring.modelHash());
    assertEquals(List.of(30, 50, 4, "local[2]"), List.of(scoring.settings().maxLength(),
        scoring.settings().batchTokens(), scoring.settings().maxBatchRows(), scoring.settings().master()));
    assertEquals(40, scoring.lengthHistogram().counts().stream().mapToLong(Long::longValue).sum());
    assertEquals(40, scoring.buckets().stream().mapToLong(RunSummary.Bucket::rows).sum());
    assertEquals(goodTokens, scoring.buckets().stream().mapToLong(RunSummary.Bucket::tokens).sum());
    assertEquals(written.batches(), scoring.buckets().stream().mapToLong(RunSummary.Bucket::batches).sum());
    assertEquals(40, scoring.throughput().get(scoring.throughput().size() - 1).rows());
    assertTrue(written.batches() >= 40 / 4, "at most 4 rows a batch: " + written.batches());
    assertEquals(List.of(io.seqpack.model.ModelSpec.V1_HEAD), scoring.scoreHistograms().stream()
        .map(RunSummary.ScoreHistogram::head).distinct().toList(), "the histograms are named by the model's head");
    for (RunSummary.ScoreHistogram h : scoring.scoreHistograms()) {
      assertEquals(40, h.rows(), "every scored row in the histogram of output " + h.output());
    }
    assertEquals(List.of("seq"), scoring.modelCard().inputs().stream().map(RunSummary.ModelCard.Input::column)
        .toList(), "the model card names the column the input was read from");
    assertEquals(List.of("F32"), scoring.modelCard().dtypes());
  }

  @Test
  void badFeatureRowsAreRejectedWithTheStepNamed() throws Exception {
    GoldenInputs golden = new GoldenInputs("features_rnn_tanh"); // input_size 5
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.IntegerType, true),
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.DoubleType, true), true), true)));
    List<Row> rows = new ArrayList<>();
    rows.add(RowFactory.create(1, List.of(List.of(1.0, 2.0, 3.0, 4.0, 5.0))));
    rows.add(RowFactory.create(2, List.of(List.of(1.0, 2.0, 3.0, 4.0, 5.0), List.of(1.0, Double.NaN, 3.0, 4.0, 5.0))));
    rows.add(RowFactory.create(3, List.of(List.of(1.0, 2.0, 3.0, 4.0))));
    List<Object> nullStep = new ArrayList<>();
    nullStep.add(null);
    rows.add(RowFactory.create(4, nullStep));
    rows.add(RowFactory.create(5, List.of(List.of(1.0, 2.0, Double.POSITIVE_INFINITY, 4.0, 5.0))));
    rows.add(RowFactory.create(6, List.of(List.of(1.0, 2.0, 1e300, 4.0, 5.0))));
    // above Float.MAX_VALUE as a double but rounds to it: valid (the rejects pass's SQL prefilter flags it, the
    // decoder accepts it); just past the rounding midpoint: infinite as a float, rejected
    rows.add(RowFactory.create(7, List.of(List.of(1.0, 2.0, 3.0, 4.0, 5.0), List.of(3.4028235e38, 0.0, 0.0, 0.0, 0.0))));
    rows.add(RowFactory.create(8, List.of(List.of(1.0, 2.0, 3.0, 4.0, 5.0), List.of(0.0, 0.0, 0.0, -3.4028236e38, 0.0))));
    String input = tmp.resolve("features-bad").toString();
    spark.createDataFrame(rows, schema).write().parquet(input);
    String output = tmp.resolve("features-bad-out").toString();

    RunSummary summary = ScoreJob.run(spark, options(input, golden.dir, output, false, BatchPlan.defaults()));

    assertEquals(2, summary.scoredRows());
    assertEquals(Map.of("BAD_FEATURES", 6L), summary.rejectsByReason());
    Map<Integer, String> details = new HashMap<>();
    spark.read().parquet(output + "_rejects").collectAsList().forEach(r -> details.put(r.getInt(0), r.getString(2)));
    assertEquals("value 1 of step 1 is NaN", details.get(2));
    assertEquals("step 0 has 4 values, expected input_size 5", details.get(3));
    assertEquals("step 0 is null", details.get(4));
    assertEquals("value 2 of step 0 is Infinity", details.get(5));
    assertEquals("value 2 of step 0 is 1.0E300 (beyond float32 range)", details.get(6));
    assertEquals("value 3 of step 1 is -3.4028236E38 (beyond float32 range)", details.get(8));
    assertEquals(List.of(1, 7), spark.read().parquet(output).select("id").orderBy("id").collectAsList().stream()
        .map(r -> r.getInt(0)).toList());
  }

  @Test
  void wrongSchemaAndExistingOutputFailBeforeAnyWork() throws Exception {
    GoldenInputs golden = new GoldenInputs("gru");
    String input = tmp.resolve("strings").toString();
    spark.sql("select cast(id as bigint) id, 'abc' as seq from range(3)").write().parquet(input);
    InputSchemaException wrongType = assertThrows(InputSchemaException.class,
        () -> ScoreJob.run(spark, options(input, golden.dir, tmp.resolve("o1").toString(), false, BatchPlan.defaults())));
    assertEquals("Cannot score column 'seq': its type is string, but the model takes token ids, so expected "
        + "array<int> or array<bigint> (use --seq-col or --col to pick another column)", wrongType.getMessage());

    Path existing = Files.createDirectories(tmp.resolve("exists"));
    ConfigException exists = assertThrows(ConfigException.class,
        () -> ScoreJob.run(spark, options(input, golden.dir, existing.toString(), false, BatchPlan.defaults())));
    assertEquals("Cannot write --output " + existing + ": it already exists (use --mode overwrite to replace it)",
        exists.getMessage());
  }

  @Test
  void aPartitionedInputFolderKeepsItsPartitionColumnAndScoresLikePyTorch() throws Exception {
    // the job hands Spark the schema from the footers (no inference job); the folder names still add `day`
    GoldenInputs golden = new GoldenInputs("gru");
    String input = tmp.resolve("partitioned-in").toString();
    golden.dataset(spark, DataTypes.IntegerType, 2).withColumn("day",
            functions.when(functions.col("id").mod(2).equalTo(0), "2026-12-01").otherwise("2026-12-02"))
        .write().partitionBy("day").parquet(input);
    String output = tmp.resolve("partitioned-out").toString();
    var summary = ScoreJob.run(spark, new ScoreJob.Options(input, golden.dir, output, null, "id", "seq",
        List.of("day"), false, 0, BatchPlan.defaults(), false, false, 1.0));
    float[][] expected = golden.rows("scores");
    assertEquals(expected.length, summary.inputRows(), "input rows");
    Dataset<Row> out = spark.read().parquet(output);
    assertEquals(List.of("id", "day", "length", "scores"), List.of(out.schema().fieldNames()));
    double worst = 0;
    for (Row r : out.collectAsList()) {
      int id = (int) r.getLong(0);
      assertEquals(id % 2 == 0 ? "2026-12-01" : "2026-12-02", String.valueOf(r.get(1)), "day of id " + id);
      List<Float> got = r.getList(3);
      for (int k = 0; k < got.size(); k++) {
        worst = Math.max(worst, Math.abs(expected[id][k] - got.get(k)));
      }
    }
    assertTrue(worst <= TOLERANCE, "worst error " + worst);
  }

  private static List<Long> longs(int length, int seed) {
    List<Long> tokens = new ArrayList<>();
    for (int t = 0; t < length; t++) {
      tokens.add((long) ((seed * 7 + t * 3) % 20));
    }
    return tokens;
  }
}
