package dev.modelcache.benchmarks.s3;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.s3.S3StorageBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/** Our download for the S3 benchmark: {@code ModelCache.ensure} into a fresh cache root. */
final class S3CacheDownload {

  private S3CacheDownload() {}

  /** How the cache transfers: block and buffer size, bytes per request, requests in flight. */
  record Transfer(int partBytes, long requestBytes, int concurrency) {}

  /**
   * Downloads {@code source} twice in this JVM, into {@code root/warm-up} (untimed, then evicted)
   * and {@code root/timed}; prints {@code STEADY seconds cpu-seconds} for the second download: its
   * wall time and the whole process's CPU time over it. Returns the entry's size in bytes.
   */
  static long runWarm(URI endpoint, URI source, Path root, Transfer transfer) throws IOException {
    Path warmUp = root.resolve("warm-up");
    run(endpoint, source, warmUp, transfer, true);
    try (ModelCache cache = ModelCache.builder().root(warmUp).build()) {
      cache.evict(ModelSource.of(source)); // so the timed download has the disk the first one had
    }
    var os = (com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    long bytes = run(endpoint, source, root.resolve("timed"), transfer, true);
    long t1 = System.nanoTime();
    long cpu1 = os.getProcessCpuTime();
    System.out.printf(Locale.ROOT, "STEADY %.3f %.3f%n", (t1 - t0) / 1e9, (cpu1 - cpu0) / 1e9);
    return bytes;
  }

  /** Downloads {@code source} into a cache at {@code root}; returns the entry's size in bytes. */
  static long run(URI endpoint, URI source, Path root, Transfer transfer, boolean directWrites)
      throws IOException {
    try (S3StorageBackend backend = S3Download.newBackend(endpoint, transfer.concurrency());
        ModelCache cache = ModelCache.builder()
            .root(root)
            .createRootIfMissing()
            .backend(backend)
            .partSizeBytes(transfer.partBytes())
            .requestSizeBytes(transfer.requestBytes())
            .concurrency(transfer.concurrency())
            .directWrites(directWrites)
            .build()) {
      long t0 = System.nanoTime();
      var lastByte = new AtomicLong();
      CacheEntry entry = cache.ensure(ModelSource.of(source), new DownloadListener() {
        @Override
        public void progress(ProgressEvent event) {
          if (event.bytesDone() == event.bytesTotal()) {
            lastByte.compareAndSet(0, System.nanoTime());
          }
        }
      });
      long t1 = System.nanoTime();
      if (lastByte.get() != 0) {
        // Where the time went: transfer (list, HEADs, ranges) versus verify + fsync + commit.
        System.out.printf(
            Locale.ROOT,
            "PHASES transfer=%.2fs verify+fsync+commit=%.2fs%n",
            (lastByte.get() - t0) / 1e9,
            (t1 - lastByte.get()) / 1e9);
      }
      return entry.sizeBytes();
    }
  }
}
