package dev.modelcache.core;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes of one download that are on disk and reports them to its listeners: at most
 * every {@value #PROGRESS_INTERVAL_MILLIS} ms while blocks arrive, and once at the end.
 *
 * <p>Thread-safe: transfer threads add bytes at once; the download thread records the bytes
 * resumed (once, before the fetch) and sends the last report.
 */
final class DownloadMeter {

  private static final long PROGRESS_INTERVAL_MILLIS = 50;
  private static final long PROGRESS_INTERVAL_NANOS =
      TimeUnit.MILLISECONDS.toNanos(PROGRESS_INTERVAL_MILLIS);

  private final ListenerFanout fanout;
  private final long bytesTotal;
  private final long startNanos;
  private final AtomicLong bytesDone = new AtomicLong();
  private final AtomicLong lastProgressNanos = new AtomicLong();
  private volatile long bytesResumed;

  /** Starts the clock of the download's rate now. */
  DownloadMeter(ListenerFanout fanout, long bytesTotal) {
    this.fanout = fanout;
    this.bytesTotal = bytesTotal;
    this.startNanos = System.nanoTime();
  }

  long bytesTotal() {
    return bytesTotal;
  }

  /** Bytes of the model not yet on disk. */
  long bytesLeft() {
    return bytesTotal - bytesDone.get();
  }

  long bytesResumed() {
    return bytesResumed;
  }

  /** Nanoseconds since the download started. */
  long elapsedNanos() {
    return System.nanoTime() - startNanos;
  }

  /** Counts {@code bytes} taken over from an interrupted download, before the fetch starts. */
  void resumed(long bytes) {
    bytesResumed = bytes;
    bytesDone.set(bytes);
  }

  /** Counts {@code bytes} more on disk; reports progress unless it was reported within the interval. */
  void added(long bytes) {
    long now = bytesDone.addAndGet(bytes);
    long t = System.nanoTime();
    long last = lastProgressNanos.get();
    if (t - last >= PROGRESS_INTERVAL_NANOS && lastProgressNanos.compareAndSet(last, t)) {
      fanout.progress(now, bytesTotal, rate());
    }
  }

  /** Uncounts a file's {@code bytes} that are to be fetched again. */
  void removed(long bytes) {
    bytesDone.addAndGet(-bytes);
  }

  /** Reports that every byte is on disk. */
  void finished() {
    fanout.progress(bytesTotal, bytesTotal, rate());
  }

  private long rate() {
    long nanos = Math.max(1, System.nanoTime() - startNanos);
    return (long) ((bytesDone.get() - bytesResumed) * 1e9 / nanos);
  }
}
