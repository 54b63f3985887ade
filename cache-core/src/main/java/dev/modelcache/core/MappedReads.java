package dev.modelcache.core;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads a range of a file through a mapping, a chunk at a time, into a buffer of this thread.
 *
 * <p>The bytes are copied out of the mapping before anything computes on them. A mapped page that
 * cannot be read (an I/O error under it, or the file truncated by another process) raises SIGBUS;
 * the JDK turns that into an {@link InternalError} inside its memory copy, but not inside the
 * CRC32C and digest intrinsics, where it would end the JVM. The copy costs one memcpy of each
 * byte, from the page cache into a 256 KiB buffer that stays in the CPU's cache.
 *
 * <p>Thread-safe: each thread has its own buffer.
 */
final class MappedReads {

  /** What receives each chunk: its bytes between position and limit, valid until it returns. */
  @FunctionalInterface
  interface ChunkSink {
    void accept(ByteBuffer chunk) throws IOException;
  }

  static final int CHUNK_BYTES = 256 << 10;

  /** On the heap: direct memory is the transfer buffers' budget ({@code -XX:MaxDirectMemorySize}). */
  private static final ThreadLocal<byte[]> CHUNKS =
      ThreadLocal.withInitial(() -> new byte[CHUNK_BYTES]);

  private MappedReads() {}

  /**
   * Feeds bytes {@code [offset, offset + length)} of {@code ch} to {@code sink} in order.
   *
   * @throws InternalError if a page of the range could not be read (see the class comment)
   */
  static void read(FileChannel ch, long offset, long length, ChunkSink sink) throws IOException {
    byte[] bytes = CHUNKS.get();
    MemorySegment chunk = MemorySegment.ofArray(bytes);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, offset, length, arena);
      for (long pos = 0; pos < length; pos += CHUNK_BYTES) {
        long n = Math.min(CHUNK_BYTES, length - pos);
        MemorySegment.copy(mapped, pos, chunk, 0, n);
        sink.accept(ByteBuffer.wrap(bytes, 0, (int) n));
      }
    }
  }
}
