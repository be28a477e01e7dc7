package io.seqpack.spark;

import io.seqpack.model.ModelBytes;
import java.io.Serializable;

/**
 * What the model's broadcast carries to executors: either the bytes of its two files (small models), or only the
 * URI of its directory, which each executor then streams into its tensors itself (large models: a 512 MB table
 * broadcast as bytes costs an executor the torrent's pieces, the assembled array and the decoded floats at once).
 * Either way with the content hash the driver computed, which keys {@link ExecutorModelCache} and which a model
 * read from its directory must still have.
 *
 * @param bytes the files' bytes, or null when executors read {@code directory}
 * @param directory the model directory's URI (any Hadoop file system the executors can read), or null
 */
record ShippedModel(ModelBytes bytes, String directory, String contentHash) implements Serializable {
  ShippedModel {
    if ((bytes == null) == (directory == null)) {
      throw new IllegalArgumentException("a shipped model has either bytes or a directory");
    }
  }

  static ShippedModel inline(ModelBytes bytes, String contentHash) {
    return new ShippedModel(bytes, null, contentHash);
  }

  static ShippedModel atDirectory(String directory, String contentHash) {
    return new ShippedModel(null, directory, contentHash);
  }
}
