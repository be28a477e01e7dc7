package io.seqpack.spark;

import io.seqpack.batching.LengthBucketer;
import io.seqpack.data.RaggedBatch;
import io.seqpack.nn.Scores;
import io.seqpack.nn.SequenceModel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The scoring pass over one partition: decode rows; drop the rejected ones (the rejects pass writes them), or with
 * an append layout ({@link ScoreSettings.Output}) fail on them, drop them or keep them with null scores;
 * bucket the valid ones by length within a bounded window, score each minibatch with the executor's cached
 * model and emit one prediction row per input row. Everything is lazy: rows flow through, only the window
 * is buffered.
 */
final class ScorePartition implements MapPartitionsFunction<Row, Row> {
  private final Broadcast<ShippedModel> model;
  private final ScoreSettings settings;
  private final ScoreMetrics metrics;

  ScorePartition(Broadcast<ShippedModel> model, ScoreSettings settings, ScoreMetrics metrics) {
    this.model = model;
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> input) {
    SequenceModel engine = ExecutorModelCache.get(model, settings);
    String executor = SparkEnv.get().executorId() + "@" + ProcessHandle.current().pid();
    metrics.executors.add(executor);
    metrics.kernels.add(SequenceModel.kernels());
    Iterator<RowCodec.Decoded> decoded = new DecodedRows(input);
    // refused rows kept in the output ride along in the batches (length 1, never scored), so the window
    // bounds them too
    LengthBucketer<RowCodec.Decoded> batches = new LengthBucketer<>(decoded,
        d -> d instanceof RowCodec.Valid v ? v.length() : 1, settings.plan());
    return new ScoredRows(engine, batches, executor);
  }

  /** Decodes rows; passes on the valid ones, and the refused ones when they are kept in the output. */
  private final class DecodedRows implements Iterator<RowCodec.Decoded> {
    private final Iterator<Row> rows;
    private RowCodec.Decoded next;

    DecodedRows(Iterator<Row> rows) {
      this.rows = rows;
    }

    @Override
    public boolean hasNext() {
      while (next == null && rows.hasNext()) {
        metrics.rowsSeen.add(1);
        RowCodec.Decoded d = RowCodec.decode(rows.next(), settings);
        if (d instanceof RowCodec.Rejected r) {
          switch (settings.output()) {
            case APPEND_ERROR -> throw refused(r);
            case APPEND_KEEP -> next = d;
            default -> { } // PREDICTIONS: the rejects pass writes it; APPEND_SKIP: dropped
          }
        } else {
          next = d;
        }
      }
      return next != null;
    }

    @Override
    public RowCodec.Decoded next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      RowCodec.Decoded d = next;
      next = null;
      return d;
    }
  }

  /** handleInvalid = error: the task (and so the job) fails on the first refused row, naming it. */
  private InvalidRowException refused(RowCodec.Rejected r) {
    String row = settings.idIndex() < 0 ? "a row (set idCol to have rows named by their id)"
        : "the row with id " + cut(String.valueOf(r.id()));
    return new InvalidRowException("Cannot score " + row + ": " + r.reason().name() + ": " + r.detail()
        + " (handleInvalid is 'error'; 'skip' drops such rows, 'keep' keeps them with null scores and the reason)");
  }

  private static String cut(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /** The exception a refused row raises with handleInvalid = error. */
  static final class InvalidRowException extends io.seqpack.SeqpackException {
    InvalidRowException(String message) {
      super(message);
    }
  }

  /** Scores one minibatch at a time and hands out its output rows. */
  private final class ScoredRows implements Iterator<Row> {
    private final SequenceModel engine;
    private final Iterator<List<RowCodec.Decoded>> batches;
    private List<Row> current = List.of();
    private int position;
    private final String executor;
    private boolean memorySampled;

    ScoredRows(SequenceModel engine, Iterator<List<RowCodec.Decoded>> batches, String executor) {
      this.engine = engine;
      this.executor = executor;
      this.batches = batches;
    }

    @Override
    public boolean hasNext() {
      while (position >= current.size() && batches.hasNext()) {
        current = score(batches.next());
        position = 0;
      }
      if (position < current.size()) {
        return true;
      }
      if (!memorySampled) { // the partition is done: its peaks are in
        memorySampled = true;
        metrics.memory.add(ExecutorMemoryProbe.sample(executor));
      }
      return false;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return current.get(position++);
    }

    private List<Row> score(List<RowCodec.Decoded> decoded) {
      List<Row> rows = new ArrayList<>(decoded.size());
      List<RowCodec.Valid> batch = new ArrayList<>(decoded.size());
      for (RowCodec.Decoded d : decoded) {
        if (d instanceof RowCodec.Valid v) {
          batch.add(v);
        } else {
          rows.add(keptRejectRow((RowCodec.Rejected) d));
        }
      }
      if (batch.isEmpty()) {
        return rows;
      }
      RaggedBatch ragged = toRaggedBatch(batch);
      long start = System.nanoTime();
      Scores scores = engine.score(ragged, settings.perStep(), settings.emitEmbedding(), settings.topK(),
          settings.excludeSeenInput());
      metrics.engineNanos.add(System.nanoTime() - start);
      metrics.batches.add(1);
      metrics.rowsScored.add(batch.size());
      metrics.tokens.add(ragged.totalSteps());
      metrics.paddedSlots.add((long) batch.size() * ragged.maxLength());
      metrics.addBatch(ragged.lengths(), ragged.maxLength(), ragged.totalSteps());
      for (int i = 0; i < batch.size(); i++) {
        for (int h = 0; h < scores.headWidths().length; h++) {
          metrics.addHeadScores(h, scores.top(h) != null ? scores.top(h).scores(i) : scores.row(h, i));
        }
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

  /**
   * {@code id, <carried>, length, <one column per head>[, embedding][, step_scores]} ({@link Schemas#predictions}),
   * or with an append layout every input column, then {@code length, <heads>[, embedding][, step_scores][,
   * reject reason]} ({@link SequenceScorer#transformSchema}).
   */
  private Row predictionRow(RowCodec.Valid row, int i, Scores scores) {
    int heads = scores.heads().size();
    Object[] values = new Object[prefixWidth(row.source()) + 1 + settings.headColumnCount()
        + (settings.emitEmbedding() ? 1 : 0)
        + settings.stepColumnCount() + (settings.output() == ScoreSettings.Output.APPEND_KEEP ? 1 : 0)];
    int k = copyPrefix(row.source(), row.id(), values);
    values[k++] = row.length();
    for (int h = 0; h < heads; h++) {
      if (scores.top(h) != null) {
        values[k++] = scores.top(h).ids(i);
        values[k++] = scores.top(h).scores(i);
      } else {
        values[k++] = scores.row(h, i);
      }
    }
    if (settings.emitEmbedding()) {
      values[k++] = scores.embeddingRow(i);
    }
    if (settings.perStep() && scores.stepTop() != null) {
      int[][] ids = new int[row.length()][];
      float[][] top = new float[row.length()][];
      for (int t = 0; t < ids.length; t++) {
        ids[t] = scores.stepTop().ids(scores.stepRow(i, t));
        top[t] = scores.stepTop().scores(scores.stepRow(i, t));
      }
      values[k++] = ids;
      values[k] = top;
    } else if (settings.perStep()) {
      float[][] steps = new float[row.length()][];
      for (int t = 0; t < steps.length; t++) {
        steps[t] = scores.step(i, t);
      }
      values[k] = steps;
    }
    return RowFactory.create(values); // the reject reason, if any, stays null
  }

  /** handleInvalid = keep: the input columns, null for every appended column, then {@code REASON: detail}. */
  private Row keptRejectRow(RowCodec.Rejected r) {
    Object[] values = new Object[prefixWidth(r.source()) + 1 + settings.headColumnCount()
        + (settings.emitEmbedding() ? 1 : 0) + settings.stepColumnCount() + 1];
    copyPrefix(r.source(), r.id(), values);
    values[values.length - 1] = r.reason().name() + ": " + r.detail();
    return RowFactory.create(values);
  }

  private int prefixWidth(Row source) {
    return settings.output().appends() ? source.size() : 1 + settings.keepIndices().length;
  }

  /** Writes the input part of an output row; returns the next position. */
  private int copyPrefix(Row source, Object id, Object[] values) {
    int k = 0;
    if (settings.output().appends()) {
      for (int c = 0; c < source.size(); c++) {
        values[k++] = source.get(c);
      }
      return k;
    }
    values[k++] = id;
    for (int index : settings.keepIndices()) {
      values[k++] = source.get(index);
    }
    return k;
  }
}
