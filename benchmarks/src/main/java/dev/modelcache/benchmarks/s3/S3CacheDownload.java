package dev.modelcache.benchmarks.s3;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.s3.S3StorageBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/** Our download for the S3 benchmark: {@code ModelCache.ensure} into a fresh cache root. */
final class S3CacheDownload {

  private S3CacheDownload() {}

  /** Downloads {@code source} into a cache at {@code root}; returns the entry's size in bytes. */
  static long run(URI endpoint, URI source, Path root, int partBytes, int concurrency)
      throws IOException {
    try (S3StorageBackend backend = S3Download.newBackend(endpoint, concurrency);
        ModelCache cache =
            ModelCache.builder()
                .root(root)
                .createRootIfMissing()
                .backend(backend)
                .partSizeBytes(partBytes)
                .concurrency(concurrency)
                .build()) {
      CacheEntry entry = cache.ensure(ModelSource.of(source), new DownloadListener() {});
      return entry.sizeBytes();
    }
  }
}
