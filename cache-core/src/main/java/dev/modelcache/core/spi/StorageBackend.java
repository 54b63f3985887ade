package dev.modelcache.core.spi;

import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A place models are downloaded from: an object store, a directory on a network mount.
 *
 * <p>A backend answers two questions: which objects live under a source prefix, and what are the
 * bytes of one range of one object. Everything else (splitting into ranges, concurrency, retries,
 * verification, committing) is done once, by the cache's download engine, for every backend.
 *
 * <h2>Thread safety</h2>
 * Implementations are thread-safe: the engine calls {@link #read} and {@link #openRange} from
 * many threads at once, for ranges of many objects.
 *
 * <h2>Errors</h2>
 * Failures are {@link IOException}s. A backend classifies what it knows:
 * {@link dev.modelcache.core.SourceNotFoundException} and
 * {@link dev.modelcache.core.SourceAccessDeniedException} are permanent,
 * {@link dev.modelcache.core.ObjectChangedException} means the object differs from its listing,
 * and {@link dev.modelcache.core.StorageException#retryable()} tells the engine whether trying the
 * same range again may help. Any other {@code IOException} thrown by {@code read} is treated as
 * transient (a reset connection, a short read) and retried with backoff up to the engine's limit.
 */
public interface StorageBackend extends Closeable {

  /** The URI scheme this backend serves, such as {@code "file"} or {@code "s3"}. */
  String scheme();

  /**
   * Lists every object under {@code source}, a prefix URI of this backend's scheme.
   *
   * <p>Each object's {@link RemoteObject#relativePath()} is validated with
   * {@link ObjectKeys#relativePath}, so that no listing can name a path outside the cache.
   *
   * @return the objects, sorted by relative path; never empty
   * @throws dev.modelcache.core.SourceNotFoundException if the source does not exist or holds no
   *     objects
   * @throws dev.modelcache.core.InvalidObjectKeyException if an object key cannot be a safe path
   * @throws IOException if the listing fails
   */
  List<RemoteObject> list(URI source) throws IOException;

  /**
   * Reads {@code dst.remaining()} bytes of {@code object}, starting at {@code offsetBytes}, into
   * {@code dst}, advancing its position to its limit. The memory is the caller's: a cache staging
   * buffer, a loader's buffer, anything.
   *
   * <p>The read is pinned to the object as it was listed: its ETag or version id where the store
   * offers one, its size otherwise. If the object was replaced, the read fails with
   * {@link dev.modelcache.core.ObjectChangedException} rather than returning bytes of another
   * version. A body shorter or longer than asked for is an error, never silently accepted.
   *
   * @param object an object returned by {@link #list} of this backend
   * @param offsetBytes the first byte to read, {@code 0 <= offsetBytes}
   * @param dst where the bytes go; {@code offsetBytes + dst.remaining() <= object.sizeBytes()}
   * @throws IOException if the range cannot be read; see the class documentation for retries
   */
  void read(RemoteObject object, long offsetBytes, ByteBuffer dst) throws IOException;

  /**
   * Opens a read of {@code lengthBytes} of {@code object} from {@code offsetBytes}, to be taken in
   * order with {@link RangeStream#read}: the engine reads a run of consecutive blocks this way.
   * A backend that can serves the whole range with one request (one GET), which costs far less
   * CPU, on both ends, than a request per block; the pinning and checks of {@link #read} apply to
   * it as a whole. The default reads each piece with {@link #read}.
   *
   * @param object an object returned by {@link #list} of this backend
   * @param offsetBytes the first byte, {@code 0 <= offsetBytes}
   * @param lengthBytes the bytes in the range, {@code offsetBytes + lengthBytes <= object.sizeBytes()}
   * @throws IllegalArgumentException if the range lies outside the listed object
   * @throws IOException if the read cannot be opened, as for {@link #read}
   */
  default RangeStream openRange(RemoteObject object, long offsetBytes, long lengthBytes)
      throws IOException {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes > object.sizeBytes() - lengthBytes) {
      throw new IllegalArgumentException("range of " + lengthBytes + " bytes at offset "
          + offsetBytes + " lies outside " + object.key() + " (" + object.sizeBytes() + " bytes)");
    }
    return new RangeStream() {
      private long next = offsetBytes;
      private final long end = offsetBytes + lengthBytes;

      @Override
      public void read(ByteBuffer dst) throws IOException {
        int n = dst.remaining();
        if (n > end - next) {
          throw new IllegalArgumentException(
              n + " bytes asked for, " + (end - next) + " left in the range");
        }
        StorageBackend.this.read(object, next, dst);
        next += n;
      }

      @Override
      public void close() {}
    };
  }

  /** Releases connections and threads. Idempotent. */
  @Override
  void close() throws IOException;
}
