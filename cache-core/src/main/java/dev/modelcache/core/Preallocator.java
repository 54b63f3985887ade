package dev.modelcache.core;

import dev.modelcache.common.nativeio.NativeIo;
import dev.modelcache.common.nativeio.NativeIoException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Gives each staging file its final length before any range is written. Where the native file
 * calls are available it uses {@code posix_fallocate(3)}, which reserves the blocks: a full disk
 * then fails here, before a single byte is downloaded, and later writes cannot hit ENOSPC.
 * Otherwise, or where the file system cannot reserve (EOPNOTSUPP, EINVAL), the file is extended
 * with {@code setLength} (sparse) and the disk is only claimed as ranges land; so is a file of a
 * provider other than the default one, which has no descriptor of the kernel's to reserve with.
 */
final class Preallocator {

  private Preallocator() {}

  /** Whether {@code posix_fallocate} is used. */
  static boolean reservesBlocks() {
    return NativeIo.get().isPresent();
  }

  /**
   * Makes {@code file} (which exists) {@code sizeBytes} long, reserving its blocks when possible.
   *
   * @throws InsufficientSpaceException if the file system has no room for it (ENOSPC or EDQUOT)
   */
  static void preallocate(Path file, long sizeBytes, long usableBytes) throws IOException {
    if (sizeBytes == 0) {
      return;
    }
    boolean kernelFile = file.getFileSystem() == FileSystems.getDefault();
    Optional<NativeIo> io = kernelFile ? NativeIo.get() : Optional.empty();
    if (io.isPresent()) {
      try {
        io.get().fallocate(file, 0, sizeBytes);
        return;
      } catch (NativeIoException e) {
        if (e.code().isNoSpace()) {
          throw new InsufficientSpaceException(
              "no space to preallocate " + sizeBytes + " bytes for " + file + " (posix_fallocate: "
                  + e.code() + "); " + usableBytes + " bytes were usable",
              sizeBytes,
              usableBytes,
              e);
        }
        // The file system cannot reserve, or the call failed otherwise: extend instead, which
        // reports a file that cannot be written at all.
      }
    }
    if (kernelFile) {
      try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
        raf.setLength(sizeBytes);
      }
      return;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      if (ch.size() > sizeBytes) {
        ch.truncate(sizeBytes);
      } else if (ch.size() < sizeBytes) {
        ch.write(
            ByteBuffer.allocate(1),
            sizeBytes - 1); // past the end: the bytes before it read as zeros
      }
    }
  }
}
