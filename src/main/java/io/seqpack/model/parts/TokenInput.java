package io.seqpack.model.parts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
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
}
