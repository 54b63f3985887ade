package dev.modelcache.core;

/** Thrown when the source, bucket, prefix or object does not exist (or holds no objects). Not retryable. */
public class SourceNotFoundException extends StorageException {
  private static final long serialVersionUID = 1L;

  public SourceNotFoundException(String message) {
    super(message, false);
  }

  public SourceNotFoundException(String message, Throwable cause) {
    super(message, false, cause);
  }
}
