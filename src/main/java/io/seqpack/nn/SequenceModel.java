package io.seqpack.nn;

import io.seqpack.ModelFormatException;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelSpec;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.ModelSpec.RnnMode;
import io.seqpack.model.Tensor;
import io.seqpack.model.WeightNames;
import io.seqpack.pack.PackedLayout;
import io.seqpack.pack.PackedSequence;
import java.util.Arrays;

/**
 * A scoring model: (embedding or features) → RNN / LSTM / GRU stack → pooling → {@code fc} → activation, with
 * PyTorch's float32 semantics for packed input ({@code pack_padded_sequence(..., enforce_sorted=False)}).
 *
 * <p>Immutable and thread-safe: one instance is shared by all tasks of an executor JVM. Scratch buffers live in
 * a per-thread {@link Workspace} that only grows, so the time loop allocates nothing.
 *
 * <p>How a batch runs: rows are gathered from the {@link RaggedBatch} straight into packed, time-major order (no
 * padding). Per layer and direction the input projection of all steps is one {@link Gemm} ({@code pre = X·W_ihᵀ
 * + b_ih}, {@code [N, G*H]}), or, for token models at layer 0, a row copy from a precomputed vocabulary table
 * {@code E·W_ihᵀ + b_ih} ({@code [vocab, G*H]}) when it is small enough (see {@link Options}). The time loop
 * ({@link Recurrence}) then only multiplies by {@code W_hh}.
 */
public final class SequenceModel {
  /** Default largest vocabulary table, in floats summed over directions: 16M floats = 64 MB (vocab 10k × LSTM 256 = 10.24M). */
  public static final long DEFAULT_VOCAB_TABLE_MAX_FLOATS = 16_000_000L;

  /**
   * Engine settings.
   *
   * @param vocabTableMaxFloats fold embedding and {@code W_ih} of layer 0 into a {@code [vocab, G*H]} table per
   *     direction when {@code vocab × G·H × D} is at most this; 0 disables the table
   */
  public record Options(long vocabTableMaxFloats) {
    public static final Options DEFAULT = new Options(DEFAULT_VOCAB_TABLE_MAX_FLOATS);

    public Options {
      if (vocabTableMaxFloats < 0) {
        throw new IllegalArgumentException("vocabTableMaxFloats must be >= 0, got " + vocabTableMaxFloats);
      }
    }
  }

  /** Weights of one direction of one layer. */
  private record Direction(
      Gemm.Weights inputWeights, float[] inputBias, Gemm.Weights hiddenWeights, Cell cell, float[] vocabTable) {}

  private final ModelSpec spec;
  private final int inputSize; // width of layer 0's input per step
  private final int hidden; // H
  private final int stateSize; // P
  private final int directions; // D
  private final int gateWidth; // G*H
  private final int outputWidth; // D*P
  private final int outFeatures;
  private final int vocabSize;
  private final float[] embedding; // [vocab, E], null for feature models
  private final Direction[][] layers; // [numLayers][D]
  private final Gemm.Weights fc; // [outFeatures, D*P]
  private final float[] fcBias; // [outFeatures] or null
  private final ThreadLocal<Workspace> workspaces = ThreadLocal.withInitial(Workspace::new);

  public SequenceModel(LoadedModel model) {
    this(model, Options.DEFAULT);
  }

  public SequenceModel(LoadedModel model, Options options) {
    this.spec = model.spec();
    ModelSpec.RnnSpec rnn = spec.rnn();
    this.inputSize = spec.input().rnnInputSize();
    this.hidden = rnn.hiddenSize();
    this.stateSize = rnn.stateSize();
    this.directions = rnn.directions();
    this.gateWidth = rnn.mode().gates() * hidden;
    this.outputWidth = rnn.outputSize();
    this.outFeatures = spec.head().outFeatures();
    boolean tokens = spec.input().kind() == InputKind.TOKENS;
    this.vocabSize = tokens ? spec.input().vocabSize() : 0;
    this.embedding = tokens ? tensor(model, WeightNames.EMBEDDING, vocabSize, inputSize).data() : null;
    boolean useVocabTable = tokens && options.vocabTableMaxFloats() > 0
        && (long) vocabSize * gateWidth * directions <= options.vocabTableMaxFloats();
    this.layers = new Direction[rnn.numLayers()][directions];
    for (int l = 0; l < rnn.numLayers(); l++) {
      for (int d = 0; d < directions; d++) {
        layers[l][d] = loadDirection(model, l, d == 1, useVocabTable && l == 0);
      }
    }
    this.fc = Gemm.prepare(tensor(model, WeightNames.FC_WEIGHT, outFeatures, outputWidth).data(), 0, outFeatures,
        outputWidth);
    this.fcBias = model.tensors().containsKey(WeightNames.FC_BIAS)
        ? tensor(model, WeightNames.FC_BIAS, outFeatures).data() : null;
  }

  private Direction loadDirection(LoadedModel model, int layer, boolean reverse, boolean withVocabTable) {
    ModelSpec.RnnSpec rnn = spec.rnn();
    int layerInput = layer == 0 ? inputSize : outputWidth;
    Gemm.Weights inputWeights = Gemm.prepare(
        tensor(model, WeightNames.weightIh(layer, reverse), gateWidth, layerInput).data(), 0, gateWidth, layerInput);
    Gemm.Weights hiddenWeights = Gemm.prepare(
        tensor(model, WeightNames.weightHh(layer, reverse), gateWidth, stateSize).data(), 0, gateWidth, stateSize);
    float[] inputBias = rnn.bias() ? tensor(model, WeightNames.biasIh(layer, reverse), gateWidth).data() : null;
    float[] hiddenBias = rnn.bias() ? tensor(model, WeightNames.biasHh(layer, reverse), gateWidth).data() : null;
    Cell cell = switch (rnn.mode()) {
      case RNN_TANH -> new SimpleRnnCell(hidden, hiddenBias, false);
      case RNN_RELU -> new SimpleRnnCell(hidden, hiddenBias, true);
      case GRU -> new GruCell(hidden, hiddenBias);
      case LSTM -> new LstmCell(hidden, hiddenBias, rnn.projSize() > 0
          ? Gemm.prepare(tensor(model, WeightNames.weightHr(layer, reverse), stateSize, hidden).data(), 0,
              stateSize, hidden)
          : null);
    };
    float[] vocabTable = null;
    if (withVocabTable) { // the same Gemm + bias as the per-row path, so both give identical bits
      vocabTable = new float[Math.multiplyExact(vocabSize, gateWidth)];
      project(vocabSize, embedding, inputWeights, inputBias, vocabTable);
    }
    return new Direction(inputWeights, inputBias, hiddenWeights, cell, vocabTable);
  }

  private static Tensor tensor(LoadedModel model, String name, int... shape) {
    Tensor t = model.tensors().get(name);
    if (t == null) {
      throw new ModelFormatException("Cannot build model: tensor " + name + " is missing, expected shape "
          + Arrays.toString(shape));
    }
    if (!Arrays.equals(t.shape(), shape)) {
      throw new ModelFormatException("Cannot build model: tensor " + name + " has shape " + t.shapeString()
          + ", expected " + Arrays.toString(shape));
    }
    return t;
  }

  public ModelSpec spec() {
    return spec;
  }

  /**
   * The kernels this JVM scores with, e.g. {@code "gemm openblas SkylakeX, gates vector-api (16 floats)"}: {@link
   * Gemm}'s backend with its OpenBLAS core and {@link GateMath}'s.
   */
  public static String kernels() {
    return "gemm " + Gemm.describe() + ", gates " + GateMath.backend();
  }

  /** {@link #kernels()} and the CPU they run on, the line {@code inspect-model}, {@code demo} and the bench print. */
  public static String kernelsOnThisCpu() {
    return kernels() + " on " + OpenBlasCore.CpuInfo.current().describe();
  }

  /** Whether layer 0 reads its input projection from a precomputed vocabulary table. */
  public boolean usesVocabTable() {
    return layers[0][0].vocabTable() != null;
  }

  /** Width of the last layer's output and of the vectors {@link #applyHead} takes: D*P. */
  public int outputWidth() {
    return outputWidth;
  }

  public int outFeatures() {
    return outFeatures;
  }

  // ------------------------------------------------------------------------------------------------ API

  /**
   * Scores every row: pooling of the last layer, {@code fc}, activation; rows in the batch's original order.
   * With {@code perStep}, also the head applied to every valid step of the last layer's output.
   *
   * @throws IllegalArgumentException for a batch the model cannot read (kind, width, token ids, empty rows)
   */
  public Scores score(RaggedBatch batch, boolean perStep) {
    int batchSize = batch.size();
    if (batchSize == 0) {
      return new Scores(new float[0], outFeatures, perStep ? new float[0] : null, batch.offsets().clone());
    }
    PackedLayout layout = layoutOf(batch);
    Workspace ws = workspaces.get();
    float[] output = forward(batch, layout, ws, null, null);
    ws.pooled = Workspace.grow(ws.pooled, (long) batchSize * outputWidth);
    pool(output, layout, ws.pooled);
    float[] scores = new float[batchSize * outFeatures];
    head(ws.pooled, batchSize, scores, true);
    float[] stepScores = null;
    if (perStep) {
      int rows = layout.totalRows();
      ws.stepLogits = Workspace.grow(ws.stepLogits, (long) rows * outFeatures);
      head(output, rows, ws.stepLogits, true);
      stepScores = new float[rows * outFeatures];
      scatterToBatchOrder(ws.stepLogits, outFeatures, batch, layout, stepScores);
    }
    return new Scores(scores, outFeatures, stepScores, batch.offsets().clone());
  }

  /** Runs the RNN stack only and returns what PyTorch's module returns for a packed input (fresh arrays). */
  public RnnResult runRnn(RaggedBatch batch) {
    PackedLayout layout = layoutOf(batch);
    int states = spec.rnn().numLayers() * directions;
    float[] hN = new float[states * layout.batch() * stateSize];
    float[] cN = spec.rnn().mode() == RnnMode.LSTM ? new float[states * layout.batch() * hidden] : null;
    float[] output = forward(batch, layout, workspaces.get(), hN, cN);
    float[] data = Arrays.copyOf(output, layout.totalRows() * outputWidth);
    return new RnnResult(new PackedSequence(data, outputWidth, layout), hN, cN, states, stateSize, hidden);
  }

  /** {@code [B, D*P]}: the model's pooling of an {@link #runRnn} output, rows in original order. */
  public float[] pool(RnnResult result) {
    PackedLayout layout = result.output().layout();
    float[] pooled = new float[layout.batch() * outputWidth];
    pool(result.output().data(), layout, pooled);
    return pooled;
  }

  /** {@code [count, outFeatures]}: {@code fc} and the activation applied to {@code count} vectors of D*P floats. */
  public float[] applyHead(float[] vectors, int count) {
    return applyHead(vectors, count, true);
  }

  /** {@link #applyHead} without the activation: the logits. */
  float[] applyHead(float[] vectors, int count, boolean activate) {
    if (count < 0 || vectors.length < (long) count * outputWidth) {
      throw new IllegalArgumentException("Cannot apply head: " + vectors.length + " floats hold fewer than " + count
          + " vectors of width " + outputWidth);
    }
    float[] out = new float[count * outFeatures];
    head(vectors, count, out, activate);
    return out;
  }

  // ------------------------------------------------------------------------------------------------ forward

  private PackedLayout layoutOf(RaggedBatch batch) {
    if (batch.isTokens() != (embedding != null)) {
      throw new IllegalArgumentException("Cannot score batch: the model reads "
          + (embedding != null ? "token ids" : "feature vectors") + " but the batch holds "
          + (batch.isTokens() ? "token ids" : "feature vectors"));
    }
    if (batch.isTokens()) {
      int[] tokens = batch.tokens();
      for (int i = 0; i < batch.size(); i++) {
        for (int s = batch.offsets()[i]; s < batch.offsets()[i + 1]; s++) {
          if (tokens[s] < 0 || tokens[s] >= vocabSize) {
            throw new IllegalArgumentException("Cannot score batch: token id " + tokens[s] + " at row " + i
                + " step " + (s - batch.offsets()[i]) + " is outside the vocabulary [0, " + vocabSize + ")");
          }
        }
      }
    } else if (batch.width() != inputSize) {
      throw new IllegalArgumentException("Cannot score batch: it has " + batch.width()
          + " features per step, the model expects " + inputSize);
    }
    return PackedLayout.of(batch.lengths());
  }

  /**
   * Runs all layers; returns the workspace buffer holding the last layer's output {@code [N, D*P]} in packed
   * order. Fills {@code hN}/{@code cN} ({@code [layers*D, B, ·]}, original order) when they are non-null.
   */
  private float[] forward(RaggedBatch batch, PackedLayout layout, Workspace ws, float[] hN, float[] cN) {
    int rows = layout.totalRows();
    int batchSize = layout.batch();
    ws.outputA = Workspace.grow(ws.outputA, (long) rows * outputWidth);
    ws.outputB = Workspace.grow(ws.outputB, (long) rows * outputWidth);
    if (!usesVocabTable() || layers.length > 1) {
      ws.pre = Workspace.grow(ws.pre, (long) rows * gateWidth);
    }
    ws.gates = Workspace.grow(ws.gates, (long) batchSize * gateWidth);
    ws.cellState = Workspace.grow(ws.cellState, (long) batchSize * hidden);
    ws.cellTemp = Workspace.grow(ws.cellTemp, (long) batchSize * hidden);
    if (ws.preRows.length < rows) {
      ws.preRows = new int[Math.max(rows, ws.preRows.length * 3 / 2)];
    }
    float[] input = null;
    if (!usesVocabTable()) {
      ws.layerInput = Workspace.grow(ws.layerInput, (long) rows * inputSize);
      input = ws.layerInput;
      gatherToPackedOrder(batch, layout, embedding, inputSize, input);
    }
    int inputWidth = inputSize;
    for (int l = 0; l < layers.length; l++) {
      float[] output = input == ws.outputA ? ws.outputB : ws.outputA;
      for (int d = 0; d < directions; d++) {
        Direction w = layers[l][d];
        float[] pre;
        if (w.vocabTable() != null) { // rows of the table itself, by token: nothing copied
          tableRowsInPackedOrder(batch, layout, gateWidth, ws.preRows);
          pre = w.vocabTable();
        } else {
          Gemm.multiply(rows, input, 0, inputWidth, w.inputWeights(), ws.pre, 0, gateWidth, false);
          addBias(ws.pre, rows, w.inputBias());
          for (int r = 0; r < rows; r++) {
            ws.preRows[r] = r * gateWidth;
          }
          pre = ws.pre;
        }
        boolean reverse = d == 1;
        Recurrence.run(w.cell(), w.hiddenWeights(), pre, ws.preRows, layout, reverse, output, d * stateSize,
            outputWidth, ws);
        if (hN != null) {
          copyFinalStates(output, layout, l * directions + d, reverse, d * stateSize, hN);
        }
        if (cN != null) { // after the loop the cell state holds every row's final c, in sorted order
          copySortedRows(ws.cellState, hidden, layout, l * directions + d, cN);
        }
      }
      input = output;
      inputWidth = outputWidth;
    }
    return input;
  }

  /**
   * Packed row {@code stepOffsets[t] + s} = step t of original row {@code sortedIndices[s]}: for token models the
   * row {@code table[token]} (embedding or vocabulary table), for feature models the step's features.
   */
  private static void gatherToPackedOrder(
      RaggedBatch batch, PackedLayout layout, float[] table, int width, float[] dest) {
    int[] offsets = batch.offsets();
    int[] sorted = layout.sortedIndices();
    int[] tokens = batch.tokens();
    float[] features = batch.features();
    for (int t = 0; t < layout.maxLength(); t++) {
      int base = layout.stepOffsets()[t];
      for (int s = 0, n = layout.batchSizes()[t]; s < n; s++) {
        int step = offsets[sorted[s]] + t;
        if (tokens != null) {
          System.arraycopy(table, tokens[step] * width, dest, (base + s) * width, width);
        } else {
          System.arraycopy(features, step * width, dest, (base + s) * width, width);
        }
      }
    }
  }

  /** {@code rowStarts[packed row] = token of that step × width}: the step's row in a {@code [vocab, width]} table. */
  private static void tableRowsInPackedOrder(RaggedBatch batch, PackedLayout layout, int width, int[] rowStarts) {
    int[] offsets = batch.offsets();
    int[] sorted = layout.sortedIndices();
    int[] tokens = batch.tokens();
    for (int t = 0; t < layout.maxLength(); t++) {
      int base = layout.stepOffsets()[t];
      for (int s = 0, n = layout.batchSizes()[t]; s < n; s++) {
        rowStarts[base + s] = tokens[offsets[sorted[s]] + t] * width;
      }
    }
  }

  /** {@code packed[N, width]} (packed order) → {@code dest} in the batch's own step order. */
  private static void scatterToBatchOrder(
      float[] packed, int width, RaggedBatch batch, PackedLayout layout, float[] dest) {
    int[] offsets = batch.offsets();
    int[] sorted = layout.sortedIndices();
    for (int t = 0; t < layout.maxLength(); t++) {
      int base = layout.stepOffsets()[t];
      for (int s = 0, n = layout.batchSizes()[t]; s < n; s++) {
        System.arraycopy(packed, (base + s) * width, dest, (offsets[sorted[s]] + t) * width, width);
      }
    }
  }

  /** {@code out = x·Wᵀ + b} for {@code rows} rows. */
  private static void project(int rows, float[] x, Gemm.Weights weights, float[] bias, float[] out) {
    Gemm.multiply(rows, x, 0, weights.k(), weights, out, 0, weights.n(), false);
    addBias(out, rows, bias);
  }

  /** {@code m[r, :] += bias} for the first {@code rows} rows of a {@code [rows, bias.length]} matrix. */
  private static void addBias(float[] m, int rows, float[] bias) {
    if (bias == null) {
      return;
    }
    int width = bias.length;
    for (int r = 0; r < rows; r++) {
      int off = r * width;
      for (int j = 0; j < width; j++) {
        m[off + j] += bias[j];
      }
    }
  }

  /** h_n of one layer/direction: forward ends at each row's last step, backward at step 0. */
  private void copyFinalStates(
      float[] output, PackedLayout layout, int state, boolean reverse, int column, float[] hN) {
    int batchSize = layout.batch();
    for (int s = 0; s < batchSize; s++) {
      int row = reverse ? s : layout.packedRow(s, layout.sortedLengths()[s] - 1);
      int original = layout.sortedIndices()[s];
      System.arraycopy(output, row * outputWidth + column, hN, (state * batchSize + original) * stateSize, stateSize);
    }
  }

  private static void copySortedRows(float[] sortedRows, int width, PackedLayout layout, int state, float[] dest) {
    int batchSize = layout.batch();
    for (int s = 0; s < batchSize; s++) {
      int original = layout.sortedIndices()[s];
      System.arraycopy(sortedRows, s * width, dest, (state * batchSize + original) * width, width);
    }
  }

  // ------------------------------------------------------------------------------------------------ head

  /** Pools the last layer's packed output over each row's valid steps into {@code pooled[B, D*P]}, original order. */
  private void pool(float[] output, PackedLayout layout, float[] pooled) {
    int width = outputWidth;
    for (int s = 0; s < layout.batch(); s++) {
      int length = layout.sortedLengths()[s];
      int dst = layout.sortedIndices()[s] * width;
      switch (spec.head().pooling()) {
        case LAST -> { // = cat(h_n[-2], h_n[-1]): forward final at the last step, backward final at step 0
          System.arraycopy(output, layout.packedRow(s, length - 1) * width, pooled, dst, stateSize);
          if (directions == 2) {
            System.arraycopy(output, s * width + stateSize, pooled, dst + stateSize, stateSize);
          }
        }
        case MEAN -> {
          Arrays.fill(pooled, dst, dst + width, 0f);
          for (int t = 0; t < length; t++) {
            int src = layout.packedRow(s, t) * width;
            for (int j = 0; j < width; j++) {
              pooled[dst + j] += output[src + j];
            }
          }
          for (int j = 0; j < width; j++) {
            pooled[dst + j] /= length;
          }
        }
        case MAX -> {
          System.arraycopy(output, s * width, pooled, dst, width);
          for (int t = 1; t < length; t++) {
            int src = layout.packedRow(s, t) * width;
            for (int j = 0; j < width; j++) {
              pooled[dst + j] = Math.max(pooled[dst + j], output[src + j]);
            }
          }
        }
      }
    }
  }

  /** {@code out[count, outFeatures] = activation(vectors[count, D*P]·fcᵀ + b)}. */
  private void head(float[] vectors, int count, float[] out, boolean activate) {
    project(count, vectors, fc, fcBias, out);
    if (!activate) {
      return;
    }
    Activation activation = spec.head().activation();
    for (int r = 0; r < count; r++) {
      int off = r * outFeatures;
      switch (activation) {
        case NONE -> {}
        case SIGMOID -> {
          for (int j = 0; j < outFeatures; j++) {
            out[off + j] = (float) (1.0 / (1.0 + Math.exp(-out[off + j])));
          }
        }
        case SOFTMAX -> softmax(out, off, outFeatures);
      }
    }
  }

  /** Max-subtracted softmax of {@code a[off .. off+len)} in place. */
  private static void softmax(float[] a, int off, int len) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < len; j++) {
      max = Math.max(max, a[off + j]);
    }
    float sum = 0f;
    for (int j = 0; j < len; j++) {
      float e = (float) Math.exp(a[off + j] - max);
      a[off + j] = e;
      sum += e;
    }
    for (int j = 0; j < len; j++) {
      a[off + j] /= sum;
    }
  }
}
