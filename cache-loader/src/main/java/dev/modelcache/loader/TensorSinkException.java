package dev.modelcache.loader;

import java.io.IOException;
import java.util.Optional;

/**
 * A {@link TensorSink} failed and the load was cancelled. The sink's exception is the
 * {@linkplain #getCause() cause}.
 */
public final class TensorSinkException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String tensor;

  /**
   * @param tensor the tensor being delivered when the sink failed, or {@code null} when it
   *     failed to supply a read buffer
   * @param cause the sink's exception
   */
  public TensorSinkException(String tensor, Throwable cause) {
    super(
        (tensor == null
                ? "sink failed to supply a read buffer"
                : "sink failed on tensor '" + tensor + "'")
            + ", load cancelled: " + cause,
        cause);
    this.tensor = tensor;
  }

  /** The tensor being delivered when the sink failed; empty if it failed supplying a buffer. */
  public Optional<String> tensor() {
    return Optional.ofNullable(tensor);
  }
}
