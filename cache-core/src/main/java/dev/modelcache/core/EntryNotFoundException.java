package dev.modelcache.core;

import java.io.IOException;

/** Thrown when an operation needs a committed entry and the cache holds none for the model. */
public class EntryNotFoundException extends IOException {
  private static final long serialVersionUID = 1L;

  public EntryNotFoundException(String message) {
    super(message);
  }
}
