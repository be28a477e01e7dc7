package io.seqpack.nn;

import io.seqpack.ModelFormatException;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.ModelGraph.Join;
import io.seqpack.model.ModelGraph.StaticInput;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.model.Tensor;
import io.seqpack.model.parts.PoolingPart;
import io.seqpack.model.parts.StepInput;
import io.seqpack.pack.PackedLayout;
import io.seqpack.pack.PackedSequence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A scoring model: per-step inputs (embeddings and numeric features, each optionally normalised, plus every-step
 * static features) → RNN / LSTM / GRU stack → pooling parts (+ after-pooling static features) → one or more heads,
 * with PyTorch's float32 semantics for packed input ({@code pack_padded_sequence(..., enforce_sorted=False)}). Built
 * from a {@link ModelGraph} and its tensors.
 *
 * <p>Immutable and thread-safe: one instance is shared by all tasks of an executor JVM. Scratch buffers live in
 * a per-thread {@link Workspace} that only grows, so the time loop allocates nothing.
 *
 * <p>How a batch runs: rows are gathered from the {@link RaggedBatch} straight into packed, time-major order (no
 * padding). Per layer and direction the input projection of all steps is hoisted out of the time loop: one {@link
 * Gemm} ({@code pre = X·W_ihᵀ + b_ih}, {@code [N, G*H]}), or at layer 0, when the vocabulary tables fit (see {@link
 * Options}), each token input's slice of {@code W_ih} folded with its (normalised) embedding into a {@code [vocab,
 * G*H]} table: with a single token input the table (bias included) is read in place, otherwise {@code pre} = the
 * numeric inputs' GEMM + bias + the tables' rows. The time loop ({@link Recurrence}) then only multiplies by {@code
 * W_hh}.
 */
public final class SequenceModel {
  /** Default largest vocabulary table, in floats summed over directions: 16M floats = 64 MB (vocab 10k × LSTM 256 = 10.24M). */
  public static final long DEFAULT_VOCAB_TABLE_MAX_FLOATS = 16_000_000L;

  /**
   * Engine settings.
   *
   * @param vocabTableMaxFloats fold embeddings and {@code W_ih} of layer 0 into {@code [vocab, G*H]} tables per
   *     direction when their sizes summed over token inputs and directions are at most this; 0 disables them
   */
  public record Options(long vocabTableMaxFloats) {
    public static final Options DEFAULT = new Options(DEFAULT_VOCAB_TABLE_MAX_FLOATS);

    public Options {
      if (vocabTableMaxFloats < 0) {
        throw new IllegalArgumentException("vocabTableMaxFloats must be >= 0, got " + vocabTableMaxFloats);
      }
    }
  }

  /** How layer 0 gets its input projection. */
  private enum Layer0 {
    /** One token input and nothing else: rows of its table (bias included), read in place. */
    TABLE_ROWS,
    /** Token tables (no bias) summed with the numeric inputs' GEMM and the bias. */
    TABLES_PLUS_GEMM,
    /** The whole step vector gathered, one GEMM. */
    GEMM
  }

  /**
   * Weights of one direction of one layer; at layer 0 with tables, {@code tables[k]} for token input k ({@code [V_k,
   * G*H]}, null for numeric inputs) and {@code numericWeights}, the columns of {@code W_ih} the numeric part reads.
   */
  private record Direction(Gemm.Weights inputWeights, float[] inputBias, Gemm.Weights hiddenWeights, Cell cell,
      float[][] tables, Gemm.Weights numericWeights) {}

  private final ModelGraph graph;
  private final int inputSize; // width of layer 0's input per step
  private final int hidden; // H
  private final int stateSize; // P
  private final int directions; // D
  private final int gateWidth; // G*H
  private final int outputWidth; // D*P
  private final int embeddingWidth; // what the heads see
  private final StepInput[] inputs;
  private final int[] inputColumn; // where input k starts in the step vector
  private final StepInput.Reader[] readers; // input k bound to its tensors
  private final int[] staticOffset; // where static j starts in a row's static vector
  private final int numericWidth; // floats per step from feature inputs and every-step statics
  private final Layer0 layer0;
  private final Direction[][] layers; // [numLayers][D]
  private final Layers.Head[] heads;
  private final Layers.Head stepLayers; // applied to every step's joined input before layer 0; null: none
  private final PoolingPart.Pooler[] poolers; // per pooling part, bound to its tensors
  private final int[] poolingWidths; // the floats each pooling part adds to the pooled vector
  private final boolean needsFinalStates; // whether a pooling part reads h_n (scoring then keeps it)
  /**
   * Scratch of the calling thread, shared by every model it scores with (a workspace holds nothing between calls):
   * one per task thread, not one per model per thread, so a long-lived executor that sees many models does not
   * keep a batch-sized workspace for each of them.
   */
  private static final ThreadLocal<Workspace> workspaces = ThreadLocal.withInitial(Workspace::new);

  public SequenceModel(LoadedModel model) {
    this(model, Options.DEFAULT);
  }

  public SequenceModel(LoadedModel model, Options options) {
    this.graph = model.graph();
    ModelGraph.Recurrent rnn = graph.rnn();
    this.inputSize = rnn.inputSize();
    this.hidden = rnn.hiddenSize();
    this.stateSize = rnn.stateSize();
    this.directions = rnn.directions();
    this.gateWidth = rnn.mode().gates() * hidden;
    this.outputWidth = rnn.outputSize();
    this.embeddingWidth = graph.embeddingWidth();
    this.inputs = graph.inputs().toArray(StepInput[]::new);
    this.inputColumn = new int[inputs.length];
    this.readers = new StepInput.Reader[inputs.length];
    long tableFloats = 0;
    int column = 0;
    int numeric = 0;
    for (int k = 0; k < inputs.length; k++) {
      StepInput in = inputs[k];
      inputColumn[k] = column;
      column += in.width();
      readers[k] = in.bind(model);
      float[] rows = readers[k].rowsByToken();
      if (rows != null) { // foldable with W_ih into a [vocab, G*H] table per direction
        tableFloats += (long) (rows.length / in.width()) * gateWidth * directions;
      } else {
        numeric += in.width();
      }
    }
    this.staticOffset = new int[graph.statics().size()];
    for (int j = 0, off = 0; j < staticOffset.length; j++) {
      staticOffset[j] = off;
      StaticInput st = graph.statics().get(j);
      off += st.size();
      if (st.join() == Join.EVERY_STEP) {
        numeric += st.size();
      }
    }
    this.numericWidth = numeric;
    boolean anyTokens = tableFloats > 0;
    boolean tablesFit = anyTokens && options.vocabTableMaxFloats() > 0 && tableFloats <= options.vocabTableMaxFloats();
    this.stepLayers = graph.stepLayers().isEmpty() ? null : new Layers.Head(
        new ModelGraph.Head("step_layers", graph.stepLayers(), Activation.NONE), graph.stepWidth(), model);
    this.layer0 = !tablesFit || stepLayers != null ? Layer0.GEMM // step layers: the joined step vectors, then them
        : inputs.length == 1 && numericWidth == 0 ? Layer0.TABLE_ROWS : Layer0.TABLES_PLUS_GEMM;
    this.layers = new Direction[rnn.numLayers()][directions];
    for (int l = 0; l < rnn.numLayers(); l++) {
      for (int d = 0; d < directions; d++) {
        layers[l][d] = loadDirection(model, l, d == 1);
      }
    }
    this.poolers = graph.pooling().stream().map(p -> p.bind(model, rnn)).toArray(PoolingPart.Pooler[]::new);
    this.poolingWidths = graph.pooling().stream().mapToInt(p -> p.width(rnn)).toArray();
    this.needsFinalStates = graph.pooling().stream().anyMatch(PoolingPart::needsFinalStates);
    this.heads = new Layers.Head[graph.heads().size()];
    for (int h = 0; h < heads.length; h++) {
      heads[h] = new Layers.Head(graph.heads().get(h), embeddingWidth, model);
    }
  }

  /** The rows token input {@code k} is looked up in (the model's own array when it has no norm); for tests. */
  float[] tokenVectors(int k) {
    return readers[k].rowsByToken();
  }

  private Direction loadDirection(LoadedModel model, int layer, boolean reverse) {
    ModelGraph.Recurrent rnn = graph.rnn();
    int layerInput = layer == 0 ? inputSize : outputWidth;
    float[] wih = tensor(model, rnn.weightIh(layer, reverse), gateWidth, layerInput).data();
    Gemm.Weights inputWeights = Gemm.prepare(wih, 0, gateWidth, layerInput);
    float[] whh = tensor(model, rnn.weightHh(layer, reverse), gateWidth, stateSize).data();
    Gemm.Weights hiddenWeights = Gemm.prepareRecurrent(whh, 0, gateWidth, stateSize);
    float[] inputBias = rnn.bias() ? tensor(model, rnn.biasIh(layer, reverse), gateWidth).data() : null;
    float[] hiddenBias = rnn.bias() ? tensor(model, rnn.biasHh(layer, reverse), gateWidth).data() : null;
    int state = layer * directions + (reverse ? 1 : 0);
    float[] h0 = rnn.h0() == null ? null
        : Arrays.copyOfRange(tensor(model, rnn.h0(), rnn.numLayers() * directions, 1, stateSize).data(),
            state * stateSize, (state + 1) * stateSize);
    float[] c0 = rnn.c0() == null ? null
        : Arrays.copyOfRange(tensor(model, rnn.c0(), rnn.numLayers() * directions, 1, hidden).data(),
            state * hidden, (state + 1) * hidden);
    float[] h0Gates = null;
    if (h0 != null) { // the recurrent product of the initial state, the same for every row that starts a pass
      h0Gates = new float[gateWidth];
      Gemm.multiply(1, h0, 0, stateSize, hiddenWeights, h0Gates, 0, gateWidth, false);
    }
    Gemm.Weights projection = rnn.projSize() > 0
        ? Gemm.prepareRecurrent(tensor(model, rnn.weightHr(layer, reverse), stateSize, hidden).data(), 0, stateSize,
            hidden)
        : null;
    Cell cell = ModeCells.of(rnn.mode(), new ModeCells.DirectionState(hidden, hiddenBias, h0Gates, h0, c0, projection));
    float[][] tables = null;
    Gemm.Weights numericWeights = null;
    if (layer == 0 && layer0 == Layer0.TABLE_ROWS) { // the same Gemm + bias as the per-row path: identical bits
      float[] rows = readers[0].rowsByToken();
      int vocab = rows.length / inputSize;
      tables = new float[][] {new float[Math.multiplyExact(vocab, gateWidth)]};
      project(vocab, rows, inputWeights, inputBias, tables[0]);
    } else if (layer == 0 && layer0 == Layer0.TABLES_PLUS_GEMM) {
      tables = new float[inputs.length][];
      boolean biasFolded = false; // b_ih goes into the first token table: one pass less per step
      for (int k = 0; k < inputs.length; k++) {
        float[] rows = readers[k].rowsByToken();
        if (rows != null) {
          int e = inputs[k].width();
          Gemm.Weights slice = Gemm.prepare(columns(wih, layerInput, inputColumn[k], e), 0, gateWidth, e);
          tables[k] = new float[Math.multiplyExact(rows.length / e, gateWidth)];
          project(rows.length / e, rows, slice, biasFolded ? null : inputBias, tables[k]);
          biasFolded = true;
        }
      }
      if (numericWidth > 0) {
        float[] w = new float[gateWidth * numericWidth];
        int at = 0;
        for (int[] range : numericColumns()) {
          float[] part = columns(wih, layerInput, range[0], range[1]);
          for (int row = 0; row < gateWidth; row++) {
            System.arraycopy(part, row * range[1], w, row * numericWidth + at, range[1]);
          }
          at += range[1];
        }
        numericWeights = Gemm.prepare(w, 0, gateWidth, numericWidth);
      }
    }
    return new Direction(inputWeights, inputBias, hiddenWeights, cell, tables, numericWeights);
  }

  /** {@code [rows, width]}: columns {@code from .. from+width} of a row-major {@code [rows, ld]} matrix. */
  private float[] columns(float[] m, int ld, int from, int width) {
    int rows = m.length / ld;
    float[] out = new float[rows * width];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(m, r * ld + from, out, r * width, width);
    }
    return out;
  }

  /** The {@code [start, width]} column ranges of the step vector not read from token tables, in order. */
  private List<int[]> numericColumns() {
    List<int[]> ranges = new ArrayList<>();
    for (int k = 0; k < inputs.length; k++) {
      if (readers[k].rowsByToken() == null) {
        ranges.add(new int[] {inputColumn[k], inputs[k].width()});
      }
    }
    int column = inputs.length == 0 ? 0 : inputColumn[inputs.length - 1] + inputs[inputs.length - 1].width();
    for (StaticInput st : graph.statics()) {
      if (st.join() == Join.EVERY_STEP) {
        ranges.add(new int[] {column, st.size()});
        column += st.size();
      }
    }
    return ranges;
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

  public ModelGraph graph() {
    return graph;
  }

  /**
   * The kernels this JVM scores with, e.g. {@code "gemm recurrent vector-api 8x32, other openblas SkylakeX, gates
   * vector-api (16 floats, fma)"}: {@link Gemm}'s backends with its OpenBLAS core and {@link GateMath}'s.
   */
  public static String kernels() {
    return "gemm " + Gemm.describe() + ", gates " + GateMath.backend();
  }

  /** {@link #kernels()} and the CPU they run on, the line {@code inspect-model}, {@code demo} and the bench print. */
  public static String kernelsOnThisCpu() {
    return kernels() + " on " + OpenBlasCore.CpuInfo.current().describe();
  }

  /** Whether layer 0 reads its input projection from precomputed vocabulary tables. */
  public boolean usesVocabTable() {
    return layer0 != Layer0.GEMM;
  }

  /** Width of the last layer's output: D*P. */
  public int outputWidth() {
    return outputWidth;
  }

  /** Width of the vector the heads see (pooling parts and after-pooling static features). */
  public int embeddingWidth() {
    return embeddingWidth;
  }

  /** Output width of the first head. */
  public int outFeatures() {
    return heads[0].outFeatures;
  }

  // ------------------------------------------------------------------------------------------------ API

  /** {@link #score(RaggedBatch, boolean, boolean)} without the embedding. */
  public Scores score(RaggedBatch batch, boolean perStep) {
    return score(batch, perStep, false);
  }

  /**
   * Scores every row: pooling of the last layer, every head with its activation; rows in the batch's original
   * order. With {@code perStep}, also the (one) head applied to every valid step of the last layer's output; with
   * {@code embedding}, the vector the heads saw.
   *
   * @throws IllegalArgumentException for a batch the model cannot read (columns, widths, token ids, empty rows), or
   *     per-step scores of a model that has none ({@link ModelGraph#supportsPerStep()})
   */
  public Scores score(RaggedBatch batch, boolean perStep, boolean embedding) {
    return score(batch, perStep, embedding, null, -1);
  }

  /**
   * {@link #score(RaggedBatch, boolean, boolean)} where head {@code h} with {@code topK[h] > 0} gives its top
   * {@code topK[h]} scores and item ids ({@link Scores#top}) instead of its whole vector (a tied head in bounded
   * memory, see {@code Layers.Head#topK}); {@code excludeSeenInput} ≥ 0 is a token input whose ids in a row are
   * left out of that row's top k. {@code topK} null: whole vectors only.
   */
  public Scores score(RaggedBatch batch, boolean perStep, boolean embedding, int[] topK, int excludeSeenInput) {
    if (perStep && !graph.supportsPerStep()) {
      throw new IllegalArgumentException("Cannot score per step: the model has " + heads.length + " heads and "
          + "its heads read " + embeddingWidth + " floats, not one step's " + outputWidth
          + " (per-step scores need one head over one pooling part and no after-pooling static features)");
    }
    int batchSize = batch.size();
    int[] widths = new int[heads.length];
    for (int h = 0; h < heads.length; h++) {
      widths[h] = heads[h].outFeatures;
    }
    if (batchSize == 0) {
      List<float[]> empty = new ArrayList<>();
      for (int h = 0; h < heads.length; h++) {
        empty.add(new float[0]);
      }
      return new Scores(empty, widths, embedding ? new float[0] : null, embeddingWidth,
          perStep ? new float[0] : null, batch.offsets().clone());
    }
    PackedLayout layout = layoutOf(batch);
    Workspace ws = workspaces.get();
    float[] hN = null;
    if (needsFinalStates) { // a pooling part reads h_n of every layer, not only the last layer's output
      hN = ws.finalStates = Workspace.grow(ws.finalStates, (long) layers.length * directions * batchSize * stateSize);
    }
    float[] output = forward(batch, layout, ws, hN, null);
    ws.pooled = Workspace.grow(ws.pooled, (long) batchSize * embeddingWidth);
    pool(output, hN, layout, batch, ws);
    List<float[]> headScores = new ArrayList<>(heads.length);
    List<TopK> top = topK == null ? null : new ArrayList<>(heads.length);
    int[][] seen = topK == null || excludeSeenInput < 0 ? null : seen(batch, excludeSeenInput);
    for (int h = 0; h < heads.length; h++) {
      boolean selected = topK != null && topK[h] > 0;
      headScores.add(selected ? null : heads[h].apply(ws.pooled, batchSize, true));
      if (top != null) {
        top.add(selected ? heads[h].topK(ws.pooled, batchSize, topK[h], seen) : null);
      }
    }
    float[] stepScores = null;
    TopK stepTop = null;
    if (perStep && topK != null && topK[0] > 0) { // the top k of every step, in item blocks for a tied head
      stepTop = inBatchOrder(heads[0].topK(output, layout.totalRows(), topK[0], null), batch, layout);
    } else if (perStep) {
      int rows = layout.totalRows();
      float[] stepLogits = heads[0].apply(output, rows, true);
      stepScores = new float[rows * widths[0]];
      scatterToBatchOrder(stepLogits, widths[0], batch, layout, stepScores);
    }
    float[] pooled = embedding ? Arrays.copyOf(ws.pooled, batchSize * embeddingWidth) : null;
    return new Scores(headScores, widths, pooled, embeddingWidth, stepScores, batch.offsets().clone(), top,
        stepTop);
  }

  /** Per row, the distinct token ids of input {@code input}, sorted. */
  private static int[][] seen(RaggedBatch batch, int input) {
    int[] tokens = batch.columns().get(input).tokens();
    int[] offsets = batch.offsets();
    int[][] out = new int[batch.size()][];
    for (int r = 0; r < out.length; r++) {
      out[r] = Arrays.stream(tokens, offsets[r], offsets[r + 1]).sorted().distinct().toArray();
    }
    return out;
  }

  /** Runs the RNN stack only and returns what PyTorch's module returns for a packed input (fresh arrays). */
  public RnnResult runRnn(RaggedBatch batch) {
    PackedLayout layout = layoutOf(batch);
    int states = graph.rnn().numLayers() * directions;
    float[] hN = new float[states * layout.batch() * stateSize];
    float[] cN = graph.rnn().mode().hasCellState() ? new float[states * layout.batch() * hidden] : null;
    float[] output = forward(batch, layout, workspaces.get(), hN, cN);
    float[] data = Arrays.copyOf(output, layout.totalRows() * outputWidth);
    return new RnnResult(new PackedSequence(data, outputWidth, layout), hN, cN, states, stateSize, hidden);
  }

  /** {@code [B, embeddingWidth]}: the model's pooling of an {@link #runRnn} output, rows in original order. */
  public float[] pool(RnnResult result, RaggedBatch batch) {
    PackedLayout layout = result.output().layout();
    Workspace ws = workspaces.get();
    ws.pooled = Workspace.grow(ws.pooled, (long) layout.batch() * embeddingWidth);
    pool(result.output().data(), result.hN(), layout, batch, ws);
    return Arrays.copyOf(ws.pooled, layout.batch() * embeddingWidth);
  }

  /** {@code [count, outFeatures]}: the first head and its activation applied to {@code count} vectors. */
  public float[] applyHead(float[] vectors, int count) {
    return applyHead(vectors, count, true);
  }

  /** {@link #applyHead} without the activation: the logits. */
  float[] applyHead(float[] vectors, int count, boolean activate) {
    if (count < 0 || vectors.length < (long) count * embeddingWidth) {
      throw new IllegalArgumentException("Cannot apply head: " + vectors.length + " floats hold fewer than " + count
          + " vectors of width " + embeddingWidth);
    }
    return heads[0].apply(vectors, count, activate);
  }

  // ------------------------------------------------------------------------------------------------ forward

  private PackedLayout layoutOf(RaggedBatch batch) {
    List<RaggedBatch.Column> columns = batch.columns();
    if (columns.size() != inputs.length) {
      throw new IllegalArgumentException("Cannot score batch: it has " + columns.size()
          + " per-step columns, the model reads " + inputs.length);
    }
    for (int k = 0; k < inputs.length; k++) {
      RaggedBatch.Column c = columns.get(k);
      boolean tokens = inputs[k].kind() == InputKind.TOKENS;
      if (c.isTokens() != tokens) {
        throw new IllegalArgumentException("Cannot score batch: the model reads "
            + (tokens ? "token ids" : "feature vectors") + " for input " + inputs[k].name() + " but the batch holds "
            + (c.isTokens() ? "token ids" : "feature vectors"));
      }
      readers[k].check(batch, c);
    }
    int staticWidth = graph.staticWidth();
    if (batch.staticWidth() != staticWidth || batch.statics().length < (long) batch.size() * staticWidth) {
      throw new IllegalArgumentException("Cannot score batch: it has " + batch.staticWidth()
          + " static features per row, the model expects " + staticWidth);
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
    if (layer0 != Layer0.TABLE_ROWS || layers.length > 1) {
      ws.pre = Workspace.grow(ws.pre, (long) rows * gateWidth);
    }
    ws.gates = Workspace.grow(ws.gates, (long) batchSize * gateWidth);
    ws.cellState = Workspace.grow(ws.cellState, (long) batchSize * hidden);
    ws.cellTemp = Workspace.grow(ws.cellTemp, (long) batchSize * hidden);
    if (ws.preRows.length < rows) {
      ws.preRows = new int[Math.max(rows, ws.preRows.length * 3 / 2)];
    }
    float[] input = null;
    if (layer0 == Layer0.GEMM) {
      int joined = stepLayers == null ? inputSize : stepLayers.inputWidth;
      ws.layerInput = Workspace.grow(ws.layerInput, (long) rows * joined);
      input = ws.layerInput;
      gatherStepVectors(batch, layout, false, joined, input);
      if (stepLayers != null) { // over all steps of the batch at once, out of the time loop
        input = stepLayers.apply(input, rows, false);
      }
    } else if (layer0 == Layer0.TABLES_PLUS_GEMM && numericWidth > 0) {
      ws.layerInput = Workspace.grow(ws.layerInput, (long) rows * numericWidth);
      gatherStepVectors(batch, layout, true, numericWidth, ws.layerInput);
    }
    int inputWidth = inputSize;
    for (int l = 0; l < layers.length; l++) {
      float[] output = input == ws.outputA ? ws.outputB : ws.outputA;
      for (int d = 0; d < directions; d++) {
        Direction w = layers[l][d];
        float[] pre;
        if (l == 0 && layer0 == Layer0.TABLE_ROWS) { // rows of the table itself, by token: nothing copied
          tableRowsInPackedOrder(batch.columns().get(0).tokens(), batch, layout, gateWidth, ws.preRows);
          pre = w.tables()[0];
        } else {
          if (l == 0 && layer0 == Layer0.TABLES_PLUS_GEMM) {
            sumTablesPlusNumeric(batch, layout, w, ws);
          } else {
            Gemm.multiply(rows, input, 0, inputWidth, w.inputWeights(), ws.pre, 0, gateWidth, false);
            addBias(ws.pre, rows, w.inputBias());
          }
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
   * {@code ws.pre = X_numeric·W_numericᵀ + Σ_k table_k[token_k]} for every packed row (the first table holds
   * {@code b_ih}): layer 0 of a model with several inputs, when its token inputs are folded into tables. One pass
   * per row, which stays in L1 while its table rows are added; the table rows of the row two ahead are touched
   * first so their cache misses overlap.
   */
  private void sumTablesPlusNumeric(RaggedBatch batch, PackedLayout layout, Direction w, Workspace ws) {
    int rows = layout.totalRows();
    float[] pre = ws.pre;
    boolean numeric = w.numericWeights() != null;
    if (numeric) {
      Gemm.multiply(rows, ws.layerInput, 0, numericWidth, w.numericWeights(), pre, 0, gateWidth, false);
    }
    int[] offsets = batch.offsets();
    int[] sorted = layout.sortedIndices();
    float[][] tables = w.tables();
    int[][] tokens = new int[inputs.length][];
    for (int k = 0; k < inputs.length; k++) {
      tokens[k] = tables[k] == null ? null : batch.columns().get(k).tokens();
    }
    float touched = 0f;
    for (int t = 0; t < layout.maxLength(); t++) {
      int base = layout.stepOffsets()[t];
      int n = layout.batchSizes()[t];
      for (int s = 0; s < n; s++) {
        int step = offsets[sorted[s]] + t;
        if (s + GateMath.TOUCH_AHEAD < n) {
          int ahead = offsets[sorted[s + GateMath.TOUCH_AHEAD]] + t;
          for (int k = 0; k < inputs.length; k++) {
            if (tables[k] != null) {
              touched += GateMath.touch(tables[k], tokens[k][ahead] * gateWidth, gateWidth);
            }
          }
        }
        int dst = (base + s) * gateWidth;
        boolean first = !numeric;
        for (int k = 0; k < inputs.length; k++) {
          if (tables[k] == null) {
            continue;
          }
          int src = tokens[k][step] * gateWidth;
          if (first) {
            System.arraycopy(tables[k], src, pre, dst, gateWidth);
            first = false;
          } else {
            GateMath.addTo(pre, dst, tables[k], src, gateWidth);
          }
        }
      }
    }
    GateMath.keep(touched, ws);
  }

  /**
   * Packed row {@code stepOffsets[t] + s} = step t of original row {@code sortedIndices[s]}: the step vector in the
   * model's concat order (each input's embedding row or normalised features, then the every-step static
   * features), or with {@code numericOnly} just the parts not read from token tables.
   */
  private void gatherStepVectors(RaggedBatch batch, PackedLayout layout, boolean numericOnly, int width,
      float[] dest) {
    int[] offsets = batch.offsets();
    int[] sorted = layout.sortedIndices();
    float[] statics = batch.statics();
    int staticWidth = batch.staticWidth();
    for (int t = 0; t < layout.maxLength(); t++) {
      int base = layout.stepOffsets()[t];
      for (int s = 0, n = layout.batchSizes()[t]; s < n; s++) {
        int row = sorted[s];
        int step = offsets[row] + t;
        int at = (base + s) * width;
        for (int k = 0; k < inputs.length; k++) {
          if (!numericOnly || readers[k].rowsByToken() == null) { // token inputs come from the tables then
            readers[k].write(batch.columns().get(k), step, dest, at);
            at += inputs[k].width();
          }
        }
        for (int j = 0; j < staticOffset.length; j++) {
          StaticInput st = graph.statics().get(j);
          if (st.join() == Join.EVERY_STEP) {
            System.arraycopy(statics, row * staticWidth + staticOffset[j], dest, at, st.size());
            at += st.size();
          }
        }
      }
    }
  }

  /** {@code rowStarts[packed row] = token of that step × width}: the step's row in a {@code [vocab, width]} table. */
  private static void tableRowsInPackedOrder(
      int[] tokens, RaggedBatch batch, PackedLayout layout, int width, int[] rowStarts) {
    int[] offsets = batch.offsets();
    int[] sorted = layout.sortedIndices();
    for (int t = 0; t < layout.maxLength(); t++) {
      int base = layout.stepOffsets()[t];
      for (int s = 0, n = layout.batchSizes()[t]; s < n; s++) {
        rowStarts[base + s] = tokens[offsets[sorted[s]] + t] * width;
      }
    }
  }

  /** {@code packed[N, width]} (packed order) → {@code dest} in the batch's own step order. */
  /** {@code packed}'s rows (one per valid step, in packed order) in the batch's own step order. */
  private static TopK inBatchOrder(TopK packed, RaggedBatch batch, PackedLayout layout) {
    int k = packed.k();
    TopK out = TopK.empty(layout.totalRows(), k);
    int[] offsets = batch.offsets();
    int[] sorted = layout.sortedIndices();
    for (int t = 0; t < layout.maxLength(); t++) {
      int base = layout.stepOffsets()[t];
      for (int s = 0, n = layout.batchSizes()[t]; s < n; s++) {
        int from = base + s;
        int to = offsets[sorted[s]] + t;
        System.arraycopy(packed.ids(), from * k, out.ids(), to * k, k);
        System.arraycopy(packed.scores(), from * k, out.scores(), to * k, k);
        out.counts()[to] = packed.counts()[from];
      }
    }
    return out;
  }

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

  // ------------------------------------------------------------------------------------------------ pooling

  /**
   * Pools the last layer's packed output over each row's valid steps into {@code ws.pooled[B, embeddingWidth]},
   * original order: the pooling parts in order, then the after-pooling static features.
   */
  private void pool(float[] output, float[] hN, PackedLayout layout, RaggedBatch batch, Workspace ws) {
    int ew = embeddingWidth;
    float[] pooled = ws.pooled;
    int col = 0;
    for (int p = 0; p < poolers.length; p++) {
      poolers[p].pool(output, hN, layout, pooled, ew, col, ws.parts);
      col += poolingWidths[p];
    }
    for (int j = 0; j < staticOffset.length; j++) {
      StaticInput st = graph.statics().get(j);
      if (st.join() == Join.AFTER_POOLING) {
        for (int i = 0; i < batch.size(); i++) {
          System.arraycopy(batch.statics(), i * batch.staticWidth() + staticOffset[j], pooled, i * ew + col,
              st.size());
        }
        col += st.size();
      }
    }
  }
}
