package dev.modelcache.cli;

import java.io.Serial;

/** A mistake on the command line found while running a command: exit status 2, one line. */
final class UsageException extends Exception {
  @Serial
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
