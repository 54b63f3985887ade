package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a downloading JVM at several points, then lets a fresh JVM finish: the finished entry
 * is complete and verified, the last process reads far less than the whole model, the source is
 * read little more than once in total, and no other process ever saw an incomplete entry.
 */
class CrashResumeTest {

  private static final int PART = 256 << 10;
  private static final int CONCURRENCY = 2;

  @TempDir
  Path tmp;

  @Test
  void killedDownloadsResumeAndNothingIncompleteIsEverVisible() throws Exception {
    ModelFixture model =
        ModelFixture.create(tmp.resolve("model"), 41, 6 << 20, 5 << 20, 3 << 20, 2 << 20, 123_457);
    long total = model.sizeBytes();
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Path counts = tmp.resolve("counts.txt");
    String uri = model.uri("countingfile").toString();
    ModelSource source = ModelSource.of(java.net.URI.create(uri));
    Map<String, String> props =
        Map.of("modelcache.test.countFile", counts.toString(), "modelcache.test.readDelayMs", "40");

    // Another process (this JVM) watches the root the whole time.
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<String> violation = new AtomicReference<>();
    AtomicLong inProgressSeen = new AtomicLong();
    AtomicBoolean mayBeComplete = new AtomicBoolean();
    Thread watcher = Thread.ofPlatform().start(() -> {
      try (ModelCache observer = ModelCache.builder().root(root).build()) {
        while (!stop.get()) {
          boolean allowed = mayBeComplete.get();
          CacheListing listing = observer.list();
          boolean visible =
              observer.getIfPresent(source).isPresent() || !listing.entries().isEmpty();
          if (visible && !allowed) {
            violation.set("an entry was visible before the final process finished: " + listing);
          }
          for (DownloadStatus d : listing.downloads()) {
            assertThat(d.bytesTotal()).isEqualTo(total);
            inProgressSeen.accumulateAndGet(d.bytesDone(), Math::max);
          }
          Thread.sleep(3);
        }
      } catch (Exception | AssertionError e) {
        violation.compareAndSet(null, "watcher failed: " + e);
      }
    });

    try {
      // Kill points: while setting up, then after about 20%, 50% and 80% of the model was read.
      double[] killAt = {0.0, 0.2, 0.5, 0.8};
      for (int i = 0; i < killAt.length; i++) {
        try (ChildJvm child = ChildJvm.start(
            tmp.resolve("killed-" + i + ".log"),
            props,
            i % 2 == 0,
            "ensure",
            root.toString(),
            uri,
            Integer.toString(PART),
            Integer.toString(CONCURRENCY))) {
          child.awaitLine("READY", Duration.ofSeconds(60));
          long threshold = (long) (killAt[i] * total);
          long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (CountingFileBackend.countedBytes(counts) < threshold
              && System.nanoTime() < deadline) {
            Thread.sleep(2);
          }
          child.kill();
          assertThat(child.output()).doesNotContain("DIR ");
        }
      }
      long readBeforeFinal = CountingFileBackend.countedBytes(counts);
      assertThat(readBeforeFinal).isGreaterThanOrEqualTo((long) (0.8 * total));

      mayBeComplete.set(true);
      ChildJvm last = ChildJvm.start(
          tmp.resolve("final.log"),
          props,
          true,
          "ensure",
          root.toString(),
          uri,
          Integer.toString(PART),
          Integer.toString(CONCURRENCY));
      try (last) {
        assertThat(last.waitFor(Duration.ofSeconds(120))).as(last.output()).isZero();
      }
      String out = last.output();
      assertThat(out).contains("VERIFY ok");
      String[] downloaded = out.lines()
          .filter(l -> l.startsWith("DOWNLOADED "))
          .findFirst()
          .orElseThrow()
          .split(" ");
      long fetched = Long.parseLong(downloaded[1]);
      long resumed = Long.parseLong(downloaded[2]);
      assertThat(fetched + resumed).isEqualTo(total);
      assertThat(fetched).as("bytes the final process read").isLessThan(total / 3);
      long readByFinal = linesOf(counts, last.process.pid());
      System.out.printf(
          "crash/resume: model %d bytes; read before the final run %d; final run fetched %d, resumed %d;"
              + " read in total %d%n",
          total, readBeforeFinal, fetched, resumed, CountingFileBackend.countedBytes(counts));
      assertThat(readByFinal).isEqualTo(fetched);
      // Each kill can lose only the ranges in flight: at most CONCURRENCY parts.
      assertThat(CountingFileBackend.countedBytes(counts))
          .as("bytes read from the source in total")
          .isLessThanOrEqualTo(total + (long) killAt.length * CONCURRENCY * PART);

      stop.set(true);
      watcher.join();
      assertThat(violation.get()).isNull();
      assertThat(inProgressSeen.get())
          .as("list() showed the download in progress")
          .isPositive();

      try (ModelCache cache = ModelCache.builder().root(root).build()) {
        CacheEntry entry = cache.getIfPresent(source).orElseThrow();
        assertThat(model.matches(entry.directory())).isTrue();
        assertThat(cache.list().downloads()).isEmpty();
      }
      try (var staging = Files.list(root.resolve("staging"))) {
        assertThat(staging).as("debris of killed writers is gone").isEmpty();
      }
    } finally {
      stop.set(true);
      watcher.join();
    }
  }

  private static long linesOf(Path counts, long pid) throws Exception {
    long total = 0;
    for (String line : Files.readAllLines(counts, StandardCharsets.US_ASCII)) {
      String[] parts = line.split(" ");
      if (Long.parseLong(parts[0]) == pid) {
        total += Long.parseLong(parts[1]);
      }
    }
    return total;
  }
}
