package dev.modelcache.s3;

import dev.modelcache.core.spi.RemoteObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A sequential view of one object: ranged reads of one chunk at a time through the backend, so
 * every byte is pinned to the listed ETag and checked like any other range.
 */
final class RangedObjectStream extends InputStream {
  private final S3StorageBackend backend;
  private final RemoteObject object;
  private final ByteBuffer chunk;
  private long nextOffsetBytes;
  private boolean closed;

  RangedObjectStream(S3StorageBackend backend, RemoteObject object, int chunkBytes) {
    this.backend = backend;
    this.object = object;
    this.chunk = ByteBuffer.allocate((int) Math.max(1, Math.min(chunkBytes, object.sizeBytes())));
    this.chunk.limit(0);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("stream over " + object.key() + " is closed");
    }
    if (len == 0) {
      return 0;
    }
    if (!chunk.hasRemaining() && !fill()) {
      return -1;
    }
    int n = Math.min(len, chunk.remaining());
    chunk.get(b, off, n);
    return n;
  }

  private boolean fill() throws IOException {
    long left = object.sizeBytes() - nextOffsetBytes;
    if (left <= 0) {
      return false;
    }
    chunk.clear().limit((int) Math.min(chunk.capacity(), left));
    backend.read(object, nextOffsetBytes, chunk);
    nextOffsetBytes += chunk.position();
    chunk.flip();
    return true;
  }

  @Override
  public int available() {
    return closed ? 0 : chunk.remaining();
  }

  @Override
  public void close() {
    closed = true;
  }
}
