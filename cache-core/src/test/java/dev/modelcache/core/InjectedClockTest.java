package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Waits for another download and {@code await} timeouts run on the builder's clock: with a manual
 * ticker they take no real time, and their arithmetic is exact. (Least-recently-used order on the
 * same clock: {@link ModelCacheTest}.)
 */
class InjectedClockTest {

  @TempDir
  Path tmp;

  private ModelCache open(Path root, ManualTicker ticker) throws Exception {
    // Kernel locks: a heartbeat root would judge a lock holder by the manual clock's minutes.
    return ModelCache.builder()
        .root(root)
        .liveness(Liveness.LOCKS)
        .clock(ticker)
        .pollInterval(Duration.ofSeconds(1))
        .partSizeBytes(64 << 10)
        .concurrency(2)
        .build();
  }

  /** Takes the model's download lock, as another process downloading it would hold it. */
  private static FileLocks.Held downloadLockOf(Path root, ModelFixture m) throws Exception {
    return FileLocks.tryLock(new CacheLayout(root).downloadLock(m.source().cacheName()))
        .orElseThrow();
  }

  @Test
  void awaitTimesOutWhenItsTickerSaysSoPollingOncePerInterval() throws Exception {
    ManualTicker ticker = new ManualTicker();
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelSource nobody = ModelSource.of(tmp.resolve("never").toUri());
    try (ModelCache cache = open(root, ticker)) {
      assertThatThrownBy(() -> cache.await(nobody, Duration.ofMinutes(10)))
          .isInstanceOfSatisfying(
              CacheTimeoutException.class,
              e -> assertThat(e.timeout()).isEqualTo(Duration.ofMinutes(10)))
          .hasMessageContaining("no process committed " + nobody + " within PT10M");
    }
    assertThat(ticker.pauses())
        .as("one pause of the 1 s poll interval per look")
        .isEqualTo(600);
    assertThat(ticker.elapsed()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void ensureWaitsForTheDownloadLockHolderUntilItsDeadline() throws Exception {
    ManualTicker ticker = new ManualTicker();
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 71, 100_000);
    try (ModelCache cache = open(root, ticker);
        FileLocks.Held other = downloadLockOf(root, m)) {
      assertThatThrownBy(() -> cache.ensure(
              m.source(),
              EnsureOptions.DEFAULTS.withWaitTimeout(Duration.ofMinutes(5)),
              DownloadListener.NONE))
          .isInstanceOfSatisfying(
              CacheTimeoutException.class,
              e -> assertThat(e.timeout()).isEqualTo(Duration.ofMinutes(5)))
          .hasMessageContaining(
              "another process did not finish downloading " + m.source() + " within PT5M");
      assertThat(ticker.pauses()).isEqualTo(300);
      assertThat(cache.getIfPresent(m.source())).isEmpty();

      CacheEntry e = cache.ensure(
          m.source(),
          EnsureOptions.DEFAULTS
              .withWaitTimeout(Duration.ofSeconds(30))
              .withDownloadAfterWait(true),
          DownloadListener.NONE);
      assertThat(m.matches(e.directory()))
          .as("downloaded beside the holder after 30 s")
          .isTrue();
      assertThat(ticker.pauses()).isEqualTo(330);
    }
  }

  @Test
  void aWaiterTakesOverTheDownloadOnceTheHolderLetsGo() throws Exception {
    ManualTicker ticker = new ManualTicker();
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 72, 100_000);
    try (ModelCache cache = open(root, ticker);
        FileLocks.Held other = downloadLockOf(root, m)) {
      ticker.afterPause = n -> {
        if (n == 3) {
          other.close();
        }
      };
      CacheEntry e = cache.ensure(
          m.source(),
          EnsureOptions.DEFAULTS.withWaitTimeout(Duration.ofMinutes(5)),
          DownloadListener.NONE);
      assertThat(m.matches(e.directory())).isTrue();
      assertThat(ticker.pauses()).as("it looked again after each poll interval").isEqualTo(3);
    }
  }
}
