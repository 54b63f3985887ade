package dev.modelcache.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The tail threads of one download: they read back, verify and fsync written blocks and files
 * while later ranges are still fetched. Two threads, so that one can checksum while the other
 * waits for the disk in fsync; they are the download's own, not the cache's.
 *
 * <p>A task that fails records the download's {@link DownloadFailure}, which stops the fetch of
 * the other files at once; a task queued after a failure does nothing.
 *
 * <p>Thread-safe: any thread of the download submits; the download thread awaits and stops.
 */
final class TailPool {

  private static final System.Logger LOG = System.getLogger(TailPool.class.getName());
  private static final int THREADS = 2;

  /** One piece of tail work. */
  interface Step {
    void run() throws IOException;
  }

  private final ModelSource source;
  private final DownloadFailure failure;
  private final ExecutorService pool;
  private final Queue<Future<?>> submitted = new ConcurrentLinkedQueue<>();

  TailPool(ModelSource source, DownloadFailure failure) {
    this.source = source;
    this.failure = failure;
    String name = source.cacheName();
    this.pool = Executors.newFixedThreadPool(THREADS, r -> {
      Thread t = new Thread(r, "modelcache-verify-" + name);
      t.setDaemon(true);
      return t;
    });
  }

  /** Queues {@code step}; once the pool is stopping, records the download as stopped instead. */
  void submit(Step step) {
    try {
      submitted.add(pool.submit(() -> {
        if (!failure.isSet()) {
          try {
            step.run();
          } catch (IOException e) {
            failure.record(e);
            throw e;
          } catch (RuntimeException e) {
            failure.recordUnexpected(e);
            throw e;
          }
        }
        return null;
      }));
    } catch (RejectedExecutionException e) {
      failure.recordStopped("");
    }
  }

  /** Waits for every step submitted so far; throws the download's first failure. */
  void awaitAll() throws IOException {
    failure.awaitAll(new ArrayList<>(submitted), this::cancelQueued);
  }

  /**
   * Drops work not yet started, cancelling its futures so that nobody waits on them, and
   * interrupts what runs: the download is stopping.
   */
  void cancelQueued() {
    for (Runnable queued : pool.shutdownNow()) {
      if (queued instanceof Future<?> f) {
        f.cancel(false);
      }
    }
  }

  /** Stops the threads and waits for them, so nothing reads the staging files after this returns. */
  void stop() {
    cancelQueued();
    boolean interrupted = false;
    while (true) {
      try {
        if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
        LOG.log(Level.WARNING, "verification of " + source + " is slow to stop");
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
