package dev.modelcache.core;

import dev.modelcache.core.internal.FileBackend;
import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.StorageBackend;
import dev.modelcache.core.spi.StorageBackendProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Test backend for {@code countingfile:///dir/}: the file backend, plus a line appended to the file
 * named by system property {@code modelcache.test.countFile} for every range read ("pid bytes", or
 * "TAG bytes" with {@code modelcache.test.tag}, since processes in PID namespaces share pid 1),
 * and an optional delay per read ({@code modelcache.test.readDelayMs}) so that other processes can
 * observe or kill a download midway. Registered through META-INF/services in the test resources.
 */
public final class CountingFileBackend implements StorageBackend {

  /** Its provider. */
  public static final class Provider implements StorageBackendProvider {
    @Override
    public String scheme() {
      return "countingfile";
    }

    @Override
    public StorageBackend create(BackendOptions options) {
      return new CountingFileBackend();
    }
  }

  private final FileBackend delegate = new FileBackend("countingfile");
  private final Path countFile = System.getProperty("modelcache.test.countFile") == null
      ? null
      : Path.of(System.getProperty("modelcache.test.countFile"));
  private final long delayMillis = Long.getLong("modelcache.test.readDelayMs", 0);
  private final Path fillOnFirstRead = System.getProperty("modelcache.test.fillOnFirstRead") == null
      ? null
      : Path.of(System.getProperty("modelcache.test.fillOnFirstRead"));
  private final java.util.concurrent.atomic.AtomicBoolean filled =
      new java.util.concurrent.atomic.AtomicBoolean();

  @Override
  public String scheme() {
    return "countingfile";
  }

  @Override
  public List<RemoteObject> list(URI source) throws IOException {
    return delegate.list(source);
  }

  @Override
  public void read(RemoteObject object, long offsetBytes, ByteBuffer dst) throws IOException {
    if (delayMillis > 0) {
      try {
        Thread.sleep(delayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException();
      }
    }
    if (fillOnFirstRead != null && filled.compareAndSet(false, true)) {
      fill(fillOnFirstRead);
    }
    int before = dst.position();
    try {
      delegate.read(object, offsetBytes, dst);
    } finally {
      if (countFile != null) {
        String reader = System.getProperty(
            "modelcache.test.tag", Long.toString(ProcessHandle.current().pid()));
        Files.writeString(
            countFile,
            reader + " " + (dst.position() - before) + "\n",
            StandardCharsets.US_ASCII,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND,
            StandardOpenOption.WRITE);
      }
    }
  }

  @Override
  public void close() {}

  /** Writes zeros to {@code file} until its filesystem is full: another tenant filling the disk. */
  static long fill(Path file) {
    long written = 0;
    ByteBuffer zeros = ByteBuffer.allocate(64 << 10);
    try (var ch = java.nio.channels.FileChannel.open(
        file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      while (true) {
        zeros.clear();
        written += ch.write(zeros);
      }
    } catch (IOException expected) {
      return written; // ENOSPC: the disk is full now
    }
  }

  /** Bytes recorded in a count file by each reader (pid or tag). */
  static java.util.Map<String, Long> countedBytesByReader(Path countFile) throws IOException {
    java.util.Map<String, Long> byReader = new java.util.TreeMap<>();
    if (Files.exists(countFile)) {
      for (String line : Files.readAllLines(countFile, StandardCharsets.US_ASCII)) {
        String[] parts = line.trim().split(" ");
        if (parts.length == 2) {
          byReader.merge(parts[0], Long.parseLong(parts[1]), Long::sum);
        }
      }
    }
    return byReader;
  }

  /** Sum of the bytes recorded in a count file. */
  static long countedBytes(Path countFile) throws IOException {
    if (!Files.exists(countFile)) {
      return 0;
    }
    long total = 0;
    for (String line : Files.readAllLines(countFile, StandardCharsets.US_ASCII)) {
      String[] parts = line.trim().split(" ");
      if (parts.length == 2) {
        total += Long.parseLong(parts[1]);
      }
    }
    return total;
  }
}
