package dev.modelcache.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The few CUDA runtime calls the sink makes, with the C API's shape: each returns a
 * {@code cudaError_t} (0 for success) and passes results out through one-element arrays. The
 * real implementation is {@link CudaRuntime}; tests use a fake that records every call.
 */
interface DeviceRuntime {
  /** {@code cudaSuccess}. */
  int SUCCESS = 0;
  /** {@code cudaErrorInvalidValue}. */
  int ERROR_INVALID_VALUE = 1;
  /** {@code cudaErrorMemoryAllocation}. */
  int ERROR_MEMORY_ALLOCATION = 2;
  /** {@code cudaErrorInitializationError}. */
  int ERROR_INITIALIZATION = 3;
  /** {@code cudaErrorStubLibrary}: the driver found is a stub. */
  int ERROR_STUB_LIBRARY = 34;
  /** {@code cudaErrorInsufficientDriver}: no driver, or one older than the runtime. */
  int ERROR_INSUFFICIENT_DRIVER = 35;
  /** {@code cudaErrorNoDevice}. */
  int ERROR_NO_DEVICE = 100;
  /** {@code cudaErrorInvalidDevice}. */
  int ERROR_INVALID_DEVICE = 101;
  /** {@code cudaErrorSystemDriverMismatch}. */
  int ERROR_SYSTEM_DRIVER_MISMATCH = 803;

  /** What was bound, for messages: the library and the runtime version. */
  String description();

  int getDeviceCount(int[] count);

  int setDevice(int device);

  int malloc(long[] devicePointer, long byteSize);

  int free(long devicePointer);

  /** {@code cudaHostAlloc} with default flags; the segment spans the {@code byteSize} bytes. */
  int hostAlloc(MemorySegment[] host, long byteSize);

  int freeHost(MemorySegment host);

  int streamCreate(long[] stream);

  int streamDestroy(long stream);

  /** {@code cudaMemcpyAsync(dst, src, src.byteSize(), cudaMemcpyHostToDevice, stream)}. */
  int memcpyHostToDeviceAsync(long devicePointer, MemorySegment src, long stream);

  int streamSynchronize(long stream);

  String getErrorString(int error);
}
