package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API example of the README, verbatim between the markers, run against a file: source. */
class ReadmeExampleTest {

  @TempDir Path tmp;

  @Test
  void theReadmeExampleRuns() throws Exception {
    Path modelDir = tmp.resolve("models/tiny");
    ModelFixture.create(modelDir, 1, 300_000, 5_000, 70);
    Path cacheRoot = Files.createDirectories(tmp.resolve("cache"));
    String uri = modelDir.toUri().toString();

    Path loadedFrom = readmeExample(cacheRoot, uri);

    assertThat(loadedFrom.resolve("shard-0.bin")).hasSize(300_000);
  }

  private static Path readmeExample(Path cacheRoot, String uri) throws Exception {
    // --- README example begins ---
    ModelCache cache = ModelCache.builder()
        .root(cacheRoot)                    // e.g. a hostPath shared by every pod on the node
        .maxBytes(200L << 30)               // keep at most 200 GiB of models
        .minFreeBytes(1L << 30)             // and always leave 1 GiB free on the disk
        .build();

    DownloadListener listener = new DownloadListener() {
      @Override
      public void progress(long bytesDone, long bytesTotal, long bytesPerSecond) {
        System.out.printf("%d of %d bytes, %d MB/s%n", bytesDone, bytesTotal, bytesPerSecond / 1_000_000);
      }
    };
    CacheEntry model = cache.ensure(ModelSource.parse(uri), listener);   // s3://bucket/models/llama/ alike

    try (Lease lease = cache.lease(model)) {        // no process evicts it while leased
      Path dir = lease.directory();                 // complete, verified, read-only files
      System.out.println("load from " + dir + ": " + model.manifest().files().size() + " files");
      // --- README example ends ---
      cache.close();
      return dir;
    }
  }
}
