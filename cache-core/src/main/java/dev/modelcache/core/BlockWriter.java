package dev.modelcache.core;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes one download's blocks into their staging files and flushes the files to disk. Whole,
 * aligned blocks go with O_DIRECT when the cache allows it and the file system does, the rest
 * through the page cache; the first refusal of the file system turns direct writes off for the
 * rest of the download.
 *
 * <p>Channels are not kept open across blocks: a model may have more files than the process may
 * hold open, and an interrupt then closes only the interrupted operation's channel.
 *
 * <p>Thread-safe: the transfer threads write at once, one writer per file at a time (each file's
 * {@link StagedFile#writeLock}); tail threads {@link #sync}.
 */
final class BlockWriter {

  private static final System.Logger LOG = System.getLogger(BlockWriter.class.getName());

  private final ModelSource source;
  private final DirectIo.Opener directOpener;
  private final LocalWriteFailures failures;
  /** Whether whole aligned blocks are written with O_DIRECT; off once the file system refuses. */
  private volatile boolean directWrites;

  private final AtomicLong bytesWrittenDirect = new AtomicLong();
  private final AtomicLong syncNanos = new AtomicLong();

  BlockWriter(ModelSource source, DownloadSettings settings, LocalWriteFailures failures) {
    this.source = source;
    this.directOpener = settings.directOpener();
    this.directWrites = settings.directWrites();
    this.failures = failures;
  }

  /**
   * Writes all of {@code buf} at {@code offset} of {@code file}: with O_DIRECT where it can (see
   * {@link #writeDirect}), else through the page cache.
   *
   * @throws InsufficientSpaceException when the disk is full
   * @throws CacheWriteException on another write error, naming file and offset
   * @throws InterruptedIOException when the download was stopped meanwhile
   */
  void write(StagedFile file, ByteBuffer buf, long offset) throws IOException {
    if (writeDirect(file, buf, offset)) {
      return;
    }
    try (FileChannel ch = FileChannel.open(file.target(), StandardOpenOption.WRITE)) {
      writeLocked(file, ch, buf, offset);
    } catch (IOException e) {
      throw failures.writeFailure(file.target(), offset + buf.position(), buf.remaining(), e);
    }
  }

  /** Whether whole aligned blocks are still written with O_DIRECT: false once the file system refused. */
  boolean writesDirect() {
    return directWrites;
  }

  /** Bytes written with O_DIRECT so far. */
  long bytesWrittenDirect() {
    return bytesWrittenDirect.get();
  }

  /** Time spent in fsync so far, in nanoseconds. */
  long syncNanos() {
    return syncNanos.get();
  }

  /** Flushes {@code file} to disk (fsync is per file, so it also flushes what other descriptors wrote). */
  void sync(StagedFile file) throws IOException {
    long t0 = System.nanoTime();
    try (FileChannel ch = FileChannel.open(file.target(), StandardOpenOption.WRITE)) {
      ch.force(true);
    } catch (ClosedChannelException e) {
      InterruptedIOException stopped =
          new InterruptedIOException("download of " + source + " stopped");
      stopped.initCause(e);
      throw stopped;
    } catch (IOException e) {
      throw failures.localWriteFailure("flushing " + file.target() + " to disk", e);
    }
    syncNanos.addAndGet(System.nanoTime() - t0);
  }

  /**
   * Writes a whole, aligned block with O_DIRECT: from the transfer buffer straight to the disk,
   * without the kernel's copy into the page cache (the largest single CPU cost of a download) and
   * without dirty pages for fsync to wait on. Returns false, leaving {@code buf} untouched, when
   * the block is not aligned (a file's last, partial block; a part size that is not a multiple of
   * 4 KiB), when direct writes are off, or when the file system refuses them (the open fails, or
   * a write fails before writing anything); a refusal turns them off for the rest of this
   * download, which then writes through the page cache. A write that fails part-way is the
   * write's failure (a full disk, an I/O error).
   */
  private boolean writeDirect(StagedFile file, ByteBuffer buf, long offset) throws IOException {
    if (!directWrites || !DirectIo.aligned(buf, offset)) {
      return false;
    }
    int len = buf.remaining();
    int start = buf.position();
    FileChannel ch;
    try {
      ch = directOpener.open(file.target());
    } catch (UnsupportedOperationException | IOException e) {
      refuseDirect(e);
      return false;
    }
    try (ch) {
      writeLocked(file, ch, buf, offset);
      bytesWrittenDirect.addAndGet(len);
      return true;
    } catch (IOException e) {
      if (buf.position() == start) {
        // Nothing was written: the file system may have opened the file for O_DIRECT and refused
        // the write itself (EINVAL), which the JDK reports without an errno. The caller writes the
        // same bytes through the page cache; if that fails too, its failure is the write's, and if
        // it succeeds, the read-back still checks the block on disk.
        buf.limit(start + len);
        refuseDirect(e);
        return false;
      }
      throw failures.writeFailure(
          file.target(), offset + buf.position() - start, buf.remaining(), e);
    }
  }

  /**
   * Writes all of {@code buf} at {@code offset} through {@code ch}, holding the file's write lock:
   * the kernel serializes writes to one file anyway, and threads waiting here park instead of
   * spinning on the inode lock for CPU the transfer needs.
   */
  private static void writeLocked(StagedFile file, FileChannel ch, ByteBuffer buf, long offset)
      throws IOException {
    int start = buf.position();
    ReentrantLock lock = file.writeLock();
    lock.lock();
    try {
      while (buf.hasRemaining()) {
        ch.write(buf, offset + buf.position() - start);
      }
    } finally {
      lock.unlock();
    }
  }

  private void refuseDirect(Exception e) {
    if (directWrites) {
      directWrites = false;
      LOG.log(
          Level.INFO,
          () -> "writing " + source + " through the page cache: the file system refused O_DIRECT ("
              + e.getMessage() + ")");
    }
  }
}
