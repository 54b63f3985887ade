package dev.modelcache.core;

import com.google.common.util.concurrent.Striped;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;

/**
 * Advisory locks on files under {@code locks/}, exclusive between processes (by the OS) and
 * between threads of this JVM (the OS lock is per process, so this class adds the in-JVM part).
 *
 * <p>These locks only avoid duplicate work and narrow races; no correctness property of the cache
 * depends on them, because some network filesystems grant every process the same lock.
 */
final class FileLocks {

  /** Lock files held by this JVM, so that a second thread sees "busy" rather than an exception. */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  /** Short critical sections (lease vs evict) serialize in-JVM on these first. */
  private static final Striped<Lock> GATES = Striped.lock(64);

  private FileLocks() {}

  /** A held lock. Closing releases it; idempotent. */
  static final class Held implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final Lock jvmLock;
    private boolean released;

    private Held(Path file, FileChannel channel, Lock jvmLock) {
      this.file = file;
      this.channel = channel;
      this.jvmLock = jvmLock;
    }

    @Override
    public synchronized void close() {
      if (released) {
        return;
      }
      released = true;
      try {
        channel.close(); // releases the OS lock
      } catch (IOException ignored) {
        // closing a lock file's channel only fails if the descriptor is already gone
      } finally {
        if (jvmLock != null) {
          jvmLock.unlock();
        } else {
          HELD.remove(file);
        }
      }
    }
  }

  /**
   * Tries to take the lock without waiting and, on success, writes this process's identity into
   * the file, for people ({@code modelcache ls}); whether the holder lives is decided by
   * {@link HolderFiles#lockHolderAlive}, never by what the file says.
   */
  static Optional<Held> tryLock(Path file) throws IOException {
    Path key = file.toAbsolutePath().normalize();
    if (!HELD.add(key)) {
      return Optional.empty();
    }
    FileChannel channel = null;
    try {
      SharedAccess.sharedFile(key);
      channel = FileChannel.open(key, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      boolean unlockable = false;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      } catch (IOException e) {
        // A file system that does not lock (ENOLCK, ENOSYS): go on as holder; the lock only ever
        // avoided duplicate work.
        logUnlockable(key, e);
        lock = null;
        unlockable = true;
      }
      if (lock == null && !unlockable) {
        channel.close();
        HELD.remove(key);
        return Optional.empty();
      }
      channel.truncate(0);
      channel.write(
          ByteBuffer.wrap(Holder.current().toLine().getBytes(StandardCharsets.US_ASCII)), 0);
      Held held = new Held(key, channel, null);
      channel = null;
      return Optional.of(held);
    } finally {
      if (channel != null) {
        channel.close();
        HELD.remove(key);
      }
    }
  }

  private static final java.util.concurrent.atomic.AtomicBoolean UNLOCKABLE_LOGGED =
      new java.util.concurrent.atomic.AtomicBoolean();

  private static void logUnlockable(Path file, IOException e) {
    if (UNLOCKABLE_LOGGED.compareAndSet(false, true)) {
      System.getLogger(FileLocks.class.getName())
          .log(
              System.Logger.Level.INFO,
              "file locks do not work on " + file + " (" + e
                  + "); processes may duplicate downloads there, which is safe");
    }
  }

  /** Takes a short-lived lock, waiting for it. */
  static Held lock(Path file) throws IOException {
    Path key = file.toAbsolutePath().normalize();
    Lock jvmLock = GATES.get(key);
    jvmLock.lock();
    FileChannel channel = null;
    boolean success = false;
    try {
      SharedAccess.sharedFile(key);
      channel = FileChannel.open(key, StandardOpenOption.WRITE);
      try {
        channel.lock();
      } catch (IOException e) {
        logUnlockable(key, e); // the in-JVM part still holds; across processes the recheck decides
      }
      success = true;
      return new Held(key, channel, jvmLock);
    } finally {
      if (!success) {
        if (channel != null) {
          channel.close();
        }
        jvmLock.unlock();
      }
    }
  }
}
