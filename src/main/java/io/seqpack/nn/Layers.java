package io.seqpack.nn;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph;
import io.seqpack.model.ModelGraph.NormType;
import io.seqpack.model.ModelSpec.Activation;
import java.util.ArrayList;
import java.util.List;

/**
 * The non-recurrent modules at inference, over rows of floats: normalisations of a step input or a head layer,
 * and a head ({@code nn.Sequential} of linear layers, norms and elementwise activations, then the output
 * activation). Built once from a {@link ModelGraph} module and its tensors; immutable and thread-safe.
 */
final class Layers {
  private Layers() {}

  /**
   * {@code nn.BatchNorm1d} (eval) or {@code nn.LayerNorm} over vectors of {@code size} floats. BatchNorm folds to
   * {@code x·α + β} per feature with {@code α = weight / sqrt(running_var + eps)}, {@code β = bias − mean·α}, as
   * ATen's CPU kernel does; LayerNorm uses the row's mean and biased variance.
   */
  static final class Norm {
    private final NormType type;
    private final int size;
    private final double eps;
    private final float[] alpha; // batch norm: per-feature scale; layer norm: weight or null
    private final float[] beta; // batch norm: per-feature shift; layer norm: bias or null

    Norm(ModelGraph.Norm spec, LoadedModel model) {
      this.type = spec.type();
      this.size = spec.size();
      this.eps = spec.eps();
      String module = spec.module();
      float[] weight = spec.affine() ? model.tensor(name(module, "weight")).data() : null;
      float[] bias = spec.affine() ? model.tensor(name(module, "bias")).data() : null;
      if (type == NormType.BATCH_NORM) {
        float[] mean = model.tensor(name(module, "running_mean")).data();
        float[] var = model.tensor(name(module, "running_var")).data();
        alpha = new float[size];
        beta = new float[size];
        for (int j = 0; j < size; j++) {
          float invstd = (float) (1.0 / Math.sqrt((double) var[j] + eps));
          alpha[j] = weight == null ? invstd : invstd * weight[j];
          beta[j] = (bias == null ? 0f : bias[j]) - mean[j] * alpha[j];
        }
      } else {
        alpha = weight;
        beta = bias;
      }
    }

    private static String name(String module, String param) {
      return module.isEmpty() ? param : module + "." + param;
    }

    /** Normalises {@code rows} vectors {@code x[off + r*stride ..]} of {@code size} floats in place. */
    void apply(float[] x, int off, int stride, int rows) {
      for (int r = 0; r < rows; r++) {
        int o = off + r * stride;
        if (type == NormType.BATCH_NORM) {
          for (int j = 0; j < size; j++) {
            x[o + j] = x[o + j] * alpha[j] + beta[j];
          }
          continue;
        }
        double mean = 0;
        for (int j = 0; j < size; j++) {
          mean += x[o + j];
        }
        mean /= size;
        double var = 0;
        for (int j = 0; j < size; j++) {
          double d = x[o + j] - mean;
          var += d * d;
        }
        var /= size;
        float m = (float) mean;
        float rstd = (float) (1.0 / Math.sqrt(var + eps));
        for (int j = 0; j < size; j++) {
          float y = (x[o + j] - m) * rstd;
          x[o + j] = alpha == null ? y : y * alpha[j] + beta[j];
        }
      }
    }
  }

  /** One head: its layers in order, then the activation; {@code [count, in] → [count, out]}. */
  static final class Head {
    private interface Layer {
      /** Applies the layer to {@code x[count, width]} and returns the result (x itself or a new array). */
      float[] apply(float[] x, int count, int width);
    }

    private final List<Layer> layers = new ArrayList<>();
    private final List<Integer> widths = new ArrayList<>(); // output width of each layer
    private final Activation activation;
    final int inputWidth;
    final int outFeatures;

    Head(ModelGraph.Head spec, int inputWidth, LoadedModel model) {
      this.inputWidth = inputWidth;
      this.activation = spec.activation();
      int width = inputWidth;
      for (ModelGraph.HeadLayer l : spec.layers()) {
        layers.add(layer(l, model));
        width = l.type() == ModelGraph.LayerType.LINEAR ? l.outFeatures() : width;
        widths.add(width);
      }
      this.outFeatures = width;
    }

    private static Layer layer(ModelGraph.HeadLayer l, LoadedModel model) {
      return switch (l.type()) {
        case LINEAR -> {
          Gemm.Weights w = Gemm.prepare(model.tensor(l.weight()).data(), 0, l.outFeatures(), l.inFeatures());
          float[] bias = l.bias() ? model.tensor(l.biasName()).data() : null;
          yield (x, count, width) -> {
            float[] out = new float[count * w.n()];
            Gemm.multiply(count, x, 0, width, w, out, 0, w.n(), false);
            if (bias != null) {
              for (int r = 0; r < count; r++) {
                for (int j = 0; j < bias.length; j++) {
                  out[r * bias.length + j] += bias[j];
                }
              }
            }
            return out;
          };
        }
        case LAYER_NORM, BATCH_NORM -> {
          Norm norm = new Norm(l.norm(), model);
          yield (x, count, width) -> {
            norm.apply(x, 0, width, count);
            return x;
          };
        }
        case RELU -> elementwise(v -> v < 0f ? 0f : v);
        case LEAKY_RELU -> {
          float slope = (float) l.parameter();
          yield elementwise(v -> v > 0f ? v : v * slope);
        }
        case ELU -> {
          float alpha = (float) l.parameter();
          yield elementwise(v -> v > 0f ? v : (float) Math.expm1(v) * alpha);
        }
        case GELU -> elementwise(v -> (float) (0.5 * v * (1.0 + FastMath.erf(v / Math.sqrt(2.0)))));
        case TANH -> elementwise(v -> (float) Math.tanh(v));
        case SIGMOID -> elementwise(v -> (float) (1.0 / (1.0 + Math.exp(-v))));
        case DROPOUT, IDENTITY -> (x, count, width) -> x; // dropout is the identity at inference
      };
    }

    private interface FloatOp {
      float apply(float v);
    }

    private static Layer elementwise(FloatOp op) {
      return (x, count, width) -> {
        for (int i = 0, n = count * width; i < n; i++) {
          x[i] = op.apply(x[i]);
        }
        return x;
      };
    }

    /**
     * {@code [count, outFeatures]}: the head over {@code vectors[count, inputWidth]} (not modified), with the
     * activation unless {@code activate} is false (the logits).
     */
    float[] apply(float[] vectors, int count, boolean activate) {
      float[] x = java.util.Arrays.copyOf(vectors, count * inputWidth);
      int width = inputWidth;
      for (int i = 0; i < layers.size(); i++) {
        x = layers.get(i).apply(x, count, width);
        width = widths.get(i);
      }
      if (activate) {
        activate(x, count);
      }
      return x;
    }

    private void activate(float[] out, int count) {
      for (int r = 0; r < count; r++) {
        int off = r * outFeatures;
        switch (activation) {
          case NONE -> { }
          case SIGMOID -> {
            for (int j = 0; j < outFeatures; j++) {
              out[off + j] = (float) (1.0 / (1.0 + Math.exp(-out[off + j])));
            }
          }
          case SOFTMAX -> softmax(out, off, outFeatures);
        }
      }
    }
  }

  /** Max-subtracted softmax of {@code a[off .. off+len)} in place. */
  static void softmax(float[] a, int off, int len) {
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
