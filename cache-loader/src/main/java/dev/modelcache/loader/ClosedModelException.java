package dev.modelcache.loader;

/**
 * A mapped model or an off-heap sink was used after {@code close()}.
 *
 * <p>Like Lucene's {@code AlreadyClosedException} this is a programming error, not an I/O
 * failure, so it is unchecked; it replaces the bare {@link IllegalStateException} the JDK raises
 * for a closed arena with a message naming what was closed.
 */
public final class ClosedModelException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * @param what the closed resource, for the message
   * @param cause the JDK's exception for the dead segment, or {@code null}
   */
  public ClosedModelException(String what, Throwable cause) {
    super(what + " is closed", cause);
  }
}
