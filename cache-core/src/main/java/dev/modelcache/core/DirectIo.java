package dev.modelcache.core;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What the download engine needs to write with O_DIRECT: the alignment it asks of memory, file
 * offsets and lengths, and how a file is opened for it.
 */
final class DirectIo {

  /**
   * Alignment of buffer addresses, file offsets and lengths: the page size, which satisfies every
   * logical block size in common use (512 bytes and 4 KiB).
   */
  static final int ALIGNMENT = 4096;

  /** Opens a file for O_DIRECT writes; replaceable in tests to inject the kernel's refusal. */
  @FunctionalInterface
  interface Opener {
    FileChannel open(Path file) throws IOException;
  }

  /** The real opener: {@code O_WRONLY | O_DIRECT} through the JDK's extended open option. */
  static final Opener KERNEL = file ->
      FileChannel.open(file, StandardOpenOption.WRITE, com.sun.nio.file.ExtendedOpenOption.DIRECT);

  private DirectIo() {}

  /** Whether {@code buf}'s remaining bytes may be written with O_DIRECT at {@code offset}. */
  static boolean aligned(ByteBuffer buf, long offset) {
    return buf.isDirect()
        && offset % ALIGNMENT == 0
        && buf.remaining() % ALIGNMENT == 0
        && (MemorySegment.ofBuffer(buf).address()) % ALIGNMENT == 0;
  }
}
