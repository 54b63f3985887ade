package dev.modelcache.core;

import dev.modelcache.core.internal.FileBackend;
import dev.modelcache.core.spi.RangeStream;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

/**
 * An in-process backend for {@code test:///dir/} sources: the file backend plus hooks that
 * rewrite listings and inject failures before reads, and counters of attempts, bytes and reads in
 * flight. Register it with {@link ModelCache.Builder#backend}.
 */
final class TestBackend implements StorageBackend {

  /** Called before each read attempt; may throw to fail it. {@code attempt} counts from 1 per range. */
  interface ReadHook {
    void beforeRead(RemoteObject object, long offsetBytes, int attempt) throws IOException;
  }

  private final FileBackend files = new FileBackend("test");
  volatile UnaryOperator<List<RemoteObject>> listing = UnaryOperator.identity();

  /**
   * Lists {@code path} with the source checksum {@code checksum} gives at each listing (no version
   * id), the other files as they are.
   */
  void claimChecksum(
      String path, java.util.function.Supplier<dev.modelcache.core.spi.SourceChecksum> checksum) {
    listing = list -> list.stream()
        .map(o -> o.relativePath().equals(path)
            ? new RemoteObject(
                o.key(), o.relativePath(), o.sizeBytes(), o.etag(), null, checksum.get())
            : o)
        .toList();
  }

  volatile ReadHook hook = (o, off, attempt) -> {};
  volatile long readDelayMillis;
  final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  final AtomicLong bytesRead = new AtomicLong();
  final AtomicInteger reads = new AtomicInteger();
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();
  volatile boolean closed;
  /** A range the engine opened with {@link #openRange}. */
  record Opened(String path, long offsetBytes, long lengthBytes) {}

  /** The ranges opened, in the order they were. */
  final List<Opened> opened = new CopyOnWriteArrayList<>();

  /** The threads {@link #list} ran on. */
  final List<Thread> listedOn = new CopyOnWriteArrayList<>();

  @Override
  public String scheme() {
    return "test";
  }

  @Override
  public List<RemoteObject> list(URI source) throws IOException {
    listedOn.add(Thread.currentThread());
    return listing.apply(files.list(source));
  }

  /** Records the range, then reads it piece by piece with {@link #read} (the interface's default). */
  @Override
  public RangeStream openRange(RemoteObject object, long offsetBytes, long lengthBytes)
      throws IOException {
    opened.add(new Opened(object.relativePath(), offsetBytes, lengthBytes));
    return StorageBackend.super.openRange(object, offsetBytes, lengthBytes);
  }

  @Override
  public void read(RemoteObject object, long offsetBytes, ByteBuffer dst) throws IOException {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try {
      int attempt = attempts
          .computeIfAbsent(object.key() + "@" + offsetBytes, k -> new AtomicInteger())
          .incrementAndGet();
      reads.incrementAndGet();
      hook.beforeRead(object, offsetBytes, attempt);
      if (readDelayMillis > 0) {
        Thread.sleep(readDelayMillis);
      }
      int before = dst.position();
      files.read(object, offsetBytes, dst);
      bytesRead.addAndGet(dst.position() - before);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException();
    } finally {
      inFlight.decrementAndGet();
    }
  }

  @Override
  public void close() {
    closed = true;
  }

  static ModelSource source(ModelFixture m) {
    return m.source("test");
  }
}
