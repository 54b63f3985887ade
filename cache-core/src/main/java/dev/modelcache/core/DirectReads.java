package dev.modelcache.core;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Reads a range of a file opened with O_DIRECT, a chunk at a time, into an aligned buffer of this
 * thread: the read-back of blocks that were written with O_DIRECT.
 *
 * <p>Such blocks are not in the page cache. Read through a mapping or a buffered read, each of
 * their pages would be read from the disk into the page cache first, which costs the CPU as much as
 * a buffered write of the same bytes; read with O_DIRECT, the disk copies them into the buffer and
 * the CPU only checksums them (benchmarks/download-profile.md measured the mapped read-back at
 * 25-38% of a download's CPU). A page that cannot be read is an {@link IOException} of the read,
 * never a signal.
 *
 * <p>Each thread's buffer is {@link #CHUNK_BYTES} of direct memory ({@code -XX:MaxDirectMemorySize}),
 * taken only if the transfer buffers left room for it ({@link #bufferAvailable}) and freed once the
 * thread is gone. Thread-safe: each thread has its own buffer.
 */
final class DirectReads {

  /** The read size: large enough that one read per chunk keeps the disk busy, small enough to stay per thread. */
  static final int CHUNK_BYTES = 4 << 20;

  private static final ThreadLocal<ByteBuffer> CHUNKS = new ThreadLocal<>();

  private DirectReads() {}

  /**
   * Whether this thread has its read buffer, allocating it if not: false when direct memory has no
   * room left for it (the transfer buffers come first), so the caller reads another way.
   */
  static boolean bufferAvailable() {
    if (CHUNKS.get() == null) {
      try {
        CHUNKS.set(Arena.ofAuto().allocate(CHUNK_BYTES, DirectIo.ALIGNMENT).asByteBuffer());
      } catch (OutOfMemoryError e) {
        return false; // "Cannot reserve ... bytes of direct buffer memory"
      }
    }
    return true;
  }

  /** Opens {@code file} for O_DIRECT reads; fails as the file system does if it refuses them. */
  static FileChannel open(Path file) throws IOException {
    return FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
  }

  /**
   * Feeds bytes {@code [offset, offset + length)} of {@code ch}, a channel from {@link #open}, to
   * {@code sink} in order. Only on a thread whose {@link #bufferAvailable} said true.
   *
   * @param offset a multiple of {@link DirectIo#ALIGNMENT}
   * @throws EOFException if the file ends before {@code offset + length}
   */
  static void read(FileChannel ch, long offset, long length, MappedReads.ChunkSink sink)
      throws IOException {
    if (offset % DirectIo.ALIGNMENT != 0) {
      throw new IllegalArgumentException("unaligned O_DIRECT read at offset " + offset);
    }
    ByteBuffer buf =
        java.util.Objects.requireNonNull(CHUNKS.get(), "no read buffer on this thread");
    for (long pos = 0; pos < length; ) {
      int n = (int) Math.min(CHUNK_BYTES, length - pos);
      // The last chunk of a file may end anywhere: the read asks for whole aligned blocks and the
      // kernel stops at the end of the file.
      buf.clear().limit(Math.min(CHUNK_BYTES, alignUp(n)));
      while (buf.position() < n) {
        int r = ch.read(buf, offset + pos + buf.position());
        if (r <= 0 || buf.position() % DirectIo.ALIGNMENT != 0) {
          break; // the end of the file: nothing more can be read
        }
      }
      if (buf.position() < n) {
        throw new EOFException(String.format(
            Locale.ROOT,
            "the file ends at offset %d, before %d",
            offset + pos + buf.position(),
            offset + length));
      }
      sink.accept(buf.flip().limit(n));
      pos += n;
    }
  }

  private static int alignUp(int n) {
    return (n + DirectIo.ALIGNMENT - 1) & -DirectIo.ALIGNMENT;
  }
}
