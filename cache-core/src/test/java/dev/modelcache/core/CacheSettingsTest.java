package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits stored with the root: every process applies them, a builder setting overrides them for
 * that process only, and downloads of different models in different processes never together pass
 * the cap.
 */
class CacheSettingsTest {

  @TempDir
  Path tmp;

  @Test
  void settingsRoundTripAndBadFilesAreReportedWithTheirPath() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    CacheSettings s =
        CacheSettings.NONE.withMaxBytes(1_500_000_000_000L).withMinFree(FreeSpace.ofPercent(2.5));
    s.write(root);
    assertThat(Files.readString(CacheSettings.file(root)))
        .isEqualTo(
            "{\n  \"version\": 1,\n  \"maxBytes\": 1500000000000,\n  \"minFree\": \"2.5%\"\n}\n");
    assertThat(CacheSettings.read(root)).isEqualTo(s);
    assertThat(CacheSettings.read(tmp)).isEqualTo(CacheSettings.NONE);

    for (String bad : List.of(
        "{\"version\": 1, \"maxBytes\": \"lots\"}",
        "{\"version\": 2}",
        "{\"maxBytes\": 5}",
        "{\"version\": 1, \"maxSize\": 5}",
        "{\"version\": 1, \"minFree\": \"120%\"}",
        "{\"version\": 1, \"maxBytes\": -4}",
        "not json",
        "[1]")) {
      Files.writeString(CacheSettings.file(root), bad);
      assertThatThrownBy(() -> ModelCache.builder().root(root).build())
          .as(bad)
          .isInstanceOf(CacheRootException.class)
          .hasMessageContaining(CacheSettings.file(root).toString())
          .hasMessageContaining("is not valid");
    }
  }

  @Test
  void theSettingsFileIsReadableByAllUnderANarrowUmask() throws Exception {
    FaultyFileSystem fs = new FaultyFileSystem().createdFileMode("rw-------");
    Path root = Files.createDirectories(fs.wrap(tmp).resolve("cache"));
    CacheSettings.NONE.withMaxBytes(1 << 30).write(root);
    assertThat((Integer) Files.getAttribute(CacheSettings.file(root), "unix:mode") & 0777)
        .isEqualTo(0644);
  }

  @Test
  void theRootsSettingsApplyUnlessThisProcessOverridesThem() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture model = ModelFixture.create(tmp.resolve("m"), 81, 300_000);
    try (ModelCache cache = ModelCache.builder().root(root).build()) {
      CacheLimits defaults = cache.limits();
      assertThat(defaults.maxBytes()).isZero();
      assertThat(defaults.maxBytesSource()).isEqualTo(CacheLimits.Source.DEFAULT);
      long total = Files.getFileStore(root).getTotalSpace();
      assertThat(defaults.minFreeBytes()).isEqualTo(Math.min(1L << 30, total / 20));

      cache.updateSettings(s -> s.withMaxBytes(200_000).withMinFree(FreeSpace.ofBytes(0)));
      CacheLimits now = cache.limits();
      assertThat(now)
          .isEqualTo(new CacheLimits(
              200_000,
              CacheLimits.Source.ROOT_SETTINGS,
              0,
              CacheLimits.Source.ROOT_SETTINGS,
              FreeSpace.ofBytes(0)));
      assertThatThrownBy(() -> cache.ensure(model.source(), DownloadListener.NONE))
          .as("an open cache follows the file")
          .isInstanceOf(InsufficientSpaceException.class)
          .hasMessageContaining("maxBytes 200000 from the root's settings");
    }
    try (ModelCache override = ModelCache.builder()
        .root(root)
        .maxBytes(0)
        .minFree(FreeSpace.ofPercent(1))
        .build()) {
      CacheLimits l = override.limits();
      assertThat(l.maxBytesSource()).isEqualTo(CacheLimits.Source.OVERRIDE);
      assertThat(l.minFreeSource()).isEqualTo(CacheLimits.Source.OVERRIDE);
      assertThat(override.ensure(model.source(), DownloadListener.NONE).sizeBytes())
          .isEqualTo(300_000);
      assertThat(override.settings().maxBytes())
          .as("the override is not written")
          .isEqualTo(OptionalLong.of(200_000));
    }
    try (ModelCache other = ModelCache.builder().root(root).build()) {
      assertThat(other.limits().maxBytes()).isEqualTo(200_000);
      assertThat(other.stats().evictableBytes()).isEqualTo(300_000);
      other.updateSettings(CacheSettings::withoutMaxBytes);
      assertThat(other.limits().maxBytesSource()).isEqualTo(CacheLimits.Source.DEFAULT);
      assertThat(other.settings().minFree()).isEqualTo(Optional.of(FreeSpace.ofBytes(0)));
    }
  }

  @Test
  void twoProcessesDownloadingDifferentModelsNeverTogetherPassTheCap() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 82, 2 << 20, 1 << 20);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 83, 2 << 20, 1 << 20);
    try (ModelCache cache = ModelCache.builder().root(root).build()) {
      cache.updateSettings(s -> s.withMaxBytes(4 << 20)); // one of the two fits
    }
    Path go = tmp.resolve("go");
    Path counts = tmp.resolve("counts");
    Map<String, String> slow = Map.of(
        "modelcache.test.countFile", counts.toString(), "modelcache.test.readDelayMs", "100");
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (ModelFixture m : List.of(a, b)) {
        children.add(ChildJvm.start(
            tmp.resolve("child-" + children.size() + ".log"),
            slow,
            true,
            "ensure",
            root.toString(),
            m.uri("countingfile").toString(),
            Integer.toString(256 << 10),
            "2",
            go.toString()));
      }
      for (ChildJvm c : children) {
        c.awaitLine("READY", Duration.ofSeconds(60));
      }
      Files.createFile(go);
      int succeeded = 0;
      int refused = 0;
      for (ChildJvm c : children) {
        int status = c.waitFor(Duration.ofSeconds(120));
        if (status == 0) {
          succeeded++;
        } else {
          assertThat(c.output())
              .contains("ERROR InsufficientSpaceException")
              .contains("from the root's settings");
          refused++;
        }
      }
      assertThat(succeeded).as("one download fits").isEqualTo(1);
      assertThat(refused).isEqualTo(1);
      assertThat(CountingFileBackend.countedBytes(counts))
          .as("the refused one read nothing: refused before it fetched")
          .isEqualTo(3 << 20);
    } finally {
      children.forEach(ChildJvm::close);
    }
    try (ModelCache cache = ModelCache.builder().root(root).build()) {
      assertThat(cache.list().entryBytes()).isLessThanOrEqualTo(4 << 20);
      assertThat(cache.list().downloads()).isEmpty();
    }
  }

  @Test
  void underTheRootsCapEvictionSkipsAnotherProcesssLeaseAndGoesByLastUse() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 84, 100_000);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 85, 100_000);
    ModelFixture c = ModelFixture.create(tmp.resolve("c"), 86, 100_000);
    ModelFixture d = ModelFixture.create(tmp.resolve("d"), 87, 100_000);
    try (ModelCache writer = ModelCache.builder().root(root).build()) {
      writer.updateSettings(s -> s.withMaxBytes(300_000));
    }
    try (ModelCache cache =
        ModelCache.builder().root(root).partSizeBytes(64 << 10).build()) {
      for (ModelFixture m : List.of(a, b, c)) {
        cache.ensure(m.source(), DownloadListener.NONE);
      }
      try (ChildJvm holder = ChildJvm.start(
          tmp.resolve("holder.log"),
          Map.of(),
          true,
          "lease",
          root.toString(),
          a.uri("file").toString())) {
        holder.awaitLine("LEASED", Duration.ofSeconds(60));
        // Last use, oldest first: a (leased by the other process), b, c.
        Map<ModelFixture, String> lastUse = Map.of(a, "1000000", b, "2000000", c, "3000000");
        for (var e : lastUse.entrySet()) {
          Files.writeString(
              root.resolve("meta").resolve(e.getKey().source().cacheName() + ".used"),
              e.getValue());
        }
        cache.ensure(d.source(), DownloadListener.NONE);
        assertThat(cache.getIfPresent(a.source()))
            .as("least recently used, but leased elsewhere")
            .isPresent();
        assertThat(cache.getIfPresent(b.source())).as("the oldest unleased one").isEmpty();
        assertThat(cache.getIfPresent(c.source())).isPresent();
        assertThat(cache.list().entryBytes()).isLessThanOrEqualTo(300_000);
      }
    }
  }
}
