package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.seqpack.data.RaggedBatch;
import io.seqpack.model.LoadedModel;
import io.seqpack.model.ModelGraph.Param;
import io.seqpack.model.ModelSpec;
import io.seqpack.model.ModelSpec.InputKind;
import io.seqpack.util.Checks;
import java.util.ArrayList;
import java.util.List;

/**
 * A token column looked up in {@code nn.Embedding} {@code embedding} ({@code [vocabSize, embeddingDim]}, {@code
 * paddingIdx} normalised as PyTorch does, or null). JSON: {@code {"name": "event", "kind": "tokens", "vocab_size":
 * 11, "embedding_dim": 8, "padding_idx": 0, "embedding": "emb", "norm": null}}.
 */
public record TokenInput(String name, int vocabSize, int embeddingDim, Integer paddingIdx, String embedding,
    Norm norm) implements StepInput {
  public TokenInput {
    Param.modulePath("embedding", embedding);
  }

  @JsonCreator
  static TokenInput json(@JsonProperty("name") String name, @JsonProperty("vocab_size") Integer vocabSize,
      @JsonProperty("embedding_dim") Integer embeddingDim, @JsonProperty("padding_idx") Integer paddingIdx,
      @JsonProperty("embedding") String embedding, @JsonProperty("norm") Norm norm) {
    int vocab = Checks.integer("vocab_size", vocabSize, 1, ModelSpec.MAX_VOCAB_SIZE);
    int dim = Checks.integer("embedding_dim", embeddingDim, 1, Param.MAX_DIM);
    return new TokenInput(name, vocab, dim, ModelSpec.paddingIdx(paddingIdx, vocab), embedding,
        StepInput.normOver(norm, dim));
  }

  @Override
  public InputKind kind() {
    return InputKind.TOKENS;
  }

  @Override
  public int width() {
    return embeddingDim;
  }

  public String embeddingWeight() {
    return Param.tensorName(embedding, "weight");
  }

  @Override
  public List<Param> params() {
    List<Param> out = new ArrayList<>();
    out.add(new Param(embeddingWeight(), new int[] {vocabSize, embeddingDim}, "vocab_size, embedding_dim",
        "input " + name + " (kind=tokens)"));
    out.addAll(normParams());
    return out;
  }

  @Override
  public String description() {
    String text = "tokens(vocab=" + vocabSize + ", dim=" + embeddingDim + (paddingIdx == null ? ""
        : ", padding_idx=" + paddingIdx) + ")";
    return norm == null ? text : text + " → " + norm.description();
  }

  @Override
  public Reader bind(LoadedModel model) {
    float[] vectors = model.tensor(embeddingWeight()).data();
    if (norm != null) { // a function of the token alone: normalise the embedding rows once
      vectors = vectors.clone();
      norm.bindNorm(model).apply(vectors, 0, embeddingDim, vocabSize);
    }
    float[] rows = vectors;
    return new Reader() {
      @Override
      public void check(RaggedBatch batch, RaggedBatch.Column column) {
        int[] ids = column.tokens();
        int steps = batch.totalSteps();
        if (ids.length < steps) {
          throw new IllegalArgumentException("Cannot score batch: input " + name + " holds " + ids.length
              + " tokens for " + steps + " steps");
        }
        int[] offsets = batch.offsets();
        for (int i = 0; i < batch.size(); i++) {
          for (int s = offsets[i]; s < offsets[i + 1]; s++) {
            if (ids[s] < 0 || ids[s] >= vocabSize) {
              throw new IllegalArgumentException("Cannot score batch: token id " + ids[s] + " of input " + name
                  + " at row " + i + " step " + (s - offsets[i]) + " is outside the vocabulary [0, " + vocabSize + ")");
            }
          }
        }
      }

      @Override
      public void write(RaggedBatch.Column column, int step, float[] dest, int at) {
        System.arraycopy(rows, column.tokens()[step] * embeddingDim, dest, at, embeddingDim);
      }

      @Override
      public float[] rowsByToken() {
        return rows;
      }
    };
  }
}
