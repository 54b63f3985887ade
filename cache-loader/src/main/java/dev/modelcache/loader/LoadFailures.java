package dev.modelcache.loader;

import java.io.IOException;
import java.util.concurrent.ExecutionException;

/** How a failed load is reported: to its sink once, and to the caller as itself. */
final class LoadFailures {

  private LoadFailures() {}

  /** A load's body, which may fail with an {@link IOException}. */
  interface LoadBody<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code body}; if it fails, calls {@link TensorSink#loadFailed} with its exception (one
   * that {@code loadFailed} throws is added to it as suppressed) and rethrows it.
   */
  static <T> T tellingFailure(TensorSink sink, LoadBody<T> body) throws IOException {
    try {
      return body.run();
    } catch (IOException | RuntimeException e) {
      try {
        sink.loadFailed(e);
      } catch (RuntimeException thrown) {
        e.addSuppressed(thrown);
      }
      throw e;
    }
  }

  /**
   * The cause of a failed read or download, as itself when it is an {@link IOException}, a
   * runtime exception or an error; anything else wrapped in an {@link IOException} naming
   * {@code what}.
   */
  static IOException causeOf(ExecutionException e, String what) {
    Throwable c = e.getCause();
    if (c instanceof IOException io) {
      return io;
    }
    if (c instanceof RuntimeException r) {
      throw r;
    }
    if (c instanceof Error err) {
      throw err;
    }
    return new IOException(what + " failed", c);
  }
}
