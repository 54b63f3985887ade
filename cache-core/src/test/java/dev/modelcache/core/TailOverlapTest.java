package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file's verify and fsync run while later files are still fetched, and a block is read back as
 * soon as it is written; these tests prove that the overlap never lets an unverified file through:
 * bytes that reach the disk other than as received (a faulty disk, a misdirected write) fail the
 * whole download, name the file and offset, and leave neither an entry nor a staging directory
 * behind.
 */
class TailOverlapTest {

  private static final int BLOCK = 64 << 10;
  private static final int FILE = 16 * BLOCK;

  @TempDir
  Path tmp;

  private ModelCache open(TestBackend backend) throws IOException {
    return open(backend, DirectIo.KERNEL);
  }

  private ModelCache open(TestBackend backend, DirectIo.Opener disk) throws IOException {
    // One range at a time: ranges run in listing order, so a file's blocks are all written before
    // the next file's first read, and the hook below can act between write and verification.
    return ModelCache.builder()
        .root(Files.createDirectories(tmp.resolve("cache")))
        .backend(backend)
        .partSizeBytes(BLOCK)
        .concurrency(1)
        .maxAttempts(1)
        .directOpener(disk)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(2))
        .build();
  }

  /** A disk that stores the block written at {@code blockOffset} of {@code name} with byte {@code at} flipped. */
  static DirectIo.Opener damagingDisk(String name, long blockOffset, long at) {
    return InterceptedChannel.opener((file, real, src, position) -> {
      int n = InterceptedChannel.writeFully(real, src, position);
      if (file.endsWith(name) && position == blockOffset) {
        InterceptedChannel.flip(real, at);
      }
      return n;
    });
  }

  /** No entry, no download in progress, no staging directory: a failed download left nothing. */
  static void assertNothingLeft(ModelCache cache) throws IOException {
    assertThat(cache.list().entries()).isEmpty();
    assertThat(cache.list().downloads()).isEmpty();
    try (var s = Files.list(cache.root().resolve("staging"))) {
      assertThat(s.toList()).as("staging directories").isEmpty();
    }
  }

  @Test
  void aBlockStoredWrongFailsTheDownloadWhileLaterFilesAreStillBeingFetched() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 21, FILE, FILE, FILE);
    TestBackend backend = new TestBackend();
    AtomicInteger lastFileReads = new AtomicInteger();
    try (ModelCache cache = open(backend, damagingDisk("shard-0.bin", 0, 100))) {
      backend.hook = (o, off, attempt) -> {
        if (!o.relativePath().equals("shard-0.bin")) {
          if (o.relativePath().equals("sub/shard-2.bin")) {
            lastFileReads.incrementAndGet();
          }
          sleep(100); // a slow link: shard-0's verification runs long before the fetch could end
        }
      };
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(IntegrityException.class, e -> {
            assertThat(e.path()).isEqualTo("shard-0.bin");
            assertThat(e.offsetBytes()).isZero();
          })
          .hasMessageContaining("CRC32C of block 0");
      assertThat(lastFileReads.get())
          .as("reads of the last file before the failure stopped the fetch")
          .isLessThan(FILE / BLOCK);
      assertNothingLeft(cache);
    }
  }

  @Test
  void aBlockOfTheLastFileStoredWrongIsDetectedAndNothingIsCommitted() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 22, FILE, FILE, FILE);
    TestBackend backend = new TestBackend();
    DirectIo.Opener[] disk = {damagingDisk("sub/shard-2.bin", 3L * BLOCK, 3L * BLOCK + 5)};
    try (ModelCache cache = open(backend, file -> disk[0].open(file))) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(IntegrityException.class, e -> {
            assertThat(e.path()).isEqualTo("sub/shard-2.bin");
            assertThat(e.offsetBytes()).isEqualTo(3L * BLOCK);
          });
      assertNothingLeft(cache);

      disk[0] = DirectIo.KERNEL;
      CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
    }
  }

  @Test
  void aWholeFileChecksumMismatchInAnEarlyFileFailsTheDownload() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 23, FILE, FILE, FILE);
    TestBackend backend = new TestBackend();
    backend.claimChecksum(
        "shard-1.bin", () -> new dev.modelcache.core.spi.SourceChecksum("MD5", "0".repeat(32)));
    try (ModelCache cache = open(backend)) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(
              IntegrityException.class, e -> assertThat(e.path()).isEqualTo("shard-1.bin"))
          .hasMessageContaining("MD5");
      assertNothingLeft(cache);
    }
  }

  @Test
  void aBlockStoredWrongInAFileWithASourceChecksumIsDetectedAtItsOffset() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 24, FILE, FILE, FILE);
    String md5 = java.util.HexFormat.of()
        .formatHex(
            java.security.MessageDigest.getInstance("MD5").digest(m.files.get("shard-1.bin")));
    TestBackend backend = new TestBackend();
    backend.claimChecksum(
        "shard-1.bin", () -> new dev.modelcache.core.spi.SourceChecksum("MD5", md5));
    DirectIo.Opener[] disk = {damagingDisk("shard-1.bin", 2L * BLOCK, 2L * BLOCK + 7)};
    try (ModelCache cache = open(backend, file -> disk[0].open(file))) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(IntegrityException.class, e -> {
            assertThat(e.path()).isEqualTo("shard-1.bin");
            assertThat(e.offsetBytes()).isEqualTo(2L * BLOCK);
          });
      assertNothingLeft(cache);

      disk[0] = DirectIo.KERNEL;
      CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(e.manifest().file("shard-1.bin").orElseThrow().checksum().hex())
          .isEqualTo(md5);
    }
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException();
    }
  }
}
