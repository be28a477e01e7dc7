package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.InputSchemaException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelLoader;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.parts.StepInput;
import io.seqpack.model.parts.TokenInput;
import io.seqpack.spark.LocalSpark;
import io.seqpack.spark.Schemas;
import io.seqpack.summary.RunSummary;
import io.seqpack.testing.Golden;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Format-2 models from user-style PyTorch modules ({@code golden/graph/}) through {@code seqpack score} on Parquet:
 * every input in its own column (token columns, feature columns, width-1 features as {@code array<double>}, static
 * features), every head in its own output column, the embedding and per-step scores, against the module's own
 * outputs; and the multi-column reject reasons.
 */
class GraphScoreJobIT {
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

  /**
   * The case's rows as a DataFrame: {@code id bigint}, then one column per model input named {@code <name>_col}
   * (so the job must be told with {@code --col}), with width-1 feature inputs as {@code array<double>}, and static
   * features of size 1 as a plain double column.
   */
  @SuppressWarnings("unchecked")
  private static org.apache.spark.sql.Dataset<Row> dataset(ModelGraph graph, Map<String, Object> c) {
    int rows = Golden.size(c.get("lengths"));
    Map<String, Object> inputs = (Map<String, Object>) c.get("inputs");
    Map<String, Object> statics = (Map<String, Object>) c.getOrDefault("static", Map.of());
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField("id", DataTypes.LongType, false));
    for (StepInput in : graph.inputs()) {
      DataType type = in.kind() == InputKind.TOKENS ? DataTypes.createArrayType(DataTypes.LongType)
          : in.width() == 1 ? DataTypes.createArrayType(DataTypes.DoubleType)
          : DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType));
      fields.add(DataTypes.createStructField(in.name() + "_col", type, true));
    }
    for (ModelGraph.StaticInput st : graph.statics()) {
      fields.add(DataTypes.createStructField(st.name() + "_col",
          st.size() == 1 ? DataTypes.DoubleType : DataTypes.createArrayType(DataTypes.DoubleType), true));
    }
    List<Row> data = new ArrayList<>();
    for (int b = 0; b < rows; b++) {
      List<Object> values = new ArrayList<>();
      values.add((long) b);
      for (StepInput in : graph.inputs()) {
        List<?> seq = (List<?>) Golden.at(inputs.get(in.name()), b);
        List<Object> column = new ArrayList<>();
        for (Object step : seq) {
          if (in.kind() == InputKind.TOKENS) {
            column.add(((Number) step).longValue());
          } else if (in.width() == 1) {
            column.add((double) Golden.floats(step)[0]);
          } else {
            List<Object> v = new ArrayList<>();
            for (float f : Golden.floats(step)) {
              v.add(f);
            }
            column.add(v);
          }
        }
        values.add(column);
      }
      for (ModelGraph.StaticInput st : graph.statics()) {
        float[] v = Golden.floats(Golden.at(statics.get(st.name()), b));
        if (st.size() == 1) {
          values.add((double) v[0]);
        } else {
          List<Object> list = new ArrayList<>();
          for (float f : v) {
            list.add((double) f);
          }
          values.add(list);
        }
      }
      data.add(RowFactory.create(values.toArray()));
    }
    return spark.createDataFrame(data, DataTypes.createStructType(fields)).repartition(2);
  }

  private static Map<String, String> renames(ModelGraph graph) {
    Map<String, String> cols = new HashMap<>();
    graph.inputs().forEach(in -> cols.put(in.name(), in.name() + "_col"));
    graph.statics().forEach(st -> cols.put(st.name(), st.name() + "_col"));
    return cols;
  }

  private ScoreJob.Options options(String input, Path model, String output, boolean perStep,
      Map<String, String> cols) {
    return new ScoreJob.Options(input, model, output, null, "id", null, List.of(), perStep, 0,
        new BatchPlan(12, 3, 2), false, false, 1.0, List.of(), cols, true);
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyFamilyScoresThroughParquetAsTheUsersModuleDoes() throws Exception {
    List<Path> cases = Golden.graphCases();
    assertTrue(cases.size() >= 6, "graph cases: " + cases);
    for (Path dir : cases) {
      Map<String, Object> c = Golden.readCase(dir);
      LoadedModel model = ModelLoader.load(dir);
      ModelGraph graph = model.graph();
      String name = dir.getFileName().toString();
      String input = tmp.resolve(name + "-in").toString();
      dataset(graph, c).write().parquet(input);
      String output = tmp.resolve(name + "-out").toString();
      boolean perStep = c.containsKey("step_scores");
      RunSummary summary = ScoreJob.run(spark, options(input, dir, output, perStep, renames(graph)));
      int rows = Golden.size(c.get("lengths"));
      assertEquals(rows, summary.scoredRows(), name);
      assertEquals(0, summary.rejectedRows(), name);

      List<Row> out = spark.read().parquet(output).orderBy("id").collectAsList();
      List<String> headColumns = Schemas.headColumns(graph);
      Map<String, Object> heads = (Map<String, Object>) c.get("heads");
      double worst = 0;
      for (Row row : out) {
        int id = (int) row.getLong(row.fieldIndex("id"));
        for (int h = 0; h < headColumns.size(); h++) {
          float[] expected = Golden.floats(Golden.at(heads.get(graph.heads().get(h).name()), id));
          worst = Math.max(worst, maxDiff(expected, row.getList(row.fieldIndex(headColumns.get(h)))));
        }
        worst = Math.max(worst, maxDiff(Golden.floats(Golden.at(c.get("embedding"), id)),
            row.getList(row.fieldIndex(Schemas.EMBEDDING))));
        if (perStep) {
          List<Object> steps = row.getList(row.fieldIndex(Schemas.STEP_SCORES));
          Object expectedSteps = Golden.at(c.get("step_scores"), id);
          assertEquals(Golden.size(expectedSteps), steps.size(), name + " steps of row " + id);
          for (int t = 0; t < steps.size(); t++) {
            worst = Math.max(worst, maxDiff(Golden.floats(Golden.at(expectedSteps, t)),
                scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<Object>) steps.get(t))));
          }
        }
      }
      System.out.printf("graph job %-28s %d rows, heads %s, worst %.3g%n", name, out.size(), headColumns, worst);
      assertEquals(rows, out.size(), name);
      assertTrue(worst <= TOLERANCE, name + " worst " + worst);
    }
  }

  /**
   * {@code --top-k K --per-step} and {@code --top-k K --top-k-exclude-seen} on the cases with a {@code top_k}
   * (GRU4Rec tied heads, DeepLog's per-step next-key distribution), through Parquet: the item ids are {@code torch.topk}'s on the module's own scores (of the row and of every step; with
   * the row's items at -inf), the scores within the tolerance.
   */
  @Test
  @SuppressWarnings("unchecked")
  void topKIsTorchTopk() throws Exception {
    int checked = 0;
    for (Path dir : Golden.graphCases()) {
      Map<String, Object> c = Golden.readCase(dir);
      if (!c.containsKey("top_k")) {
        continue;
      }
      Map<String, Object> top = (Map<String, Object>) c.get("top_k");
      ModelGraph graph = ModelLoader.load(dir).graph();
      String name = dir.getFileName().toString();
      String input = tmp.resolve(name + "-top-in").toString();
      dataset(graph, c).write().parquet(input);
      for (boolean excludeSeen : new boolean[] {false, true}) {
        String output = tmp.resolve(name + "-top-out-" + excludeSeen).toString();
        int k = ((Number) top.get("k")).intValue();
        ScoreJob.run(spark, new ScoreJob.Options(input, dir, output, null, "id", null, List.of(), !excludeSeen, 0,
            new BatchPlan(12, 3, 2), false, false, 1.0, List.of(), renames(graph), false, false, 0,
            Map.of(top.get("head").toString(), k), excludeSeen ? (String) top.get("exclude_seen_input") : null));
        // the summary records the top-k settings the run resolved (head → K, the excluded input)
        RunSummary.Settings settings = RunSummary.read(Path.of(output, RunSummary.FILE)).scoring().settings();
        assertEquals(Map.of(top.get("head").toString(), k), settings.topK(), name);
        assertEquals(excludeSeen ? top.get("exclude_seen_input") : null, settings.topKExcludeSeen(), name);
        String suffix = excludeSeen ? "_excluding_seen" : "";
        for (Row row : spark.read().parquet(output).orderBy("id").collectAsList()) {
          int id = (int) row.getLong(row.fieldIndex("id"));
          List<Object> ids = row.getList(row.fieldIndex(Schemas.SCORES + Schemas.TOP_IDS));
          int[] actualIds = ids.stream().mapToInt(v -> ((Number) v).intValue()).toArray();
          org.junit.jupiter.api.Assertions.assertArrayEquals(Golden.ints(Golden.at(top.get("ids" + suffix), id)),
              actualIds, name + " row " + id + (excludeSeen ? " excluding seen" : ""));
          assertTrue(maxDiff(Golden.floats(Golden.at(top.get("scores" + suffix), id)),
              row.getList(row.fieldIndex(Schemas.SCORES + Schemas.TOP_SCORES))) <= TOLERANCE, name + " row " + id);
          if (!excludeSeen) {
            List<Object> stepIds = row.getList(row.fieldIndex(Schemas.STEP_SCORES + Schemas.TOP_IDS));
            List<Object> stepScores = row.getList(row.fieldIndex(Schemas.STEP_SCORES + Schemas.TOP_SCORES));
            Object expectedIds = Golden.at(top.get("step_ids"), id);
            assertEquals(Golden.size(expectedIds), stepIds.size(), name + " steps of row " + id);
            for (int t = 0; t < stepIds.size(); t++) {
              assertEquals(java.util.Arrays.toString(Golden.ints(Golden.at(expectedIds, t))),
                  scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<Object>) stepIds.get(t))
                      .toString(), name + " row " + id + " step " + t);
              assertTrue(maxDiff(Golden.floats(Golden.at(Golden.at(top.get("step_scores"), id), t)),
                  scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<Object>) stepScores.get(t)))
                  <= TOLERANCE, name + " row " + id + " step " + t);
            }
          }
          checked++;
        }
      }
    }
    assertTrue(checked >= 20, "rows checked: " + checked);
  }

  private static double maxDiff(float[] expected, List<?> actual) {
    assertEquals(expected.length, actual.size());
    double worst = 0;
    for (int k = 0; k < expected.length; k++) {
      worst = Math.max(worst, Math.abs(expected[k] - ((Number) actual.get(k)).floatValue()));
    }
    return worst;
  }

  /** Multi-column rows: unequal lengths, a null column, a bad token in one column, bad static features. */
  @Test
  void multiColumnRowsAreRejectedWithTheColumnNamed() throws Exception {
    Path dir = Golden.root().resolve("graph/e_static_two_heads");
    ModelGraph graph = ModelLoader.load(dir).graph();
    Map<String, Object> c = Golden.readCase(dir);
    org.apache.spark.sql.Dataset<Row> good = dataset(graph, c);
    List<Row> rows = new ArrayList<>(good.orderBy("id").collectAsList());
    int tokens = -1;
    int features = -1;
    for (int k = 0; k < graph.inputs().size(); k++) {
      if (graph.inputs().get(k).kind() == InputKind.TOKENS) {
        tokens = k + 1;
      } else {
        features = k + 1;
      }
    }
    assertTrue(tokens > 0 && features > 0, "the case has a token and a feature input");
    int staticIndex = 1 + graph.inputs().size();
    List<Row> bad = new ArrayList<>();
    bad.add(with(rows.get(0), 100, tokens, List.of(1L))); // 1 token, more feature steps
    bad.add(with(rows.get(1), 101, features, null));
    List<Object> outOfRange = new ArrayList<>(rows.get(2).getList(tokens));
    outOfRange.set(0, 999L);
    bad.add(with(rows.get(2), 102, tokens, outOfRange));
    bad.add(with(rows.get(3), 103, staticIndex, null));
    bad.add(with(rows.get(4), 104, staticIndex, List.of(1.0)));
    String input = tmp.resolve("bad-in").toString();
    spark.createDataFrame(bad, good.schema()).write().parquet(input);
    String output = tmp.resolve("bad-out").toString();
    RunSummary summary = ScoreJob.run(spark, options(input, dir, output, false, renames(graph)));
    assertEquals(5, summary.rejectedRows());
    Map<Long, String> reasons = new HashMap<>();
    for (Row r : spark.read().parquet(output + "_rejects").collectAsList()) {
      reasons.put(r.getLong(0), r.getString(1) + ": " + r.getString(2));
    }
    String tokenCol = graph.inputs().get(tokens - 1).name() + "_col";
    String featureCol = graph.inputs().get(features - 1).name() + "_col";
    String staticCol = graph.statics().get(0).name() + "_col";
    int featureSteps = rows.get(0).getList(features).size();
    String first = tokens < features ? tokenCol : featureCol;
    String second = tokens < features ? featureCol : tokenCol;
    int firstLen = tokens < features ? 1 : featureSteps;
    int secondLen = tokens < features ? featureSteps : 1;
    assertEquals("LENGTH_MISMATCH: column '" + first + "' has " + firstLen + " steps but column '" + second
        + "' has " + secondLen, reasons.get(100L));
    assertEquals("NULL_SEQUENCE: column '" + featureCol + "' is null", reasons.get(101L));
    assertEquals("TOKEN_OUT_OF_RANGE: column '" + tokenCol + "': token 999 at step 0 is outside [0, "
        + ((TokenInput) graph.inputs().get(tokens - 1)).vocabSize() + ")", reasons.get(102L));
    assertEquals("BAD_FEATURES: static column '" + staticCol + "' is null", reasons.get(103L));
    assertEquals("BAD_FEATURES: static column '" + staticCol + "' has 1 values, expected "
        + graph.statics().get(0).size(), reasons.get(104L));
  }

  private static Row with(Row row, long id, int index, Object value) {
    Object[] values = new Object[row.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = row.get(i);
    }
    values[0] = id;
    values[index] = value;
    return RowFactory.create(values);
  }

  @Test
  void aMissingOrMistypedInputColumnIsRefusedOnTheDriver() throws Exception {
    Path dir = Golden.root().resolve("graph/b_fraud_lstm");
    ModelGraph graph = ModelLoader.load(dir).graph();
    String input = tmp.resolve("schema-in").toString();
    dataset(graph, Golden.readCase(dir)).write().parquet(input);
    InputSchemaException missing = assertThrows(InputSchemaException.class,
        () -> ScoreJob.run(spark, options(input, dir, tmp.resolve("o1").toString(), false, Map.of())));
    assertTrue(missing.getMessage().startsWith("Cannot find column 'event' (model input event; rename with --col "
        + "event=COLUMN) in the input; available columns: id, event_col"), missing.getMessage());
    Map<String, String> swapped = new HashMap<>(renames(graph));
    swapped.put("event", "numeric_col");
    InputSchemaException mistyped = assertThrows(InputSchemaException.class,
        () -> ScoreJob.run(spark, options(input, dir, tmp.resolve("o2").toString(), false, swapped)));
    assertEquals("Cannot score column 'numeric_col': its type is array<array<float>>, but the model takes token "
        + "ids, so expected array<int> or array<bigint> (use --seq-col or --col to pick another column)",
        mistyped.getMessage());
  }
}
