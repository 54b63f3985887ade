package dev.modelcache.core;

import java.io.IOException;

/**
 * Thrown when the cache could not write to its own disk (an I/O error, a read-only filesystem).
 * Local write failures are never retried: the download fails at once and commits nothing.
 */
public class CacheWriteException extends IOException {
  private static final long serialVersionUID = 1L;

  public CacheWriteException(String message, Throwable cause) {
    super(message, cause);
  }
}
