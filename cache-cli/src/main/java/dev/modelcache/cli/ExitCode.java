package dev.modelcache.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;

/**
 * The process exit status, and the one place that decides which failure gets which status.
 *
 * <p>Scripts and init containers branch on these numbers, so they are part of the interface:
 * 0 success; 1 a runtime failure (I/O, the remote store); 2 a usage error; 3 invalid or corrupt
 * data (validation, verification); 4 timed out. {@code exec} exits with its command's status, and
 * as shells do with 127 when the command is not found and 126 when it cannot be run.
 */
enum ExitCode {
  OK(0),
  FAILURE(1),
  USAGE(2),
  INVALID_DATA(3),
  TIMED_OUT(4),
  /** {@code exec}: the command exists but cannot be run (not executable, a directory). */
  CANNOT_EXECUTE(126),
  /** {@code exec}: no such command. */
  COMMAND_NOT_FOUND(127);

  private final int status;

  ExitCode(int status) {
    this.status = status;
  }

  int status() {
    return status;
  }

  /**
   * The exit code for a failure that escaped a command. Wrappers (execution and completion
   * exceptions from futures) are looked through first.
   */
  static ExitCode of(Throwable failure) {
    Throwable t = unwrap(failure);
    if (t instanceof UsageException
        || t instanceof CommandLine.ParameterException
        || t instanceof IllegalArgumentException) {
      // IllegalArgumentException comes from builders and option checks in the libraries, which
      // reject a value the user typed (an unknown backend option, a negative size).
      return USAGE;
    }
    if (t instanceof TimeoutException || t instanceof dev.modelcache.core.CacheTimeoutException) {
      return TIMED_OUT;
    }
    if (isInvalidData(t)) {
      return INVALID_DATA;
    }
    return FAILURE;
  }

  /** Looks through wrappers that only say where a failure travelled, not what it was. */
  static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof ExecutionException
            || t instanceof CompletionException
            || t instanceof UncheckedIOException
            || t instanceof CommandLine.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** Failures the libraries raise for data that breaks a rule: a format, a digest, a size. */
  private static boolean isInvalidData(Throwable t) {
    return t instanceof dev.modelcache.loader.SafetensorsFormatException
        || t instanceof dev.modelcache.core.IntegrityException
        || t instanceof dev.modelcache.core.ManifestCorruptException;
  }

  /**
   * Whether the failure is one the command expects (I/O, bad input, a timeout), as opposed to a
   * defect in this program, which is reported as an internal error.
   */
  static boolean isExpected(Throwable failure) {
    Throwable t = unwrap(failure);
    return t instanceof IOException
        || t instanceof UsageException
        || t instanceof TimeoutException
        || t instanceof CommandLine.ParameterException
        || t instanceof IllegalArgumentException;
  }
}
