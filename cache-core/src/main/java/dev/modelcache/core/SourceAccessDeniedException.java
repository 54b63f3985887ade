package dev.modelcache.core;

/** Thrown when the store refused access: credentials or policy are the likely cause. Not retryable. */
public class SourceAccessDeniedException extends StorageException {
  private static final long serialVersionUID = 1L;

  public SourceAccessDeniedException(String message) {
    super(message, false);
  }

  public SourceAccessDeniedException(String message, Throwable cause) {
    super(message, false, cause);
  }
}
