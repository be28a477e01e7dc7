package io.seqpack.job;

import io.seqpack.testing.Golden;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/** Turns a golden case's inputs into a Spark input (id = row index) and reads its expected outputs. */
final class GoldenInputs {
  final Path dir;
  final Map<String, Object> json;

  GoldenInputs(String name) {
    this.dir = Golden.root().resolve(name);
    this.json = Golden.readCase(dir);
  }

  List<?> inputs() {
    return (List<?>) json.get("inputs");
  }

  /** expected[row][k] for a [B][out] key such as "scores". */
  float[][] rows(String key) {
    List<?> rows = (List<?>) json.get(key);
    float[][] out = new float[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = Golden.floats(rows.get(i));
    }
    return out;
  }

  /** step_scores[row][t][k]. */
  float[][][] stepScores() {
    List<?> rows = (List<?>) json.get("step_scores");
    float[][][] out = new float[rows.size()][][];
    for (int i = 0; i < out.length; i++) {
      List<?> steps = (List<?>) rows.get(i);
      out[i] = new float[steps.size()][];
      for (int t = 0; t < steps.size(); t++) {
        out[i][t] = Golden.floats(steps.get(t));
      }
    }
    return out;
  }

  /**
   * The inputs as a Dataset with {@code id bigint} and {@code seq} of the given element type (IntegerType or
   * LongType for tokens; FloatType or DoubleType for features, nested), spread over {@code partitions}.
   */
  Dataset<Row> dataset(SparkSession spark, DataType element, int partitions) {
    boolean tokens = element.equals(DataTypes.IntegerType) || element.equals(DataTypes.LongType);
    DataType seqType = tokens ? DataTypes.createArrayType(element) : DataTypes.createArrayType(DataTypes.createArrayType(element));
    List<Row> rows = new ArrayList<>();
    List<?> inputs = inputs();
    for (int i = 0; i < inputs.size(); i++) {
      rows.add(RowFactory.create((long) i, convert((List<?>) inputs.get(i), element)));
    }
    return spark.createDataFrame(rows, DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.LongType, false),
            DataTypes.createStructField("seq", seqType, true))))
        .repartition(partitions);
  }

  private static List<Object> convert(List<?> values, DataType element) {
    List<Object> out = new ArrayList<>();
    for (Object v : values) {
      if (v instanceof List<?> nested) {
        out.add(convert(nested, element));
      } else if (element.equals(DataTypes.IntegerType)) {
        out.add(((Number) v).intValue());
      } else if (element.equals(DataTypes.LongType)) {
        out.add(((Number) v).longValue());
      } else if (element.equals(DataTypes.FloatType)) {
        out.add(((Number) v).floatValue());
      } else {
        out.add((double) ((Number) v).floatValue()); // the float32 value, widened exactly
      }
    }
    return out;
  }
}
