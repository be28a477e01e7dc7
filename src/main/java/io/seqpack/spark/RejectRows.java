package io.seqpack.spark;

import java.util.Collections;
import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** The rejects pass: the same decoding as the scoring pass, keeping only the rows it refuses. */
final class RejectRows implements FlatMapFunction<Row, Row> {
  private final ScoreSettings settings;

  RejectRows(ScoreSettings settings) {
    this.settings = settings;
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
