package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache on a small tmpfs, for what the kernel does when a disk fills: a model that cannot fit,
 * a disk that another tenant fills mid-download (sparse and preallocated). What the cache decides
 * about space it can see is tested on a disk of exact size in {@link DiskFaultsTest}.
 */
class DiskFullTest {

  @TempDir
  Path tmp;

  @Test
  void aModelLargerThanTheDiskFailsAtOnceWithBytesNeededAndAvailable() throws Exception {
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("fs"), "size=8m")) {
      Path root = Files.createDirectories(fs.dir.resolve("cache"));
      ModelFixture m = ModelFixture.create(tmp.resolve("m"), 1, 6 << 20, 6 << 20);
      TestBackend backend = new TestBackend();
      try (ModelCache cache = ModelCache.builder().root(root).backend(backend).build()) {
        assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
            .isInstanceOfSatisfying(InsufficientSpaceException.class, e -> {
              assertThat(e.bytesNeeded()).isEqualTo(12 << 20);
              assertThat(e.bytesAvailable()).isLessThanOrEqualTo(8 << 20).isPositive();
            });
        assertThat(backend.reads.get()).as("nothing was downloaded").isZero();
        assertThat(cache.list().entries()).isEmpty();
        assertThat(cache.list().downloads()).isEmpty();
      }
    }
  }

  @Test
  void aDiskThatFillsDuringASparseDownloadFailsCleanly() throws Exception {
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("fs"), "size=16m")) {
      Path root = Files.createDirectories(fs.dir.resolve("cache"));
      Path filler = fs.dir.resolve("filler");
      ModelFixture m = ModelFixture.create(tmp.resolve("m"), 2, 5 << 20, 5 << 20);
      // A JVM without native access extends staging files sparsely, so the disk can fill under it.
      try (ChildJvm child = ChildJvm.start(
          tmp.resolve("child.log"),
          Map.of("modelcache.test.fillOnFirstRead", filler.toString()),
          false,
          "ensure",
          root.toString(),
          m.uri("countingfile").toString(),
          Integer.toString(1 << 20),
          "2")) {
        assertThat(child.waitFor(Duration.ofSeconds(60))).isEqualTo(3);
        assertThat(child.output())
            .contains("ERROR InsufficientSpaceException")
            .contains("the disk filled during the download")
            .contains("No space left on device");
      }
      try (ModelCache cache = ModelCache.builder().root(root).build()) {
        ModelSource source = m.source("countingfile");
        assertThat(cache.getIfPresent(source)).isEmpty();
        assertThat(cache.list().downloads())
            .as("the partial copy was removed to give the space back")
            .isEmpty();
        Files.delete(filler);
        CacheEntry e = cache.ensure(source, DownloadListener.NONE);
        assertThat(m.matches(e.directory())).isTrue();
      }
    }
  }

  @Test
  void preallocatedStagingFilesKeepTheirSpaceWhenTheDiskFills() throws Exception {
    Assumptions.assumeTrue(
        Preallocator.reservesBlocks(), "needs --enable-native-access for posix_fallocate");
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("fs"), "size=16m")) {
      Path root = Files.createDirectories(fs.dir.resolve("cache"));
      Path filler = fs.dir.resolve("filler");
      ModelFixture m = ModelFixture.create(tmp.resolve("m"), 3, 5 << 20, 5 << 20);
      TestBackend backend = new TestBackend();
      java.util.concurrent.atomic.AtomicBoolean filled =
          new java.util.concurrent.atomic.AtomicBoolean();
      backend.hook = (o, off, attempt) -> {
        if (filled.compareAndSet(false, true)) {
          CountingFileBackend.fill(filler);
        }
      };
      try (ModelCache cache = ModelCache.builder()
          .root(root)
          .backend(backend)
          .partSizeBytes(1 << 20)
          .build()) {
        CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
        assertThat(m.matches(e.directory())).isTrue();
        assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
        assertThat(Files.size(filler)).as("the filler got only what was left").isLessThan(7 << 20);
      }
    }
  }
}
