package io.seqpack;

/** A model directory, model.json or model.safetensors that is missing, malformed or inconsistent. */
public class ModelFormatException extends SeqpackException {
  public ModelFormatException(String message) {
    super(message);
  }

  public ModelFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
