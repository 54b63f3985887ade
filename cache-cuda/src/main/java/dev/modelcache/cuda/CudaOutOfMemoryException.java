package dev.modelcache.cuda;

import java.io.Serial;

/**
 * An allocation of device memory ({@code cudaMalloc}) or pinned host memory
 * ({@code cudaHostAlloc}) failed with {@code cudaErrorMemoryAllocation}.
 */
public final class CudaOutOfMemoryException extends CudaException {
  @Serial
  private static final long serialVersionUID = 1L;

  private final long requestedBytes;

  /**
   * @param call the allocating function
   * @param error the {@code cudaError_t} it returned
   * @param errorString CUDA's description of the error
   * @param requestedBytes the size asked for
   * @param context what the memory was for
   */
  public CudaOutOfMemoryException(
      String call, int error, String errorString, long requestedBytes, String context) {
    super(call, error, errorString, context);
    this.requestedBytes = requestedBytes;
  }

  /** The number of bytes the failed call asked for. */
  public long requestedBytes() {
    return requestedBytes;
  }
}
