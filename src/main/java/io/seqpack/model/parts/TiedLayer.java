package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelSpec;
import io.seqpack.nn.Gemm;
import io.seqpack.util.Checks;
import io.seqpack.util.StrictJson;
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
    Param.modulePath("embedding", embedding);
    if (bias != null) {
      Param.modulePath("bias", bias);
    }
  }

  @JsonCreator
  static TiedLayer json(@JsonProperty("embedding") String embedding,
      @JsonProperty("num_embeddings") Integer numEmbeddings, @JsonProperty("embedding_dim") Integer embeddingDim,
      @JsonProperty("bias") String bias, @JsonProperty("exclude_padding") Boolean excludePadding) {
    return new TiedLayer(embedding, Checks.integer("num_embeddings", numEmbeddings, 1, ModelSpec.MAX_VOCAB_SIZE),
        Checks.integer("embedding_dim", embeddingDim, 1, Param.MAX_DIM), bias,
        Checks.bool(excludePadding, false));
  }

  /** The shared table's tensor name, {@code item_emb.weight}. */
  public String weight() {
    return Param.tensorName(embedding, "weight");
  }

  @Override
  public int outputWidth(int width) {
    if (embeddingDim != width) {
      throw new StrictJson.Invalid("embedding_dim", Integer.toString(embeddingDim), width
          + " (the width reaching this layer: scores against " + embedding + " need vectors as wide as its rows)");
    }
    return numEmbeddings;
  }

  /** The token input that owns the table (its weight is declared there, once). */
  @Override
  public void checkInputs(List<StepInput> inputs) {
    TokenInput owner = owner(inputs);
    if (owner == null) {
      throw new StrictJson.Invalid("embedding", StrictJson.quote(embedding), "the embedding of a tokens input ("
          + String.join(", ", inputs.stream().filter(TokenInput.class::isInstance)
              .map(in -> ((TokenInput) in).embedding()).toList()) + ")");
    }
    if (owner.vocabSize() != numEmbeddings || owner.embeddingDim() != embeddingDim) {
      throw new StrictJson.Invalid("num_embeddings", "[" + numEmbeddings + ", " + embeddingDim + "]", "["
          + owner.vocabSize() + ", " + owner.embeddingDim() + "] (num_embeddings, embedding_dim of input "
          + owner.name() + "'s embedding " + embedding + ")");
    }
    if (excludePadding && owner.paddingIdx() == null) {
      throw new StrictJson.Invalid("exclude_padding", "true", "false (input " + owner.name()
          + " has no padding_idx)");
    }
  }

  private TokenInput owner(List<StepInput> inputs) {
    return inputs.stream().filter(in -> in instanceof TokenInput t && t.embedding().equals(embedding))
        .map(TokenInput.class::cast).findFirst().orElse(null);
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

  /** Items per block of the table in a blockwise product (4096 rows of 128 floats: 2 MiB). */
  static final int BLOCK_ITEMS = 4096;

  @Override
  public Layer bind(LoadedModel model, int width) {
    float[] table = model.tensor(weight()).data();
    int blocks = (numEmbeddings + BLOCK_ITEMS - 1) / BLOCK_ITEMS;
    Gemm.Weights[] e = new Gemm.Weights[blocks];
    for (int b = 0; b < blocks; b++) {
      int from = b * BLOCK_ITEMS;
      e[b] = Gemm.prepare(table, from * embeddingDim, Math.min(BLOCK_ITEMS, numEmbeddings - from), embeddingDim);
    }
    float[] bias = this.bias == null ? null : model.tensor(this.bias).data();
    int excluded = excludePadding ? owner(model.graph().inputs()).paddingIdx() : -1;
    return new ColumnBlocks() {
      @Override
      public int outWidth() {
        return numEmbeddings;
      }

      @Override
      public int blockSize() {
        return BLOCK_ITEMS;
      }

      @Override
      public float[] apply(float[] x, int count, int in) {
        float[] out = new float[count * numEmbeddings];
        for (int b = 0; b < blocks; b++) {
          int from = b * BLOCK_ITEMS;
          Gemm.multiply(count, x, 0, in, e[b], out, from, numEmbeddings, false);
        }
        finish(out, count, 0, numEmbeddings, numEmbeddings);
        return out;
      }

      @Override
      public void applyBlock(float[] x, int count, int in, int from, float[] out) {
        Gemm.Weights block = e[from / BLOCK_ITEMS];
        Gemm.multiply(count, x, 0, in, block, out, 0, block.n(), false);
        finish(out, count, from, block.n(), block.n());
      }

      /** Adds the bias to, and excludes the padding item from, items {@code [from, from + n)} in rows of {@code ld}. */
      private void finish(float[] out, int count, int from, int n, int ld) {
        for (int r = 0; r < count; r++) {
          if (bias != null) {
            for (int j = 0; j < n; j++) {
              out[r * ld + j] += bias[from + j];
            }
          }
          if (excluded >= from && excluded < from + n) {
            out[r * ld + excluded - from] = Float.NEGATIVE_INFINITY;
          }
        }
      }
    };
  }
}
