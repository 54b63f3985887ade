package dev.modelcache.core;

/** Thrown when an object's size, ETag or version differs from what was listed: it was replaced during the download. Not retryable. */
public class ObjectChangedException extends StorageException {
  private static final long serialVersionUID = 1L;

  public ObjectChangedException(String message) {
    super(message, false);
  }

  public ObjectChangedException(String message, Throwable cause) {
    super(message, false, cause);
  }
}
