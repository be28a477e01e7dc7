package io.seqpack.bench;

import io.seqpack.cli.Sessions;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Writes a synthetic token input for scale and memory checks: {@code rows} rows of {@code id bigint, seq
 * array<int>} in FILES Parquet files (default one, so a run reads it as a single partition), lengths uniform in
 * 1..maxLength, tokens in [0, vocab). Deterministic: the values are functions of the id.
 *
 * <p>Usage: {@code SyntheticParquet OUT ROWS MAX_LENGTH VOCAB [FILES]}
 */
public final class SyntheticParquet {
  private SyntheticParquet() {}

  public static void main(String[] args) {
    if (args.length != 4 && args.length != 5) {
      System.err.println("usage: SyntheticParquet OUT ROWS MAX_LENGTH VOCAB [FILES]");
      System.exit(2);
    }
    String out = args[0];
    long rows = Long.parseLong(args[1]);
    int maxLength = Integer.parseInt(args[2]);
    int vocab = Integer.parseInt(args[3]);
    int files = args.length == 5 ? Integer.parseInt(args[4]) : 1;
    SparkSession spark = Sessions.create("seqpack synthetic input", "local[2]",
        List.of("spark.ui.showConsoleProgress=false"));
    try {
      Dataset<Row> data = spark.range(rows)
          .selectExpr("id",
              "transform(sequence(1, 1 + cast(pmod(id * 2654435761, " + maxLength + ") as int)), "
                  + "t -> cast(pmod(id * 31 + t * 17, " + vocab + ") as int)) as seq");
      (files == 1 ? data.coalesce(1) : data.repartition(files)).write().mode("overwrite").parquet(out);
    } finally {
      spark.stop();
    }
  }
}
