package dev.modelcache.loader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Receives the tensors of a model as {@link Loader} reads them: the hand-off to device code.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>Thread.</b> During one load, every method is called by the thread that called
 *       {@link Loader#load}, one call at a time (never concurrently). A sink used by one load at
 *       a time needs no synchronisation of its own. Reader threads never call the sink, except
 *       {@link #allocateBuffer}, which is also called on the loading thread before reads start.</li>
 *   <li><b>Order.</b> Files are loaded one after another; within a file, tensors arrive in
 *       offset order. For each tensor: {@link #beginTensor} once, then {@link #chunk} zero or
 *       more times with contiguous, non-overlapping pieces in increasing offset that cover the
 *       tensor exactly, then {@link #endTensor} once. A tensor of zero bytes gets no chunk.</li>
 *   <li><b>Validity.</b> The {@code bytes} segment of a chunk is valid only during the call.
 *       It may be a slice of a read buffer that is reused, or of a mapping that is unmapped,
 *       right after the call returns; copy what you keep. Do not write to it.</li>
 *   <li><b>Back-pressure.</b> A slow sink slows the load down, nothing else: reads run ahead of
 *       the sink by at most the buffer pool ({@code inFlight + 1} blocks for
 *       {@link ReadStrategy#DIRECT}), then wait. Memory stays bounded by the pool.</li>
 *   <li><b>Errors and cancellation.</b> If a method throws (checked or unchecked), the load
 *       stops: no further sink call is made, outstanding reads are awaited, buffers are
 *       released, and {@link Loader#load} throws {@link TensorSinkException} with the sink's
 *       exception as its cause. Interrupting the loading thread cancels the same way with
 *       {@link java.io.InterruptedIOException}. After a failed load, the sink may hold partial
 *       data: the loader calls {@link #loadFailed} once with the exception it is about to throw,
 *       on the loading thread, after every other call; discard what you hold then.</li>
 *   <li><b>Read-through.</b> A {@link ReadThrough} load on a cache miss hands tensors over as
 *       their bytes arrive from the store, each range checked against the CRC32C of what was
 *       received, but before the whole model is verified against the checksums the store
 *       vouches for (a file is verified once all of it arrived). If that verification fails, the
 *       load fails with {@code dev.modelcache.core.IntegrityException}, {@link #loadFailed} is
 *       called with it, and nothing is committed to the cache. A sink that must not act on
 *       unverified bytes (start serving, say) waits for {@link ReadThrough#load} to return.</li>
 * </ul>
 *
 * <p>A sink may supply the memory the loader reads into by overriding {@link #allocateBuffer},
 * for example with pinned host memory from a GPU runtime, so an {@code O_DIRECT} read lands
 * where the device can copy it by DMA without another copy.
 */
public interface TensorSink {

  /**
   * Supplies one read buffer of the loader's pool. Called on the loading thread before the
   * first read of each file, once per pool buffer; the loader reads into the buffer and
   * passes slices of it to {@link #chunk}.
   *
   * <p>The default allocates from {@code arena}, which the loader closes at the end of the
   * load. An override returns native memory of at least {@code byteSize} bytes aligned to
   * {@code byteAlignment}, that stays valid until {@link #releaseBuffer} is called for it.
   *
   * @param byteSize the buffer size
   * @param byteAlignment the alignment the reads need (a power of two)
   * @param arena an arena owned by the loader, closed when the load ends
   * @return the buffer
   */
  default MemorySegment allocateBuffer(long byteSize, long byteAlignment, Arena arena) {
    return arena.allocate(byteSize, byteAlignment);
  }

  /**
   * Returns a buffer from {@link #allocateBuffer} once the loader no longer uses it (no read is
   * in flight into it). Called on the loading thread, also after a failed load. The default
   * does nothing.
   *
   * @param buffer the buffer, as returned by {@link #allocateBuffer}
   */
  default void releaseBuffer(MemorySegment buffer) {}

  /**
   * A tensor starts.
   *
   * @param tensor the tensor's metadata
   * @throws IOException to fail the load
   */
  void beginTensor(TensorInfo tensor) throws IOException;

  /**
   * A piece of the current tensor's bytes.
   *
   * @param tensor the tensor, as passed to {@link #beginTensor}
   * @param offsetInTensor where {@code bytes} starts within the tensor
   * @param bytes the bytes, valid only during this call
   * @throws IOException to fail the load
   */
  void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) throws IOException;

  /**
   * The current tensor is complete.
   *
   * @param tensor the tensor
   * @throws IOException to fail the load
   */
  void endTensor(TensorInfo tensor) throws IOException;

  /**
   * The load failed: what this sink received of it must be discarded. Called once per failed
   * load, on the loading thread, after every other call of that load and before the loader
   * throws {@code cause}; a sink's own exception, an interrupt and a failed verification of a
   * {@link ReadThrough} load all count. Not called for a load that succeeds. An exception thrown
   * here is added to {@code cause} as suppressed. The default does nothing.
   *
   * @param cause what the load will throw
   */
  default void loadFailed(Exception cause) {}
}
