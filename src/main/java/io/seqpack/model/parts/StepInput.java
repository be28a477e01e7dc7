package io.seqpack.model.parts;

import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelSpec.InputKind;
import java.util.List;

/**
 * A per-step input: one record per input kind, spelled {@code {"name": "x", "kind": "tokens", ...}} and registered
 * in {@link PartRegistry#INPUTS}. It declares its tensors, width and description; its {@link #kind()} says what a
 * batch column holds for it, which the engine and the Spark reader act on.
 */
public interface StepInput {
  /** The input's name: its default column and its key in messages. */
  String name();

  /** Applied to this input's vector at each step; null: none. */
  Norm norm();

  /** What a batch column holds per step: a token id ({@code TOKENS}) or {@link #width()} floats ({@code FEATURES}). */
  InputKind kind();

  /** Floats this input adds to each step's input vector. */
  int width();

  /** The tensors this input reads. */
  List<Param> params();

  /** One line for {@code inspect-model}, e.g. {@code tokens(vocab=11, dim=100) → LayerNorm(100)}. */
  String description();

  /** The norm's tensors, named after this input. */
  default List<Param> normParams() {
    return norm() == null ? List.of() : norm().params("the norm of input " + name());
  }

  /** {@code norm} (which has no size in the file: an input's norm has its width) over {@code width} floats. */
  static Norm normOver(Norm norm, int width) {
    if (norm != null && norm.size() != null) {
      throw new io.seqpack.util.StrictJson.Invalid("norm.size", norm.size().toString(),
          "no size (an input's norm has its width)");
    }
    return norm == null ? null : norm.withSize(width);
  }
}
