package dev.modelcache.core;

import com.google.common.util.concurrent.Uninterruptibles;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The first failure of one download. Once one is recorded, every part stops starting new work
 * (fetches, writes, read-backs) and the download throws it; later failures are consequences and
 * are dropped.
 *
 * <p>Thread-safe: any thread of the download records and reads it.
 */
final class DownloadFailure {

  private final ModelSource source;
  private final AtomicReference<IOException> first = new AtomicReference<>();

  DownloadFailure(ModelSource source) {
    this.source = source;
  }

  /** Records {@code e} unless a failure was recorded before. */
  void record(IOException e) {
    first.compareAndSet(null, e);
  }

  /** Records an unexpected exception of a task (a bug) as the download's failure. */
  IOException recordUnexpected(RuntimeException e) {
    IOException io = new IOException("download of " + source + " failed unexpectedly", e);
    record(io);
    return io;
  }

  /** Records that the download was stopped: the cache closed, or a thread pool refused work. */
  void recordStopped(String why) {
    record(new InterruptedIOException("download of " + source + " stopped" + why));
  }

  boolean isSet() {
    return first.get() != null;
  }

  /** Throws the first failure, if there is one. */
  void throwIfSet() throws IOException {
    IOException e = first.get();
    if (e != null) {
      throw e;
    }
  }

  /**
   * Waits for every one of {@code futures}, recording their failures, then throws the first
   * failure of the download. An interrupt of the waiting thread is recorded as the failure, runs
   * {@code onInterrupt} once (to drop queued work), does not stop the wait (the tasks still use the
   * staging files) and is restored before this returns.
   */
  void awaitAll(List<Future<?>> futures, Runnable onInterrupt) throws IOException {
    boolean interrupted = false;
    for (Future<?> f : futures) {
      if (Thread.currentThread().isInterrupted() && !interrupted) {
        interrupted = true;
        record(new InterruptedIOException("download of " + source + " was interrupted"));
        onInterrupt.run();
      }
      try {
        Uninterruptibles.getUninterruptibly(f);
      } catch (CancellationException e) {
        recordStopped(": the cache was closed");
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof IOException io) {
          record(io);
        } else if (c instanceof RuntimeException re) {
          recordUnexpected(re);
        } else if (c instanceof Error err) {
          throw err;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    throwIfSet();
  }
}
