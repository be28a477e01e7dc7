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
  }
}
