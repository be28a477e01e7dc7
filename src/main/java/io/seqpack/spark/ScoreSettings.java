package io.seqpack.spark;

import io.seqpack.batching.BatchPlan;
import java.io.Serializable;

/**
 * The small immutable part of a scoring job that travels to executors. Everything here is resolved and
 * validated on the driver; executors only meet bad data, never bad setup.
 *
 * @param idIndex position of the id column in the input rows
 * @param columns the columns that feed the model's inputs, with their types
 * @param keepIndices positions of the carried columns, copied to the output after the id
 * @param maxLength longer rows are rejected as TOO_LONG; 0 means no limit
 * @param perStep also emit per-step scores
 * @param emitEmbedding also emit the vector the heads see
 * @param plan minibatch planning
 * @param modelHash content hash of the broadcast model, the key of the executor cache
 * @param allowNonFiniteWeights load models whose weights contain NaN or infinity
 * @param failFirstAttempt test hook ({@value #FAIL_FIRST_ATTEMPT_KEY}): every scoring task fails once after
 *     producing all its rows, so tests can prove that retries leave each row exactly once
 */
public record ScoreSettings(
    int idIndex,
    InputColumns columns,
    int[] keepIndices,
    int maxLength,
    boolean perStep,
    boolean emitEmbedding,
    BatchPlan plan,
    String modelHash,
    boolean allowNonFiniteWeights,
    boolean failFirstAttempt)
    implements Serializable {
  /** Spark conf key of the test-only failure hook; documented as such, never set it in production. */
  public static final String FAIL_FIRST_ATTEMPT_KEY = "spark.seqpack.test.failFirstAttempt";
}
