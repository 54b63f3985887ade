package dev.modelcache.core;

import java.io.IOException;

/** Thrown when an entry cannot be evicted or replaced because it is leased or pinned. */
public class EntryInUseException extends IOException {
  private static final long serialVersionUID = 1L;

  public EntryInUseException(String message) {
    super(message);
  }
}
