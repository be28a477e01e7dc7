package io.seqpack.job;

import io.seqpack.SeqpackException;

/**
 * The job failed while running (a task or a streaming query failed, or the output could not be confirmed). The
 * message is one line that says what failed and what to do; the CLI prints it after {@code seqpack: job failed:}
 * and exits 1.
 */
public class JobFailedException extends SeqpackException {
  public JobFailedException(String message, Throwable cause) {
    super(message, cause);
  }

  public JobFailedException(String message) {
    super(message);
  }

  /** First line of the deepest cause's message, for one-line errors. */
  static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.toString()
        : root.getClass().getSimpleName() + ": " + root.getMessage().lines().findFirst().orElse("").strip();
    return message;
  }
}
