package dev.modelcache.core;

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
 * <p>Thread-safe: the transfer threads call {@link #read} at once.
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
   * Fills {@code buf} from its position to its limit with the bytes of {@code object} at {@code
   * offset}. Returns false, with {@code buf} in no defined state, when an attempt failed and the
   * download failed meanwhile (another range's failure): retrying would be wasted.
   *
   * @throws StorageException when the read failed for good: not retryable, or the attempts spent
   * @throws InterruptedIOException when the thread was interrupted
   */
  boolean read(RemoteObject object, long offset, ByteBuffer buf) throws IOException {
    int start = buf.position();
    int len = buf.remaining();
    for (int attempt = 1; ; attempt++) {
      buf.position(start);
      try {
        backend.read(object, offset, buf);
        if (buf.hasRemaining()) {
          throw new StorageException(
              String.format(
                  Locale.ROOT,
                  "short read of %s at offset %d: %d of %d bytes",
                  object.key(),
                  offset,
                  buf.position() - start,
                  len),
              true);
        }
        count(len);
        return true;
      } catch (IOException e) {
        count(buf.position() - start);
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
      }
    }
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
