package dev.modelcache.core.spi;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One open read of a byte range of an object, taken piece by piece in order: see {@link
 * StorageBackend#openRange}. The engine reads a run of consecutive blocks through one, each block
 * into a transfer buffer, so that a run costs one request while memory stays one buffer per
 * transfer.
 *
 * <p>Not thread-safe: one thread reads and closes it.
 */
public interface RangeStream extends Closeable {

  /**
   * Fills {@code dst} from its position to its limit with the range's next bytes, advancing its
   * position to its limit. A failure leaves the stream unusable (close it and open another from
   * the first byte not received) and {@code dst}'s position where it was.
   *
   * @throws IllegalArgumentException if {@code dst} asks for more than is left of the range
   * @throws IOException as {@link StorageBackend#read} does; a body that ends early is a retryable
   *     {@link dev.modelcache.core.StorageException}
   */
  void read(ByteBuffer dst) throws IOException;

  /**
   * Releases the request. A range not read to its end is abandoned (its connection closed), never
   * drained. Idempotent.
   */
  @Override
  void close() throws IOException;
}
