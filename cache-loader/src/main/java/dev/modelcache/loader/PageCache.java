package dev.modelcache.loader;

import dev.modelcache.common.nativeio.FileAdvice;
import dev.modelcache.common.nativeio.MemoryAdvice;
import dev.modelcache.common.nativeio.NativeIo;
import dev.modelcache.common.nativeio.NativeIoException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The operating system's page cache for model files: warm a file before it is needed, drop it
 * after, and see how much of it is resident.
 *
 * <p>{@link #warm} works everywhere. {@link #drop} and {@link #residentBytes} use Linux calls
 * ({@code posix_fadvise}, {@code mincore}) through {@code java.lang.foreign} and need native
 * access ({@code --enable-native-access=dev.modelcache.common}, the module that binds them, or
 * {@code =ALL-UNNAMED} on the class path); without it they report that they did nothing, and a
 * hint with the flag is logged once. All methods are thread-safe.
 */
public final class PageCache {
  private static final int WARM_BLOCK_BYTES = 8 << 20;

  private PageCache() {}

  /** Whether {@link #drop} and {@link #residentBytes} can work in this JVM. */
  public static boolean isControllable() {
    return NativeIo.get().isPresent();
  }

  /**
   * Pulls a whole file into the page cache by reading it (after a will-need hint when native
   * access is enabled). Returns when every byte was read once; the kernel may still evict
   * pages later under memory pressure.
   *
   * @param file the file
   * @return the number of bytes read
   * @throws IOException if the file cannot be read
   */
  public static long warm(Path file) throws IOException {
    Optional<NativeIo> io = NativeIo.get();
    if (io.isPresent()) {
      try {
        io.get().fadvise(file, FileAdvice.WILL_NEED);
      } catch (NativeIoException e) {
        // Only a hint: the reads below report a file that cannot be read.
      }
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        Arena arena = Arena.ofConfined()) {
      ByteBuffer buf = arena.allocate(WARM_BLOCK_BYTES, 4096).asByteBuffer();
      long total = 0;
      while (true) {
        buf.clear();
        int r = ch.read(buf, total);
        if (r < 0) {
          return total;
        }
        total += r;
      }
    }
  }

  /**
   * Drops a file's clean pages from the page cache ({@code posix_fadvise(fd, 0, 0,
   * POSIX_FADV_DONTNEED)}), after flushing its dirty pages so that they can be dropped too.
   *
   * @param file the file
   * @return {@code true} if the kernel was asked to drop the pages, {@code false} if native
   *     access is unavailable (nothing was done)
   * @throws IOException if the file cannot be opened or the call fails
   */
  public static boolean drop(Path file) throws IOException {
    Optional<NativeIo> io = NativeIo.get();
    if (io.isEmpty()) {
      return false;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.force(false);
    }
    io.get().fadvise(file, FileAdvice.DONT_NEED);
    return true;
  }

  /**
   * How many bytes of a file are in the page cache now ({@code mincore} over a read-only
   * mapping, counted in whole pages).
   *
   * @param file the file
   * @return the resident bytes, or empty if native access is unavailable
   * @throws IOException if the file cannot be mapped or the call fails
   */
  public static OptionalLong residentBytes(Path file) throws IOException {
    Optional<NativeIo> io = NativeIo.get();
    if (io.isEmpty()) {
      return OptionalLong.empty();
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        Arena arena = Arena.ofConfined()) {
      long size = ch.size();
      if (size == 0) {
        return OptionalLong.of(0);
      }
      MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
      try {
        return OptionalLong.of(io.get().residentBytes(map));
      } catch (NativeIoException e) {
        throw new IOException(file + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Advises the kernel about a mapped range when native access allows it. Advice only changes
   * how fast pages arrive, never what is read, so a refused call is ignored.
   */
  static void advise(MemorySegment mapped, MemoryAdvice advice) {
    Optional<NativeIo> io = NativeIo.get();
    if (io.isPresent()) {
      try {
        io.get().madvise(mapped, advice);
      } catch (NativeIoException e) {
        // advisory only
      }
    }
  }
}
