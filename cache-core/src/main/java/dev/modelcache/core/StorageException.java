package dev.modelcache.core;

import java.io.IOException;

/**
 * A failure reported by a storage backend, saying whether trying again may help.
 *
 * <p>Subclasses name the permanent failures a caller may want to handle: a missing source, denied
 * access, an object that changed. Their messages name the source, bucket, key or file involved
 * and never contain credentials.
 */
public class StorageException extends IOException {
  private static final long serialVersionUID = 1L;

  private final boolean retryable;

  public StorageException(String message, boolean retryable) {
    this(message, retryable, null);
  }

  public StorageException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** Whether the same request may succeed if tried again (throttling, a server error, a reset). */
  public boolean retryable() {
    return retryable;
  }
}
