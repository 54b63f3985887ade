package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ModelCache.Builder#readBack} off: a block of a file checked block by block is taken as
 * received and never read from the disk, a multipart checksum whose parts are the blocks is still
 * checked (from the bytes received), a file whose source digest needs its bytes in order is still
 * read back, and what the disk did to a block is left for {@link ModelCache#verify} to find.
 */
class WithoutReadBackTest {

  private static final int BLOCK = 64 << 10;

  @TempDir
  Path tmp;

  /** shard-0: six blocks and a bit, multipart in parts of a block; shard-1: four blocks, an MD5. */
  private ModelFixture model(TestBackend backend, String shard0Hex) throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 51, 6 * BLOCK + 10, 4 * BLOCK);
    String md5 = HexFormat.of()
        .formatHex(MessageDigest.getInstance("MD5").digest(m.files.get("shard-1.bin")));
    String hex = shard0Hex != null
        ? shard0Hex
        : MultipartEtagTest.md5OfPartMd5s(m.files.get("shard-0.bin"), BLOCK);
    backend.listing = list -> list.stream()
        .map(o -> new RemoteObject(
            o.key(),
            o.relativePath(),
            o.sizeBytes(),
            o.etag(),
            null,
            o.relativePath().equals("shard-0.bin")
                ? SourceChecksum.multipart(hex, 7, BLOCK)
                : new SourceChecksum("MD5", md5)))
        .toList();
    return m;
  }

  private static ModelCache.Builder cache(Path root, TestBackend backend) {
    return ModelCache.builder()
        .root(root)
        .backend(backend)
        .partSizeBytes(BLOCK)
        .concurrency(2)
        .maxAttempts(1)
        .minFreeBytes(0)
        .readBack(false)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(2));
  }

  @Test
  void onlyAFileWhoseDigestNeedsItsBytesInOrderIsReadFromTheDisk() throws Exception {
    Assumptions.assumeTrue(
        DirectWritesTest.directIoWorksIn(tmp),
        "the temporary directory's file system refuses O_DIRECT");
    FaultyFileSystem fs = new FaultyFileSystem();
    TestBackend backend = new TestBackend();
    ModelFixture m = model(backend, null);
    try (ModelCache cache =
        cache(Files.createDirectories(fs.wrap(tmp).resolve("cache")), backend).build()) {
      EngineBehaviourTest.Recorder r = new EngineBehaviourTest.Recorder();
      CacheEntry e = cache.ensure(TestBackend.source(m), r);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(r.summary.bytesReadBack())
          .as("shard-1 alone")
          .isEqualTo(m.files.get("shard-1.bin").length);
      ManifestFile shard0 = e.manifest().file("shard-0.bin").orElseThrow();
      assertThat(shard0.integrity()).isEqualTo(Integrity.ETAG_MULTIPART);
      assertThat(shard0.checksum().partSizeBytes()).isEqualTo(BLOCK);
      assertThat(e.manifest().file("shard-1.bin").orElseThrow().integrity())
          .isEqualTo(Integrity.SOURCE_CHECKSUM);
      assertThat(fs.directReadNames)
          .as("staging files opened to be read back")
          .doesNotContain("shard-0.bin")
          .contains("shard-1.bin");
      assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
    }
  }

  @Test
  void aMultipartChecksumIsCheckedFromTheBytesReceived() throws Exception {
    TestBackend backend = new TestBackend();
    ModelFixture m = model(backend, "0".repeat(32));
    try (ModelCache cache =
        cache(Files.createDirectories(tmp.resolve("cache")), backend).build()) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(
              IntegrityException.class, e -> assertThat(e.path()).isEqualTo("shard-0.bin"))
          .hasMessageContaining("the source's multipart ETag is " + "0".repeat(32) + "-7");
      TailOverlapTest.assertNothingLeft(cache);
    }
  }

  @Test
  void whatTheDiskDidToABlockIsLeftForVerifyToFind() throws Exception {
    TestBackend backend = new TestBackend();
    ModelFixture m = model(backend, null);
    DirectIo.Opener damaging =
        TailOverlapTest.damagingDisk("shard-0.bin", 2L * BLOCK, 2L * BLOCK + 9);
    try (ModelCache cache = cache(Files.createDirectories(tmp.resolve("cache")), backend)
        .directOpener(damaging)
        .build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(e.manifest().file("shard-0.bin").orElseThrow().integrity())
          .as("checked as received")
          .isEqualTo(Integrity.ETAG_MULTIPART);
      VerificationResult v = cache.verify(TestBackend.source(m));
      assertThat(v.ok()).isFalse();
      assertThat(v.mismatches()).singleElement().satisfies(mm -> {
        assertThat(mm.path()).isEqualTo("shard-0.bin");
        assertThat(mm.offsetBytes()).isEqualTo(2L * BLOCK);
      });
    }
  }
}
