package dev.modelcache.core;

/** Thrown when a string or URI cannot name a model source; the message names the rule broken. */
public class InvalidModelSourceException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public InvalidModelSourceException(String message) {
    super(message);
  }
}
