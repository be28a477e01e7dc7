package io.seqpack.cli;

import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Builds the SparkSession for a CLI run: spark-submit's settings, then --master and --conf on top. */
public final class Sessions {
  private Sessions() {}

  public static SparkSession create(String appName, String master, List<String> conf) {
    SparkConf sparkConf = new SparkConf(); // picks up spark.* system properties set by spark-submit
    sparkConf.setAppName(appName);
    if (master != null) {
      sparkConf.setMaster(master);
    } else if (!sparkConf.contains("spark.master")) {
      sparkConf.setMaster("local[*]"); // a laptop run without spark-submit
    }
    // One BLAS/OpenMP thread per task: Spark already runs one task per core (see README, "Threads").
    sparkConf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", "1");
    sparkConf.setIfMissing("spark.executorEnv.OPENBLAS_NUM_THREADS", "1");
    // off: its carriage-return bar garbles logs and pipes; seqpack logs one progress line per finished stage
    sparkConf.setIfMissing("spark.ui.showConsoleProgress", "false");
    if (sparkConf.get("spark.master").startsWith("local")) {
      sparkConf.setIfMissing("spark.driver.host", "127.0.0.1");
      sparkConf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
      sparkConf.setIfMissing("spark.ui.enabled", "false");
    }
    for (String kv : conf) {
      int eq = kv.indexOf('=');
      sparkConf.set(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
    return SparkSession.builder().config(sparkConf).getOrCreate();
  }
}
