package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download engine's contracts: listener lifecycle, retries with backoff, bounded memory and concurrency. */
class EngineBehaviourTest {

  @TempDir
  Path tmp;

  private ModelCache open(TestBackend backend, int concurrency, int maxAttempts) throws Exception {
    return ModelCache.builder()
        .root(Files.createDirectories(tmp.resolve("cache")))
        .backend(backend)
        .partSizeBytes(64 << 10)
        .concurrency(concurrency)
        .maxAttempts(maxAttempts)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(8))
        .build();
  }

  /** Records events and checks the lifecycle as they arrive. */
  static final class Recorder implements DownloadListener {
    final AtomicInteger started = new AtomicInteger();
    final AtomicInteger completed = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final Map<String, Integer> files = new ConcurrentHashMap<>();
    final List<Long> progress = new CopyOnWriteArrayList<>();
    volatile long total = -1;
    volatile Exception failure;
    volatile DownloadSummary summary;
    volatile String violation;
    volatile ModelSource source;

    @Override
    public void started(StartedEvent event) {
      started.incrementAndGet();
      total = event.bytesTotal();
      source = event.source();
    }

    @Override
    public void progress(ProgressEvent event) {
      if (started.get() != 1
          || completed.get() + failed.get() != 0
          || event.bytesDone() > event.bytesTotal()) {
        violation =
            "progress outside the lifecycle: " + event.bytesDone() + "/" + event.bytesTotal();
      } else if (!event.source().equals(source)) {
        violation = "progress of " + event.source() + " in the download of " + source;
      }
      progress.add(event.bytesDone());
    }

    @Override
    public void fileCompleted(FileCompletedEvent event) {
      if (!event.source().equals(source)) {
        violation =
            "file " + event.path() + " of " + event.source() + " in the download of " + source;
      }
      files.merge(event.path(), 1, Integer::sum);
    }

    @Override
    public void completed(CompletedEvent event) {
      completed.incrementAndGet();
      if (!event.source().equals(source) || !event.entry().source().equals(source)) {
        violation = "completion of " + event.entry() + " in the download of " + source;
      }
      this.summary = event.summary();
    }

    @Override
    public void failed(Exception error) {
      failed.incrementAndGet();
      failure = error;
    }
  }

  @Test
  void aListenerSeesOneStartOneCompletionEveryFileAndMonotonicProgress() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 1, 1 << 20, 300_000, 0, 65_536);
    TestBackend backend = new TestBackend();
    backend.readDelayMillis = 2;
    Recorder r = new Recorder();
    try (ModelCache cache = open(backend, 4, 3)) {
      cache.ensure(TestBackend.source(m), r);
      assertThat(r.started).hasValue(1);
      assertThat(r.completed).hasValue(1);
      assertThat(r.failed).hasValue(0);
      assertThat(r.total).isEqualTo(m.sizeBytes());
      assertThat(r.files)
          .containsOnlyKeys(m.files.keySet())
          .allSatisfy((k, v) -> assertThat(v).isEqualTo(1));
      assertThat(r.progress).isSorted().isNotEmpty().last().isEqualTo(m.sizeBytes());
      assertThat(r.violation).isNull();
      assertThat(r.summary.bytesFetched()).isEqualTo(m.sizeBytes());
      assertThat(r.summary.bytesResumed()).isZero();
      assertThat(r.summary.bytesTotal()).isEqualTo(m.sizeBytes());
      assertThat(r.summary.bytesReadBack()).as("every block read back").isEqualTo(m.sizeBytes());
      assertThat(r.source).isEqualTo(TestBackend.source(m));

      Recorder again = new Recorder();
      cache.ensure(TestBackend.source(m), again);
      assertThat(again.started).as("no download, no events").hasValue(0);
    }
  }

  private ModelCache openWithRequests(TestBackend backend, int blocksPerRequest) throws Exception {
    return ModelCache.builder()
        .root(Files.createDirectories(tmp.resolve("cache")))
        .backend(backend)
        .partSizeBytes(PART)
        .requestSizeBytes((long) blocksPerRequest * PART)
        .concurrency(2)
        .maxAttempts(3)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(8))
        .build();
  }

  private static final int PART = 64 << 10;

  @Test
  void aRequestCoversConsecutiveBlocksOfOneFileUpToTheRequestSize() throws Exception {
    // 41 blocks (the last short), three blocks, and one short block.
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 3, 40 * PART + 100, 3 * PART, 1000);
    TestBackend backend = new TestBackend();
    try (ModelCache cache = openWithRequests(backend, 4)) {
      CacheEntry entry = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(m.matches(entry.directory())).isTrue();
    }
    // Per file: block-aligned requests of at most four blocks that cover it exactly once. (A run
    // also ends where the fetch order's next write stream starts: the order queued that block
    // earlier.)
    for (var file : m.files.entrySet()) {
      List<TestBackend.Opened> ranges = backend.opened.stream()
          .filter(o -> o.path().equals(file.getKey()))
          .sorted(Comparator.comparingLong(TestBackend.Opened::offsetBytes))
          .toList();
      long next = 0;
      for (TestBackend.Opened r : ranges) {
        assertThat(r.offsetBytes()).as(r.toString()).isEqualTo(next).isEqualTo(next / PART * PART);
        assertThat(r.lengthBytes()).as(r.toString()).isBetween(1L, 4L * PART);
        next += r.lengthBytes();
      }
      assertThat(next).as(file.getKey()).isEqualTo(file.getValue().length);
    }
    assertThat(backend.opened)
        .contains(new TestBackend.Opened("shard-0.bin", 0, 4 * PART))
        .contains(new TestBackend.Opened("shard-1.bin", 0, 3 * PART))
        .hasSizeLessThan((41 + 3 + 1) / 2);
    // Each block read once, one piece per block.
    assertThat(backend.reads).hasValue(41 + 3 + 1);
  }

  @Test
  void aRequestThatFailsMidwayIsRetriedFromTheBlockThatFailed() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 4, 4 * PART);
    TestBackend backend = new TestBackend();
    backend.hook = (o, offset, attempt) -> {
      if (offset == 2 * PART && attempt == 1) {
        throw new IOException("connection reset by the test");
      }
    };
    try (ModelCache cache = openWithRequests(backend, 4)) {
      CacheEntry entry = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(m.matches(entry.directory())).isTrue();
    }
    assertThat(backend.opened)
        .containsExactly(
            new TestBackend.Opened("shard-0.bin", 0, 4 * PART),
            new TestBackend.Opened("shard-0.bin", 2 * PART, 2 * PART));
    String key = backend.opened.getFirst().path();
    assertThat(backend.attempts.entrySet())
        .extracting(
            e -> e.getKey().substring(e.getKey().lastIndexOf('@') + 1),
            e -> e.getValue().get())
        .containsExactlyInAnyOrder(
            tuple("0", 1),
            tuple(String.valueOf(PART), 1),
            tuple(String.valueOf(2 * PART), 2),
            tuple(String.valueOf(3 * PART), 1));
    assertThat(key).isEqualTo("shard-0.bin");
  }

  @Test
  void aDownloadListsItsSourceOnAPlatformThread() throws Exception {
    // A backend's listing does network I/O. On a virtual thread that starts the JDK's I/O poller,
    // a thread in native code for the life of the JVM, and a JVM waits about 300 ms at exit for
    // such a thread: the command would pay it on every run.
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 1, 300_000);
    TestBackend backend = new TestBackend();
    try (ModelCache cache = open(backend, 2, 3)) {
      cache.ensure(TestBackend.source(m), DownloadListener.NONE);
    }
    assertThat(backend.listedOn).hasSize(1);
    assertThat(backend.listedOn.getFirst().isVirtual()).isFalse();
  }

  @Test
  void aThrowingListenerDoesNotBreakTheDownload() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 2, 500_000, 10);
    DownloadListener hostile = new DownloadListener() {
      @Override
      public void started(StartedEvent event) {
        throw new IllegalStateException("boom");
      }

      @Override
      public void progress(ProgressEvent event) {
        throw new IllegalStateException("boom");
      }

      @Override
      public void fileCompleted(FileCompletedEvent event) {
        throw new IllegalStateException("boom");
      }

      @Override
      public void completed(CompletedEvent event) {
        throw new IllegalStateException("boom");
      }
    };
    try (ModelCache cache = open(new TestBackend(), 4, 3)) {
      CacheEntry e = cache.ensure(TestBackend.source(m), hostile);
      assertThat(m.matches(e.directory())).isTrue();
    }
  }

  @Test
  void callersJoiningADownloadEachGetTheWholeLifecycle() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 3, 1 << 20);
    TestBackend backend = new TestBackend();
    backend.readDelayMillis = 20;
    Recorder first = new Recorder();
    Recorder second = new Recorder();
    try (ModelCache cache = open(backend, 2, 3)) {
      CompletableFuture<CacheEntry> a = cache.prefetch(TestBackend.source(m), first);
      CompletableFuture<CacheEntry> b = cache.prefetch(TestBackend.source(m), second);
      assertThat(a.get().directory()).isEqualTo(b.get().directory());
      for (Recorder r : List.of(first, second)) {
        assertThat(r.started).hasValue(1);
        assertThat(r.completed).hasValue(1);
        assertThat(r.failed).hasValue(0);
      }
      assertThat(backend.bytesRead.get()).isEqualTo(m.sizeBytes());
    }
  }

  @Test
  void aFailedDownloadSendsOneFailureWithTheCallersException() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 4, 500_000);
    TestBackend backend = new TestBackend();
    backend.hook = (o, off, attempt) -> {
      if (off == 3 * 65_536) {
        throw new SourceAccessDeniedException("denied: " + o.key() + " at " + off);
      }
    };
    Recorder r = new Recorder();
    try (ModelCache cache = open(backend, 2, 5)) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), r))
          .isInstanceOf(SourceAccessDeniedException.class)
          .satisfies(e -> assertThat(r.failure).isSameAs(e));
      assertThat(r.started).hasValue(1);
      assertThat(r.failed).hasValue(1);
      assertThat(r.completed).hasValue(0);
      assertThat(backend.attempts)
          .as("a permanent error is not retried")
          .allSatisfy((k, v) -> assertThat(v.get()).isEqualTo(1));
      assertThat(cache.list().downloads()).isEmpty();
    }
  }

  @Test
  void retryableFailuresAreRetriedUntilTheRangeSucceeds() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 5, 600_000, 100_000);
    TestBackend backend = new TestBackend();
    backend.hook = (o, off, attempt) -> {
      if (attempt == 1) {
        throw new StorageException("throttled (503) " + o.key(), true);
      }
      if (attempt == 2) {
        throw new IOException("connection reset reading " + o.key());
      }
    };
    try (ModelCache cache = open(backend, 4, 5)) {
      CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(backend.attempts)
          .hasSize(10 + 2)
          .allSatisfy((k, v) -> assertThat(v.get()).as(k).isEqualTo(3));
    }
  }

  @Test
  void exhaustedRetriesFailAndKeepTheProgressForTheNextEnsure() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 6, 2 << 20);
    TestBackend backend = new TestBackend();
    long badOffset = 20 * 65_536;
    backend.hook = (o, off, attempt) -> {
      if (off == badOffset) {
        throw new StorageException("service unavailable", true);
      }
    };
    try (ModelCache cache = open(backend, 2, 3)) {
      ModelSource source = TestBackend.source(m);
      assertThatThrownBy(() -> cache.ensure(source, DownloadListener.NONE))
          .isInstanceOfSatisfying(
              StorageException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessageContaining("shard-0.bin")
          .hasMessageContaining("offset " + badOffset)
          .hasMessageContaining("failed 3 times");
      assertThat(backend.attempts.get(m.dir.resolve("shard-0.bin") + "@" + badOffset))
          .hasValue(3);
      assertThat(cache.getIfPresent(source)).isEmpty();
      assertThat(cache.list().downloads()).singleElement().satisfies(d -> {
        assertThat(d.writerPid()).as("released for others to resume").isEqualTo(-1);
        assertThat(d.bytesDone()).isPositive();
      });

      backend.hook = (o, off, attempt) -> {};
      long before = backend.bytesRead.get();
      Recorder r = new Recorder();
      CacheEntry e = cache.ensure(source, r);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(r.summary.bytesResumed()).isPositive();
      assertThat(backend.bytesRead.get() - before)
          .isEqualTo(r.summary.bytesFetched())
          .isLessThan(m.sizeBytes());
    }
  }

  @Test
  void aResumedFileWithASourceChecksumIsDigestedWholeKeptBlocksIncluded() throws Exception {
    // shard-0 (two blocks) is complete long before the last blocks of shard-1 are read.
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 7, 2 * 65_536, (2 << 20) + 123);
    java.util.Map<String, String> md5 = new java.util.HashMap<>();
    for (var f : m.files.entrySet()) {
      md5.put(
          f.getKey(),
          java.util.HexFormat.of()
              .formatHex(java.security.MessageDigest.getInstance("MD5").digest(f.getValue())));
    }
    TestBackend backend = new TestBackend();
    backend.listing = list -> list.stream()
        .map(o -> new dev.modelcache.core.spi.RemoteObject(
            o.key(),
            o.relativePath(),
            o.sizeBytes(),
            o.etag(),
            null,
            new dev.modelcache.core.spi.SourceChecksum("MD5", md5.get(o.relativePath()))))
        .toList();
    backend.hook = (o, off, attempt) -> {
      if (o.relativePath().equals("shard-1.bin") && off == 31 * 65_536) {
        throw new StorageException("service unavailable", true);
      }
    };
    try (ModelCache cache = open(backend, 2, 1)) {
      ModelSource source = TestBackend.source(m);
      assertThatThrownBy(() -> cache.ensure(source, DownloadListener.NONE))
          .isInstanceOf(StorageException.class);

      backend.hook = (o, off, attempt) -> {};
      Recorder r = new Recorder();
      CacheEntry e = cache.ensure(source, r);
      assertThat(r.summary.bytesResumed()).as("all of shard-0 was kept").isGreaterThan(2 * 65_536);
      assertThat(m.matches(e.directory())).isTrue();
      for (var f : md5.entrySet()) {
        assertThat(e.manifest().file(f.getKey()).orElseThrow().checksum().hex())
            .isEqualTo(f.getValue());
      }
    }
  }

  @Test
  void backoffIsExponentialWithFullJitter() {
    Duration initial = Duration.ofMillis(100);
    Duration max = Duration.ofSeconds(1);
    for (int attempt = 1; attempt <= 8; attempt++) {
      long cap = Math.min(1000, 100L << (attempt - 1));
      long seenMax = 0;
      long seenMin = Long.MAX_VALUE;
      for (int i = 0; i < 300; i++) {
        long d = RangeFetcher.backoffMillis(attempt, initial, max);
        assertThat(d).isBetween(0L, cap);
        seenMax = Math.max(seenMax, d);
        seenMin = Math.min(seenMin, d);
      }
      assertThat(seenMax).as("attempt %d reaches near its cap", attempt).isGreaterThan(cap / 2);
      assertThat(seenMin).as("attempt %d is jittered down", attempt).isLessThan(cap / 2);
    }
  }

  @Test
  void transfersShareOneConcurrencyLimitAndABoundedBufferPool() throws Exception {
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 7, 2 << 20, 1 << 20);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 8, 3 << 20);
    TestBackend backend = new TestBackend();
    backend.readDelayMillis = 1;
    try (ModelCache cache = open(backend, 3, 3)) {
      CompletableFuture<CacheEntry> fa =
          cache.prefetch(TestBackend.source(a), DownloadListener.NONE);
      CompletableFuture<CacheEntry> fb =
          cache.prefetch(TestBackend.source(b), DownloadListener.NONE);
      assertThat(a.matches(fa.get().directory())).isTrue();
      assertThat(b.matches(fb.get().directory())).isTrue();
      assertThat(backend.reads.get()).isEqualTo(96);
      assertThat(backend.maxInFlight.get())
          .as("reads in flight across both downloads")
          .isBetween(2, 3);
      assertThat(cache.host().buffers().allocatedCount())
          .as("buffers ever allocated")
          .isBetween(1, 3);
      assertThat(cache.host().buffers().bufferBytes()).isEqualTo(64 << 10);
    }
  }

  @Test
  void aSourceChecksumIsVerifiedBeforeCommit() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 9, 200_000, 1000);
    java.security.MessageDigest md5 = java.security.MessageDigest.getInstance("MD5");
    String good = java.util.HexFormat.of().formatHex(md5.digest(m.files.get("shard-0.bin")));
    TestBackend backend = new TestBackend();
    java.util.concurrent.atomic.AtomicReference<String> claimed =
        new java.util.concurrent.atomic.AtomicReference<>(good);
    backend.claimChecksum(
        "shard-0.bin", () -> new dev.modelcache.core.spi.SourceChecksum("MD5", claimed.get()));
    try (ModelCache cache = open(backend, 2, 3)) {
      claimed.set("0".repeat(32));
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOfSatisfying(
              IntegrityException.class, e -> assertThat(e.path()).isEqualTo("shard-0.bin"))
          .hasMessageContaining("MD5")
          .hasMessageContaining(good);
      assertThat(cache.list().entries()).isEmpty();
      assertThat(cache.list().downloads()).isEmpty();

      claimed.set(good.toUpperCase(java.util.Locale.ROOT));
      CacheEntry e = cache.ensure(TestBackend.source(m), DownloadListener.NONE);
      assertThat(e.manifest().file("shard-0.bin").orElseThrow().checksum().hex())
          .isEqualTo(good);
      assertThat(cache.verify(TestBackend.source(m)).ok()).isTrue();
    }
  }

  @Test
  void aJournaledBlockDamagedBeforeResumeIsFetchedAgain() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 10, 1 << 20);
    TestBackend backend = new TestBackend();
    backend.hook = (o, off, attempt) -> {
      if (off == 15 * 65_536) {
        throw new StorageException("unavailable", true);
      }
    };
    try (ModelCache cache = open(backend, 1, 1)) {
      ModelSource source = TestBackend.source(m);
      assertThatThrownBy(() -> cache.ensure(source, DownloadListener.NONE))
          .isInstanceOf(StorageException.class);
      Path staged;
      try (var s = Files.list(cache.root().resolve("staging"))) {
        staged = s.findFirst().orElseThrow().resolve("data/shard-0.bin");
      }
      try (var raf = new java.io.RandomAccessFile(staged.toFile(), "rw")) {
        raf.seek(70_000); // inside block 1, which the journal says is done
        raf.write(~m.files.get("shard-0.bin")[70_000]);
      }
      backend.hook = (o, off, attempt) -> {};
      Recorder r = new Recorder();
      CacheEntry e = cache.ensure(source, r);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(r.summary.bytesFetched())
          .as("the missing block and the damaged one")
          .isEqualTo(2 * 65_536);
      assertThat(r.summary.bytesResumed()).isEqualTo(14 * 65_536);
    }
  }

  @Test
  void aBackendGivenToTheCacheStaysTheCallers() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 11, 1000);
    TestBackend backend = new TestBackend();
    ModelCache cache = open(backend, 2, 3);
    cache.ensure(TestBackend.source(m), DownloadListener.NONE);
    cache.close();
    assertThat(backend.closed).as("the caller owns it").isFalse();
  }

  @Test
  void noRoomForEvenOneBufferFailsTheDownloadAtOnceInsteadOfHanging() throws Exception {
    // 16 ranges ask for 8 MiB buffers at once in a JVM that may hold 4 MiB of direct buffers: every
    // allocation fails, and no range may wait for a buffer that was never made.
    try (ChildJvm child = ensureInAChildWithDirectMemory("4m")) {
      child.waitFor(Duration.ofSeconds(60));
      assertThat(child.output())
          .contains("cannot allocate a 8388608-byte transfer buffer")
          .contains("raise -XX:MaxDirectMemorySize")
          .doesNotContain("VERIFY ok");
    }
  }

  @Test
  void tooLittleDirectMemoryLowersConcurrencyInsteadOfFailing() throws Exception {
    // Default settings want 16 buffers of 8 MiB; this JVM may hold only 8 MiB of direct buffers.
    try (ChildJvm child = ensureInAChildWithDirectMemory("8m")) {
      assertThat(child.waitFor(Duration.ofSeconds(60))).as(child.output()).isZero();
      assertThat(child.output())
          .contains("VERIFY ok")
          .contains("direct memory allows only 1 transfer buffers of 8388608 bytes, not 16");
    }
  }

  /** Starts a JVM that ensures a model of two 20 MiB files with default settings and the given direct-memory limit. */
  private ChildJvm ensureInAChildWithDirectMemory(String limit) throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 12, 20 << 20, 20 << 20);
    Path root = Files.createDirectories(tmp.resolve("cache"));
    return ChildJvm.start(
        tmp.resolve("child.log"),
        List.of("-XX:MaxDirectMemorySize=" + limit),
        Map.of(),
        true,
        "ensure",
        root.toString(),
        m.uri("file").toString());
  }
}
