package io.seqpack.data;

/** Why an input row could not be scored. The names are a contract: they appear in the rejects output. */
public enum RejectReason {
  /** The id column is null. */
  NULL_ID,
  /** A sequence column is null. */
  NULL_SEQUENCE,
  /** The sequence has no steps (PyTorch refuses to pack length 0). */
  EMPTY_SEQUENCE,
  /** A token is null, negative or not below the model's vocab_size. */
  TOKEN_OUT_OF_RANGE,
  /** The sequence is longer than --max-length. */
  TOO_LONG,
  /**
   * A feature step is null, has a null/NaN/infinite value, or its width is not the input's size; or a static
   * feature is null, non-finite or of the wrong size.
   */
  BAD_FEATURES,
  /** The model's sequence columns of the row have different lengths. */
  LENGTH_MISMATCH
}
