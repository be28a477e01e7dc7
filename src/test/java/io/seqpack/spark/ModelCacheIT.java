package io.seqpack.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.ml.SequenceScorerTransformer;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import io.seqpack.testing.Golden;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The executor model cache is bounded: more models than the budget holds drop the least recently used one. */
class ModelCacheIT {
  private static SparkSession spark;

  @BeforeAll
  static void startSpark() {
    spark = LocalSpark.start();
  }

  @AfterAll
  static void stopSpark() {
    spark.conf().unset(ExecutorModelCache.BUDGET_KEY);
    spark.stop();
  }

  private static String key(String name) {
    return ExecutorModelCache.key(ModelLoader.load(Golden.root().resolve(name)).contentHash(),
        SequenceModel.Options.DEFAULT);
  }

  private static long bytes(String name) {
    return ExecutorModelCache.weightBytes(ModelLoader.load(Golden.root().resolve(name)));
  }

  private static Map<Long, List<Object>> score(Dataset<Row> input, String name) {
    Map<Long, List<Object>> out = new HashMap<>();
    new SequenceScorerTransformer().setModelPath(Golden.root().resolve(name).toString()).setInputCol("seq")
        .transform(input).collectAsList().forEach(r -> out.put(r.getLong(0), r.getList(r.fieldIndex("scores"))));
    return out;
  }

  @Test
  void modelsBeyondTheBudgetEvictTheLeastRecentlyUsedAndScoresDoNotChange() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      List<Integer> seq = new ArrayList<>();
      for (int t = 0; t <= i % 7; t++) {
        seq.add((i + 3 * t) % 10);
      }
      rows.add(RowFactory.create((long) i, seq));
    }
    Dataset<Row> input = spark.createDataFrame(rows, DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, false), false))))
        .repartition(2);
    // room for lstm + gru, not for a third model
    long budget = bytes("lstm") + bytes("gru");
    assertTrue(bytes("rnn_tanh") > 0 && bytes("rnn_tanh") + bytes("gru") <= budget + bytes("lstm"));
    spark.conf().set(ExecutorModelCache.BUDGET_KEY, Long.toString(budget));
    ExecutorModelCache.clear();

    Map<Long, List<Object>> lstm = score(input, "lstm");
    Map<Long, List<Object>> gru = score(input, "gru");
    assertEquals(List.of(key("lstm"), key("gru")), ExecutorModelCache.keys());
    Map<Long, List<Object>> rnn = score(input, "rnn_tanh");
    assertEquals(List.of(key("gru"), key("rnn_tanh")), ExecutorModelCache.keys(), "the oldest (lstm) is dropped");
    assertEquals(lstm, score(input, "lstm"), "lstm decoded again, same scores");
    assertEquals(List.of(key("rnn_tanh"), key("lstm")), ExecutorModelCache.keys());
    assertEquals(gru, score(input, "gru"));
    assertEquals(rnn, score(input, "rnn_tanh"));
    assertEquals(20, lstm.size());

    spark.conf().set(ExecutorModelCache.BUDGET_KEY, "0"); // a model alone over budget is still cached, alone
    score(input, "lstm");
    assertEquals(1, ExecutorModelCache.size());
  }
}
