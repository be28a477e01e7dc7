package io.seqpack.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ConfigException;
import io.seqpack.InputSchemaException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.job.ScoreJob;
import io.seqpack.spark.LocalSpark;
import io.seqpack.testing.Golden;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.SparkException;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark ML stage: pipelines saved and loaded in another JVM, handleInvalid, appended columns, schema errors. */
class SequenceScorerTransformerIT {
  private static final Path GOLDEN = Golden.root();
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

  private static final StructType TOKENS = DataTypes.createStructType(List.of(
      DataTypes.createStructField("id", DataTypes.StringType, true),
      DataTypes.createStructField("note", DataTypes.StringType, true),
      DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.LongType, true), true),
      DataTypes.createStructField("weight", DataTypes.DoubleType, true)));

  private static List<Long> longs(int length, int seed) {
    List<Long> tokens = new ArrayList<>();
    for (int t = 0; t < length; t++) {
      tokens.add((long) ((seed * 7 + t * 3) % 20));
    }
    return tokens;
  }

  private static List<Row> goodRows(int n) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create("good-" + i, "note " + i, longs(1 + i % 25, i), i * 0.5));
    }
    return rows;
  }

  /** Every reject reason of a token model (vocab 20, maxLength 30), id -> "REASON: detail". */
  private static Map<String, String> badTokenRows(List<Row> rows) {
    Map<String, String> expected = new HashMap<>();
    rows.add(RowFactory.create(null, "no id", longs(3, 1), 1.0));
    expected.put(null, "NULL_ID: the id column is null");
    rows.add(RowFactory.create("null-seq", "n", null, 2.0));
    expected.put("null-seq", "NULL_SEQUENCE: the sequence column is null");
    rows.add(RowFactory.create("empty", "e", List.of(), 3.0));
    expected.put("empty", "EMPTY_SEQUENCE: the sequence has no steps");
    rows.add(RowFactory.create("negative", null, List.of(1L, -1L, 2L), 4.0));
    expected.put("negative", "TOKEN_OUT_OF_RANGE: token -1 at step 1 is outside [0, 20)");
    rows.add(RowFactory.create("too-big", "b", List.of(1L, 2L, 20L), null));
    expected.put("too-big", "TOKEN_OUT_OF_RANGE: token 20 at step 2 is outside [0, 20)");
    rows.add(RowFactory.create("huge", "h", List.of(1L << 40), 6.0));
    expected.put("huge", "TOKEN_OUT_OF_RANGE: token 1099511627776 at step 0 is outside [0, 20)");
    List<Long> withNull = new ArrayList<>(List.of(1L, 2L));
    withNull.add(null);
    rows.add(RowFactory.create("null-token", "t", withNull, 7.0));
    expected.put("null-token", "TOKEN_OUT_OF_RANGE: token at step 2 is null");
    rows.add(RowFactory.create("long", "l", longs(31, 0), 8.0));
    expected.put("long", "TOO_LONG: length 31 exceeds maxLength 30");
    return expected;
  }

  private static SequenceScorerTransformer gruStage(String handleInvalid) {
    return new SequenceScorerTransformer().setModelPath(GOLDEN.resolve("gru").toString()).setInputCol("seq")
        .setIdCol("id").setMaxLength(30).setBatchTokens(50).setMaxBatchRows(4).setWindowBatches(2)
        .setHandleInvalid(handleInvalid);
  }

  @Test
  void aSavedPipelineScoresInANewJvmLikeSeqpackScoreAfterTheModelDirectoryIsDeleted() throws Exception {
    Path model = tmp.resolve("model-copy");
    Files.createDirectories(model);
    for (String f : List.of("model.json", "model.safetensors")) {
      Files.copy(GOLDEN.resolve("lstm").resolve(f), model.resolve(f));
    }
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, false), false),
        DataTypes.createStructField("note", DataTypes.StringType, true)));
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      List<Integer> seq = new ArrayList<>();
      for (int t = 0; t < 1 + (i * 13) % 60; t++) {
        seq.add((i + t * 7) % 20);
      }
      rows.add(RowFactory.create((long) i, seq, "row " + i));
    }
    String input = tmp.resolve("in").toString();
    spark.createDataFrame(rows, schema).repartition(3).write().parquet(input);

    String cliOut = tmp.resolve("cli-out").toString();
    ScoreJob.run(spark, new ScoreJob.Options(input, model, cliOut, null, "id", "seq", List.of(), false, 0,
        BatchPlan.defaults(), false, false, 1.0));
    Map<Long, List<Object>> expected = new HashMap<>();
    for (Row r : spark.read().parquet(cliOut).collectAsList()) {
      expected.put(r.getLong(0), r.getList(r.fieldIndex("scores")));
    }

    SQLTransformer sql = new SQLTransformer()
        .setStatement("SELECT id, note, seq AS tokens, id * 2 AS id2 FROM __THIS__");
    SequenceScorerTransformer seqpack = new SequenceScorerTransformer().setModelPath(model.toUri().toString())
        .setInputCol("tokens").setIdCol("id").setBatchTokens(500);
    PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {sql, seqpack})
        .fit(spark.read().parquet(input));
    String saved = tmp.resolve("pipeline").toString();
    fitted.write().save(saved);
    try (Stream<Path> files = Files.walk(model)) {
      files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }
    assertTrue(!Files.exists(model), "the original model directory is gone");
    Path stageDir;
    try (Stream<Path> stages = Files.list(Path.of(saved, "stages"))) {
      stageDir = stages.filter(p -> p.getFileName().toString().startsWith("1_")).findFirst().orElseThrow();
    }
    assertTrue(Files.exists(stageDir.resolve("metadata")), "params");
    assertEquals(Files.size(GOLDEN.resolve("lstm/model.safetensors")),
        Files.size(stageDir.resolve("model/model.safetensors")));
    assertEquals(Files.readString(GOLDEN.resolve("lstm/model.json")),
        Files.readString(stageDir.resolve("model/model.json")));

    String childOut = tmp.resolve("child-out").toString();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String opens = System.getProperty("seqpack.jvmOpens", "");
    command.addAll(Arrays.asList(opens.trim().split("\\s+")));
    command.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"),
        PipelineScoreMain.class.getName(), saved, input, childOut));
    Process child = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("child.log").toFile()).start();
    assertTrue(child.waitFor(5, TimeUnit.MINUTES), "child JVM finished");
    assertEquals(0, child.exitValue(), () -> tail(tmp.resolve("child.log")));

    Dataset<Row> out = spark.read().parquet(childOut);
    assertEquals(List.of("id", "note", "tokens", "id2", "length", "scores"), List.of(out.schema().fieldNames()));
    List<Row> scored = out.collectAsList();
    assertEquals(rows.size(), scored.size());
    double worst = 0;
    for (Row r : scored) {
      long id = r.getLong(0);
      assertEquals("row " + id, r.getString(1));
      assertEquals(2 * id, r.getLong(3));
      assertEquals(r.getList(2).size(), r.getInt(4));
      List<Object> want = expected.get(id);
      List<Object> got = r.getList(5);
      assertEquals(want.size(), got.size());
      for (int k = 0; k < got.size(); k++) {
        worst = Math.max(worst, Math.abs((Float) want.get(k) - (Float) got.get(k)));
      }
    }
    System.out.printf("SequenceScorerTransformerIT new JVM vs seqpack score: %d rows, worst %.2e%n", scored.size(),
        worst);
    assertTrue(worst <= 1e-6, "worst " + worst);
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (Exception e) {
      return e.toString();
    }
  }

  @Test
  void handleInvalidKeepSkipAndErrorOnEveryRejectReasonWithTheInputColumnsIntact() {
    List<Row> rows = new ArrayList<>(goodRows(40));
    Map<String, String> expected = badTokenRows(rows);
    Dataset<Row> input = spark.createDataFrame(rows, TOKENS).repartition(3);
    Map<String, Row> byId = new HashMap<>();
    rows.forEach(r -> byId.put(r.getString(0), r));

    Dataset<Row> kept = gruStage("keep").transform(input);
    assertEquals("struct<id:string,note:string,seq:array<bigint>,weight:double,length:int,scores:array<float>,"
        + "reject_reason:string>", kept.schema().simpleString());
    List<Row> keptRows = kept.collectAsList();
    assertEquals(rows.size(), keptRows.size(), "keep keeps every row");
    Map<String, List<Object>> goodScores = new HashMap<>();
    for (Row r : keptRows) {
      Row source = byId.get(r.getString(0));
      for (int c = 0; c < TOKENS.size(); c++) {
        assertEquals(text(source.get(c)), text(r.get(c)), "column " + c + " of row " + r.getString(0));
      }
      String id = r.getString(0);
      if (id != null && id.startsWith("good-")) {
        assertNull(r.get(6), id);
        assertEquals(((List<?>) source.get(2)).size(), r.getInt(4));
        goodScores.put(id, r.getList(5));
      } else {
        assertEquals(expected.get(id), r.getString(6), "reason of " + id);
        assertNull(r.get(4));
        assertNull(r.get(5));
      }
    }
    assertEquals(40, goodScores.size());

    List<Row> skipped = gruStage("skip").transform(input).collectAsList();
    assertEquals(40, skipped.size(), "skip drops the bad rows");
    for (Row r : skipped) {
      // kept bad rows ride in the batches (length 1), so a good row may share its batch with other rows than
      // under skip: the same numbers up to float rounding of a differently shaped product
      List<Object> underKeep = goodScores.get(r.getString(0));
      List<Object> got = r.getList(5);
      assertEquals(underKeep.size(), got.size(), r.getString(0));
      for (int k = 0; k < got.size(); k++) {
        assertEquals((Float) underKeep.get(k), (Float) got.get(k), 1e-6, r.getString(0) + " score " + k);
      }
    }
    assertEquals(List.of("id", "note", "seq", "weight", "length", "scores"),
        List.of(gruStage("skip").transform(input).schema().fieldNames()));

    for (Map.Entry<String, String> bad : expected.entrySet()) {
      if (bad.getKey() == null) {
        continue;
      }
      Dataset<Row> one = input.filter(input.col("id").equalTo(bad.getKey()).or(input.col("id").startsWith("good-")));
      SparkException e = assertThrows(SparkException.class, () -> gruStage("error").transform(one).collectAsList());
      String want = "Cannot score the row with id " + bad.getKey() + ": " + bad.getValue() + " (handleInvalid is "
          + "'error'; 'skip' drops such rows, 'keep' keeps them with null scores and the reason)";
      assertTrue(String.valueOf(e.getMessage()).contains(want) || causeChain(e).contains(want),
          "error names the row and its reason: " + e.getMessage());
    }
    SparkException noId = assertThrows(SparkException.class,
        () -> gruStage("error").transform(input.filter("id IS NULL")).collectAsList());
    assertTrue(causeChain(noId).contains("Cannot score the row with id null: NULL_ID: the id column is null"),
        causeChain(noId));
  }

  /** A value as text, Scala sequences read back from Spark as Java lists. */
  private static String text(Object value) {
    if (value instanceof scala.collection.Seq<?> seq) {
      return String.valueOf(scala.jdk.javaapi.CollectionConverters.asJava(seq));
    }
    return value == null ? null : String.valueOf(value);
  }

  private static String causeChain(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t.getMessage()).append('\n');
    }
    return sb.toString();
  }

  @Test
  void badFeaturesAndMultiColumnRowsAreKeptWithTheirReasonsAndTwoHeadsGetTwoColumns() throws Exception {
    StructType features = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.IntegerType, true),
        DataTypes.createStructField("seq", DataTypes.createArrayType(
            DataTypes.createArrayType(DataTypes.DoubleType, true), true), true)));
    List<Row> rows = List.of(
        RowFactory.create(1, List.of(List.of(1.0, 2.0, 3.0, 4.0, 5.0))),
        RowFactory.create(2, List.of(List.of(1.0, 2.0, 3.0, 4.0, 5.0), List.of(1.0, Double.NaN, 3.0, 4.0, 5.0))),
        RowFactory.create(3, List.of(List.of(1.0, 2.0, 3.0, 4.0))));
    Map<Integer, String> reasons = new HashMap<>();
    new SequenceScorerTransformer().setModelPath(GOLDEN.resolve("features_rnn_tanh").toString())
        .setInputCol("seq").setIdCol("id").setHandleInvalid("keep").setRejectReasonCol("why")
        .transform(spark.createDataFrame(rows, features)).collectAsList()
        .forEach(r -> reasons.put(r.getInt(0), r.getString(r.fieldIndex("why"))));
    assertNull(reasons.get(1));
    assertEquals("BAD_FEATURES: value 1 of step 1 is NaN", reasons.get(2));
    assertEquals("BAD_FEATURES: step 0 has 4 values, expected input_size 5", reasons.get(3));

    Path dir = GOLDEN.resolve("graph/e_static_two_heads");
    Map<String, Object> c = Golden.readCase(dir);
    Dataset<Row> good = twoHeads(c);
    List<Row> all = new ArrayList<>(good.collectAsList());
    Row r0 = all.get(0);
    all.add(RowFactory.create(100L, "x", List.of(1L), r0.get(3), r0.get(4))); // 1 token, more amount steps
    all.add(RowFactory.create(101L, "x", r0.get(2), null, r0.get(4)));
    all.add(RowFactory.create(102L, "x", r0.get(2), r0.get(3), List.of(1.0)));
    SequenceScorerTransformer stage = new SequenceScorerTransformer().setModelPath(dir.toString())
        .setInputCols(new String[] {"ev", "amt"}).setStaticCols(new String[] {"prof"}).setIdCol("id")
        .setOutputCol("s").setEmbeddingCol("emb").setHandleInvalid("keep");
    Dataset<Row> out = stage.transform(spark.createDataFrame(all, good.schema()).repartition(2));
    assertEquals(List.of("id", "tag", "ev", "amt", "prof", "length", "s_fraud", "s_amount", "emb", "reject_reason"),
        List.of(out.schema().fieldNames()));
    double worst = 0;
    Map<Long, String> why = new HashMap<>();
    @SuppressWarnings("unchecked")
    Map<String, Object> heads = (Map<String, Object>) c.get("heads");
    for (Row r : out.collectAsList()) {
      long id = r.getLong(0);
      assertEquals("x", r.getString(1));
      if (id >= 100) {
        why.put(id, r.getString(9));
        continue;
      }
      for (String head : List.of("fraud", "amount")) {
        float[] want = Golden.floats(Golden.at(heads.get(head), (int) id));
        List<Object> got = r.getList(r.fieldIndex("s_" + head));
        for (int k = 0; k < want.length; k++) {
          worst = Math.max(worst, Math.abs(want[k] - (Float) got.get(k)));
        }
      }
    }
    assertTrue(worst <= 1e-5, "two heads vs the module: worst " + worst);
    int steps = r0.getList(3).size();
    assertEquals("LENGTH_MISMATCH: column 'ev' has 1 steps but column 'amt' has " + steps, why.get(100L));
    assertEquals("NULL_SEQUENCE: column 'amt' is null", why.get(101L));
    assertEquals("BAD_FEATURES: static column 'prof' has 1 values, expected 3", why.get(102L));
  }

  /** The topK param on the tied GRU4Rec case: torch.topk's ids (with the row's own items left out). */
  @Test
  @SuppressWarnings("unchecked")
  void topKParamAppendsTorchTopkIdsAndScores() {
    Path dir = GOLDEN.resolve("graph/n_gru4rec_dense_bias");
    Map<String, Object> c = Golden.readCase(dir);
    Map<String, Object> top = (Map<String, Object>) c.get("top_k");
    List<Row> rows = new ArrayList<>();
    for (int b = 0; b < Golden.size(c.get("lengths")); b++) {
      List<Object> items = new ArrayList<>();
      for (int t : Golden.ints(Golden.at(((Map<String, Object>) c.get("inputs")).get("items"), b))) {
        items.add(t);
      }
      rows.add(RowFactory.create((long) b, items));
    }
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("items", DataTypes.createArrayType(DataTypes.IntegerType), true)));
    Dataset<Row> out = new SequenceScorerTransformer().setModelPath(dir.toString()).setIdCol("id")
        .setOutputCol("next").setTopK("next_item=" + top.get("k")).setTopKExcludeSeen("items")
        .transform(spark.createDataFrame(rows, schema).repartition(2));
    assertEquals(List.of("id", "items", "length", "next_top_ids", "next_top_scores"),
        List.of(out.schema().fieldNames()));
    for (Row r : out.collectAsList()) {
      int id = (int) r.getLong(0);
      assertEquals(java.util.Arrays.toString(Golden.ints(Golden.at(top.get("ids_excluding_seen"), id))),
          r.getList(3).toString(), "row " + id);
      float[] want = Golden.floats(Golden.at(top.get("scores_excluding_seen"), id));
      for (int k = 0; k < want.length; k++) {
        assertEquals(want[k], (Float) r.getList(4).get(k), 1e-5, "row " + id);
      }
    }
    assertEquals("Invalid topK 0: expected K >= 1", assertThrows(ConfigException.class,
        () -> new SequenceScorerTransformer().setModelPath(dir.toString()).setTopK("0").transformSchema(schema))
            .getMessage());
  }

  /** e_static_two_heads as {@code id, tag, ev array<bigint>, amt array<array<float>>, prof array<double>}. */
  private static Dataset<Row> twoHeads(Map<String, Object> c) {
    @SuppressWarnings("unchecked")
    Map<String, Object> inputs = (Map<String, Object>) c.get("inputs");
    @SuppressWarnings("unchecked")
    Map<String, Object> statics = (Map<String, Object>) c.get("static");
    List<Row> rows = new ArrayList<>();
    for (int b = 0; b < Golden.size(c.get("lengths")); b++) {
      List<Object> ev = new ArrayList<>();
      for (int t : Golden.ints(Golden.at(inputs.get("tokens"), b))) {
        ev.add((long) t);
      }
      List<Object> amt = new ArrayList<>();
      Object steps = Golden.at(inputs.get("amounts"), b);
      for (int t = 0; t < Golden.size(steps); t++) {
        List<Object> v = new ArrayList<>();
        for (float f : Golden.floats(Golden.at(steps, t))) {
          v.add(f);
        }
        amt.add(v);
      }
      List<Object> prof = new ArrayList<>();
      for (float f : Golden.floats(Golden.at(statics.get("profile"), b))) {
        prof.add((double) f);
      }
      rows.add(RowFactory.create((long) b, "x", ev, amt, prof));
    }
    StructType schema = DataTypes.createStructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("tag", DataTypes.StringType, true),
        DataTypes.createStructField("ev", DataTypes.createArrayType(DataTypes.LongType), true),
        DataTypes.createStructField("amt", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)),
            true),
        DataTypes.createStructField("prof", DataTypes.createArrayType(DataTypes.DoubleType), true)});
    return spark.createDataFrame(rows, schema);
  }

  @Test
  void transformSchemaRefusesWrongColumnsOnTheDriverWithTheirNames() throws Exception {
    StructType schema = TOKENS;
    InputSchemaException missing = assertThrows(InputSchemaException.class,
        () -> gruStage("error").setInputCol("nope").transformSchema(schema));
    assertEquals("Cannot find column 'nope' (inputCol) in the input; available columns: id, note, seq, weight",
        missing.getMessage());
    InputSchemaException mistyped = assertThrows(InputSchemaException.class,
        () -> gruStage("error").setInputCol("note").transformSchema(schema));
    assertEquals("Cannot score column 'note': its type is string, but the model takes token ids, so expected "
        + "array<int> or array<bigint> (set inputCols (or inputCol) and staticCols to pick other columns)",
        mistyped.getMessage());
    InputSchemaException badId = assertThrows(InputSchemaException.class,
        () -> gruStage("error").setIdCol("weight").transformSchema(schema));
    assertEquals("Cannot use column 'weight' as the id: its type is double, expected an integer type (tinyint, "
        + "smallint, int, bigint) or string (use idCol)", badId.getMessage());
    StructType noId = DataTypes.createStructType(Arrays.copyOfRange(schema.fields(), 1, schema.fields().length));
    InputSchemaException defaultId = assertThrows(InputSchemaException.class,
        () -> new SequenceScorerTransformer().setModelPath(GOLDEN.resolve("gru").toString()).setInputCol("seq")
            .transformSchema(noId));
    assertEquals("Cannot find column 'id' (idCol) in the input; available columns: note, seq, weight",
        defaultId.getMessage());
    ConfigException clash = assertThrows(ConfigException.class,
        () -> gruStage("error").setOutputCol("note").transformSchema(schema));
    assertEquals("Cannot append column 'note': the input already has a column of that name; choose another output "
        + "column name", clash.getMessage());

    String twoHeads = GOLDEN.resolve("graph/e_static_two_heads").toString();
    StructType graphSchema = twoHeads(Golden.readCase(Path.of(twoHeads))).schema();
    InputSchemaException unmapped = assertThrows(InputSchemaException.class,
        () -> new SequenceScorerTransformer().setModelPath(twoHeads).transformSchema(graphSchema));
    assertEquals("Cannot find column 'tokens' (model input tokens; set inputCols to read another column) in the "
        + "input; available columns: id, tag, ev, amt, prof", unmapped.getMessage());
    ConfigException count = assertThrows(ConfigException.class,
        () -> new SequenceScorerTransformer().setModelPath(twoHeads).setInputCols(new String[] {"ev"})
            .transformSchema(graphSchema));
    assertEquals("Cannot map inputCols [ev] to the model's 2 per-step input(s) [tokens, amounts]: expected one "
        + "column per input, in that order", count.getMessage());
    InputSchemaException wrongStatic = assertThrows(InputSchemaException.class,
        () -> new SequenceScorerTransformer().setModelPath(twoHeads).setInputCols(new String[] {"ev", "amt"})
            .setStaticCols(new String[] {"missing"}).transformSchema(graphSchema));
    assertEquals("Cannot find column 'missing' (staticCols[0]) in the input; available columns: id, tag, ev, amt, "
        + "prof", wrongStatic.getMessage());
    ConfigException perStep = assertThrows(ConfigException.class,
        () -> new SequenceScorerTransformer().setModelPath(twoHeads).setInputCols(new String[] {"ev", "amt"})
            .setStaticCols(new String[] {"prof"}).setPerStepCol("steps").transformSchema(graphSchema));
    assertTrue(perStep.getMessage().startsWith("Cannot write per-step scores (perStepCol) for this model"),
        perStep.getMessage());
    Exception noModel = assertThrows(Exception.class,
        () -> new SequenceScorerTransformer().setModelPath(tmp.resolve("none").toString()).setInputCol("seq")
            .transformSchema(schema));
    assertEquals("Cannot read model directory " + tmp.resolve("none") + ": it does not exist", noModel.getMessage());
  }

  @Test
  void readsTheModelFromAFileUriAndFromARelativePath() {
    List<Row> rows = goodRows(30);
    Dataset<Row> input = spark.createDataFrame(rows, TOKENS);
    String uri = GOLDEN.resolve("gru").toAbsolutePath().toUri().toString();
    assertTrue(uri.startsWith("file:/"), uri);
    Path relative = Path.of("").toAbsolutePath().relativize(GOLDEN.resolve("gru").toAbsolutePath());
    assertTrue(!relative.isAbsolute() && new File(relative.toString()).isDirectory(), relative.toString());
    Map<String, List<Object>> viaUri = scoresById(gruStage("error").setModelPath(uri).transform(input));
    Map<String, List<Object>> viaRelative =
        scoresById(gruStage("error").setModelPath(relative.toString()).transform(input));
    assertEquals(30, viaUri.size());
    assertEquals(viaUri, viaRelative);
  }

  private static Map<String, List<Object>> scoresById(Dataset<Row> scored) {
    Map<String, List<Object>> out = new HashMap<>();
    for (Row r : scored.collectAsList()) {
      out.put(r.getString(0), r.getList(r.fieldIndex("scores")));
    }
    return out;
  }
}
