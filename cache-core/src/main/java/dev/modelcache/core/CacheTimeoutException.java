package dev.modelcache.core;

import java.io.IOException;
import java.time.Duration;

/**
 * Thrown when waiting for another process's download of a model did not end within the caller's
 * timeout. Nothing was changed on disk by the waiting caller.
 */
public class CacheTimeoutException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Duration timeout;

  public CacheTimeoutException(String message, Duration timeout) {
    super(message);
    this.timeout = timeout;
  }

  /** How long the caller waited. */
  public Duration timeout() {
    return timeout;
  }
}
