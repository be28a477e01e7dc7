package io.seqpack.batching;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.ToIntFunction;

/**
 * Turns a stream of rows into length-bucketed minibatches with bounded memory.
 *
 * <p>Rows are read lazily into a window (at most {@link BatchPlan#windowRows()} rows or {@link
 * BatchPlan#windowTokens()} real steps). A full window is sorted by length, longest first, and cut greedily
 * into batches whose padded size (rows × longest) stays within the token budget and whose row count stays
 * within the cap. Cutting a sorted window is adaptive bucketing: the bucket boundaries are wherever the
 * budget runs out, so they follow the quantiles of the lengths actually seen rather than fixed constants,
 * and every batch holds rows of nearly equal length, which keeps the packed batch wide at every step.
 *
 * <p>Every input row appears in exactly one batch; order across batches is not the input order.
 */
public final class LengthBucketer<T> implements Iterator<List<T>> {
  private final Iterator<T> rows;
  private final ToIntFunction<T> length;
  private final BatchPlan plan;
  private final List<T> window = new ArrayList<>();
  private final List<List<T>> ready = new ArrayList<>();
  private int nextReady;

  public LengthBucketer(Iterator<T> rows, ToIntFunction<T> length, BatchPlan plan) {
    this.rows = rows;
    this.length = length;
    this.plan = plan;
  }

  @Override
  public boolean hasNext() {
    if (nextReady < ready.size()) {
      return true;
    }
    fillWindow();
    return nextReady < ready.size();
  }

  @Override
  public List<T> next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    List<T> batch = ready.get(nextReady);
    ready.set(nextReady++, null); // let the batch be collected once the caller is done with it
    return batch;
  }

  private void fillWindow() {
    ready.clear();
    nextReady = 0;
    window.clear();
    long tokens = 0;
    while (rows.hasNext() && window.size() < plan.windowRows() && tokens < plan.windowTokens()) {
      T row = rows.next();
      window.add(row);
      tokens += length.applyAsInt(row);
    }
    if (window.isEmpty()) {
      return;
    }
    window.sort(Comparator.comparingInt(length).reversed());
    cut(window, length, plan, ready);
    window.clear();
  }

  /** Cuts rows sorted by descending length into batches within the plan's budget and row cap. */
  static <T> void cut(List<T> sorted, ToIntFunction<T> length, BatchPlan plan, List<List<T>> out) {
    int start = 0;
    while (start < sorted.size()) {
      // the first row is the longest of its batch, so the budget allows budget / longest rows
      int longest = Math.max(1, length.applyAsInt(sorted.get(start)));
      int rows = Math.max(1, Math.min(plan.maxBatchRows(), plan.batchTokens() / longest));
      int end = Math.min(sorted.size(), start + rows);
      out.add(new ArrayList<>(sorted.subList(start, end)));
      start = end;
    }
  }
}
