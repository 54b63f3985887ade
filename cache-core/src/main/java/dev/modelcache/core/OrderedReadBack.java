package dev.modelcache.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.IntPredicate;

/**
 * The in-order read-back of one file whose source gave a whole-file checksum: its blocks are read
 * back, CRC32C-checked and fed to {@link #digest} as soon as they and every block before them are
 * written, by one tail thread at a time; the reader of the last block compares the digest with the
 * source's (see {@link ReadBack}).
 *
 * <p>Thread-safe. The position of the read-back and whether a reader holds it are guarded by
 * {@link #lock}; fetches that run too far ahead wait on its condition. The digest is fed only by
 * the thread that holds the read-back (between {@link #tryStart} returning true and {@link
 * #nextOrStop} returning -1), so it needs no lock of its own. Lock order: this lock before the
 * file's block lock ({@code written} predicates take it), never the other way round.
 */
final class OrderedReadBack {

  private final FileVerifier.SourceDigest digest;
  private final int blocks;
  private final ReentrantLock lock = new ReentrantLock();
  /** Signalled whenever {@link #next} grows or the reader stops. */
  private final Condition moved = lock.newCondition();

  /** The next block to read back. */
  @GuardedBy("lock")
  private int next;

  /** Whether a tail task holds the read-back. */
  @GuardedBy("lock")
  private boolean running;

  OrderedReadBack(FileVerifier.SourceDigest digest, int blocks) {
    this.digest = digest;
    this.blocks = blocks;
  }

  /** The whole-file digest; fed only by the thread that holds the read-back. */
  FileVerifier.SourceDigest digest() {
    return digest;
  }

  /**
   * Claims the read-back for the caller, who must then run it: true unless a reader holds it
   * already, every block was read back, or the next block is not {@code written} yet.
   */
  boolean tryStart(IntPredicate written) {
    lock.lock();
    try {
      if (running || next == blocks || !written.test(next)) {
        return false;
      }
      running = true;
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * For the holder: the next block to read back, or -1 when it is not written yet or every block
   * was read; with -1 the caller no longer holds the read-back. The check and the release happen
   * under the same lock that {@link #tryStart} takes after a block is marked written, so no written
   * block is left unread.
   */
  int nextOrStop(IntPredicate written) {
    lock.lock();
    try {
      if (next == blocks || !written.test(next)) {
        running = false;
        moved.signalAll(); // fetches held by awaitLag go on
        return -1;
      }
      return next;
    } finally {
      lock.unlock();
    }
  }

  /** For the holder: the block {@link #nextOrStop} returned is read back. */
  void advance() {
    lock.lock();
    try {
      next++;
      moved.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits while block {@code block} is more than {@code lag} blocks ahead of the read-back, a
   * reader holds it and {@code stopped} is false; {@code stopped} is polled every 100 ms.
   */
  void awaitLag(int block, int lag, BooleanSupplier stopped) throws InterruptedException {
    lock.lock();
    try {
      while (block - next > lag && running && !stopped.getAsBoolean()) {
        moved.await(100, TimeUnit.MILLISECONDS);
      }
    } finally {
      lock.unlock();
    }
  }

  /** How many blocks were read back. */
  int position() {
    lock.lock();
    try {
      return next;
    } finally {
      lock.unlock();
    }
  }
}
