package dev.modelcache.core;

import java.io.IOException;

/**
 * Thrown when a model cannot fit in the cache even after evicting every entry the cache may
 * evict (unleased, unpinned), or when the disk filled up while a download was writing. Nothing is
 * committed and the disk is never filled past the configured limits by the cache itself.
 */
public class InsufficientSpaceException extends IOException {
  private static final long serialVersionUID = 1L;

  private final long bytesNeeded;
  private final long bytesAvailable;

  public InsufficientSpaceException(String message, long bytesNeeded, long bytesAvailable) {
    this(message, bytesNeeded, bytesAvailable, null);
  }

  public InsufficientSpaceException(
      String message, long bytesNeeded, long bytesAvailable, Throwable cause) {
    super(message, cause);
    this.bytesNeeded = bytesNeeded;
    this.bytesAvailable = bytesAvailable;
  }

  /** Bytes the download needs. */
  public long bytesNeeded() {
    return bytesNeeded;
  }

  /** Bytes the cache could make available, within its size limit and free-space watermark. */
  public long bytesAvailable() {
    return bytesAvailable;
  }
}
