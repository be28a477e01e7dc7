package io.seqpack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.seqpack.SeqpackException;
import io.seqpack.batching.BatchPlan;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.ModelLoader;
import io.seqpack.nn.SequenceModel;
import io.seqpack.spark.ScoreResult;
import io.seqpack.spark.SequenceScorer;
import io.seqpack.summary.RunSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retries, reruns, edge-sized inputs and the reject threshold: nothing lost, nothing duplicated. */
class ReliabilityIT {
  private static final Path MODEL = Path.of("src/test/resources/golden/lstm"); // tokens, vocab 20
  private static final StructType SCHEMA = DataTypes.createStructType(List.of(
      DataTypes.createStructField("id", DataTypes.LongType, true),
      DataTypes.createStructField("seq", DataTypes.createArrayType(DataTypes.IntegerType, true), true)));
  private static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void startSpark() {
    // local[2, 4]: two task slots and up to 4 attempts per task, so injected failures are retried
    spark = SparkSession.builder().master("local[2,4]").appName("seqpack-reliability")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private String writeInput(String name, List<Row> rows, int partitions) {
    String path = tmp.resolve(name).toString();
    spark.createDataFrame(rows, SCHEMA).repartition(partitions).write().parquet(path);
    return path;
  }

  private static List<Row> goodRows(int n, long firstId) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Integer> seq = new ArrayList<>();
      for (int t = 0; t < 1 + (i * 13) % 40; t++) {
        seq.add((i + t * 7) % 20);
      }
      rows.add(RowFactory.create(firstId + i, seq));
    }
    return rows;
  }

  private RunSummary score(String input, String output, boolean overwrite, double maxRejectFraction) {
    return ScoreJob.run(spark, new ScoreJob.Options(input, MODEL, output, null, "id", "seq", List.of(), false, 0,
        new BatchPlan(200, 8, 2), overwrite, false, maxRejectFraction));
  }

  /** id -> scores, as read back through Spark. */
  private Map<Long, List<Object>> predictions(String output) {
    Map<Long, List<Object>> byId = new TreeMap<>();
    for (Row r : spark.read().parquet(output).collectAsList()) {
      assertFalse(byId.containsKey(r.getLong(0)), "id " + r.getLong(0) + " appears twice");
      byId.put(r.getLong(0), r.getList(2));
    }
    return byId;
  }

  /**
   * Test-side failure injection (the product has no hook): passes a task's rows through and, on the task's first
   * attempt, fails after the last one, i.e. after the scoring pass produced every row of the partition.
   */
  static final class FailFirstAttempt implements MapPartitionsFunction<Row, Row> {
    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      boolean first = TaskContext.get().attemptNumber() == 0;
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          boolean more = rows.hasNext();
          if (!more && first) {
            throw new IllegalStateException("injected failure of a first task attempt (ReliabilityIT)");
          }
          return more;
        }

        @Override
        public Row next() {
          return rows.next();
        }
      };
    }
  }

  @Test
  void tasksThatFailOnTheirFirstAttemptLeaveEveryRowExactlyOnce() {
    String input = writeInput("retry-in", goodRows(500, 0), 4);
    score(input, tmp.resolve("clean").toString(), false, 1.0);
    // the library path the job takes, with every scoring task failing once after all its rows; the write's commit
    // protocol must keep only the retried attempts' files
    SequenceScorer scorer = SequenceScorer.builder(MODEL).idCol("id").seqCol("seq")
        .batchPlan(new BatchPlan(200, 8, 2)).build();
    String retried = tmp.resolve("retried").toString();
    try (ScoreResult result = scorer.score(spark.read().parquet(input))) {
      Dataset<Row> predictions = result.predictions();
      predictions.mapPartitions(new FailFirstAttempt(), Encoders.row(predictions.schema())).write().parquet(retried);
      result.rejects().mapPartitions(new FailFirstAttempt(), Encoders.row(result.rejects().schema()))
          .write().parquet(retried + "_rejects");
    }
    assertEquals(500, spark.read().parquet(input).count());
    assertEquals(500, spark.read().parquet(retried).count());
    assertEquals(0, spark.read().parquet(retried + "_rejects").count());
    Map<Long, List<Object>> clean = predictions(tmp.resolve("clean").toString());
    assertEquals(500, clean.size());
    assertEquals(clean, predictions(retried));
  }

  @Test
  void rerunWithOverwriteGivesTheSameRows() {
    List<Row> rows = goodRows(120, 1000);
    rows.add(RowFactory.create(5000L, List.of()));
    String input = writeInput("rerun-in", rows, 3);
    String output = tmp.resolve("rerun-out").toString();
    score(input, output, false, 1.0);
    Map<Long, List<Object>> first = predictions(output);
    RunSummary again = score(input, output, true, 1.0);
    assertEquals(first, predictions(output));
    assertEquals(1, again.rejectedRows());
    assertEquals(1, spark.read().parquet(output + "_rejects").count());
  }

  @Test
  void emptyInputOnlyBadRowsAndOneRowPartitions() {
    String empty = writeInput("empty", List.of(), 1);
    RunSummary none = score(empty, tmp.resolve("empty-out").toString(), false, 1.0);
    assertEquals(0, none.inputRows());
    assertEquals(0, none.scoredRows());
    assertTrue(Files.exists(tmp.resolve("empty-out/_SUCCESS")));
    assertTrue(Files.exists(tmp.resolve("empty-out").resolve(RunSummary.FILE)));

    List<Row> bad = new ArrayList<>();
    bad.add(RowFactory.create(1L, null));
    bad.add(RowFactory.create(2L, List.of(99)));
    bad.add(RowFactory.create(null, List.of(1)));
    RunSummary allBad = score(writeInput("bad", bad, 2), tmp.resolve("bad-out").toString(), false, 1.0);
    assertEquals(0, allBad.scoredRows());
    assertEquals(Map.of("NULL_SEQUENCE", 1L, "TOKEN_OUT_OF_RANGE", 1L, "NULL_ID", 1L), allBad.rejectsByReason());

    String single = writeInput("single", goodRows(3, 0), 3); // one row per partition
    assertEquals(3, score(single, tmp.resolve("single-out").toString(), false, 1.0).scoredRows());
  }

  @Test
  void extremelyLongSequencesAreScoredLikeTheEngineScoresThem() {
    int[] tokens = new int[30_000];
    List<Integer> seq = new ArrayList<>();
    for (int t = 0; t < tokens.length; t++) {
      tokens[t] = (t * 7 + t / 13) % 20;
      seq.add(tokens[t]);
    }
    List<Row> rows = new ArrayList<>(goodRows(5, 0));
    rows.add(RowFactory.create(99L, seq));
    String output = tmp.resolve("long-out").toString();
    RunSummary summary = score(writeInput("long", rows, 2), output, false, 1.0);
    assertEquals(6, summary.scoredRows());
    Row longRow = spark.read().parquet(output).filter("id = 99").first();
    assertEquals(30_000, longRow.getInt(1));
    float expected = new SequenceModel(ModelLoader.load(MODEL)).score(RaggedBatch.ofTokens(new int[][] {tokens}), false)
        .row(0)[0];
    assertEquals(expected, (Float) longRow.getList(2).get(0), 1e-6);
  }

  @Test
  void duplicateIdsAreBothScored() {
    List<Row> rows = new ArrayList<>(goodRows(2, 7));
    rows.add(RowFactory.create(7L, List.of(3, 4, 5)));
    String output = tmp.resolve("dup-out").toString();
    RunSummary summary = score(writeInput("dup", rows, 1), output, false, 1.0);
    assertEquals(3, summary.scoredRows());
    assertEquals(2, spark.read().parquet(output).filter("id = 7").count());
  }

  @Test
  void rejectThresholdFailsAfterWritingEverything() {
    List<Row> rows = new ArrayList<>(goodRows(9, 0));
    rows.add(RowFactory.create(100L, List.of(-1)));
    String input = writeInput("threshold", rows, 2);
    assertEquals(1, score(input, tmp.resolve("t-ok").toString(), false, 0.1).rejectedRows());
    SeqpackException e = assertThrows(SeqpackException.class,
        () -> score(input, tmp.resolve("t-fail").toString(), false, 0.05));
    assertTrue(e.getMessage().startsWith("Too many rejects: 1 of 10 input rows (0.1000) exceed --max-reject-fraction 0.05"),
        e.getMessage());
    assertTrue(Files.exists(tmp.resolve("t-fail").resolve(RunSummary.FILE)), "summary still written");
  }
}
