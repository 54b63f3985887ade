package dev.modelcache.core;

import java.io.IOException;
import java.nio.file.Path;

/** Thrown when the cache root is missing, not a directory, or cannot be written. */
public class CacheRootException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path root;

  public CacheRootException(Path root, String reason, Throwable cause) {
    super("cache root " + root + " is unusable: " + reason, cause);
    this.root = root;
  }

  /** The configured root. */
  public Path root() {
    return root;
  }
}
