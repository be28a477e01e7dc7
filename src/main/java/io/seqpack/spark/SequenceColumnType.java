package io.seqpack.spark;

import io.seqpack.InputSchemaException;
import io.seqpack.model.ModelSpec;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/** The physical types seqpack accepts for the sequence column. */
public enum SequenceColumnType {
  INT_TOKENS("array<int>"),
  LONG_TOKENS("array<bigint>"),
  FLOAT_FEATURES("array<array<float>>"),
  DOUBLE_FEATURES("array<array<double>>"),
  /** One float per step: a numeric input of size 1. */
  FLOAT_VALUES("array<float>"),
  /** One double per step: a numeric input of size 1. */
  DOUBLE_VALUES("array<double>");

  private final String sql;

  SequenceColumnType(String sql) {
    this.sql = sql;
  }

  public boolean isTokens() {
    return this == INT_TOKENS || this == LONG_TOKENS;
  }

  /** Whether each step is one number rather than an array of them. */
  public boolean isScalarSteps() {
    return this == FLOAT_VALUES || this == DOUBLE_VALUES;
  }

  /**
   * Resolves the column's Spark type against what the model expects, or explains what is wrong and how to fix
   * it.
   */
  public static SequenceColumnType resolve(String column, DataType type, ModelSpec.InputKind kind, int width) {
    return resolve(column, type, kind, width, SequenceScorer.Names.CLI_FLAGS.pickColumn());
  }

  /** Like {@link #resolve(String, DataType, ModelSpec.InputKind, int)}, ending the message with {@code hint}. */
  static SequenceColumnType resolve(String column, DataType type, ModelSpec.InputKind kind, int width, String hint) {
    SequenceColumnType found = classify(type);
    boolean tokens = kind == ModelSpec.InputKind.TOKENS;
    String expected = tokens ? "array<int> or array<bigint>" : "array<array<float>> or array<array<double>>"
        + (width == 1 ? " (or array<float> / array<double>: one value per step)" : "");
    if (found == null || found.isTokens() != tokens || (found.isScalarSteps() && width != 1)) {
      throw new InputSchemaException(
          "Cannot score column '" + column + "': its type is " + type.simpleString() + ", but the model takes "
              + (tokens ? "token ids" : "feature vectors") + ", so expected " + expected
              + " (" + hint + ")");
    }
    return found;
  }

  private static SequenceColumnType classify(DataType type) {
    if (!(type instanceof ArrayType array)) {
      return null;
    }
    DataType element = array.elementType();
    if (element.equals(DataTypes.IntegerType)) {
      return INT_TOKENS;
    }
    if (element.equals(DataTypes.LongType)) {
      return LONG_TOKENS;
    }
    if (element.equals(DataTypes.FloatType)) {
      return FLOAT_VALUES;
    }
    if (element.equals(DataTypes.DoubleType)) {
      return DOUBLE_VALUES;
    }
    if (element instanceof ArrayType inner) {
      if (inner.elementType().equals(DataTypes.FloatType)) {
        return FLOAT_FEATURES;
      }
      if (inner.elementType().equals(DataTypes.DoubleType)) {
        return DOUBLE_FEATURES;
      }
    }
    return null;
  }

  public String sql() {
    return sql;
  }
}
