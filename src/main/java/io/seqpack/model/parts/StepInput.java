package io.seqpack.model.parts;

import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelSpec.InputKind;
import java.util.List;

/**
 * A per-step input: one record per input kind, spelled {@code {"name": "x", "kind": "tokens", ...}} and registered
 * in {@link PartRegistry#INPUTS}. It declares its tensors, width and description, and its forward ({@link #bind}):
 * what it writes into each step's input vector. Its {@link #kind()} says what a batch column holds for it, which
 * the Spark reader acts on.
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

  /** The forward, bound to its tensors. */
  Reader bind(LoadedModel model);

  /** A bound input; immutable, shared by all threads. */
  interface Reader {
    /** Refuses, in one line, a batch column of the right kind that this input cannot read. */
    void check(RaggedBatch batch, RaggedBatch.Column column);

    /** Writes this input's {@link StepInput#width()} floats for the batch's step {@code step} at {@code dest[at]}. */
    void write(RaggedBatch.Column column, int step, float[] dest, int at);

    /**
     * For an input that is a function of a token alone: its vector per token id ({@code [vocab, width]}, the norm
     * applied), which the engine may fold with layer 0's weights into one table; null otherwise.
     */
    default float[] rowsByToken() {
      return null;
    }
  }

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
