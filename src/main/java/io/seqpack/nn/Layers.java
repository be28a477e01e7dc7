package io.seqpack.nn;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelSpec.Activation;
import io.seqpack.model.parts.HeadLayer;
import java.util.Arrays;

/**
 * A head at inference: its layers ({@link HeadLayer} parts, each bound to its tensors), then the output
 * activation, over rows of floats. Built once from a {@link ModelGraph.Head}; immutable and thread-safe.
 */
final class Layers {
  private Layers() {}

  /** One head: its layers in order, then the activation; {@code [count, in] → [count, out]}. */
  static final class Head {
    private final HeadLayer.Layer[] layers;
    private final int[] widths; // output width of each layer
    private final Activation activation;
    final int inputWidth;
    final int outFeatures;

    Head(ModelGraph.Head spec, int inputWidth, LoadedModel model) {
      this.inputWidth = inputWidth;
      this.activation = spec.activation();
      int n = spec.layers().size();
      this.layers = new HeadLayer.Layer[n];
      this.widths = new int[n];
      int width = inputWidth;
      for (int i = 0; i < n; i++) {
        HeadLayer layer = spec.layers().get(i);
        layers[i] = layer.bind(model, width);
        width = layer.outputWidth(width);
        widths[i] = width;
      }
      this.outFeatures = width;
    }

    /**
     * {@code [count, outFeatures]}: the head over {@code vectors[count, inputWidth]} (not modified), with the
     * activation unless {@code activate} is false (the logits).
     */
    float[] apply(float[] vectors, int count, boolean activate) {
      float[] x = Arrays.copyOf(vectors, count * inputWidth);
      int width = inputWidth;
      for (int i = 0; i < layers.length; i++) {
        x = layers[i].apply(x, count, width);
        width = widths[i];
      }
      if (activate) {
        activation.applyToRows(x, count, outFeatures);
      }
      return x;
    }

    /**
     * The top {@code k} activated outputs of each of {@code count} rows of {@code vectors[count, inputWidth]},
     * leaving out {@code excluded[r]} (sorted, or null) for row {@code r}. A last layer that computes its outputs
     * in column blocks ({@link HeadLayer.ColumnBlocks}: a product with an item table) is run block by block with a
     * running selection on the logits and a running {@code log Σ exp} for softmax and log_softmax, so at most
     * {@code count × blockSize} outputs exist at once; the selected logits are then activated (every activation
     * is monotone) and re-ranked by their activated scores. Other heads are applied whole, then selected.
     */
    TopK topK(float[] vectors, int count, int k, int[][] excluded) {
      if (!(layers[layers.length - 1] instanceof HeadLayer.ColumnBlocks last)) {
        return TopK.of(apply(vectors, count, true), count, outFeatures, k, excluded);
      }
      float[] x = Arrays.copyOf(vectors, count * inputWidth);
      int width = inputWidth;
      for (int i = 0; i < layers.length - 1; i++) {
        x = layers[i].apply(x, count, width);
        width = widths[i];
      }
      TopK.Selection[] selections = new TopK.Selection[count];
      int[] at = new int[count];
      double[] max = new double[count];
      double[] sum = new double[count];
      for (int r = 0; r < count; r++) {
        selections[r] = new TopK.Selection(k);
        max[r] = Double.NEGATIVE_INFINITY;
      }
      boolean normalise = activation.needsLogSumExp();
      int block = last.blockSize();
      float[] logits = new float[count * Math.min(block, outFeatures)];
      for (int from = 0; from < outFeatures; from += block) {
        int n = Math.min(block, outFeatures - from);
        last.applyBlock(x, count, width, from, logits);
        for (int r = 0; r < count; r++) {
          at[r] = selections[r].offerRow(logits, r * n, from, n, excluded == null ? null : excluded[r], at[r]);
          if (normalise) {
            double m = max[r];
            for (int j = 0; j < n; j++) {
              m = Math.max(m, logits[r * n + j]);
            }
            if (m > max[r]) { // rescale the running sum to the new maximum
              sum[r] = max[r] == Double.NEGATIVE_INFINITY ? 0 : sum[r] * Math.exp(max[r] - m);
              max[r] = m;
            }
            for (int j = 0; j < n; j++) {
              sum[r] += Math.exp(logits[r * n + j] - m);
            }
          }
        }
      }
      TopK out = TopK.empty(count, k);
      for (int r = 0; r < count; r++) {
        double logSumExp = normalise ? max[r] + Math.log(sum[r]) : 0;
        TopK.Selection activated = new TopK.Selection(k);
        TopK logitsOfRow = TopK.empty(1, k);
        selections[r].drainInto(logitsOfRow, 0);
        for (int i = 0; i < logitsOfRow.counts()[0]; i++) {
          activated.offer(logitsOfRow.ids()[i], activation.ofLogit(logitsOfRow.scores()[i], logSumExp));
        }
        activated.drainInto(out, r);
      }
      return out;
    }
  }
}
