package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed number of direct buffers of one size, each starting on a 4 KiB boundary so that blocks
 * can be written from it with O_DIRECT, shared by every download of a cache: transfer memory is
 * {@code capacity x bufferBytes} (plus the alignment), whatever the size or number of models. Buffers are
 * allocated on first use. If the JVM's direct-memory limit ({@code -XX:MaxDirectMemorySize},
 * which defaults to the heap size) is reached first, the pool keeps the buffers it has, which
 * lowers the effective concurrency, and says so once.
 */
final class BufferPool {

  private static final System.Logger LOG = System.getLogger(BufferPool.class.getName());

  private final int capacity;
  private final int bufferBytes;
  private final BlockingQueue<ByteBuffer> free;
  private final AtomicInteger allocated = new AtomicInteger();
  private volatile int limit;

  BufferPool(int capacity, int bufferBytes) {
    this.capacity = capacity;
    this.limit = capacity;
    this.bufferBytes = bufferBytes;
    this.free = new ArrayBlockingQueue<>(capacity);
  }

  /**
   * Takes a buffer, waiting while all are in use.
   *
   * @throws IOException if not even one buffer can be allocated within the direct-memory limit
   */
  ByteBuffer take() throws InterruptedException, IOException {
    ByteBuffer buf = free.poll();
    if (buf != null) {
      return buf.clear();
    }
    // Allocation decisions are made one at a time: a thread may only wait for a returned buffer
    // once some buffer exists, or it could wait for one that a failing allocation never made.
    synchronized (this) {
      int n = allocated.get();
      if (n < limit) {
        try {
          ByteBuffer fresh = allocate(bufferBytes);
          allocated.incrementAndGet();
          return fresh;
        } catch (OutOfMemoryError e) {
          if (n == 0) {
            throw new IOException(String.format(
                Locale.ROOT,
                "cannot allocate a %d-byte transfer buffer: the JVM's direct memory is exhausted (%s); "
                    + "raise -XX:MaxDirectMemorySize above concurrency x partSizeBytes = %d bytes, or lower them",
                bufferBytes,
                e.getMessage(),
                (long) capacity * bufferBytes));
          }
          limit = n;
          LOG.log(
              Level.WARNING,
              String.format(
                  Locale.ROOT,
                  "direct memory allows only %d transfer buffers of %d bytes, not %d: transfers run %d at a time; "
                      + "raise -XX:MaxDirectMemorySize to %d bytes or more for full concurrency",
                  n,
                  bufferBytes,
                  capacity,
                  n,
                  (long) capacity * bufferBytes + (64L << 20)));
        }
      }
    }
    return free.take().clear();
  }

  /**
   * A direct buffer of {@code bytes} whose first byte sits on a {@link DirectIo#ALIGNMENT} boundary,
   * as O_DIRECT writes need; that costs one alignment's worth of extra direct memory. Where the
   * direct-memory limit leaves no room for the extra, a plain direct buffer: its blocks are then
   * written through the page cache.
   */
  private static ByteBuffer allocate(int bytes) {
    int rounded = Math.toIntExact(
        ((long) bytes + DirectIo.ALIGNMENT - 1) / DirectIo.ALIGNMENT * DirectIo.ALIGNMENT);
    try {
      return ByteBuffer.allocateDirect(Math.addExact(rounded, DirectIo.ALIGNMENT))
          .alignedSlice(DirectIo.ALIGNMENT)
          .slice(0, bytes);
    } catch (OutOfMemoryError e) {
      return ByteBuffer.allocateDirect(bytes);
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
