package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API example of the README, verbatim between the markers, run against a file: source. */
class ReadmeExampleTest {

  @TempDir
  Path tmp;

  private Path loadedFrom;

  @Test
  void theReadmeExampleRuns() throws Exception {
    Path modelDir = tmp.resolve("models/tiny");
    ModelFixture fixture = ModelFixture.create(modelDir, 1, 300_000, 5_000, 70);
    Path cacheRoot = Files.createDirectories(tmp.resolve("cache"));

    readmeExample(cacheRoot, modelDir.toUri().toString());

    assertThat(fixture.matches(loadedFrom)).isTrue();
    try (ModelCache cache = ModelCache.builder().root(cacheRoot).build()) {
      assertThat(cache.getIfPresent(fixture.source()).orElseThrow().leaseCount())
          .isZero();
    }
  }

  private void loadWeights(Path dir) {
    loadedFrom = dir;
  }

  private void readmeExample(Path cacheRoot, String uri) throws IOException {
    // --- README example begins ---
    try (ModelCache cache = ModelCache.builder()
        .root(cacheRoot) // e.g. a hostPath shared by every pod on the node
        .maxBytes(200L << 30) // keep at most 200 GiB of models
        .minFreeBytes(1L << 30) // and always leave 1 GiB free on the disk
        .build()) {
      DownloadListener listener = new DownloadListener() {
        @Override
        public void progress(ProgressEvent p) {
          System.out.printf(
              "%d of %d bytes, %d MB/s%n",
              p.bytesDone(), p.bytesTotal(), p.bytesPerSecond() / 1_000_000);
        }
      };
      // uri: "s3://bucket/models/llama-3-70b/" with cache-s3, or "file:///mnt/models/llama-3-70b/"
      CacheEntry model = cache.ensure(ModelSource.parse(uri), listener);

      try (Lease lease = cache.lease(model)) { // no process evicts it while leased
        Path dir = lease.directory(); // complete, verified, read-only files
        loadWeights(dir);
      }
    }
    // --- README example ends ---
  }
}
