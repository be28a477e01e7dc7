package io.seqpack.spark;

import io.seqpack.batching.BatchPlan;
import io.seqpack.nn.SequenceModel;
import java.io.Serializable;

/**
 * The small immutable part of a scoring job that travels to executors. Everything here is resolved and
 * validated on the driver; executors only meet bad data, never bad setup.
 *
 * @param idIndex position of the id column in the input rows, or -1 when there is none (a Transformer without
 *     {@code idCol}: no NULL_ID check, rows are not named in messages)
 * @param columns the columns that feed the model's inputs, with their types
 * @param keepIndices positions of the carried columns, copied to the output after the id (predictions layout)
 * @param maxLength longer rows are rejected as TOO_LONG; 0 means no limit
 * @param maxLengthName how the TOO_LONG detail names the setting ({@code --max-length} for the CLI, {@code
 *     maxLength} for library callers)
 * @param perStep also emit per-step scores
 * @param emitEmbedding also emit the vector the heads see
 * @param plan minibatch planning
 * @param modelHash content hash of the broadcast model, the key of the executor cache
 * @param allowNonFiniteWeights load models whose weights contain NaN or infinity
 * @param vocabTableMaxFloats the engine's vocabulary-table limit ({@link SequenceModel.Options}), part of the
 *     executor cache key
 * @param modelCacheBytes the executor model cache's budget ({@value ExecutorModelCache#BUDGET_KEY})
 * @param output the row layout and what happens to rows the decoder refuses
 * @param headCount the model's number of heads (one output column each)
 * @param topK per head, its top k written instead of its vector ({@code 0}: the vector), or null for none
 * @param excludeSeenInput the model input whose token ids are left out of each row's top k, or -1
 */
public record ScoreSettings(
    int idIndex,
    InputColumns columns,
    int[] keepIndices,
    int maxLength,
    String maxLengthName,
    boolean perStep,
    boolean emitEmbedding,
    BatchPlan plan,
    String modelHash,
    boolean allowNonFiniteWeights,
    long vocabTableMaxFloats,
    long modelCacheBytes,
    Output output,
    int headCount,
    int[] topK,
    int excludeSeenInput)
    implements Serializable {
  /** Whether head {@code h} is written as its top k (two columns) rather than its vector. */
  boolean topKOf(int h) {
    return topK != null && topK[h] > 0;
  }

  /** Per-step output columns: none, one, or two with the (one) head's top k. */
  int stepColumnCount() {
    return !perStep ? 0 : topKOf(0) ? 2 : 1;
  }

  /** Output columns of the heads: one per head, two per top-k head. */
  int headColumnCount() {
    int n = headCount;
    for (int h = 0; h < headCount; h++) {
      n += topKOf(h) ? 1 : 0;
    }
    return n;
  }

  /** The engine's options (kept as a number here: {@link SequenceModel.Options} is not serializable). */
  SequenceModel.Options engine() {
    return new SequenceModel.Options(vocabTableMaxFloats);
  }

  /** The row layout of the scoring pass and what it does with rows the decoder refuses. */
  public enum Output {
    /** {@code id, <kept>, length, <heads>...}; refused rows are dropped here (the rejects pass writes them). */
    PREDICTIONS,
    /** Every input column, then the appended ones; the first refused row fails the task with its reason. */
    APPEND_ERROR,
    /** Every input column, then the appended ones; refused rows are dropped. */
    APPEND_SKIP,
    /** Every input column, then the appended ones and the reject reason; refused rows have null scores. */
    APPEND_KEEP;

    boolean appends() {
      return this != PREDICTIONS;
    }
  }
}
