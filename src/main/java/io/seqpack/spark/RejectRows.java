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

  /** Rows of {@code input} that {@link RowCodec#decode} might reject: a superset, never fewer. */
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
      if (c.isTokens()) {
        reasons.add("exists(" + seq + ", x -> x IS NULL OR x < 0 OR x >= " + c.vocabSize() + ")");
      } else if (c.type().isScalarSteps()) {
        reasons.add("exists(" + seq + ", v -> " + notFloat("v") + ")");
      } else {
        // NaN and ±Inf fall outside the range too (Spark orders NaN above every number); values just beyond
        // Float.MAX_VALUE that still round to it are candidates that RowCodec then accepts
        reasons.add("exists(" + seq + ", step -> step IS NULL OR size(step) != " + c.width()
            + " OR exists(step, v -> " + notFloat("v") + "))");
      }
    }
    for (InputColumns.Static c : s.columns().statics()) {
      String col = quote(c.column());
      reasons.add(c.scalar() ? notFloat(col)
          : col + " IS NULL OR size(" + col + ") != " + c.size() + " OR exists(" + col + ", v -> " + notFloat("v")
              + ")");
    }
    // NULL (unknown) counts as a candidate
    return input.filter(functions.expr("coalesce(" + String.join(" OR ", reasons) + ", true)"));
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
