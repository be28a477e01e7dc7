package io.seqpack.spark;

import io.seqpack.InputSchemaException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.ByteType;

/** The output and rejects schemas, and the driver-side checks of the input schema. */
public final class Schemas {
  private Schemas() {}

  public static final String ID = "id";
  public static final String LENGTH = "length";
  public static final String SCORES = "scores";
  public static final String STEP_SCORES = "step_scores";
  public static final String REASON = "reason";
  public static final String DETAIL = "detail";

  /** Position of a column, or a one-line error listing the columns that exist. */
  public static int columnIndex(StructType schema, String column, String flag) {
    List<String> names = Arrays.asList(schema.fieldNames());
    int index = names.indexOf(column);
    if (index < 0) {
      throw new InputSchemaException(
          "Cannot find column '" + column + "' (" + flag + ") in the input; available columns: "
              + String.join(", ", names));
    }
    return index;
  }

  /** The id column may be any integer or string type; it is copied to the output unchanged. */
  static void checkIdType(String column, DataType type, String idSetting) {
    boolean ok = type instanceof IntegerType || type instanceof LongType || type instanceof ShortType
        || type instanceof ByteType || type instanceof StringType;
    if (!ok) {
      throw new InputSchemaException(
          "Cannot use column '" + column + "' as the id: its type is " + type.simpleString()
              + ", expected an integer type (tinyint, smallint, int, bigint) or string (use " + idSetting + ")");
    }
  }

  /** The vector the heads see, with {@code --emit-embedding}. */
  public static final String EMBEDDING = "embedding";

  /**
   * The output column of each head: {@code scores} for a model with one head, else the head names, in order.
   */
  public static List<String> headColumns(io.seqpack.model.ModelGraph graph) {
    if (graph.heads().size() == 1) {
      return List.of(SCORES);
    }
    return graph.heads().stream().map(io.seqpack.model.ModelGraph.Head::name).toList();
  }

  /** Suffix of a top-k head's item ids column ({@code array<int>}): {@code scores_top_ids}. */
  public static final String TOP_IDS = "_top_ids";

  /** Suffix of a top-k head's scores column ({@code array<float>}), aligned with its ids. */
  public static final String TOP_SCORES = "_top_scores";

  /**
   * {@code id, <carried columns>, length, <head columns>[, embedding][, step_scores]}; a head with {@code
   * topK[h] > 0} ({@code topK} null: none) is two columns, {@code <column>_top_ids}, {@code <column>_top_scores}.
   */
  public static StructType predictions(DataType idType, List<StructField> carried, List<String> headColumns,
      boolean embedding, boolean perStep, int[] topK) {
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField(ID, idType, false));
    fields.addAll(carried);
    fields.add(DataTypes.createStructField(LENGTH, DataTypes.IntegerType, false));
    for (int h = 0; h < headColumns.size(); h++) {
      String head = headColumns.get(h);
      if (topK != null && topK[h] > 0) {
        fields.add(DataTypes.createStructField(head + TOP_IDS, DataTypes.createArrayType(DataTypes.IntegerType,
            false), false));
        fields.add(DataTypes.createStructField(head + TOP_SCORES, DataTypes.createArrayType(DataTypes.FloatType,
            false), false));
        continue;
      }
      fields.add(DataTypes.createStructField(head, DataTypes.createArrayType(DataTypes.FloatType, false), false));
    }
    if (embedding) {
      fields.add(DataTypes.createStructField(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false),
          false));
    }
    if (perStep) {
      fields.addAll(stepColumns(STEP_SCORES, topK != null && topK[0] > 0, false));
    }
    List<String> names = new ArrayList<>();
    for (StructField f : fields) {
      if (names.contains(f.name())) {
        throw new io.seqpack.ConfigException("Cannot write predictions: two output columns are named '" + f.name()
            + "' (a carried column, a head name or a fixed column); rename the carried column");
      }
      names.add(f.name());
    }
    return DataTypes.createStructType(fields);
  }

  /**
   * The per-step column {@code name} ({@code array<array<float>>}), or with top-k its two, {@code
   * <name>_top_ids} ({@code array<array<int>>}) and {@code <name>_top_scores} ({@code array<array<float>>}).
   */
  static List<StructField> stepColumns(String name, boolean topK, boolean nullable) {
    DataType scores = DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, false), false);
    if (!topK) {
      return List.of(DataTypes.createStructField(name, scores, nullable));
    }
    return List.of(DataTypes.createStructField(name + TOP_IDS,
            DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.IntegerType, false), false), nullable),
        DataTypes.createStructField(name + TOP_SCORES, scores, nullable));
  }

  /** {@code id, <carried columns>, reason, detail}; id is null for NULL_ID rows. */
  public static StructType rejects(DataType idType, List<StructField> carried) {
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField(ID, idType, true));
    fields.addAll(carried);
    fields.add(DataTypes.createStructField(REASON, DataTypes.StringType, false));
    fields.add(DataTypes.createStructField(DETAIL, DataTypes.StringType, false));
    return DataTypes.createStructType(fields);
  }
}
