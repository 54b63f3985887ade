package dev.modelcache.cuda;

import java.io.IOException;
import java.io.Serial;
import java.util.Locale;

/**
 * A CUDA runtime call failed. The message names the call, CUDA's error number and CUDA's own
 * description of it (from {@code cudaGetErrorString}), then what the call was doing.
 */
public class CudaException extends IOException {
  @Serial
  private static final long serialVersionUID = 1L;

  private final String call;
  private final int error;
  private final String errorString;

  /**
   * @param call the runtime function, e.g. {@code cudaMemcpyAsync}
   * @param error the {@code cudaError_t} it returned
   * @param errorString CUDA's description of the error
   * @param context what the call was doing, or {@code null}
   */
  public CudaException(String call, int error, String errorString, String context) {
    super(String.format(
        Locale.ROOT,
        "%s failed with CUDA error %d (%s)%s",
        call,
        error,
        errorString,
        context == null ? "" : ": " + context));
    this.call = call;
    this.error = error;
    this.errorString = errorString;
  }

  /** The runtime function that failed, e.g. {@code cudaMalloc}. */
  public String call() {
    return call;
  }

  /** The numeric {@code cudaError_t} the call returned. */
  public int error() {
    return error;
  }

  /** CUDA's description of the error, from {@code cudaGetErrorString}. */
  public String errorString() {
    return errorString;
  }
}
