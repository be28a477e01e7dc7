package io.seqpack;

/** An input that cannot be read or whose columns do not have the types the model needs. */
public class InputSchemaException extends SeqpackException {
  public InputSchemaException(String message) {
    super(message);
  }

  public InputSchemaException(String message, Throwable cause) {
    super(message, cause);
  }
}
