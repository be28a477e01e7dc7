package io.seqpack.ml;

import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.SparkSession;

/**
 * Run in a separate JVM by {@link SequenceScorerTransformerIT}: loads a saved pipeline and writes what it makes of
 * a Parquet input. Arguments: pipeline folder, input, output.
 */
public final class PipelineScoreMain {
  private PipelineScoreMain() {}

  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().master("local[2]").appName("seqpack-pipeline-child")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
    try {
      PipelineModel model = PipelineModel.load(args[0]);
      model.transform(spark.read().parquet(args[1])).write().parquet(args[2]);
    } finally {
      spark.stop();
    }
  }
}
