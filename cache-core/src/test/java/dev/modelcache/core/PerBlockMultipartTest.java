package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file whose multipart checksum has the download's blocks for parts is checked block by block:
 * each block is read back and digested as soon as it is written, whatever is still missing before
 * it, and the file's checksum is composed from the blocks' digests, kept blocks of a resumed
 * download included.
 */
class PerBlockMultipartTest {

  private static final int BLOCK = 64 << 10;
  private static final int BLOCKS = 8;

  @TempDir
  Path tmp;

  private ModelCache open(TestBackend backend, int concurrency) throws IOException {
    return ModelCache.builder()
        .root(Files.createDirectories(tmp.resolve("cache")))
        .backend(backend)
        .partSizeBytes(BLOCK)
        .requestSizeBytes(BLOCK)
        .concurrency(concurrency)
        .maxAttempts(1)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(2))
        .build();
  }

  /** Lists every file with the multipart ETag of its bytes in parts of {@code partBytes}, named or not. */
  private static void claimMultipart(
      TestBackend backend, ModelFixture m, int partBytes, long toldPartSize) {
    backend.listing = list -> list.stream()
        .map(o -> {
          byte[] data = m.files.get(o.relativePath());
          int parts = (data.length + partBytes - 1) / partBytes;
          String hex;
          try {
            hex = MultipartEtagTest.md5OfPartMd5s(data, partBytes);
          } catch (Exception e) {
            throw new AssertionError(e);
          }
          return new RemoteObject(
              o.key(),
              o.relativePath(),
              o.sizeBytes(),
              o.etag(),
              null,
              SourceChecksum.multipart(hex, parts, toldPartSize));
        })
        .toList();
  }

  @Test
  void eachBlockIsCheckedWhileAnEarlierBlockOfItsFileIsStillBeingFetched() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 41, BLOCKS * BLOCK - 321);
    TestBackend backend = new TestBackend();
    claimMultipart(backend, m, BLOCK, BLOCK);
    // Blocks 1 to 7 reported read back and CRC-checked while block 0 is held: an in-order
    // read-back would report none of them before block 0 is written.
    CountDownLatch othersChecked = new CountDownLatch(BLOCKS - 1);
    Set<Long> reported = ConcurrentHashMap.newKeySet();
    StreamingListener watcher = new StreamingListener() {
      @Override
      public List<String> streamOrder(List<String> paths) {
        return paths;
      }

      @Override
      public void staged(StagedEvent event) {}

      @Override
      public void blockVerified(BlockVerifiedEvent event) {
        if (event.offsetBytes() > 0 && reported.add(event.offsetBytes())) {
          othersChecked.countDown();
        }
      }
    };
    backend.hook = (o, off, attempt) -> {
      try {
        if (off == 0 && !othersChecked.await(30, TimeUnit.SECONDS)) {
          throw new IOException("the later blocks were not checked while block 0 was held");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException();
      }
    };
    try (ModelCache cache = open(backend, 4)) {
      CacheEntry e = cache.ensure(TestBackend.source(m), watcher);
      assertThat(m.matches(e.directory())).isTrue();
      ManifestFile f = e.manifest().file("shard-0.bin").orElseThrow();
      assertThat(f.integrity()).isEqualTo(Integrity.ETAG_MULTIPART);
      assertThat(f.checksum().partSizeBytes()).isEqualTo(BLOCK);
    }
  }

  @Test
  void aComposedDigestOtherThanTheSourcesFailsTheDownloadAndSaysWhatWasComputed() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 42, BLOCKS * BLOCK, 3 * BLOCK + 5);
    TestBackend backend = new TestBackend();
    // The listing vouches for other bytes than shard-1's.
    claimMultipart(backend, m, BLOCK, BLOCK);
    var honest = backend.listing;
    backend.listing = list -> honest.apply(list).stream()
        .map(o -> o.relativePath().equals("shard-1.bin")
            ? new RemoteObject(
                o.key(),
                o.relativePath(),
                o.sizeBytes(),
                o.etag(),
                null,
                SourceChecksum.multipart(
                    "0".repeat(32), o.checksum().parts(), o.checksum().partSizeBytes()))
            : o)
        .toList();
    try (ModelCache cache = open(backend, 4)) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(
              IntegrityException.class, e -> assertThat(e.path()).isEqualTo("shard-1.bin"))
          .hasMessageContaining("does not match the source")
          .hasMessageContaining("the MD5 of its 4 parts' MD5s (parts of 65536 bytes) is "
              + MultipartEtagTest.md5OfPartMd5s(m.files.get("shard-1.bin"), BLOCK) + "-4")
          .hasMessageContaining("the source's multipart ETag is " + "0".repeat(32) + "-4");
      TailOverlapTest.assertNothingLeft(cache);
    }
  }

  @Test
  void aResumedDownloadDigestsItsKeptBlocksToo() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 43, BLOCKS * BLOCK + 17);
    TestBackend backend = new TestBackend();
    claimMultipart(backend, m, BLOCK, BLOCK);
    backend.hook = (o, off, attempt) -> {
      if (off == 6L * BLOCK) {
        throw new StorageException("service unavailable", true);
      }
    };
    try (ModelCache cache = open(backend, 1)) {
      ModelSource source = TestBackend.source(m);
      assertThatThrownBy(() -> cache.ensure(source, DownloadListener.NONE))
          .isInstanceOf(StorageException.class);

      backend.hook = (o, off, attempt) -> {};
      EngineBehaviourTest.Recorder r = new EngineBehaviourTest.Recorder();
      CacheEntry e = cache.ensure(source, r);
      assertThat(r.summary.bytesResumed())
          .as("the blocks written before block 6 failed were kept")
          .isPositive()
          .isEqualTo(m.sizeBytes() - r.summary.bytesFetched());
      assertThat(m.matches(e.directory())).isTrue();
      ManifestFile f = e.manifest().file("shard-0.bin").orElseThrow();
      assertThat(f.integrity()).isEqualTo(Integrity.ETAG_MULTIPART);
      assertThat(f.checksum().hex())
          .isEqualTo(MultipartEtagTest.md5OfPartMd5s(m.files.get("shard-0.bin"), BLOCK));
    }
  }
}
