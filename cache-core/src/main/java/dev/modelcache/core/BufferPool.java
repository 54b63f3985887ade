package dev.modelcache.core;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed number of direct buffers of one size, shared by every download of a cache: transfer
 * memory is {@code capacity x bufferBytes}, whatever the size or number of models. Buffers are
 * allocated on first use.
 */
final class BufferPool {

  private final int capacity;
  private final int bufferBytes;
  private final BlockingQueue<ByteBuffer> free;
  private final AtomicInteger allocated = new AtomicInteger();

  BufferPool(int capacity, int bufferBytes) {
    this.capacity = capacity;
    this.bufferBytes = bufferBytes;
    this.free = new ArrayBlockingQueue<>(capacity);
  }

  /** Takes a buffer, waiting while all are in use. */
  ByteBuffer take() throws InterruptedException {
    ByteBuffer buf = free.poll();
    if (buf != null) {
      return buf.clear();
    }
    while (true) {
      int n = allocated.get();
      if (n >= capacity) {
        return free.take().clear();
      }
      if (allocated.compareAndSet(n, n + 1)) {
        return ByteBuffer.allocateDirect(bufferBytes);
      }
    }
  }

  void give(ByteBuffer buf) {
    if (!free.offer(buf)) {
      throw new IllegalStateException("a buffer was returned twice to the pool");
    }
  }

  /** Buffers allocated so far; never more than the capacity. */
  int allocatedCount() {
    return allocated.get();
  }

  int capacity() {
    return capacity;
  }

  int bufferBytes() {
    return bufferBytes;
  }
}
