package dev.modelcache.core;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Says what a failed local write of one download was: the download being stopped (an interrupt
 * closed the channel; the staging stays for a resume), a full disk ({@link
 * InsufficientSpaceException}) or a write error ({@link CacheWriteException}), each naming the
 * file, offset and size involved. Stateless beyond what it is built with; thread-safe.
 */
final class LocalWriteFailures {

  /** Below this many usable bytes a file store counts as full: less than one block of any download. */
  static final long FULL_BYTES = 1 << 20;

  private final ModelSource source;
  private final LongSupplier usableBytes;
  private final long bytesTotal;
  private final LongSupplier bytesLeft;

  /**
   * @param source the model being downloaded
   * @param usableBytes the usable bytes on the cache's file store now
   * @param bytesTotal the model's size
   * @param bytesLeft the bytes of the model not yet on disk
   */
  LocalWriteFailures(
      ModelSource source, LongSupplier usableBytes, long bytesTotal, LongSupplier bytesLeft) {
    this.source = source;
    this.usableBytes = usableBytes;
    this.bytesTotal = bytesTotal;
    this.bytesLeft = bytesLeft;
  }

  /** Usable bytes on the cache's file store now. */
  long usableBytes() {
    return usableBytes.getAsLong();
  }

  /** A failed write of {@code bytes} to {@code file} at {@code offset} (-1: not known). */
  IOException writeFailure(Path file, long offset, long bytes, IOException cause) {
    if (cause instanceof ClosedChannelException || Thread.currentThread().isInterrupted()) {
      // An interrupt (the cache closing) closes a FileChannel under every thread using it; that
      // stops the download but says nothing about the disk, so the staging stays for a resume.
      InterruptedIOException stopped = new InterruptedIOException("download of " + source
          + " stopped while writing " + file + " (the cache was closed or the thread interrupted)");
      stopped.initCause(cause);
      return stopped;
    }
    long usable = usableBytes.getAsLong();
    String what = String.format(
        Locale.ROOT,
        "writing %d bytes to %s at offset %d failed: %s",
        bytes,
        file,
        offset,
        cause.getMessage() == null ? cause.toString() : cause.getMessage());
    if (isFull(usable, bytes)) {
      long left = bytesLeft.getAsLong();
      return new InsufficientSpaceException(
          "the disk filled during the download of " + source + ": " + what + "; " + left
              + " bytes still needed, " + usable + " available",
          left,
          usable,
          cause);
    }
    return new CacheWriteException("download of " + source + " failed: " + what, cause);
  }

  /** A failed local operation other than a data write; {@code what} names it ("creating staging directory X"). */
  IOException localWriteFailure(String what, IOException cause) {
    if (cause instanceof InsufficientSpaceException || cause instanceof CacheWriteException) {
      return cause;
    }
    long usable = usableBytes.getAsLong();
    if (isFull(usable, 0)) {
      return new InsufficientSpaceException(
          what + " failed, the disk is full (" + usable + " bytes usable): " + cause.getMessage(),
          bytesTotal,
          usable,
          cause);
    }
    return new CacheWriteException(what + " failed: " + cause, cause);
  }

  /**
   * Whether a failed local write is the file store running out of room: judged from the store's
   * usable bytes after the failure (less than the write needed, or under {@link #FULL_BYTES}),
   * not from the exception's text, which the JDK takes from {@code strerror} in the process's
   * locale.
   */
  static boolean isFull(long usableBytes, long neededBytes) {
    return usableBytes < Math.max(neededBytes, FULL_BYTES);
  }
}
