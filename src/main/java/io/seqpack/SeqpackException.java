package io.seqpack;

/**
 * Root of seqpack's error family. Messages follow the shape {@code Cannot <verb> <noun>: <reason>} and name
 * the file, tensor, key, flag or column involved, so the CLI can print them as one line.
 */
public class SeqpackException extends RuntimeException {
  public SeqpackException(String message) {
    super(message);
  }

  public SeqpackException(String message, Throwable cause) {
    super(message, cause);
  }
}
