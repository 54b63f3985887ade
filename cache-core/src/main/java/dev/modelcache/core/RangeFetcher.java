package dev.modelcache.core;

import dev.modelcache.core.spi.RangeStream;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads ranges of one download's objects from the storage backend, with its retry policy: a
 * failure the backend calls retryable (and a short read) is retried after a full-jitter
 * exponential backoff ({@link DownloadSettings#backoffMillis}) up to {@link
 * DownloadSettings#maxAttempts} attempts; any other failure, or an interrupt, fails at once.
 * Counts every byte read, retries included, for the download's summary and the cache's stats.
 *
 * <p>Thread-safe: the transfer threads open runs at once; each {@link Run} is one thread's.
 */
final class RangeFetcher {

  private final ModelSource source;
  private final StorageBackend backend;
  private final DownloadHost cache;
  private final int maxAttempts;
  private final DownloadFailure failure;
  private final AtomicLong bytesFetched = new AtomicLong();

  RangeFetcher(
      ModelSource source, StorageBackend backend, DownloadHost cache, DownloadFailure failure) {
    this.source = source;
    this.backend = backend;
    this.cache = cache;
    this.maxAttempts = cache.settings().maxAttempts();
    this.failure = failure;
  }

  /**
   * Opens a run: {@code lengthBytes} of {@code object} from {@code offsetBytes}, read with one
   * request where the backend can ({@link StorageBackend#openRange}) and taken piece by piece with
   * {@link Run#next}. The request is sent on the first {@code next}.
   */
  Run run(RemoteObject object, long offsetBytes, long lengthBytes) {
    return new Run(object, offsetBytes, offsetBytes + lengthBytes);
  }

  /**
   * A run of consecutive pieces of one object, each read into the caller's buffer as it is asked
   * for. A failed piece is retried, with the fetcher's policy, by a new request from that piece
   * to the end of the run: the pieces before it are the caller's already.
   *
   * <p>Not thread-safe: one transfer thread takes a run's pieces and closes it.
   */
  final class Run implements AutoCloseable {

    private final RemoteObject object;
    private final long end;
    private long next;
    private RangeStream stream;

    private Run(RemoteObject object, long offsetBytes, long endBytes) {
      this.object = object;
      this.next = offsetBytes;
      this.end = endBytes;
    }

    /**
     * Fills {@code buf} from its position to its limit with the run's next bytes. Returns false,
     * with {@code buf} in no defined state, when an attempt failed and the download failed
     * meanwhile (another range's failure): retrying would be wasted.
     *
     * @throws StorageException when the piece failed for good: not retryable, or the attempts spent
     * @throws InterruptedIOException when the thread was interrupted
     */
    boolean next(ByteBuffer buf) throws IOException {
      int start = buf.position();
      int len = buf.remaining();
      if (len > end - next) {
        throw new IllegalArgumentException(len + " bytes asked for, " + (end - next) + " left");
      }
      for (int attempt = 1; ; attempt++) {
        buf.position(start);
        try {
          if (stream == null) {
            stream = backend.openRange(object, next, end - next);
          }
          stream.read(buf);
          if (buf.hasRemaining()) {
            throw new StorageException(
                String.format(
                    Locale.ROOT,
                    "short read of %s at offset %d: %d of %d bytes",
                    object.key(),
                    next,
                    buf.position() - start,
                    len),
                true);
          }
          count(len);
          next += len;
          return true;
        } catch (IOException e) {
          count(buf.position() - start);
          abandon();
          if (!retry(e, attempt, object, next, len)) {
            return false;
          }
        }
      }
    }

    /** Ends the run: its request is released, abandoned if not read to the end. */
    @Override
    public void close() {
      abandon();
    }

    private void abandon() {
      RangeStream s = stream;
      stream = null;
      if (s != null) {
        try {
          s.close();
        } catch (IOException | RuntimeException ignored) {
          // Nothing more is read from it; the backend releases what it can.
        }
      }
    }
  }

  /**
   * After attempt {@code attempt} at {@code len} bytes of {@code object} at {@code offset} failed
   * with {@code e}: throws if it must not or cannot be retried, returns false if the download
   * failed meanwhile, else sleeps the backoff and returns true.
   */
  private boolean retry(IOException e, int attempt, RemoteObject object, long offset, int len)
      throws IOException {
    if (e instanceof StorageException se && !se.retryable()) {
      throw se;
    }
    if (e instanceof InterruptedIOException) {
      throw e;
    }
    if (attempt >= maxAttempts) {
      throw new StorageException(
          String.format(
              Locale.ROOT,
              "reading %s of %s, %d bytes at offset %d, failed %d times; last error: %s",
              object.key(),
              source,
              len,
              offset,
              attempt,
              e.getMessage()),
          true,
          e);
    }
    if (failure.isSet()) {
      return false;
    }
    sleep(cache.settings().backoffMillis(attempt));
    return true;
  }

  /** Bytes read from the source so far, retries included. */
  long bytesFetched() {
    return bytesFetched.get();
  }

  private void count(long bytes) {
    bytesFetched.addAndGet(bytes);
    cache.countFetched(bytes);
  }

  /** Full-jitter exponential backoff: a random delay in [0, min(max, initial * 2^(attempt-1))]. */
  static long backoffMillis(int attempt, Duration initial, Duration max) {
    long cap = initial.toMillis() << Math.min(attempt - 1, 20);
    cap = Math.min(Math.max(cap, 1), max.toMillis());
    return ThreadLocalRandom.current().nextLong(cap + 1);
  }

  private static void sleep(long millis) throws InterruptedIOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while backing off before a retry");
    }
  }
}
