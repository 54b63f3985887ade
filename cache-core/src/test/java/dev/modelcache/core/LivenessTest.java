package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a root decides and records its liveness, and what holder files promise in one JVM. */
class LivenessTest {

  @TempDir
  Path tmp;

  @Test
  void theFirstProcessDecidesAndTheRootRecordsItForEveryLaterOne() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    try (ModelCache first = ModelCache.builder()
        .root(root)
        .liveness(Liveness.HEARTBEAT)
        .heartbeatExpiry(Duration.ofSeconds(12))
        .build()) {
      assertThat(first.liveness()).isEqualTo(Liveness.HEARTBEAT);
    }
    assertThat(Files.readString(root.resolve("liveness")))
        .isEqualTo("mode=heartbeat\nexpiryMillis=12000\n");
    try (ModelCache later = ModelCache.builder().root(root).build()) {
      assertThat(later.liveness()).as("AUTO takes the root's choice").isEqualTo(Liveness.HEARTBEAT);
      CacheStats stats = later.stats();
      assertThat(stats.liveness()).isEqualTo(Liveness.HEARTBEAT);
      assertThat(stats.heartbeatExpiry()).isEqualTo(Duration.ofSeconds(12));
    }
    assertThatThrownBy(
            () -> ModelCache.builder().root(root).liveness(Liveness.LOCKS).build())
        .isInstanceOf(CacheRootException.class)
        .hasMessageContaining("liveness by heartbeat (expiry PT12S)")
        .hasMessageContaining("LOCKS")
        .hasMessageContaining(root.resolve("liveness").toString());
  }

  @Test
  void aLocalFileSystemGetsKernelLocks() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    try (ModelCache cache = ModelCache.builder().root(root).build()) {
      assertThat(Files.getFileStore(root).type()).isIn("ext4", "xfs", "btrfs", "tmpfs", "overlay");
      assertThat(cache.liveness()).isEqualTo(Liveness.LOCKS);
    }
    assertThat(Files.readString(root.resolve("liveness"))).isEqualTo("mode=locks\n");
  }

  @Test
  void aDamagedRecordIsReportedNotGuessed() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Files.writeString(root.resolve("liveness"), "mode=sometimes\n");
    assertThatThrownBy(() -> ModelCache.builder().root(root).build())
        .isInstanceOf(CacheRootException.class)
        .hasMessageContaining("mode=sometimes")
        .hasMessageContaining("mode=locks");
  }

  @Test
  void probingOurOwnLeaseFromAnotherCacheInThisJvmNeverDropsItsLock() throws Exception {
    // POSIX locks die with any descriptor of the file this process closes: a probe that opened our
    // own lease file would release the lease for every other process.
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 71, 100_000);
    try (ModelCache one = ModelCache.builder().root(root).build();
        ModelCache two = ModelCache.builder().root(root).build()) {
      CacheEntry entry = one.ensure(model.source(), DownloadListener.NONE);
      try (Lease lease = one.lease(entry)) {
        for (int i = 0; i < 20; i++) {
          assertThat(two.getIfPresent(model.source()).orElseThrow().leaseCount())
              .isEqualTo(1);
          assertThat(two.list().entries().getFirst().leases())
              .singleElement()
              .satisfies(
                  h -> assertThat(h.pid()).isEqualTo(ProcessHandle.current().pid()));
        }
        try (ChildJvm other = ChildJvm.start(
            tmp.resolve("evict.log"),
            Map.of(),
            true,
            "evict",
            root.toString(),
            model.uri("file").toString())) {
          assertThat(other.waitFor(Duration.ofSeconds(60))).as(other.output()).isEqualTo(3);
          assertThat(other.output())
              .as("another process still sees the lease")
              .contains("ERROR EntryInUseException");
        }
        assertThat(lease.isClosed()).isFalse();
      }
      assertThat(one.evict(model.source())).isTrue();
    }
  }

  @Test
  void underHeartbeatsAHolderLivesUntilItsFileGoesUnrenewedForTheExpiry() throws Exception {
    Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
    AtomicReference<Instant> now = new AtomicReference<>(t0);
    HolderFiles holders = new HolderFiles(Liveness.HEARTBEAT, Duration.ofSeconds(30), now::get);
    Path theirs = Files.writeString(
        tmp.resolve("pid-1-lease"), "pid=1 host=pod-a uid=1000 since=" + t0 + "\n");
    Files.setLastModifiedTime(theirs, FileTime.from(t0));

    now.set(t0.plusSeconds(29));
    assertThat(holders.isAlive(theirs)).as("renewed 29 s ago").isTrue();
    now.set(t0.plusSeconds(31));
    assertThat(holders.isAlive(theirs)).as("not renewed for 31 s").isFalse();
    assertThat(holders.isAlive(tmp.resolve("missing"))).isFalse();
    assertThat(holders.holder(theirs)).isEqualTo(new Holder(1, "pod-a", 1000, t0));
  }

  @Test
  void underHeartbeatsOurOwnHolderFilesAreRenewedWithTheClock() throws Exception {
    Instant past = Instant.parse("2020-01-01T00:00:00Z");
    HolderFiles holders = new HolderFiles(Liveness.HEARTBEAT, Duration.ofMillis(300), () -> past);
    Path file = tmp.resolve("owner");
    try (HolderFiles.Held held = holders.create(file)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!Files.getLastModifiedTime(file).toInstant().equals(past)
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(Files.getLastModifiedTime(file).toInstant())
          .as("renewed every 100 ms")
          .isEqualTo(past);
      assertThat(holders.isAlive(file))
          .as("a holder of this JVM is alive to it, never probed")
          .isTrue();
      assertThat(Files.readString(file))
          .startsWith("pid=" + ProcessHandle.current().pid() + " ");
      assertThat((Integer) Files.getAttribute(file, "unix:mode") & 0777)
          .as("readable by every user")
          .isEqualTo(0644);
    }
    assertThat(Files.exists(file)).as("closing removes it").isFalse();
  }
}
