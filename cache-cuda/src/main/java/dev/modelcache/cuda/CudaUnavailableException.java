package dev.modelcache.cuda;

import java.io.IOException;
import java.io.Serial;

/**
 * CUDA cannot be used in this process: the runtime library is missing, the JVM does not grant
 * native access, the NVIDIA driver is missing or too old, or there is no CUDA device. The
 * message says which, in one line; {@link #reason()} says it to code.
 */
public final class CudaUnavailableException extends IOException {
  @Serial
  private static final long serialVersionUID = 1L;

  /** Why CUDA cannot be used. */
  public enum Reason {
    /** No {@code libcudart} could be loaded (or it lacks a function this module calls). */
    NO_LIBRARY,
    /** The JVM was started without {@code --enable-native-access} for this module. */
    NO_NATIVE_ACCESS,
    /** The runtime found no NVIDIA driver, or one too old for it. */
    NO_DRIVER,
    /** The driver works but there is no CUDA device (or not the one asked for). */
    NO_DEVICE
  }

  private final Reason reason;

  /**
   * @param reason why CUDA cannot be used
   * @param message one line for the user
   * @param cause the failed call, if there was one
   */
  public CudaUnavailableException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** Why CUDA cannot be used. */
  public Reason reason() {
    return reason;
  }
}
