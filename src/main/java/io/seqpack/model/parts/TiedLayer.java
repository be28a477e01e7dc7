package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelGraph.StepInput;
import io.seqpack.model.ModelJson;
import io.seqpack.model.ModelSpec;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.nn.Gemm;
import java.util.List;

/**
 * A head tied to an input's embedding table (GRU4Rec's {@code h · Eᵀ}): {@code y = x·Eᵀ + b}, {@code E} {@code
 * [num_embeddings, embedding_dim]} the weight of the token input whose {@code nn.Embedding} is {@code embedding}
 * (the same tensor, stored once), {@code b} an optional {@code [num_embeddings]} tensor. With {@code
 * exclude_padding}, the score of that input's {@code padding_idx} is {@code -inf} (a softmax gives it 0). JSON:
 * {@code {"type": "tied", "embedding": "item_emb", "num_embeddings": 500, "embedding_dim": 16, "bias":
 * "out_bias", "exclude_padding": false}} ({@code bias} absent: none; {@code exclude_padding} defaults to false).
 */
public record TiedLayer(String embedding, int numEmbeddings, int embeddingDim, String bias, boolean excludePadding)
    implements HeadLayer {
  public TiedLayer {
    ModelJson.modulePath("embedding", embedding);
    if (bias != null) {
      ModelJson.modulePath("bias", bias);
    }
  }

  @JsonCreator
  static TiedLayer json(@JsonProperty("embedding") String embedding,
      @JsonProperty("num_embeddings") Integer numEmbeddings, @JsonProperty("embedding_dim") Integer embeddingDim,
      @JsonProperty("bias") String bias, @JsonProperty("exclude_padding") Boolean excludePadding) {
    return new TiedLayer(embedding, ModelJson.integer("num_embeddings", numEmbeddings, 1, ModelSpec.MAX_VOCAB_SIZE),
        ModelJson.integer("embedding_dim", embeddingDim, 1, Param.MAX_DIM), bias,
        ModelJson.bool("exclude_padding", excludePadding, false));
  }

  /** The shared table's tensor name, {@code item_emb.weight}. */
  public String weight() {
    return Param.tensorName(embedding, "weight");
  }

  @Override
  public int outputWidth(int width) {
    if (embeddingDim != width) {
      throw new ModelJson.Invalid("embedding_dim", Integer.toString(embeddingDim), width
          + " (the width reaching this layer: scores against " + embedding + " need vectors as wide as its rows)");
    }
    return numEmbeddings;
  }

  /** The token input that owns the table (its weight is declared there, once). */
  @Override
  public void checkInputs(List<StepInput> inputs) {
    StepInput owner = owner(inputs);
    if (owner == null) {
      throw new ModelJson.Invalid("embedding", ModelJson.quote(embedding), "the embedding of a tokens input ("
          + String.join(", ", inputs.stream().filter(in -> in.kind() == InputKind.TOKENS)
              .map(in -> in.embedding()).toList()) + ")");
    }
    if (owner.vocabSize() != numEmbeddings || owner.embeddingDim() != embeddingDim) {
      throw new ModelJson.Invalid("num_embeddings", "[" + numEmbeddings + ", " + embeddingDim + "]", "["
          + owner.vocabSize() + ", " + owner.embeddingDim() + "] (num_embeddings, embedding_dim of input "
          + owner.name() + "'s embedding " + embedding + ")");
    }
    if (excludePadding && owner.paddingIdx() == null) {
      throw new ModelJson.Invalid("exclude_padding", "true", "false (input " + owner.name()
          + " has no padding_idx)");
    }
  }

  private StepInput owner(List<StepInput> inputs) {
    return inputs.stream().filter(in -> in.kind() == InputKind.TOKENS && in.embedding().equals(embedding))
        .findFirst().orElse(null);
  }

  @Override
  public List<Param> params(String where) {
    return bias == null ? List.of()
        : List.of(new Param(bias, new int[] {numEmbeddings}, "num_embeddings", where + " (tied bias)"));
  }

  @Override
  public String description() {
    return "tied(" + embedding + ": " + embeddingDim + "→" + numEmbeddings + (bias == null ? "" : ", bias " + bias)
        + (excludePadding ? ", without padding" : "") + ")";
  }

  @Override
  public Layer bind(LoadedModel model, int width) {
    Gemm.Weights e = Gemm.prepare(model.tensor(weight()).data(), 0, numEmbeddings, embeddingDim);
    float[] b = bias == null ? null : model.tensor(bias).data();
    int excluded = excludePadding ? owner(model.graph().inputs()).paddingIdx() : -1;
    return (x, count, in) -> {
      float[] out = new float[count * numEmbeddings];
      Gemm.multiply(count, x, 0, in, e, out, 0, numEmbeddings, false);
      for (int r = 0; r < count; r++) {
        int row = r * numEmbeddings;
        if (b != null) {
          for (int j = 0; j < numEmbeddings; j++) {
            out[row + j] += b[j];
          }
        }
        if (excluded >= 0) {
          out[row + excluded] = Float.NEGATIVE_INFINITY;
        }
      }
      return out;
    };
  }
}
