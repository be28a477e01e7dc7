package io.seqpack.cli;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Builds the SparkSession for a CLI run: spark-submit's settings, then --master and --conf on top. */
public final class Sessions {
  /** Spark settings with this prefix are Hadoop settings ({@code spark.hadoop.fs.defaultFS}). */
  private static final String HADOOP_PREFIX = "spark.hadoop.";

  private Sessions() {}

  public static SparkSession create(String appName, String master, List<String> conf) {
    return SparkSession.builder().config(sparkConf(appName, master, conf)).getOrCreate();
  }

  /**
   * The Hadoop configuration the session will read paths with (Hadoop's files, then the {@code spark.hadoop.*}
   * settings), without starting Spark: what the checks before Spark starts decide local paths with.
   */
  public static Configuration hadoopConf(List<String> conf) {
    Configuration hadoop = new Configuration();
    hadoopSettings(conf).forEach(hadoop::set);
    return hadoop;
  }

  /**
   * The session's {@code fs.defaultFS} when it is known without loading Hadoop (a {@code spark.hadoop.} setting,
   * or Hadoop's {@code file:///} default when no {@code core-site.xml} is on the class path), else null.
   */
  public static String defaultFs(List<String> conf) {
    String configured = hadoopSettings(conf).get("fs.defaultFS");
    if (configured != null) {
      return configured;
    }
    return Thread.currentThread().getContextClassLoader().getResource("core-site.xml") == null ? "file:///" : null;
  }

  /** The {@code spark.hadoop.*} settings without the prefix, read as SparkConf reads them (spark-submit's
   * settings are system properties) without loading Spark's classes, which alone takes about a second. */
  private static Map<String, String> hadoopSettings(List<String> conf) {
    Map<String, String> settings = new TreeMap<>();
    System.getProperties().stringPropertyNames().forEach(key -> settings.put(key, System.getProperty(key)));
    for (String kv : conf) {
      int eq = kv.indexOf('=');
      settings.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
    Map<String, String> hadoop = new TreeMap<>();
    settings.forEach((key, value) -> {
      if (key.startsWith(HADOOP_PREFIX)) {
        hadoop.put(key.substring(HADOOP_PREFIX.length()), value);
      }
    });
    return hadoop;
  }

  private static SparkConf sparkConf(String appName, String master, List<String> conf) {
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
    return sparkConf;
  }
}
