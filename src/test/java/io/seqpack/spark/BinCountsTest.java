package io.seqpack.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

class BinCountsTest {
  private static final int SIZE = 32 * 32_768; // 32 outputs on the decile grid
  private static final ClassTag<BinCounts> TAG = ClassTag$.MODULE$.apply(BinCounts.class);
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = LocalSpark.start();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void tasksCountAndTheDriverMergesExactly() {
    BinCounts counts = new BinCounts(SIZE);
    spark.sparkContext().register(counts, "test.counts");
    new JavaSparkContext(spark.sparkContext()).parallelize(List.of(1, 2, 3, 4), 4).foreach(i -> {
      counts.addAt(7, i);
      counts.addAt(SIZE - i, 1);
    });
    long[] expected = new long[SIZE];
    expected[7] = 10;
    for (int i = 1; i <= 4; i++) {
      expected[SIZE - i] = 1;
    }
    assertArrayEquals(expected, counts.value());
  }

  @Test
  void aTasksUpdateTravelsAsItsNonzeroCounters() {
    BinCounts driver = new BinCounts(SIZE);
    spark.sparkContext().register(driver, "test.wire");
    // what Spark does with its Java serializer: the task receives a zero copy, counts, and sends it back
    SerializerInstance serializer = new JavaSerializer(new SparkConf()).newInstance();
    ByteBuffer toTask = serializer.serialize(driver, TAG);
    assertTrue(toTask.remaining() < 2_000, toTask.remaining() + " bytes to the task");
    BinCounts task = serializer.deserialize(toTask, TAG);
    task.addAt(7, 3);
    task.addAt(SIZE - 1, 5);
    ByteBuffer back = serializer.serialize(task, TAG);
    assertTrue(back.remaining() < 2_000, back.remaining() + " bytes for two counters of " + SIZE);
    driver.merge(serializer.deserialize(back, TAG));
    long[] expected = new long[SIZE];
    expected[7] = 3;
    expected[SIZE - 1] = 5;
    assertArrayEquals(expected, driver.value());
  }
}
