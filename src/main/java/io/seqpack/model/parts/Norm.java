package io.seqpack.model.parts;

import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.util.StrictJson;
import java.util.ArrayList;
import java.util.List;

/**
 * A normalisation over vectors of {@code size} floats: as a head layer ({@code {"type": "layer_norm", "size": 8,
 * ...}}, size required) or as an input's {@code norm} (no size: the input's width). Registered in {@link
 * PartRegistry#NORMS} and {@link PartRegistry#HEAD_LAYERS}.
 */
public interface Norm extends HeadLayer {
  /** The module path of its tensors. */
  String module();

  /** Width normalised; null until known (an input's norm before its input sets it). */
  Integer size();

  boolean affine();

  /** This norm over {@code width} floats. */
  Norm withSize(int width);

  /** Normalises vectors in place; bound to the tensors. */
  @FunctionalInterface
  interface NormOp {
    /** Normalises {@code rows} vectors {@code x[off + r*stride ..]} of {@code size} floats in place. */
    void apply(float[] x, int off, int stride, int rows);
  }

  NormOp bindNorm(LoadedModel model);

  @Override
  default int outputWidth(int width) {
    if (size() == null || size() != width) {
      throw new StrictJson.Invalid("size", size() == null ? "missing" : size().toString(),
          width + " (the width reaching this layer)");
    }
    return width;
  }

  @Override
  default Layer bind(LoadedModel model, int width) {
    NormOp op = bindNorm(model);
    return (x, count, w) -> {
      op.apply(x, 0, w, count);
      return x;
    };
  }

  /** The affine {@code weight} and {@code bias} ({@code [size]}) when {@code affine}. */
  default List<Param> affineParams(String where) {
    List<Param> out = new ArrayList<>();
    if (affine()) {
      int[] shape = {size()};
      out.add(new Param(Param.tensorName(module(), "weight"), shape, "size", where + " (affine)"));
      out.add(new Param(Param.tensorName(module(), "bias"), shape, "size", where + " (affine)"));
    }
    return out;
  }
}
