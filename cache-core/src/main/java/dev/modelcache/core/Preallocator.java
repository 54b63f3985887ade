package dev.modelcache.core;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Gives each staging file its final length before any range is written. With native access
 * enabled it calls {@code posix_fallocate(3)}, which reserves the blocks: a full disk then fails
 * here, before a single byte is downloaded, and later writes cannot hit ENOSPC. Without it, the
 * file is extended with {@code setLength} (sparse) and the disk is only claimed as ranges land.
 */
final class Preallocator {

  private static final System.Logger LOG = System.getLogger(Preallocator.class.getName());
  private static final int ENOSPC = 28;
  private static final int O_WRONLY = 1;

  private record Natives(MethodHandle open, MethodHandle fallocate, MethodHandle close) {}

  private static final Optional<Natives> NATIVES = lookup();

  private Preallocator() {}

  /** Whether {@code posix_fallocate} is used. */
  static boolean reservesBlocks() {
    return NATIVES.isPresent();
  }

  /**
   * Makes {@code file} (which exists) {@code sizeBytes} long, reserving its blocks when possible.
   *
   * @throws InsufficientSpaceException if the filesystem has no room for it
   */
  static void preallocate(Path file, long sizeBytes, long usableBytes) throws IOException {
    if (sizeBytes == 0) {
      return;
    }
    if (NATIVES.isPresent()) {
      int rc = fallocate(NATIVES.get(), file, sizeBytes);
      if (rc == 0) {
        return;
      }
      if (rc == ENOSPC) {
        throw new InsufficientSpaceException(
            "no space to preallocate " + sizeBytes + " bytes for " + file
                + " (posix_fallocate: ENOSPC); " + usableBytes + " bytes were usable",
            sizeBytes, usableBytes);
      }
      // EOPNOTSUPP and friends: the filesystem cannot reserve; extend instead.
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(sizeBytes);
    }
  }

  private static int fallocate(Natives n, Path file, long sizeBytes) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment path = arena.allocateFrom(file.toAbsolutePath().toString());
      int fd = (int) n.open.invokeExact(path, O_WRONLY);
      if (fd < 0) {
        return -1;
      }
      try {
        return (int) n.fallocate.invokeExact(fd, 0L, sizeBytes);
      } finally {
        int ignored = (int) n.close.invokeExact(fd);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("posix_fallocate failed for " + file, t);
    }
  }

  @SuppressWarnings("restricted") // only reached when native access is enabled for this module
  private static Optional<Natives> lookup() {
    if (!Preallocator.class.getModule().isNativeAccessEnabled()) {
      LOG.log(Level.INFO, "staging files are extended sparsely; run with --enable-native-access="
          + moduleName() + " to reserve their blocks with posix_fallocate up front");
      return Optional.empty();
    }
    try {
      Linker linker = Linker.nativeLinker();
      var libc = linker.defaultLookup();
      MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
          Linker.Option.firstVariadicArg(2));
      MethodHandle fallocate = linker.downcallHandle(libc.find("posix_fallocate").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
              ValueLayout.JAVA_LONG));
      MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
      return Optional.of(new Natives(open, fallocate, close));
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.INFO, "posix_fallocate is unavailable (" + e + "); staging files are extended sparsely");
      return Optional.empty();
    }
  }

  private static String moduleName() {
    Module m = Preallocator.class.getModule();
    return m.isNamed() ? m.getName() : "ALL-UNNAMED";
  }
}
