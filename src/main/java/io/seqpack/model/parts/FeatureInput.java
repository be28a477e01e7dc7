package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.util.Checks;
import java.util.List;

/** A numeric column of {@code size} floats per step. JSON: {@code {"name": "amount", "kind": "features", "size": 3}}. */
public record FeatureInput(String name, int size, Norm norm) implements StepInput {
  @JsonCreator
  static FeatureInput json(@JsonProperty("name") String name, @JsonProperty("size") Integer size,
      @JsonProperty("norm") Norm norm) {
    int width = Checks.integer("size", size, 1, Param.MAX_DIM);
    return new FeatureInput(name, width, StepInput.normOver(norm, width));
  }

  @Override
  public InputKind kind() {
    return InputKind.FEATURES;
  }

  @Override
  public int width() {
    return size;
  }

  @Override
  public List<Param> params() {
    return normParams();
  }

  @Override
  public String description() {
    return norm == null ? "features(size=" + size + ")" : "features(size=" + size + ") → " + norm.description();
  }

  @Override
  public Reader bind(LoadedModel model) {
    Norm.NormOp op = norm == null ? null : norm.bindNorm(model);
    return new Reader() {
      @Override
      public void check(RaggedBatch batch, RaggedBatch.Column column) {
        if (column.width() != size || column.features().length < (long) batch.totalSteps() * size) {
          throw new IllegalArgumentException("Cannot score batch: input " + name + " has " + column.width()
              + " features per step, the model expects " + size);
        }
      }

      @Override
      public void write(RaggedBatch.Column column, int step, float[] dest, int at) {
        System.arraycopy(column.features(), step * size, dest, at, size);
        if (op != null) {
          op.apply(dest, at, size, 1);
        }
      }
    };
  }
}
