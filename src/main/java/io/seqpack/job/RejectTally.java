package io.seqpack.job;

import io.seqpack.spark.Schemas;
import io.seqpack.summary.RunSummary;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Reject rows per reason, with the ids of the first {@value RunSummary#REJECT_EXAMPLES} rows of each reason, from
 * one pass over the staged rejects: each partition counts its rows and keeps its first ids per reason, the driver
 * adds the counts and keeps the first ids in partition order. The counts are exact (they are the accounting's);
 * the examples cost a few strings per reason and partition.
 *
 * @param counts rows per reason code
 * @param examples per reason code, up to {@value RunSummary#REJECT_EXAMPLES} ids (a null id is no example)
 */
record RejectTally(Map<String, Long> counts, Map<String, List<String>> examples) implements Serializable {
  static final RejectTally NONE = new RejectTally(new TreeMap<>(), new TreeMap<>());

  /** Tallies committed or staged rejects ({@link Schemas#rejects} rows). */
  static RejectTally of(Dataset<Row> rejects) {
    RejectTally total = NONE;
    for (RejectTally partition : rejects.select(Schemas.ID, Schemas.REASON).javaRDD()
        .mapPartitions(new PerPartition()).collect()) {
      total = total.plus(partition);
    }
    return total;
  }

  long rows() {
    return counts.values().stream().mapToLong(Long::longValue).sum();
  }

  /** This tally and {@code other}'s rows; examples from this one first. */
  RejectTally plus(RejectTally other) {
    Map<String, Long> sum = new TreeMap<>(counts);
    other.counts.forEach((reason, n) -> sum.merge(reason, n, Long::sum));
    Map<String, List<String>> ids = new TreeMap<>();
    examples.forEach((reason, list) -> ids.put(reason, new ArrayList<>(list)));
    other.examples.forEach((reason, list) -> list.forEach(id -> addExample(ids, reason, id)));
    return new RejectTally(sum, ids);
  }

  private static void addExample(Map<String, List<String>> ids, String reason, String id) {
    List<String> list = ids.computeIfAbsent(reason, r -> new ArrayList<>());
    if (list.size() < RunSummary.REJECT_EXAMPLES) {
      list.add(id);
    }
  }

  /** Executor side: one partition's tally of {@code (id, reason)} rows. */
  static final class PerPartition implements FlatMapFunction<Iterator<Row>, RejectTally> {
    @Override
    public Iterator<RejectTally> call(Iterator<Row> rows) {
      Map<String, Long> counts = new TreeMap<>();
      Map<String, List<String>> ids = new TreeMap<>();
      while (rows.hasNext()) {
        Row row = rows.next();
        String reason = row.getString(1);
        counts.merge(reason, 1L, Long::sum);
        if (!row.isNullAt(0)) {
          addExample(ids, reason, String.valueOf(row.get(0)));
        }
      }
      return List.of(new RejectTally(counts, ids)).iterator();
    }
  }
}
