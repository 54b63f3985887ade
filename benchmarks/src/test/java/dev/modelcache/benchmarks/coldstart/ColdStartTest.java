package dev.modelcache.benchmarks.coldstart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.SafetensorsModel;
import dev.modelcache.loader.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The measurements the suite relies on: each ColdStart mode moves the whole model, a cached load
 * refuses to run on a warm entry, and the page-cache states are what they claim. Files live in
 * a directory under target/, on the build's disk (a tmpfs /tmp could not drop pages).
 */
class ColdStartTest {
  static Path dir;
  static Path model;
  static long dataBytes;
  static long fileBytes;

  @BeforeAll
  static void writeModel() throws IOException {
    Files.createDirectories(Path.of("target"));
    dir = Files.createTempDirectory(Path.of("target"), "coldstart-test").toAbsolutePath();
    model = dir.resolve("model");
    Files.createDirectories(model);
    SafetensorsWriter w = SafetensorsWriter.create();
    w.tensor("a", Dtype.BF16, new long[] {512, 1024}, ColdStartTest::fill);
    w.tensor("b", Dtype.F32, new long[] {1000, 777}, ColdStartTest::fill);
    w.write(model.resolve("model.safetensors"));
    dataBytes = SafetensorsModel.open(model).dataSizeBytes();
    fileBytes = Files.size(model.resolve("model.safetensors"));
  }

  @AfterAll
  static void deleteAll() throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        p.toFile().setWritable(true);
        if (p.getParent() != null) {
          p.getParent().toFile().setWritable(true);
        }
        Files.deleteIfExists(p);
      }
    }
  }

  private static void fill(long offset, java.lang.foreign.MemorySegment chunk) {
    SplittableRandom r = new SplittableRandom(offset);
    for (long p = 0; p + 8 <= chunk.byteSize(); p += 8) {
      chunk.set(ValueLayout.JAVA_LONG_UNALIGNED, p, r.nextLong());
    }
  }

  private static long field(String line, String name) {
    Matcher m = Pattern.compile(name + "=(\\d+)").matcher(line);
    assertThat(m.find()).as(line).isTrue();
    return Long.parseLong(m.group(1));
  }

  @Test
  void downloadThenCachedLoadMoveTheWholeModelAndTheCachedLoadMustBeCold() throws Exception {
    Path cache = dir.resolve("cache");
    String source = model.toUri().toString();
    String first = ColdStart.run("download-load", cache.toString(), source);
    assertThat(first).startsWith("COLDSTART mode=download-load ");
    assertThat(field(first, "bytes")).isEqualTo(fileBytes);

    // Just downloaded, the entry is in the page cache: a "cold" cached load must refuse.
    assertThatThrownBy(() -> ColdStart.run("cached-load", cache.toString(), source))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("resident");

    Path entries = cache.resolve("entries");
    Residency.drop(Residency.regularFiles(entries));
    String cached = ColdStart.run("cached-load", cache.toString(), source);
    assertThat(field(cached, "bytes")).isEqualTo(fileBytes);
    assertThat(field(cached, "hwm")).isPositive();
  }

  @Test
  void aReadThroughMovesTheWholeModelOnceAndLeavesItCached() throws Exception {
    Path cache = dir.resolve("cache-read-through");
    String source = model.toUri().toString();
    String line = ColdStart.run("read-through", cache.toString(), source, "--part-bytes", "65536");
    assertThat(line).startsWith("COLDSTART mode=read-through ");
    assertThat(field(line, "bytes")).isEqualTo(fileBytes);
    assertThatThrownBy(() -> ColdStart.run("read-through", cache.toString(), source))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already cached");
  }

  @Test
  void aDownloadCachesTheModelAndLoadsNothing() throws Exception {
    Path cache = dir.resolve("cache-download");
    String source = model.toUri().toString();
    String line = ColdStart.run("download", cache.toString(), source);
    assertThat(line).startsWith("COLDSTART mode=download ");
    assertThat(field(line, "bytes")).isEqualTo(fileBytes);
    assertThat(line).contains(" load_s=0.000 ");
    // Cached whole: a cached load now finds it (once its pages are dropped).
    Residency.drop(Residency.regularFiles(cache.resolve("entries")));
    assertThat(field(ColdStart.run("cached-load", cache.toString(), source), "bytes"))
        .isEqualTo(fileBytes);
    assertThatThrownBy(() -> ColdStart.run("download", cache.toString(), source))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already cached");
  }

  @Test
  void downloadIntoACacheThatHoldsTheModelIsRefused() throws Exception {
    Path cache = dir.resolve("cache-twice");
    String source = model.toUri().toString();
    ColdStart.run("download-load", cache.toString(), source);
    assertThatThrownBy(() -> ColdStart.run("download-load", cache.toString(), source))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already cached");
  }

  @Test
  void loadAndStreamDeliverEveryByte() throws Exception {
    assertThat(field(ColdStart.run("load", model.toString()), "bytes")).isEqualTo(dataBytes);
    for (String strategy : List.of("MMAP", "BUFFERED", "DIRECT")) {
      assertThat(field(ColdStart.run("load", model.toString(), "--strategy", strategy), "bytes"))
          .isEqualTo(dataBytes);
    }
    String streamed = ColdStart.run(
        "stream", model.toUri().toString(), "--part-bytes", "65536", "--concurrency", "3");
    assertThat(field(streamed, "bytes")).isEqualTo(fileBytes);
  }

  @Test
  void dropAndWarmReachTheStatesTheyClaim() throws IOException {
    List<Path> files = Residency.regularFiles(model);
    Residency.warm(files);
    assertThat(Residency.fraction(files)).isGreaterThanOrEqualTo(Residency.WARM_MIN);
    Residency.drop(files);
    assertThat(Residency.fraction(files)).isLessThanOrEqualTo(Residency.COLD_MAX);
  }
}
