package io.seqpack.spark;

import io.seqpack.batching.LengthBucketer;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.ModelBytes;
import io.seqpack.nn.Scores;
import io.seqpack.nn.SequenceModel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The scoring pass over one partition: decode rows, drop the rejected ones (the rejects pass writes them),
 * bucket the valid ones by length within a bounded window, score each minibatch with the executor's cached
 * model and emit one prediction row per input row. Everything is lazy: rows flow through, only the window
 * is buffered.
 */
final class ScorePartition implements MapPartitionsFunction<Row, Row> {
  private final Broadcast<ModelBytes> model;
  private final ScoreSettings settings;
  private final ScoreMetrics metrics;

  ScorePartition(Broadcast<ModelBytes> model, ScoreSettings settings, ScoreMetrics metrics) {
    this.model = model;
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    SequenceModel engine = ExecutorModelCache.get(model, settings);
    metrics.executors.add(SparkEnv.get().executorId() + "@" + ProcessHandle.current().pid());
    metrics.kernels.add(SequenceModel.kernels());
    Iterator<RowCodec.Valid> valid = new ValidRows(input);
    LengthBucketer<RowCodec.Valid> batches =
        new LengthBucketer<>(valid, RowCodec.Valid::length, settings.plan());
    return new ScoredRows(engine, batches);
  }

  /** Decodes rows and passes on the valid ones. */
  private final class ValidRows implements Iterator<RowCodec.Valid> {
    private final Iterator<Row> rows;
    private RowCodec.Valid next;

    ValidRows(Iterator<Row> rows) {
      this.rows = rows;
    }

    @Override
    public boolean hasNext() {
      while (next == null && rows.hasNext()) {
        metrics.rowsSeen.add(1);
        if (RowCodec.decode(rows.next(), settings) instanceof RowCodec.Valid v) {
          next = v;
        }
      }
      return next != null;
    }

    @Override
    public RowCodec.Valid next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      RowCodec.Valid v = next;
      next = null;
      return v;
    }
  }

  /** Scores one minibatch at a time and hands out its prediction rows. */
  private final class ScoredRows implements Iterator<Row> {
    private final SequenceModel engine;
    private final Iterator<List<RowCodec.Valid>> batches;
    private List<Row> current = List.of();
    private int position;

    ScoredRows(SequenceModel engine, Iterator<List<RowCodec.Valid>> batches) {
      this.engine = engine;
      this.batches = batches;
    }

    @Override
    public boolean hasNext() {
      while (position >= current.size() && batches.hasNext()) {
        current = score(batches.next());
        position = 0;
      }
      boolean more = position < current.size();
      if (!more && settings.failFirstAttempt() && TaskContext.get().attemptNumber() == 0) {
        throw new IllegalStateException("injected failure of a first task attempt (" + ScoreSettings.FAIL_FIRST_ATTEMPT_KEY + ")");
      }
      return more;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return current.get(position++);
    }

    private List<Row> score(List<RowCodec.Valid> batch) {
      RaggedBatch ragged = toRaggedBatch(batch);
      long start = System.nanoTime();
      Scores scores = engine.score(ragged, settings.perStep(), settings.emitEmbedding());
      metrics.engineNanos.add(System.nanoTime() - start);
      metrics.batches.add(1);
      metrics.rowsScored.add(batch.size());
      metrics.tokens.add(ragged.totalSteps());
      metrics.paddedSlots.add((long) batch.size() * ragged.maxLength());
      metrics.addBatch(ragged.lengths(), ragged.maxLength(), ragged.totalSteps());
      List<Row> rows = new ArrayList<>(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        metrics.addScores(scores.row(i));
        rows.add(predictionRow(batch.get(i), i, scores));
      }
      return rows;
    }
  }

  /** The batch in the engine's layout: one column per model input, the static features per row. */
  private RaggedBatch toRaggedBatch(List<RowCodec.Valid> batch) {
    int[] offsets = new int[batch.size() + 1];
    for (int i = 0; i < batch.size(); i++) {
      offsets[i + 1] = offsets[i] + batch.get(i).length();
    }
    int steps = offsets[batch.size()];
    List<InputColumns.Step> inputs = settings.columns().steps();
    List<RaggedBatch.Column> columns = new ArrayList<>(inputs.size());
    for (int k = 0; k < inputs.size(); k++) {
      if (inputs.get(k).isTokens()) {
        int[] tokens = new int[steps];
        for (int i = 0; i < batch.size(); i++) {
          System.arraycopy(batch.get(i).tokens()[k], 0, tokens, offsets[i], batch.get(i).length());
        }
        columns.add(RaggedBatch.Column.ofTokens(tokens));
      } else {
        int width = inputs.get(k).width();
        float[] features = new float[steps * width];
        for (int i = 0; i < batch.size(); i++) {
          float[] f = batch.get(i).features()[k];
          System.arraycopy(f, 0, features, offsets[i] * width, f.length);
        }
        columns.add(RaggedBatch.Column.ofFeatures(features, width));
      }
    }
    int staticWidth = settings.columns().staticWidth();
    float[] statics = new float[batch.size() * staticWidth];
    for (int i = 0; i < batch.size(); i++) {
      System.arraycopy(batch.get(i).statics(), 0, statics, i * staticWidth, staticWidth);
    }
    return new RaggedBatch(offsets, columns, statics, staticWidth);
  }

  /** {@code id, <carried>, length, <one column per head>[, embedding][, step_scores]} ({@link Schemas#predictions}). */
  private Row predictionRow(RowCodec.Valid row, int i, Scores scores) {
    int[] keep = settings.keepIndices();
    int heads = scores.heads().size();
    Object[] values = new Object[keep.length + 2 + heads + (settings.emitEmbedding() ? 1 : 0)
        + (settings.perStep() ? 1 : 0)];
    int k = 0;
    values[k++] = row.id();
    for (int index : keep) {
      values[k++] = row.source().get(index);
    }
    values[k++] = row.length();
    for (int h = 0; h < heads; h++) {
      values[k++] = scores.row(h, i);
    }
    if (settings.emitEmbedding()) {
      values[k++] = scores.embeddingRow(i);
    }
    if (settings.perStep()) {
      float[][] steps = new float[row.length()][];
      for (int t = 0; t < steps.length; t++) {
        steps[t] = scores.step(i, t);
      }
      values[k] = steps;
    }
    return RowFactory.create(values);
  }
}
