package io.seqpack.model;

import java.util.Map;

/**
 * A validated model: its graph, every tensor the graph declares (float32, shapes checked) and the SHA-256 of the
 * two files' bytes, which identifies the model in summaries and executor caches.
 *
 * @param spec the version-1 {@code model.json} the graph was read from, or null for a version-2 file
 * @param verification whether the exporter checked the files against the module's own forward
 */
public record LoadedModel(ModelGraph graph, ModelSpec spec, Map<String, Tensor> tensors, String contentHash,
    Verification verification) {
  /** A model built from a version-1 spec (tests and tools that make models by hand). */
  public LoadedModel(ModelSpec spec, Map<String, Tensor> tensors, String contentHash) {
    this(spec.toGraph(), spec, tensors, contentHash, Verification.UNKNOWN);
  }

  public Tensor tensor(String name) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalStateException("model has no tensor " + name);
    }
    return t;
  }
}
