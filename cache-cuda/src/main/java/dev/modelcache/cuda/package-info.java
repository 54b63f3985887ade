/**
 * Loading safetensors models into CUDA device memory.
 *
 * <p>{@link dev.modelcache.cuda.CudaTensorSink#open(int)} binds the CUDA runtime
 * ({@code libcudart}) with {@code java.lang.foreign} at run time, so nothing here needs CUDA to
 * build. Without a usable library, driver or device it throws
 * {@link dev.modelcache.cuda.CudaUnavailableException}; a failing CUDA call raises
 * {@link dev.modelcache.cuda.CudaException} naming the call, its error number and CUDA's own
 * description of it.
 */
package dev.modelcache.cuda;
