package dev.modelcache.cli;

import java.io.Serial;

/** Data that breaks a rule the command checks itself, such as files that fail verification: exit status 3. */
final class InvalidDataException extends Exception {
  @Serial private static final long serialVersionUID = 1L;

  InvalidDataException(String message) {
    super(message);
  }
}
