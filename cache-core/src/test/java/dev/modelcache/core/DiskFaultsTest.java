package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the cache promises when its disk fails, on a root of {@link FaultyFileSystem}, without
 * root or a tmpfs: a disk that fills during a page-cache write, I/O errors on a write and on the
 * read-back, O_DIRECT refused half-way, a root this user may not write. Each failure names what
 * failed, commits nothing and leaves the staging as documented; once the fault is gone the same
 * cache downloads the model whole.
 */
class DiskFaultsTest {

  private static final int BLOCK = 64 << 10;

  @TempDir
  Path tmp;

  private final FaultyFileSystem fs = new FaultyFileSystem();
  private Path root;
  private TestBackend backend;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectories(fs.wrap(tmp).resolve("cache"));
    backend = new TestBackend();
  }

  private ModelCache.Builder cache() {
    return ModelCache.builder()
        .root(root)
        .backend(backend)
        .partSizeBytes(BLOCK)
        .concurrency(2)
        .maxAttempts(1)
        .minFreeBytes(0)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(2));
  }

  /** Two files of several blocks and one short one. */
  private ModelFixture model(long seed) throws IOException {
    return ModelFixture.create(tmp.resolve("m" + seed), seed, 6 * BLOCK + 10, 4 * BLOCK, 3000);
  }

  /** Runs {@code fault} once, before the first range is read from the source: after staging and preallocation. */
  private void onFirstRead(Runnable fault) {
    AtomicBoolean done = new AtomicBoolean();
    backend.hook = (o, off, attempt) -> {
      if (done.compareAndSet(false, true)) {
        fault.run();
      }
    };
  }

  private static void assertRecovers(ModelCache cache, ModelFixture m) throws IOException {
    CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
    assertThat(m.matches(e.directory())).isTrue();
    assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
  }

  @Test
  void aRootOnTheFaultyFileSystemIsUsedThroughItAlone() throws Exception {
    ModelFixture m = model(1);
    try (ModelCache cache = cache().build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(e.directory().getFileSystem()).isSameAs(fs);
      assertThat(m.matches(e.directory())).isTrue();
      try (Lease lease = cache.lease(e)) {
        assertThat(cache.getIfPresent(TestBackend.source(m)).orElseThrow().leaseCount())
            .isEqualTo(1);
      }
      assertThat(cache.evict(TestBackend.source(m))).isTrue();
    }
    assertThat(fs.bytesWritten.get())
        .as("every byte went through the faulty provider")
        .isGreaterThan(m.sizeBytes());
  }

  @Test
  void aModelLargerThanTheFreeSpaceFailsAtOnceWithBytesNeededAndAvailable() throws Exception {
    ModelFixture m = model(10);
    fs.reportSpace(200_000, 1L << 30);
    try (ModelCache cache = cache().build()) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(InsufficientSpaceException.class, e -> {
            assertThat(e.bytesNeeded()).isEqualTo(m.sizeBytes());
            assertThat(e.bytesAvailable()).isEqualTo(200_000);
          });
      assertThat(backend.reads.get()).as("nothing was downloaded").isZero();
      TailOverlapTest.assertNothingLeft(cache);
    }
  }

  @Test
  void aDiskThatFillsDuringAPageCacheWriteFailsWithInsufficientSpaceAndGivesTheSpaceBack()
      throws Exception {
    ModelFixture m = model(2);
    onFirstRead(() -> fs.fillAfter(3 * BLOCK));
    try (ModelCache cache = cache().directWrites(false).build()) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(InsufficientSpaceException.class, e -> {
            assertThat(e.bytesAvailable()).as("the store reports the disk full").isZero();
            assertThat(e.bytesNeeded())
                .as("what was not yet written")
                .isPositive()
                .isLessThan(m.sizeBytes());
          })
          .hasMessageContaining("the disk filled during the download of " + TestBackend.source(m))
          .hasMessageContaining(FaultyFileSystem.ENOSPC);
      TailOverlapTest.assertNothingLeft(cache);
      fs.heal();
      assertRecovers(cache, m);
    }
  }

  @Test
  void anIoErrorOnAPageCacheWriteFailsWithCacheWriteExceptionNamingTheFile() throws Exception {
    ModelFixture m = model(3);
    onFirstRead(() -> fs.failWrites(p -> p.getFileName().toString().equals("shard-1.bin")));
    try (ModelCache cache = cache().directWrites(false).build()) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOf(CacheWriteException.class)
          .hasMessageContaining("download of " + TestBackend.source(m) + " failed: writing ")
          .hasMessageContaining("shard-1.bin at offset ")
          .hasMessageContaining(FaultyFileSystem.EIO);
      TailOverlapTest.assertNothingLeft(cache);
      fs.heal();
      assertRecovers(cache, m);
    }
  }

  @Test
  void anIoErrorReadingABlockBackFailsTheDownloadAndLeavesItResumable() throws Exception {
    ModelFixture m = model(4);
    onFirstRead(() -> fs.failReads(p -> p.getFileName().toString().equals("shard-0.bin")));
    try (ModelCache cache = cache().build()) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(FaultyFileSystem.EIO)
          .hasMessageContaining("reading back block ")
          .hasMessageContaining("shard-0.bin (offset ");
      assertThat(cache.getIfPresent(TestBackend.source(m))).isEmpty();
      assertThat(cache.list().downloads())
          .as("kept for a resume: the blocks written are journaled")
          .singleElement()
          .satisfies(d -> {
            assertThat(d.writerAlive()).isFalse();
            // Every block may be written before the read-back that fails reaches it.
            assertThat(d.bytesDone()).isPositive().isLessThanOrEqualTo(m.sizeBytes());
          });
      fs.heal();
      long readBefore = backend.bytesRead.get();
      assertRecovers(cache, m);
      assertThat(backend.bytesRead.get() - readBefore)
          .as("the resume fetched only what was missing")
          .isLessThan(m.sizeBytes());
      // A resume re-reads every journaled block against its CRC32C before keeping it, so a block
      // whose read-back failed is checked again; assertRecovers compares every byte.
    }
  }

  @Test
  void oDirectRefusedHalfWayThroughSendsTheRestThroughThePageCache() throws Exception {
    Assumptions.assumeTrue(
        DirectWritesTest.directIoWorksIn(tmp),
        "the temporary directory's file system refuses O_DIRECT");
    ModelFixture m = model(5);
    fs.refuseDirectWritesAfter(2);
    EngineBehaviourTest.Recorder listener = new EngineBehaviourTest.Recorder();
    try (ModelCache cache = cache().concurrency(1).build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), listener);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(listener.summary.bytesWrittenDirect())
          .as("the two blocks written before the refusal")
          .isEqualTo(2L * BLOCK);
      assertThat(fs.directWriteOpens.get())
          .as("writes: refused once, then not asked again")
          .isEqualTo(3);
      assertThat(fs.directReadOpens.get())
          .as("read-backs: with O_DIRECT only for the blocks written so")
          .isBetween(1, 2);
      assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
    }
  }

  @Test
  void oDirectReadsRefusedReadBlocksBackThroughThePageCache() throws Exception {
    Assumptions.assumeTrue(
        DirectWritesTest.directIoWorksIn(tmp),
        "the temporary directory's file system refuses O_DIRECT");
    ModelFixture m = model(5);
    fs.refuseDirectReads();
    EngineBehaviourTest.Recorder listener = new EngineBehaviourTest.Recorder();
    try (ModelCache cache = cache().concurrency(1).build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), listener);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(listener.summary.bytesWrittenDirect())
          .as("the writes stay direct")
          .isPositive();
      // Each of the two tail threads may ask once before either has seen the other's refusal.
      assertThat(fs.directReadOpens.get()).as("refused, then not asked again").isBetween(1, 2);
      assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
    }
  }

  @Test
  void aStreamedFileIsReadBackThroughThePageCacheTheOthersWithODirect() throws Exception {
    Assumptions.assumeTrue(
        DirectWritesTest.directIoWorksIn(tmp),
        "the temporary directory's file system refuses O_DIRECT");
    ModelFixture m = model(6);
    // Its reader reads each block right after the read-back: from the page cache that fills.
    StreamingListener reader = new StreamingListener() {
      @Override
      public List<String> streamOrder(List<String> paths) {
        return List.of("shard-0.bin");
      }

      @Override
      public void staged(StagedEvent event) {}

      @Override
      public void blockVerified(BlockVerifiedEvent event) {}
    };
    try (ModelCache cache = cache().build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), reader);
      assertThat(m.matches(e.directory())).isTrue();
    }
    assertThat(fs.directReadNames).doesNotContain("shard-0.bin").contains("shard-1.bin");
  }

  @Test
  void aRootThisUserMayNotWriteCannotBeLaidOut() throws Exception {
    fs.denyWrites(root);
    assertThatThrownBy(() -> cache().build())
        .isInstanceOf(CacheRootException.class)
        .hasMessageStartingWith("cache root " + root + " is unusable: it is not writable by ")
        .hasMessageContaining("AccessDeniedException");
    try (var files = Files.list(root)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void aRootOfAnotherUserServesItsEntriesAndLeasesButDownloadsNothing() throws Exception {
    ModelFixture cached = model(6);
    ModelFixture missing = model(7);
    try (ModelCache cache = cache().build()) {
      cache.ensure(TestBackend.source(cached), DownloadListener.NONE);
    }
    // As the layout leaves it for other users: leases/ and locks/ open to all (1777), the rest not.
    for (String dir : new String[] {"", "entries", "staging", "meta", "pins", "trash"}) {
      fs.denyWrites(root.resolve(dir));
    }
    int readsBefore = backend.reads.get();
    try (ModelCache cache = cache().build()) {
      CacheEntry e = cache.getIfPresent(TestBackend.source(cached)).orElseThrow();
      assertThat(cached.matches(e.directory())).isTrue();
      try (Lease lease = cache.lease(e)) {
        assertThat(cache.getIfPresent(TestBackend.source(cached)).orElseThrow().leaseCount())
            .isEqualTo(1);
      }
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(missing), DownloadListener.NONE))
          .isInstanceOf(CacheWriteException.class)
          .hasMessageStartingWith("creating staging directory " + root.resolve("staging"))
          .hasCauseInstanceOf(java.nio.file.AccessDeniedException.class);
      assertThat(cache.getIfPresent(TestBackend.source(missing))).isEmpty();
      assertThat(backend.reads.get())
          .as("nothing of the missing model was read")
          .isEqualTo(readsBefore);
      assertThat(cache.list().downloads()).isEmpty();
    }
  }

  @Test
  void aLeaseInALeasesDirectoryThisUserMayNotWriteFailsNamingItAndLeavesNothing() throws Exception {
    ModelFixture m = model(8);
    try (ModelCache cache = cache().build()) {
      CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      Path leases = root.resolve("leases");
      fs.denyWrites(leases);
      try (var dirs = Files.list(leases)) {
        dirs.forEach(fs::denyWrites);
      }
      assertThatThrownBy(() -> cache.lease(e))
          .isInstanceOf(CacheAccessDeniedException.class)
          .hasMessageStartingWith(
              "cannot lease " + TestBackend.source(m) + ": permission denied on " + leases);
      assertThat(cache.getIfPresent(TestBackend.source(m)).orElseThrow().leaseCount())
          .isZero();
      fs.heal();
      try (Lease lease = cache.lease(e)) {
        assertThat(lease.directory()).isEqualTo(e.directory());
      }
    }
  }

  @Test
  void anIoErrorReadingACommittedFileFailsItsVerificationNamingFileAndOffset() throws Exception {
    ModelFixture m = model(9);
    try (ModelCache cache = cache().build()) {
      cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      fs.failReads(p -> p.getFileName().toString().equals("shard-1.bin"), BLOCK + 1000);
      assertThatThrownBy(() -> cache.verify(TestBackend.source(m)))
          .isInstanceOf(IOException.class)
          .hasMessage("reading shard-1.bin at offset " + (BLOCK + 1000) + " failed: "
              + FaultyFileSystem.EIO);
      fs.heal();
      assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
    }
  }

  @Test
  void anAbandonedDownloadOfAnotherModelGivesWayWhenSpaceIsShort() throws Exception {
    // A disk of exact size that nothing else on the machine shares: free space is a fact of the
    // test.
    fs.disk(root, 16 << 20);
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 4, 8 << 20);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 5, 9 << 20);
    backend.hook = (o, off, attempt) -> {
      if (o.key().contains("/a/") && off > (2 << 20)) {
        throw new StorageException("unavailable", true);
      }
    };
    try (ModelCache cache = cache().partSizeBytes(1 << 20).build()) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(a), DownloadListener.NONE))
          .isInstanceOf(StorageException.class);
      assertThat(cache.list().downloads())
          .singleElement()
          .satisfies(d -> assertThat(d.writerAlive()).isFalse());
      assertThat(Files.getFileStore(root).getUsableSpace())
          .as("the abandoned download holds its files' space")
          .isLessThan(8 << 20);

      CacheEntry e = cache.ensure(TestBackend.source(b), DownloadListener.NONE);
      assertThat(b.matches(e.directory())).isTrue();
      assertThat(cache.list().downloads()).isEmpty();
      assertThat(fs.diskUsedBytes()).as("b's files and metadata").isBetween(9L << 20, 10L << 20);
    }
  }
}
