package io.seqpack.ml;

import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.SparkSession;

/**
 * Run in a separate JVM by {@link SequenceScorerTransformerIT} (local mode) and, submitted to the standalone
 * cluster with the shaded jar in {@code --jars}, by {@code ClusterIT}: loads a saved pipeline and writes what it
 * makes of a Parquet input. Arguments: pipeline folder, input, output. The master is spark-submit's when there is
 * one, else {@code local[2]}.
 */
public final class PipelineScoreMain {
  private PipelineScoreMain() {}

  public static void main(String[] args) {
    SparkSession.Builder builder = SparkSession.builder().appName("seqpack-pipeline-child")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1");
    if (System.getProperty("spark.master") == null) {
      builder.master("local[2]");
    }
    SparkSession spark = builder.getOrCreate();
    try {
      PipelineModel model = PipelineModel.load(args[0]);
      model.transform(spark.read().parquet(args[1])).write().parquet(args[2]);
    } finally {
      spark.stop();
    }
  }
}
