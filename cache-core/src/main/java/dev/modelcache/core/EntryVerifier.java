package dev.modelcache.core;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Re-reads a committed entry's files and compares them with its manifest, files in parallel on the
 * cache's transfer threads with its transfer buffers ({@link FileVerifier} checks each file).
 *
 * <p>Thread-safe: it keeps no state between calls; the pool and buffers are shared with downloads
 * and safe for concurrent use.
 */
final class EntryVerifier {

  private final ExecutorService pool;
  private final BufferPool buffers;

  EntryVerifier(ExecutorService pool, BufferPool buffers) {
    this.pool = pool;
    this.buffers = buffers;
  }

  /**
   * Checks every file of the entry.
   *
   * @throws InterruptedIOException if the calling thread was interrupted or the cache was closed
   */
  VerificationResult verify(CacheEntry entry) throws IOException {
    List<Future<VerificationResult.Mismatch>> futures = new ArrayList<>();
    AtomicLong checked = new AtomicLong();
    for (ManifestFile f : entry.manifest().files()) {
      Path p = entry.directory().resolve(f.path());
      try {
        futures.add(pool.submit(() -> {
          if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return new VerificationResult.Mismatch(f.path(), 0, "missing or not a regular file");
          }
          ByteBuffer buf = buffers.take();
          try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            checked.addAndGet(Math.min(ch.size(), f.sizeBytes()));
            return FileVerifier.check(ch, f, entry.manifest().blockSizeBytes(), buf);
          } finally {
            buffers.give(buf);
          }
        }));
      } catch (RejectedExecutionException e) {
        throw new InterruptedIOException(
            "verification of " + entry.source() + " stopped: the cache was closed");
      }
    }
    List<VerificationResult.Mismatch> mismatches = new ArrayList<>();
    for (Future<VerificationResult.Mismatch> f : futures) {
      try {
        VerificationResult.Mismatch m = f.get();
        if (m != null) {
          mismatches.add(m);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        futures.forEach(x -> x.cancel(true));
        throw new InterruptedIOException("interrupted while verifying " + entry.source());
      } catch (CancellationException e) {
        throw new InterruptedIOException(
            "verification of " + entry.source() + " stopped: the cache was closed");
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw new IOException("verifying " + entry.source() + " failed", e.getCause());
      }
    }
    return new VerificationResult(entry.source(), checked.get(), mismatches);
  }
}
