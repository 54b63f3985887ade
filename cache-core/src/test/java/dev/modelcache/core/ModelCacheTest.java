package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ensure, lease, list, getIfPresent, single flight, pins, evict and verify in one process. */
class ModelCacheTest {

  @TempDir
  Path tmp;

  Path root;
  ModelCache cache;

  @BeforeEach
  void open() throws Exception {
    root = Files.createDirectories(tmp.resolve("cache"));
    cache =
        ModelCache.builder().root(root).partSizeBytes(64 * 1024).concurrency(4).build();
  }

  @AfterEach
  void close() {
    cache.close();
  }

  @Test
  void ensureDownloadsVerifiesAndCommitsReadOnlyFiles() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 7, 200_000, 65_536, 0, 1, 131_073);

    CacheEntry e = cache.ensure(m.source(), DownloadListener.NONE);

    assertThat(m.matches(e.directory())).isTrue();
    assertThat(e.sizeBytes()).isEqualTo(m.sizeBytes());
    assertThat(e.directory())
        .isEqualTo(root.resolve("entries").resolve(m.source().cacheName()).resolve("data"));
    assertThat(e.manifest().files()).hasSize(5);
    assertThat(e.manifest().file("shard-0.bin").orElseThrow().blockCount()).isEqualTo(4);
    assertThat(Files.getPosixFilePermissions(e.file("shard-0.bin")))
        .containsExactlyInAnyOrder(
            PosixFilePermission.OWNER_READ,
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.OTHERS_READ);
    assertThat(Files.getPosixFilePermissions(e.file("sub/shard-2.bin").getParent()))
        .doesNotContain(PosixFilePermission.OWNER_WRITE);
    assertThat(Manifest.read(e.directory().resolveSibling("manifest.json")))
        .isEqualTo(e.manifest());
    try (var staging = Files.list(root.resolve("staging"))) {
      assertThat(staging).isEmpty();
    }
    assertThat(cache.verify(m.source()).ok()).isTrue();
  }

  @Test
  void aSecondEnsureIsAHitAndGetIfPresentSeesOnlyCommittedEntries() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 8, 100_000);
    assertThat(cache.getIfPresent(m.source())).isEmpty();
    CacheEntry first = cache.ensure(m.source(), DownloadListener.NONE);
    CacheEntry second = cache.ensure(m.source(), DownloadListener.NONE);
    assertThat(second.directory()).isEqualTo(first.directory());
    assertThat(cache.getIfPresent(m.source())).isPresent();
    CacheStats stats = cache.stats();
    assertThat(stats.hits()).isEqualTo(1);
    assertThat(stats.misses()).isEqualTo(1);
    assertThat(stats.bytesFetched()).isEqualTo(100_000);
    assertThat(stats.entryCount()).isEqualTo(1);
  }

  @Test
  void manyThreadsEnsuringOneModelCauseOneDownload() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 9, 500_000, 300_000);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<CacheEntry>> futures = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      futures.add(pool.submit(() -> {
        go.await();
        return cache.ensure(m.source(), DownloadListener.NONE);
      }));
    }
    go.countDown();
    for (Future<CacheEntry> f : futures) {
      assertThat(m.matches(f.get().directory())).isTrue();
    }
    pool.shutdown();
    assertThat(cache.stats().bytesFetched()).isEqualTo(m.sizeBytes());
  }

  @Test
  void prefetchReturnsAFutureAndListShowsEntries() throws Exception {
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 10, 10_000);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 11, 20_000);
    CompletableFuture<CacheEntry> fa = cache.prefetch(a.source(), DownloadListener.NONE);
    CompletableFuture<CacheEntry> fb = cache.prefetch(b.source(), DownloadListener.NONE);
    CompletableFuture.allOf(fa, fb).get();
    CacheListing listing = cache.list();
    assertThat(listing.entries())
        .extracting(CacheEntry::source)
        .containsExactlyInAnyOrder(a.source(), b.source());
    assertThat(listing.downloads()).isEmpty();
    assertThat(listing.entryBytes()).isEqualTo(30_000);
  }

  @Test
  void aNewRevisionDownloadsBesideTheOldOne() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 12, 10_000);
    CacheEntry v1 = cache.ensure(m.source().withRevision("v1"), DownloadListener.NONE);
    try (Lease lease = cache.lease(v1)) {
      m.put("shard-0.bin", new byte[12_345]);
      CacheEntry v2 = cache.ensure(m.source().withRevision("v2"), DownloadListener.NONE);
      assertThat(v2.directory()).isNotEqualTo(v1.directory());
      assertThat(Files.size(v2.file("shard-0.bin"))).isEqualTo(12_345);
      assertThat(Files.size(lease.directory().resolve("shard-0.bin"))).isEqualTo(10_000);
      assertThatThrownBy(() -> cache.evict(v1.source())).isInstanceOf(EntryInUseException.class);
    }
    assertThat(cache.evict(v1.source())).isTrue();
    assertThat(cache.getIfPresent(v1.source())).isEmpty();
    assertThat(cache.getIfPresent(m.source().withRevision("v2"))).isPresent();
  }

  @Test
  void leasesAndPinsProtectEntriesFromEviction() throws Exception {
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 13, 1000);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 14, 1000);
    ModelFixture c = ModelFixture.create(tmp.resolve("c"), 15, 1000);
    cache.ensure(a.source(), EnsureOptions.DEFAULTS.withPin(true), DownloadListener.NONE);
    CacheEntry eb = cache.ensure(b.source(), DownloadListener.NONE);
    cache.ensure(c.source(), DownloadListener.NONE);
    Lease lease = cache.lease(eb);
    assertThat(cache.getIfPresent(b.source()).orElseThrow().leaseCount()).isEqualTo(1);

    assertThat(cache.evictUnused()).extracting(CacheEntry::source).containsExactly(c.source());
    assertThatThrownBy(() -> cache.evict(a.source()))
        .isInstanceOf(EntryInUseException.class)
        .hasMessageContaining("pinned");

    lease.close();
    lease.close(); // idempotent
    assertThat(cache.unpin(a.source())).isTrue();
    assertThat(cache.evictUnused()).hasSize(2);
    assertThat(cache.list().entries()).isEmpty();
    assertThatThrownBy(() -> cache.lease(eb)).isInstanceOf(EntryNotFoundException.class);
  }

  @Test
  void evictToBytesRemovesLeastRecentlyUsedFirstByTheCachesClock() throws Exception {
    ManualTicker ticker = new ManualTicker();
    try (ModelCache lru = ModelCache.builder()
        .root(Files.createDirectories(tmp.resolve("lru")))
        .clock(ticker)
        .partSizeBytes(64 * 1024)
        .build()) {
      List<ModelFixture> models = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        ModelFixture m = ModelFixture.create(tmp.resolve("m" + i), 20 + i, 1000);
        models.add(m);
        lru.ensure(m.source(), DownloadListener.NONE);
        ticker.advance(java.time.Duration.ofSeconds(1));
      }
      lru.lease(lru.getIfPresent(models.get(0).source()).orElseThrow()).close(); // m0 used last
      assertThat(lru.list().entries())
          .extracting(CacheEntry::lastUsed)
          .containsExactly(
              ticker.instant().minusSeconds(2), ticker.instant().minusSeconds(1), ticker.instant());
      assertThat(lru.evictToBytes(1000))
          .extracting(CacheEntry::source)
          .containsExactly(models.get(1).source(), models.get(2).source());
      assertThat(lru.getIfPresent(models.get(0).source())).isPresent();
    }
  }

  @Test
  void anEntryIsNeverEvictedUnderAFreshLease() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 30, 5000);
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger evicted =
        new java.util.concurrent.atomic.AtomicInteger();
    Thread evictor = Thread.ofPlatform().start(() -> {
      while (!stop.get()) {
        try {
          evicted.addAndGet(cache.evictUnused().size());
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }
    });
    int leased = 0;
    try {
      for (int i = 0; i < 60; i++) {
        CacheEntry e = cache.ensure(m.source(), DownloadListener.NONE);
        Lease lease;
        try {
          lease = cache.lease(e);
        } catch (EntryNotFoundException gone) {
          continue; // evicted between ensure and lease: the lease refuses, as it must
        }
        try (lease) {
          leased++;
          Thread.onSpinWait();
          assertThat(Files.readAllBytes(lease.directory().resolve("shard-0.bin")))
              .hasSize(5000);
        }
      }
    } finally {
      stop.set(true);
      evictor.join();
    }
    assertThat(leased).isPositive();
    assertThat(evicted.get()).as("evictions really raced the leases").isPositive();
  }

  @Test
  void closingTheCacheDuringADownloadFailsItAndTheNextCacheResumes() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 31, 4 << 20);
    TestBackend slow = new TestBackend();
    slow.readDelayMillis = 15;
    ModelCache first = ModelCache.builder()
        .root(root)
        .backend(slow)
        .partSizeBytes(64 << 10)
        .concurrency(2)
        .build();
    CompletableFuture<CacheEntry> f = first.prefetch(TestBackend.source(m), DownloadListener.NONE);
    while (slow.bytesRead.get() < (1 << 20)) {
      Thread.sleep(2);
    }
    first.close();
    first.close(); // idempotent
    assertThatThrownBy(f::join).hasCauseInstanceOf(java.io.InterruptedIOException.class);
    assertThatThrownBy(() -> first.list())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");

    TestBackend fast = new TestBackend();
    try (ModelCache second =
        ModelCache.builder().root(root).backend(fast).partSizeBytes(64 << 10).build()) {
      // What the journal holds is what survives the close: the blocks in flight then, and those
      // written but not yet read back, are fetched again.
      long journaled = second.list().downloads().stream()
          .filter(d -> d.source().equals(TestBackend.source(m)))
          .mapToLong(DownloadStatus::bytesDone)
          .sum();
      assertThat(journaled).as("blocks journaled before the close").isPositive();
      CacheEntry e = second.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(fast.bytesRead.get())
          .as("resumed, not restarted: only what the journal lacked is fetched")
          .isEqualTo(m.sizeBytes() - journaled);
    }
  }
}
