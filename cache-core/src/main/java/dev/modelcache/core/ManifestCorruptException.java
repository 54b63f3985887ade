package dev.modelcache.core;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Thrown when an entry's manifest cannot be read as a manifest: it is not valid JSON, lacks a
 * field, or holds a value that breaks a rule. The entry is treated as damaged.
 */
public class ManifestCorruptException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public ManifestCorruptException(Path file, String reason) {
    super("manifest " + file + " is corrupt: " + reason);
    this.file = file;
  }

  /** The manifest file. */
  public Path file() {
    return file;
  }
}
