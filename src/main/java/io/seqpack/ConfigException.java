package io.seqpack;

/** A flag, config-file key or option value that is invalid. */
public class ConfigException extends SeqpackException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
