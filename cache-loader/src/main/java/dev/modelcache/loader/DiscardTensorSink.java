package dev.modelcache.loader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Keeps nothing, for benchmarks. It reads one byte of every 4 KiB page of each chunk, so that a
 * mapped ({@link ReadStrategy#MMAP}) load really faults every page in, at negligible cost for
 * the other strategies; the bytes read feed {@link #touchSum()} so the JIT cannot skip them.
 */
public final class DiscardTensorSink implements TensorSink {
  private static final long PAGE = 4096;
  private long bytes;
  private int tensors;
  private long touchSum;

  /** A new sink. */
  public DiscardTensorSink() {}

  @Override
  public void beginTensor(TensorInfo tensor) {
    tensors++;
  }

  @Override
  public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment chunk) {
    long sum = 0;
    long size = chunk.byteSize();
    for (long off = 0; off < size; off += PAGE) {
      sum += chunk.get(ValueLayout.JAVA_BYTE, off);
    }
    touchSum += sum;
    bytes += size;
  }

  @Override
  public void endTensor(TensorInfo tensor) {}

  /** Bytes received. */
  public long bytesReceived() {
    return bytes;
  }

  /** Tensors received. */
  public int tensorsReceived() {
    return tensors;
  }

  /** Sum of the bytes touched (one per page). */
  public long touchSum() {
    return touchSum;
  }
}
