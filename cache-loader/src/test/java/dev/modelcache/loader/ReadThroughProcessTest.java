package dev.modelcache.loader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.core.DownloadStatus;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ReadThrough} across real processes: killed mid-load, and two at once. */
class ReadThroughProcessTest {

  @TempDir
  Path tmp;

  ModelDir model;
  Path root;
  final List<Process> children = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    model = ModelDir.write(tmp.resolve("store/model"), 3, 6, 150_000, 7);
    root = tmp.resolve("cache");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process p : children) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private Path start(String name, Path hold, Path go) throws Exception {
    Path log = tmp.resolve(name + ".log");
    List<String> cmd = List.of(
        ProcessHandle.current().info().command().orElseThrow(),
        "-XX:-UsePerfData",
        "-Xmx256m",
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "--enable-native-access=ALL-UNNAMED",
        "-cp",
        System.getProperty("java.class.path"),
        ReadThroughChild.class.getName(),
        root.toString(),
        model.dir.toString(),
        hold == null ? "-" : hold.toString(),
        go == null ? "-" : go.toString());
    children.add(new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start());
    return log;
  }

  private static String awaitLine(Process p, Path log, String prefix) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      String out = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
      for (String line : out.lines().toList()) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
      if (!p.isAlive()) {
        throw new AssertionError(
            "child exited with " + p.exitValue() + " before '" + prefix + "':\n" + out);
      }
      Thread.sleep(10); // polls another process's output file
    }
    throw new AssertionError("no '" + prefix + "' line in " + log);
  }

  private String expectedDigest() throws Exception {
    DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
    Loader.builder().build().load(model.dir, sink);
    return ReadThroughChild.summary(sink);
  }

  @Test
  void aLoadKilledMidStreamLeavesNoEntryAndTheNextOneResumesFromTheJournal() throws Exception {
    Path log = start("killed", tmp.resolve("never"), null);
    Process child = children.getFirst();
    awaitLine(child, log, "TENSOR ");
    child.destroyForcibly(); // SIGKILL, with a tensor loaded and the last shard's second half held
    // back
    assertThat(child.waitFor(1, TimeUnit.MINUTES)).isTrue();

    ModelSource source = ModelSource.of(ChecksummedStore.uri(model.dir));
    try (ModelCache cache = ModelCache.builder()
        .root(root)
        .partSizeBytes(ReadThroughTest.PART_BYTES)
        .backend(new ChecksummedStore())
        .build()) {
      assertThat(cache.getIfPresent(source)).as("no entry after the kill").isEmpty();
      assertThat(cache.list().entries()).isEmpty();
      List<DownloadStatus> downloads = cache.list().downloads();
      assertThat(downloads).hasSize(1);
      assertThat(downloads.getFirst().writerAlive()).isFalse();
      long journaled = downloads.getFirst().bytesDone();
      assertThat(journaled).isPositive().isLessThan(model.totalBytes);

      CheckingSink sink = new CheckingSink(model.tensors);
      ReadThroughResult r = ReadThrough.builder(cache).build().load(source, sink);
      assertThat(r.cacheHit()).isFalse();
      assertThat(r.fetchedBytes())
          .as("only what the journal lacked is fetched again")
          .isEqualTo(model.totalBytes - journaled);
      List<String> all = new ArrayList<>();
      for (String s : model.shards) {
        all.addAll(model.tensorsOf(s));
      }
      assertThat(sink.arrivals).isEqualTo(all);
      assertThat(sink.failure).isNull();
      assertThat(cache.getIfPresent(source)).isPresent();
      assertThat(cache.list().downloads()).isEmpty();
    }
  }

  @Test
  void twoProcessesLoadTheSameModelAtOnceAndOneDownloadsIt() throws Exception {
    Path go = tmp.resolve("go");
    Path logA = start("a", null, go);
    Path logB = start("b", null, go);
    awaitLine(children.get(0), logA, "READY");
    awaitLine(children.get(1), logB, "READY");
    Files.createFile(go);

    String a = awaitLine(children.get(0), logA, "LOADED ");
    String b = awaitLine(children.get(1), logB, "LOADED ");
    String digest = expectedDigest();
    long fetched = 0;
    for (String line : List.of(a, b)) {
      List<String> f = List.of(line.split(" ", -1));
      assertThat(f.get(3)).as(line).isEqualTo(String.valueOf(model.tensors.size()));
      assertThat(f.get(4)).as("every tensor's bytes: " + line).isEqualTo(digest);
      fetched += Long.parseLong(f.get(2));
    }
    assertThat(fetched).as("the model was fetched once: %s / %s", a, b).isEqualTo(model.totalBytes);
    for (Process p : children) {
      assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
      assertThat(p.exitValue()).isZero();
    }
  }
}
