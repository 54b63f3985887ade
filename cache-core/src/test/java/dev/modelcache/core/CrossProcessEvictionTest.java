package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eviction under a size limit and under a free-space watermark while another JVM holds a lease:
 * the leased entry is skipped, pinned entries stay, a model that cannot fit fails at once with the
 * bytes needed and available, and once the other process lets go (or dies) its entry may go. This
 * process's clock is a manual ticker set an hour ahead, so that the leased entry is always the least
 * recently used; kernel locks, so that the hour does not age the other process's lease.
 */
class CrossProcessEvictionTest {

  @TempDir
  Path tmp;

  @Test
  void sizeLimitEvictsAroundAnotherProcesssLease() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 1, 100_000);
    ModelFixture c = ModelFixture.create(tmp.resolve("c"), 2, 100_000);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 3, 150_000);
    ModelFixture d = ModelFixture.create(tmp.resolve("d"), 4, 100_000);
    ManualTicker ticker = new ManualTicker();
    try (ModelCache cache = ModelCache.builder()
        .root(root)
        .liveness(Liveness.LOCKS)
        .clock(ticker)
        .maxBytes(260_000)
        .partSizeBytes(64 << 10)
        .build()) {
      cache.ensure(a.source(), DownloadListener.NONE);
      // Later than the other process's use of A (its lease, below) on the real clock.
      ticker.advance(Duration.ofHours(1));
      cache.ensure(c.source(), DownloadListener.NONE);

      try (ChildJvm holder = ChildJvm.start(
          tmp.resolve("holder.log"),
          Map.of(),
          true,
          "lease",
          root.toString(),
          a.uri("file").toString())) {
        holder.awaitLine("LEASED", Duration.ofSeconds(60));
        assertThat(cache.getIfPresent(a.source()).orElseThrow().leaseCount()).isEqualTo(1);

        // A is least recently used but leased elsewhere: C goes instead.
        cache.ensure(b.source(), DownloadListener.NONE);
        assertThat(cache.getIfPresent(a.source())).isPresent();
        assertThat(cache.getIfPresent(c.source())).isEmpty();
        assertThat(cache.getIfPresent(b.source())).isPresent();
        assertThatThrownBy(() -> cache.evict(a.source()))
            .isInstanceOf(EntryInUseException.class)
            .hasMessageContaining("lease");

        // Only the leased A could make room for D, and B is pinned: fail at once, evict nothing.
        cache.pin(b.source());
        assertThatThrownBy(() -> cache.ensure(d.source(), DownloadListener.NONE))
            .isInstanceOfSatisfying(InsufficientSpaceException.class, e -> {
              assertThat(e.bytesNeeded()).isEqualTo(100_000);
              assertThat(e.bytesAvailable()).isEqualTo(10_000);
              assertThat(e.getMessage())
                  .contains("100000")
                  .contains("10000")
                  .contains(d.source().toString());
            });
        assertThat(cache.list().entries()).hasSize(2);
        try (var staging = Files.list(root.resolve("staging"))) {
          assertThat(staging).isEmpty();
        }

        holder.process.getOutputStream().close(); // the holder closes its lease and exits
        assertThat(holder.waitFor(Duration.ofSeconds(30))).isZero();
      }
      CacheEntry dEntry = cache.ensure(d.source(), DownloadListener.NONE);
      assertThat(d.matches(dEntry.directory())).isTrue();
      assertThat(cache.getIfPresent(a.source())).isEmpty();
      assertThat(cache.getIfPresent(b.source())).as("pinned").isPresent();
      assertThat(cache.list().entryBytes()).isLessThanOrEqualTo(260_000);
    }
  }

  @Test
  void watermarkEvictsAroundALeaseAndADeadHoldersLeaseIsStale() throws Exception {
    try (Tmpfs fs = Tmpfs.mount(tmp.resolve("fs"), "size=16m")) {
      Path root = Files.createDirectories(fs.dir.resolve("cache"));
      ModelFixture x = ModelFixture.create(tmp.resolve("x"), 5, 4 << 20);
      ModelFixture y = ModelFixture.create(tmp.resolve("y"), 6, 4 << 20);
      ModelFixture z = ModelFixture.create(tmp.resolve("z"), 7, 4 << 20);
      ModelFixture w = ModelFixture.create(tmp.resolve("w"), 8, 8 << 20);
      ManualTicker ticker = new ManualTicker();
      try (ModelCache cache = ModelCache.builder()
          .root(root)
          .liveness(Liveness.LOCKS)
          .clock(ticker)
          .minFreeBytes(6 << 20)
          .partSizeBytes(1 << 20)
          .build()) {
        cache.ensure(x.source(), DownloadListener.NONE);
        try (ChildJvm holder = ChildJvm.start(
            tmp.resolve("holder.log"),
            Map.of(),
            true,
            "lease",
            root.toString(),
            x.uri("file").toString())) {
          holder.awaitLine("LEASED", Duration.ofSeconds(60));
          ticker.advance(
              Duration.ofHours(1)); // Y used after X's lease, which the other process stamped
          cache.ensure(y.source(), DownloadListener.NONE); // about 8 MiB left free

          cache.ensure(
              z.source(), DownloadListener.NONE); // would leave < 6 MiB: Y goes, not leased X
          assertThat(cache.getIfPresent(y.source())).isEmpty();
          assertThat(cache.getIfPresent(x.source())).isPresent();
          assertThat(fs.usableBytes()).isGreaterThanOrEqualTo(6 << 20);

          // W needs 8 MiB: even evicting Z leaves too little while X is leased.
          assertThatThrownBy(() -> cache.ensure(w.source(), DownloadListener.NONE))
              .isInstanceOfSatisfying(
                  InsufficientSpaceException.class,
                  e -> assertThat(e.bytesNeeded()).isEqualTo(8 << 20));
          assertThat(cache.getIfPresent(z.source()))
              .as("nothing evicted in vain")
              .isPresent();

          holder.kill(); // SIGKILL: its lease file stays behind, naming a dead process
        }
        CacheEntry we = cache.ensure(w.source(), DownloadListener.NONE);
        assertThat(w.matches(we.directory())).isTrue();
        assertThat(cache.getIfPresent(x.source())).isEmpty();
        assertThat(fs.usableBytes()).isGreaterThanOrEqualTo(6 << 20);
        try (var leases = Files.walk(root.resolve("leases"))) {
          assertThat(leases.filter(Files::isRegularFile))
              .as("stale lease files removed")
              .isEmpty();
        }
      }
    }
  }
}
