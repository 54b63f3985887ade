package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads write whole, aligned blocks with O_DIRECT and everything else through the page cache;
 * a file system that refuses O_DIRECT gets page-cache writes, and a failing direct write fails the
 * download like any other write. Every case ends with the files identical to the source.
 */
class DirectWritesTest {

  private static final int BLOCK = 64 << 10;

  @TempDir
  Path tmp;

  private ModelCache.Builder cache(TestBackend backend) throws IOException {
    return ModelCache.builder()
        .root(Files.createDirectories(tmp.resolve("cache")))
        .backend(backend)
        .partSizeBytes(BLOCK)
        .concurrency(4)
        .maxAttempts(1)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(2));
  }

  /** Whether the file system of {@code dir} accepts O_DIRECT at all. */
  static boolean directIoWorksIn(Path dir) {
    Path probe = dir.resolve("direct-io-probe");
    try (FileChannel ch = FileChannel.open(
        probe,
        StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE,
        StandardOpenOption.DELETE_ON_CLOSE,
        ExtendedOpenOption.DIRECT)) {
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** The kernel's opener, counting how often it is asked. */
  private static DirectIo.Opener counting(AtomicInteger opens) {
    return file -> {
      opens.incrementAndGet();
      return DirectIo.KERNEL.open(file);
    };
  }

  /** Three whole blocks plus 100 bytes, two whole blocks, one file below the alignment, an empty one. */
  private ModelFixture model() throws IOException {
    return ModelFixture.create(tmp.resolve("m"), 31, 3 * BLOCK + 100, 2 * BLOCK, 4000, 0);
  }

  @Test
  void wholeAlignedBlocksGoToTheDiskDirectlyAndTheRestThroughThePageCache() throws Exception {
    Assumptions.assumeTrue(
        directIoWorksIn(tmp), "the temporary directory's file system refuses O_DIRECT");
    ModelFixture m = model();
    EngineBehaviourTest.Recorder listener = new EngineBehaviourTest.Recorder();
    try (ModelCache cache = cache(new TestBackend()).build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), listener);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(listener.summary.bytesWrittenDirect())
          .as("every whole block, no file's short last block")
          .isEqualTo(5L * BLOCK);
      assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
    }
  }

  @Test
  void turnedOffEverythingGoesThroughThePageCache() throws Exception {
    ModelFixture m = model();
    AtomicInteger opens = new AtomicInteger();
    EngineBehaviourTest.Recorder listener = new EngineBehaviourTest.Recorder();
    try (ModelCache cache = cache(new TestBackend())
        .directWrites(false)
        .directOpener(counting(opens))
        .build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), listener);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(listener.summary.bytesWrittenDirect()).isZero();
      assertThat(opens.get()).isZero();
    }
  }

  @Test
  void aFileSystemThatRefusesODirectAtOpenGetsPageCacheWritesForTheRestOfTheDownload()
      throws Exception {
    ModelFixture m = model();
    AtomicInteger opens = new AtomicInteger();
    EngineBehaviourTest.Recorder listener = new EngineBehaviourTest.Recorder();
    try (ModelCache cache = cache(new TestBackend())
        .concurrency(1)
        .directOpener(file -> {
          opens.incrementAndGet();
          throw new IOException(file + ": Invalid argument");
        })
        .build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), listener);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(listener.summary.bytesWrittenDirect()).isZero();
      assertThat(opens.get()).as("asked once, then not again").isEqualTo(1);
    }
  }

  @Test
  void aFileSystemThatRefusesTheDirectWriteItselfGetsTheSameBytesThroughThePageCache()
      throws Exception {
    ModelFixture m = model();
    AtomicInteger refused = new AtomicInteger();
    EngineBehaviourTest.Recorder listener = new EngineBehaviourTest.Recorder();
    try (ModelCache cache = cache(new TestBackend())
        .concurrency(1)
        .directOpener(InterceptedChannel.opener((file, real, src, position) -> {
          refused.incrementAndGet();
          throw new IOException("Invalid argument");
        }))
        .build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), listener);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(listener.summary.bytesWrittenDirect()).isZero();
      assertThat(refused.get()).isEqualTo(1);
    }
  }

  @Test
  void aPartSizeThatIsNotAMultipleOfTheAlignmentWritesThroughThePageCache() throws Exception {
    ModelFixture m = model();
    AtomicInteger opens = new AtomicInteger();
    EngineBehaviourTest.Recorder listener = new EngineBehaviourTest.Recorder();
    try (ModelCache cache = cache(new TestBackend())
        .partSizeBytes(10_000)
        .directOpener(counting(opens))
        .build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), listener);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(listener.summary.bytesWrittenDirect()).isZero();
      assertThat(opens.get()).isZero();
    }
  }

  @Test
  void aDirectWriteThatFailsPartWayFailsTheDownloadNamingFileAndOffsetAndLeavesNothing()
      throws Exception {
    ModelFixture m = model();
    try (ModelCache cache = cache(new TestBackend())
        .directOpener(InterceptedChannel.opener((file, real, src, position) -> {
          if (file.endsWith("shard-1.bin") && position == BLOCK) {
            ByteBuffer first = src.duplicate();
            first.limit(first.position() + DirectIo.ALIGNMENT);
            src.position(src.position() + InterceptedChannel.writeFully(real, first, position));
            throw new IOException("Input/output error");
          }
          return InterceptedChannel.writeFully(real, src, position);
        }))
        .build()) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOf(CacheWriteException.class)
          .hasMessageContaining("shard-1.bin")
          .hasMessageContaining("at offset " + (BLOCK + DirectIo.ALIGNMENT))
          .hasMessageContaining("Input/output error");
      TailOverlapTest.assertNothingLeft(cache);
    }
  }

  @Test
  void transferBuffersAreAlignedForODirect() throws Exception {
    BufferPool pool = new BufferPool(3, BLOCK + 100);
    for (int i = 0; i < 3; i++) {
      var buf = pool.take();
      assertThat(buf.capacity()).isEqualTo(BLOCK + 100);
      assertThat(java.lang.foreign.MemorySegment.ofBuffer(buf).address() % DirectIo.ALIGNMENT)
          .isZero();
    }
  }
}
