package dev.modelcache.core;

import java.io.IOException;

/**
 * Thrown when bytes on disk do not match what was downloaded or what the source vouches for: a
 * block checksum or a whole-file checksum differs, or a file has the wrong length. Names the file
 * and the offset of the first bad block.
 */
public class IntegrityException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String path;
  private final long offsetBytes;

  public IntegrityException(String message, String path, long offsetBytes) {
    super(message);
    this.path = path;
    this.offsetBytes = offsetBytes;
  }

  /** The file's path inside the entry, {@code /}-separated. */
  public String path() {
    return path;
  }

  /** The offset of the first mismatching byte range, or {@code -1} for a whole-file check. */
  public long offsetBytes() {
    return offsetBytes;
  }
}
