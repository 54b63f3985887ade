package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Waiting for another process's download (with a timeout, or without downloading at all), and
 * writers that do not wait for each other at all, as happens where file locks are no-ops: the
 * first rename wins, the others discard their copies, and every process ends with the same files.
 */
class WaitingAndParallelWritersTest {

  @TempDir
  Path tmp;

  @Test
  void waitersTimeOutOrAwaitAnotherProcesssCommitWithoutReading() throws Exception {
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 51, 4 << 20, 4 << 20);
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Path counts = tmp.resolve("counts.txt");
    String uri = model.uri("countingfile").toString();
    ModelSource source = ModelSource.of(URI.create(uri));
    try (ChildJvm child = ChildJvm.start(
            tmp.resolve("child.log"),
            Map.of(
                "modelcache.test.countFile",
                counts.toString(),
                "modelcache.test.readDelayMs",
                "60"),
            true,
            "ensure",
            root.toString(),
            uri,
            Integer.toString(256 << 10),
            "2");
        ModelCache cache =
            ModelCache.builder().root(root).pollInterval(Duration.ofMillis(20)).build()) {
      child.awaitLine("READY", Duration.ofSeconds(60));
      while (CountingFileBackend.countedBytes(counts) == 0) {
        Thread.sleep(5);
      }

      assertThat(cache.list().downloads())
          .singleElement()
          .satisfies(d -> assertThat(d.writerPid()).isEqualTo(child.process.pid()));
      assertThatThrownBy(() -> cache.ensure(
              source,
              EnsureOptions.DEFAULTS.withWaitTimeout(Duration.ofMillis(100)),
              DownloadListener.NONE))
          .isInstanceOfSatisfying(
              CacheTimeoutException.class,
              e -> assertThat(e.timeout()).isEqualTo(Duration.ofMillis(100)))
          .hasMessageContaining("another process did not finish downloading " + source)
          .hasMessageMatching("(?s).*at \\d+ of " + model.sizeBytes() + " bytes.*");

      CacheEntry entry = cache.await(source, Duration.ofSeconds(60));
      assertThat(model.matches(entry.directory())).isTrue();
      assertThat(child.waitFor(Duration.ofSeconds(60))).isZero();
      assertThat(CountingFileBackend.countedBytes(counts))
          .as("only the child read the source")
          .isEqualTo(model.sizeBytes());
      assertThat(cache.stats().bytesFetched()).isZero();

      ModelSource nobody = ModelSource.of(tmp.resolve("never").toUri());
      assertThatThrownBy(() -> cache.await(nobody, Duration.ofMillis(150)))
          .isInstanceOf(CacheTimeoutException.class)
          .hasMessageContaining("no process committed");
    }
  }

  @Test
  void writersThatIgnoreEachOtherStillCommitOneCompleteCopy() throws Exception {
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 52, 2 << 20, 1 << 20, 333_333);
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Path counts = tmp.resolve("counts.txt");
    Path go = tmp.resolve("go");
    String uri = model.uri("countingfile").toString();
    Map<String, String> props = Map.of(
        "modelcache.test.countFile",
        counts.toString(),
        "modelcache.test.readDelayMs",
        "50",
        "modelcache.test.parallel",
        "true");
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        children.add(ChildJvm.start(
            tmp.resolve("w" + i + ".log"),
            props,
            true,
            "ensure",
            root.toString(),
            uri,
            Integer.toString(128 << 10),
            "2",
            go.toString()));
      }
      for (ChildJvm c : children) {
        c.awaitLine("READY", Duration.ofSeconds(60));
      }
      Files.createFile(go);
      List<String> dirs = new ArrayList<>();
      for (ChildJvm c : children) {
        assertThat(c.waitFor(Duration.ofSeconds(90))).as(c.output()).isZero();
        assertThat(c.output()).contains("VERIFY ok");
        dirs.add(c.awaitLine("DIR ", Duration.ofSeconds(1)).substring(4));
      }
      assertThat(CountingFileBackend.countedBytes(counts))
          .as("several writers really ran at once")
          .isGreaterThan(model.sizeBytes());
      assertThat(dirs).allMatch(d -> d.equals(dirs.getFirst()));
      assertThat(model.matches(Path.of(dirs.getFirst()))).isTrue();
      try (var entries = Files.list(root.resolve("entries"));
          var staging = Files.list(root.resolve("staging"))) {
        assertThat(entries).hasSize(1);
        assertThat(staging).as("losers discarded their copies").isEmpty();
      }
    } finally {
      for (ChildJvm c : children) {
        c.close();
      }
    }
  }

  @Test
  void underKernelLocksAHeldDownloadLockIsNeverJudgedStale() throws Exception {
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 53, 100_000);
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelCache.builder().root(root).liveness(Liveness.LOCKS).build().close();
    try (ChildJvm holder = ChildJvm.start(
            tmp.resolve("holder.log"),
            Map.of(),
            true,
            "holdlock",
            root.toString(),
            model.uri("file").toString());
        ModelCache cache = ModelCache.builder()
            .root(root)
            .pollInterval(Duration.ofMillis(20))
            .clock(() -> Instant.now().plus(Duration.ofDays(1)))
            .build()) {
      holder.awaitLine("LOCKED", Duration.ofSeconds(60));
      // However old the lock file looks, a lock the kernel says is held has a live holder.
      assertThatThrownBy(() -> cache.ensure(
              model.source(),
              EnsureOptions.DEFAULTS.withWaitTimeout(Duration.ofMillis(500)),
              DownloadListener.NONE))
          .isInstanceOf(CacheTimeoutException.class);
      holder.process.getOutputStream().close(); // the holder lets go and exits
      assertThat(holder.waitFor(Duration.ofSeconds(30))).isZero();
      CacheEntry e = cache.ensure(model.source(), DownloadListener.NONE);
      assertThat(model.matches(e.directory())).isTrue();
    }
  }

  @Test
  void underHeartbeatsALockThatOutlivedItsHolderDoesNotBlockForever() throws Exception {
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 53, 100_000);
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Duration expiry = Duration.ofSeconds(5);
    ModelCache.builder()
        .root(root)
        .liveness(Liveness.HEARTBEAT)
        .heartbeatExpiry(expiry)
        .build()
        .close();
    // The child holds the kernel lock and never renews the file: a lock kept by a file system for a
    // holder that is gone.
    try (ChildJvm holder = ChildJvm.start(
        tmp.resolve("holder.log"),
        Map.of(),
        true,
        "holdlock",
        root.toString(),
        model.uri("file").toString())) {
      holder.awaitLine("LOCKED", Duration.ofSeconds(60));
      try (ModelCache fresh =
          ModelCache.builder().root(root).pollInterval(Duration.ofMillis(20)).build()) {
        assertThat(fresh.liveness()).as("recorded by the root").isEqualTo(Liveness.HEARTBEAT);
        assertThatThrownBy(() -> fresh.ensure(
                model.source(),
                EnsureOptions.DEFAULTS.withWaitTimeout(Duration.ofMillis(300)),
                DownloadListener.NONE))
            .as("renewed within the expiry: the holder counts as alive")
            .isInstanceOf(CacheTimeoutException.class);
      }
      try (ModelCache later = ModelCache.builder()
          .root(root)
          .pollInterval(Duration.ofMillis(20))
          .clock(() -> Instant.now().plus(expiry.multipliedBy(2)))
          .build()) {
        CacheEntry e = later.ensure(
            model.source(),
            EnsureOptions.DEFAULTS.withWaitTimeout(Duration.ofSeconds(60)),
            DownloadListener.NONE);
        assertThat(model.matches(e.directory())).isTrue();
      }
      assertThat(holder.process.isAlive())
          .as("the lock was really held all along")
          .isTrue();
    }
  }
}
