package io.seqpack.model;

import java.util.Map;

/**
 * A validated model: its spec, every tensor it needs (float32, shapes checked against the spec) and the
 * SHA-256 of the two files' bytes, which identifies the model in summaries and executor caches.
 */
public record LoadedModel(ModelSpec spec, Map<String, Tensor> tensors, String contentHash) {
  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalStateException("model has no tensor " + name);
    }
    return t;
  }
}
