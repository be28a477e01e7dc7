package io.seqpack.spark;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * The rejects pass: the same decoding as the scoring pass, keeping only the rows it refuses.
 *
 * <p>Decoding a row means turning it into a {@link Row} (Spark boxes every array element), so the pass first
 * narrows the input with {@link #candidates}, a Catalyst predicate evaluated on Spark's own row format that keeps
 * every row {@link RowCodec} could refuse (and possibly a few it accepts). Only those rows are decoded; the
 * decoding alone decides what is a reject and why.
 */
final class RejectRows implements FlatMapFunction<Row, Row> {
  private final ScoreSettings settings;

  RejectRows(ScoreSettings settings) {
    this.settings = settings;
  }

  private static final String FLOAT_MAX = (double) Float.MAX_VALUE + "D";

  /**
   * Rows of {@code input} that {@link RowCodec#decode} might reject: a superset, never fewer.
   *
   * <p>Element checks use {@code array_min}, {@code array_max} and {@code arrays_overlap}, which Spark compiles,
   * rather than {@code exists(array, x -> ...)}: a lambda is interpreted per element, and that was 8% of a
   * RNN-256 job's task time (async-profiler, 250,000 rows). Null elements are found with {@code arrays_overlap(a,
   * array(s))}, which is NULL when {@code a} holds a null and no {@code s}; the sentinel {@code s} is itself a
   * value that fails the range check, so a row holding it is a candidate either way.
   */
  static Dataset<Row> candidates(Dataset<Row> input, ScoreSettings s) {
    StructType schema = input.schema();
    String id = quote(schema.fields()[s.idIndex()].name());
    List<String> reasons = new ArrayList<>();
    reasons.add(id + " IS NULL");
    String firstSeq = null;
    for (InputColumns.Step c : s.columns().steps()) {
      String seq = quote(c.column());
      reasons.add(seq + " IS NULL");
      if (firstSeq == null) {
        firstSeq = seq;
        reasons.add("size(" + seq + ") = 0");
        if (s.maxLength() > 0) {
          reasons.add("size(" + seq + ") > " + s.maxLength());
        }
      } else {
        reasons.add("size(" + seq + ") != size(" + firstSeq + ")");
      }
      DataType element = ((ArrayType) schema.apply(c.column()).dataType()).elementType();
      if (c.isTokens()) {
        reasons.add(outside(seq, element, "0", String.valueOf(c.vocabSize() - 1L), "-1"));
      } else if (c.type().isScalarSteps()) {
        reasons.add(notFloats(seq, element));
      } else {
        // a step's width needs a lambda, but one per step, not per value
        reasons.add("exists(" + seq + ", step -> step IS NULL OR size(step) != " + c.width() + ")");
        reasons.add(notFloats("flatten(" + seq + ")", ((ArrayType) element).elementType()));
      }
    }
    for (InputColumns.Static c : s.columns().statics()) {
      String col = quote(c.column());
      reasons.add(c.scalar() ? notFloat(col)
          : col + " IS NULL OR size(" + col + ") != " + c.size() + " OR "
              + notFloats(col, ((ArrayType) schema.apply(c.column()).dataType()).elementType()));
    }
    // NULL (unknown) counts as a candidate
    return input.filter(functions.expr("coalesce(" + String.join(" OR ", reasons) + ", true)"));
  }

  /**
   * A predicate: {@code array} has a value below {@code min}, above {@code max} or null ({@code sentinel} must be
   * outside {@code [min, max]}). NaN is above every number in Spark's ordering, so {@code array_max} finds it.
   */
  private static String outside(String array, DataType element, String min, String max, String sentinel) {
    return "array_min(" + array + ") < " + min + " OR array_max(" + array + ") > " + max
        + " OR arrays_overlap(" + array + ", array(CAST(" + sentinel + " AS " + element.sql() + ")))";
  }

  /** A predicate: {@code array} holds a null or a value that is not a finite float32. */
  private static String notFloats(String array, DataType element) {
    return outside(array, element, "-" + FLOAT_MAX, FLOAT_MAX, "'Infinity'");
  }

  /** A Spark SQL predicate: {@code value} is null or not a finite float32 (NaN, ±Inf, beyond Float.MAX_VALUE). */
  private static String notFloat(String value) {
    return value + " IS NULL OR NOT (" + value + " BETWEEN -" + FLOAT_MAX + " AND " + FLOAT_MAX + ")";
  }

  private static String quote(String column) {
    return "`" + column.replace("`", "``") + "`";
  }

  @Override
  public Iterator<Row> call(Row row) {
    if (!(RowCodec.decode(row, settings) instanceof RowCodec.Rejected r)) {
      return Collections.emptyIterator();
    }
    int[] keep = settings.keepIndices();
    Object[] values = new Object[keep.length + 3];
    int k = 0;
    values[k++] = r.id();
    for (int index : keep) {
      values[k++] = row.get(index);
    }
    values[k++] = r.reason().name();
    values[k] = r.detail();
    return Collections.singletonList(RowFactory.create(values)).iterator();
  }
}
