package io.seqpack.batching;

import io.seqpack.ConfigException;

/**
 * How rows are cut into minibatches.
 *
 * @param batchTokens budget per batch in padded tokens: rows × longest row in the batch stays within it (a
 *     single row longer than the budget still forms a batch of its own)
 * @param maxBatchRows cap on rows per batch
 * @param windowBatches how many batches' worth of rows are buffered and sorted by length at a time; memory is
 *     bounded by {@code windowBatches × batchTokens} steps, whatever the partition size
 */
public record BatchPlan(int batchTokens, int maxBatchRows, int windowBatches) implements java.io.Serializable {
  public static final int DEFAULT_BATCH_TOKENS = 16_384;
  public static final int DEFAULT_MAX_BATCH_ROWS = 256;
  public static final int DEFAULT_WINDOW_BATCHES = 32;

  public BatchPlan {
    if (batchTokens < 1) {
      throw new ConfigException("Invalid batchTokens " + batchTokens + ": must be at least 1");
    }
    if (maxBatchRows < 1) {
      throw new ConfigException("Invalid maxBatchRows " + maxBatchRows + ": must be at least 1");
    }
    if (windowBatches < 1) {
      throw new ConfigException("Invalid windowBatches " + windowBatches + ": must be at least 1");
    }
  }

  public static BatchPlan defaults() {
    return new BatchPlan(DEFAULT_BATCH_TOKENS, DEFAULT_MAX_BATCH_ROWS, DEFAULT_WINDOW_BATCHES);
  }

  /** Real steps buffered before a window is sorted and cut. */
  long windowTokens() {
    return (long) batchTokens * windowBatches;
  }

  /** Rows buffered before a window is sorted and cut. */
  long windowRows() {
    return (long) maxBatchRows * windowBatches;
  }
}
