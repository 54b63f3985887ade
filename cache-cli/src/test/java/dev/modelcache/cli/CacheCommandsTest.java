package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code prefetch}, {@code await}, {@code ls}, {@code evict}, {@code verify} against a {@code file:} source and a real cache. */
class CacheCommandsTest {

  @TempDir
  Path tmp;

  Path root;
  Path model;
  String source;
  long modelBytes;
  Cli cli;

  @BeforeEach
  void setUp() throws Exception {
    root = tmp.resolve("cache");
    model = TestModels.sharded(tmp.resolve("store/llama"), 256);
    source = model.toUri().toString();
    try (var files = Files.list(model)) {
      modelBytes = files.mapToLong(p -> p.toFile().length()).sum();
    }
    cli = Cli.withRoot(root);
  }

  @Test
  void prefetchDownloadsOnceThenHits() throws Exception {
    var first = cli.run("prefetch", source, "--json");
    assertThat(first.exitCode()).as(first.toString()).isZero();
    var json = first.json();
    assertThat(List.copyOf(json.keySet()))
        .startsWith("source", "revision", "path", "bytes", "seconds", "downloadedBytes");
    assertThat(json)
        .containsEntry("source", source)
        .containsEntry("revision", null)
        .containsEntry("bytes", modelBytes)
        .containsEntry("downloadedBytes", modelBytes);
    Path dir = Path.of((String) json.get("path"));
    assertThat(dir).startsWith(root);
    for (String name : List.of(
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json")) {
      assertThat(Files.mismatch(dir.resolve(name), model.resolve(name))).isEqualTo(-1);
    }

    var second = cli.run("--json", "prefetch", source);
    assertThat(second.exitCode()).isZero();
    assertThat(second.json())
        .containsEntry("downloadedBytes", 0L)
        .containsEntry("path", dir.toString());

    var text = cli.run("prefetch", source);
    assertThat(text.exitCode()).isZero();
    assertThat(text.stdout()).isEqualTo(dir + System.lineSeparator());
    assertThat(text.stderrLines())
        .singleElement()
        .asString()
        .startsWith(source + ": already cached (" + ByteSize.format(modelBytes) + ") in ");
  }

  @Test
  void prefetchWritesWholeBlocksWithODirectUnlessToldToBufferAndReadsThemBackUnlessToldNot()
      throws Exception {
    try (var probe = java.nio.channels.FileChannel.open(
        tmp.resolve("probe"),
        java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE,
        com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
      // the temporary directory's file system accepts O_DIRECT
    } catch (java.io.IOException | UnsupportedOperationException e) {
      org.junit.jupiter.api.Assumptions.abort(
          "the temporary directory's file system refuses O_DIRECT: " + e);
    }
    long wholeBlocks;
    try (var files = Files.list(model)) {
      wholeBlocks = files.mapToLong(p -> p.toFile().length() / 4096 * 4096).sum();
    }
    var direct = cli.run("prefetch", source, "--part-size", "4KiB", "--json");
    assertThat(direct.exitCode()).as(direct.toString()).isZero();
    assertThat(direct.json())
        .containsEntry("downloadedBytes", modelBytes)
        .containsEntry("writtenDirectBytes", wholeBlocks)
        .containsEntry("readBackBytes", modelBytes);

    var unread = Cli.withRoot(tmp.resolve("unread"))
        .run("prefetch", source, "--part-size", "4KiB", "--no-read-back", "--json");
    assertThat(unread.exitCode()).as(unread.toString()).isZero();
    assertThat(unread.json())
        .containsEntry("downloadedBytes", modelBytes)
        .as("a file: source has no source checksum: every block is checked as received")
        .containsEntry("readBackBytes", 0L);

    var buffered = Cli.withRoot(tmp.resolve("other"))
        .run("prefetch", source, "--part-size", "4KiB", "--buffered-writes", "--json");
    assertThat(buffered.exitCode()).as(buffered.toString()).isZero();
    assertThat(buffered.json())
        .containsEntry("downloadedBytes", modelBytes)
        .containsEntry("writtenDirectBytes", 0L);
    Path dir = Path.of((String) buffered.json().get("path"));
    try (var files = Files.list(model)) {
      for (Path f : files.toList()) {
        assertThat(Files.mismatch(dir.resolve(f.getFileName().toString()), f))
            .as(f.toString())
            .isEqualTo(-1);
      }
    }
  }

  @Test
  void prefetchShowsProgressLinesWhenNotOnATerminal() {
    var r = cli.run("prefetch", source, "--part-size", "64KiB", "--concurrency", "2");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr())
        .contains("prefetch: " + ByteSize.format(modelBytes) + " in ")
        .doesNotContain("\r")
        .contains(source + ": downloaded " + ByteSize.format(modelBytes) + " in ");
    var quiet = Cli.withRoot(tmp.resolve("other")).run("prefetch", source, "--quiet");
    assertThat(quiet.exitCode()).isZero();
    assertThat(quiet.stderr()).isEmpty();
  }

  @Test
  void revisionsAreSeparateEntriesAndPinAndLinkWork() throws Exception {
    Path link = tmp.resolve("models/llama");
    var r = cli.run(
        "prefetch", source, "--revision", "v1", "--pin", "--link", link.toString(), "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.json())
        .containsEntry("revision", "v1")
        .containsEntry("pinned", true)
        .containsEntry("link", link.toString());
    assertThat(link.toRealPath())
        .isEqualTo(Path.of((String) r.json().get("path")).toRealPath());
    assertThat(Files.readSymbolicLink(link))
        .as("relative, whatever path the root is mounted at")
        .isRelative();

    var v2 = cli.run("prefetch", source + "#v2", "--link", link.toString(), "--json");
    assertThat(v2.exitCode()).as(v2.toString()).isZero();
    assertThat(v2.json()).containsEntry("downloadedBytes", modelBytes);
    assertThat(link.toRealPath())
        .isEqualTo(Path.of((String) v2.json().get("path")).toRealPath());

    var ls = cli.run("ls", "--json");
    assertThat(ls.exitCode()).isZero();
    @SuppressWarnings("unchecked")
    var entries = (List<Map<String, Object>>) ls.json().get("entries");
    assertThat(entries).hasSize(2);
    assertThat(entries)
        .allSatisfy(e -> assertThat(e)
            .containsEntry("source", source)
            .containsEntry("sizeBytes", modelBytes)
            .containsEntry("state", "complete")
            .containsEntry("leases", 0L)
            .containsKey("lastUsed"));
    assertThat(entries)
        .extracting(e -> e.get("revision") + ":" + e.get("pinned"))
        .containsExactlyInAnyOrder("v1:true", "v2:false");
    assertThat(ls.json())
        .containsEntry("totalBytes", 2 * modelBytes)
        .containsEntry("downloads", List.of());
    assertThat(ls.json())
        .containsEntry("liveness", "locks")
        .containsEntry("heartbeatExpirySeconds", null);

    // Global options work after the command name too.
    var after = Cli.plain().run("ls", "--root", root.toString(), "--json");
    assertThat(after.json())
        .containsEntry("root", root.toString())
        .containsEntry("totalBytes", 2 * modelBytes);

    var human = cli.run("ls");
    assertThat(human.stdout())
        .contains("SOURCE")
        .contains("v1")
        .contains("yes")
        .contains("2 models, 1.00 MiB in " + root);
    assertThat(human.stdout()).contains("liveness: kernel locks");

    Path data = Files.writeString(tmp.resolve("models/notes.txt"), "keep me");
    var notALink = cli.run("prefetch", source + "#v2", "--link", data.toString());
    assertThat(notALink.exitCode()).isEqualTo(2);
    assertThat(notALink.stderrLines())
        .containsExactly("modelcache prefetch: --link " + data
            + ": something other than a symbolic link is there; not replacing it");
    assertThat(Files.readString(data)).isEqualTo("keep me");

    var conflicting = cli.run("prefetch", source + "#v2", "--revision", "v3");
    assertThat(conflicting.exitCode()).isEqualTo(2);
    assertThat(conflicting.stderrLines()).hasSize(1);
  }

  @Test
  void aFileSourceIsUnverifiedAndRefusedUnderRequireVerified() throws Exception {
    var strict = cli.run("prefetch", source, "--require-verified");
    assertThat(strict.exitCode()).as(strict.toString()).isEqualTo(3);
    assertThat(strict.stderrLines())
        .singleElement()
        .asString()
        .contains("cannot verify every file of " + source)
        .contains("model-00001-of-00002.safetensors: the store offers no checksum for it")
        .contains("nothing was fetched");
    assertThat(cli.run("ls", "--json").json().get("entries")).isEqualTo(List.of());

    var lenient = cli.run("prefetch", source, "--json");
    assertThat(lenient.exitCode()).isZero();
    assertThat(lenient.json()).containsEntry("integrity", Map.of("unverified", 3L));
    var ls = cli.run("ls", "--json");
    @SuppressWarnings("unchecked")
    var entries = (List<Map<String, Object>>) ls.json().get("entries");
    assertThat(entries)
        .singleElement()
        .satisfies(e -> assertThat(e).containsEntry("integrity", Map.of("unverified", 3L)));
  }

  @Test
  void evictHonoursPinsAndLeasesAndSizes() throws Exception {
    assertThat(cli.run("prefetch", source, "--revision", "a", "--pin").exitCode())
        .isZero();
    assertThat(cli.run("prefetch", source, "--revision", "b").exitCode()).isZero();
    assertThat(cli.run("prefetch", source, "--revision", "c").exitCode()).isZero();

    var pinned = cli.run("evict", source, "--revision", "a");
    assertThat(pinned.exitCode()).as(pinned.toString()).isEqualTo(1);
    assertThat(pinned.stderrLines()).hasSize(1);
    assertThat(pinned.stderr()).contains("pinned");

    var toBytes = cli.run("evict", "--to-bytes", String.valueOf(2 * modelBytes), "--json");
    assertThat(toBytes.exitCode()).as(toBytes.toString()).isZero();
    assertThat(toBytes.json()).containsEntry("freedBytes", modelBytes);

    var unused = cli.run("evict", "--unused", "--json");
    assertThat(unused.exitCode()).isZero();
    assertThat(unused.json()).containsEntry("freedBytes", modelBytes);

    var ls = cli.run("ls", "--json");
    @SuppressWarnings("unchecked")
    var entries = (List<Map<String, Object>>) ls.json().get("entries");
    assertThat(entries).extracting(e -> e.get("revision")).containsExactly("a");

    var absent = cli.run("evict", source, "--revision", "zzz", "--json");
    assertThat(absent.exitCode()).isZero();
    assertThat(absent.json()).containsEntry("freedBytes", 0L);
  }

  @Test
  void evictNeedsExactlyOneSelection() {
    var none = cli.run("evict");
    assertThat(none.exitCode()).isEqualTo(2);
    assertThat(none.stderrLines()).hasSize(1);
    var two = cli.run("evict", "--unused", "--to-bytes", "1GiB");
    assertThat(two.exitCode()).isEqualTo(2);
    assertThat(two.stderrLines()).hasSize(1);
    var badSize = cli.run("evict", "--to-bytes", "lots");
    assertThat(badSize.exitCode()).isEqualTo(2);
    assertThat(badSize.stderr()).contains("invalid size 'lots'");
  }

  @Test
  void verifyNamesDamagedFilesAndExitsThree() throws Exception {
    var r = cli.run("prefetch", source, "--json");
    Path dir = Path.of((String) r.json().get("path"));
    var ok = cli.run("verify", source, "--json");
    assertThat(ok.exitCode()).as(ok.toString()).isZero();
    assertThat(ok.json())
        .containsEntry("ok", true)
        .containsEntry("bytesChecked", modelBytes)
        .containsEntry("mismatches", List.of());

    Path shard = dir.resolve("model-00002-of-00002.safetensors");
    shard.toFile().setWritable(true);
    try (var f = new RandomAccessFile(shard.toFile(), "rw")) {
      f.seek(1000);
      int b = f.read();
      f.seek(1000);
      f.write(b ^ 0xff);
    }
    var bad = cli.run("verify", source);
    assertThat(bad.exitCode()).as(bad.toString()).isEqualTo(3);
    assertThat(bad.stderrLines()).hasSize(1);
    assertThat(bad.stderr())
        .contains("model-00002-of-00002.safetensors")
        .doesNotContain("model-00001");

    var badJson = cli.run("verify", source, "--json");
    assertThat(badJson.exitCode()).isEqualTo(3);
    assertThat(badJson.json()).containsEntry("ok", false);
    @SuppressWarnings("unchecked")
    var mismatches = (List<Map<String, Object>>) badJson.json().get("mismatches");
    assertThat(mismatches)
        .extracting(m -> m.get("path"))
        .containsExactly("model-00002-of-00002.safetensors");

    var notCached = cli.run("verify", source + "#other");
    assertThat(notCached.exitCode()).isEqualTo(1);
    assertThat(notCached.stderrLines()).hasSize(1);
    assertThat(notCached.stderr()).contains("not in the cache");
  }

  @Test
  void awaitTimesOutWithExitFourOrFetches() {
    var timeout = cli.run("await", source, "--timeout", "300ms");
    assertThat(timeout.exitCode()).as(timeout.toString()).isEqualTo(4);
    assertThat(timeout.stderrLines())
        .containsExactly(
            "await: waiting up to 0.3s for " + source + " to be cached",
            timeout.stderrLines().get(1));
    assertThat(timeout.stderrLines().get(1)).startsWith("modelcache await: ").contains(source);
    assertThat(timeout.stdout()).isEmpty();

    var fetched =
        cli.run("await", source, "--timeout", "200ms", "--fetch-after-timeout", "--pin", "--json");
    assertThat(fetched.exitCode()).as(fetched.toString()).isZero();
    assertThat(fetched.json())
        .containsEntry("downloadedBytes", modelBytes)
        .containsEntry("pinned", true);
    assertThat(fetched.stderr()).contains("downloading it");

    var hit = cli.run("await", source, "--timeout", "0", "--json");
    assertThat(hit.exitCode()).isZero();
    assertThat(hit.json()).containsEntry("downloadedBytes", 0L);
  }

  @Test
  void awaitReturnsWhenAnotherCallerCommits() throws Exception {
    CompletableFuture<Cli.Result> waiting =
        CompletableFuture.supplyAsync(() -> cli.run("await", source, "--timeout", "60s", "--json"));
    Thread.sleep(500);
    assertThat(waiting).isNotDone();
    var prefetch = cli.run("prefetch", source, "--json");
    assertThat(prefetch.exitCode()).isZero();
    var awaited = waiting.get();
    assertThat(awaited.exitCode()).as(awaited.toString()).isZero();
    assertThat(awaited.json())
        .containsEntry("downloadedBytes", 0L)
        .containsEntry("path", prefetch.json().get("path"));
  }

  @Test
  void awaitNeedsATimeout() {
    var r = cli.run("await", source);
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("--timeout");
    var bad = cli.run("await", source, "--timeout", "30");
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.stderr()).contains("add a unit");
  }

  @Test
  void loadAndWarmACachedSource() {
    var missing = cli.run("load", source);
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.stderrLines()).hasSize(1);
    assertThat(missing.stderr()).contains("not in the cache").contains("modelcache prefetch");

    assertThat(cli.run("prefetch", source).exitCode()).isZero();
    var load = cli.run("load", source, "--json", "--sink", "digest");
    assertThat(load.exitCode()).as(load.toString()).isZero();
    assertThat(load.json()).containsEntry("bytes", 2L * 256 * 1024 + 16);
    assertThat((String) load.json().get("path")).startsWith(root.toString());

    var warm = cli.run("warm", source, "--json");
    assertThat(warm.exitCode()).as(warm.toString()).isZero();
    assertThat(warm.json()).containsEntry("bytes", modelBytes).containsEntry("files", 3L);

    // The lease ended with the command: nothing holds the entry now.
    var ls = cli.run("ls", "--json");
    @SuppressWarnings("unchecked")
    var entries = (List<Map<String, Object>>) ls.json().get("entries");
    assertThat(entries).singleElement().satisfies(e -> assertThat(e).containsEntry("leases", 0L));
  }

  @Test
  void loadWithFetchDownloadsAndLoadsInOnePassThenHits() {
    var refused = cli.run("load", source, "--concurrency", "2");
    assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(2);
    assertThat(refused.stderr()).contains("--concurrency applies with --fetch");

    var miss =
        cli.run("load", source, "--fetch", "--concurrency", "2", "--json", "--sink", "digest");
    assertThat(miss.exitCode()).as(miss.toString()).isZero();
    assertThat(miss.json())
        .containsEntry("bytes", 2L * 256 * 1024 + 16)
        .containsEntry("cacheHit", false)
        .containsEntry("fetchedBytes", modelBytes)
        .containsEntry("tensors", 3L);
    assertThat((String) miss.json().get("path")).startsWith(root.toString());

    var hit = cli.run("load", source, "--fetch", "--json");
    assertThat(hit.exitCode()).as(hit.toString()).isZero();
    assertThat(hit.json())
        .containsEntry("cacheHit", true)
        .containsEntry("fetchedBytes", 0L)
        .containsEntry("bytes", 2L * 256 * 1024 + 16);
    var human = cli.run("load", source, "--fetch");
    assertThat(human.stdout()).contains("cache hit");

    var path = cli.run("load", tmp.toString(), "--fetch");
    assertThat(path.exitCode()).isEqualTo(2);
    assertThat(path.stderr()).contains("--fetch applies to a SOURCE");
  }

  @Test
  void badSourcesAndOptionsAreReportedOnOneLine() {
    var missing = cli.run("prefetch", tmp.resolve("store/absent").toUri().toString());
    assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(1);
    assertThat(missing.stderrLines()).hasSize(1);
    assertThat(missing.stderr()).contains("absent");

    var notUri = cli.run("prefetch", "::not a uri");
    assertThat(notUri.exitCode()).isEqualTo(2);
    assertThat(notUri.stderrLines()).hasSize(1);

    var endpointOnFile = cli.run("prefetch", source, "--endpoint", "http://127.0.0.1:9000");
    assertThat(endpointOnFile.exitCode()).isEqualTo(2);
    assertThat(endpointOnFile.stderr()).contains("--endpoint applies to s3:// sources");

    var tinyPart = cli.run("prefetch", source, "--part-size", "1KiB");
    assertThat(tinyPart.exitCode()).isEqualTo(2);
    assertThat(tinyPart.stderrLines()).hasSize(1);
    assertThat(tinyPart.stderr()).startsWith("modelcache prefetch: --part-size 1.00 KiB: ");

    var hugePart = cli.run("prefetch", source, "--part-size", "4GiB");
    assertThat(hugePart.exitCode()).isEqualTo(2);
    assertThat(hugePart.stderr()).startsWith("modelcache prefetch: --part-size 4.00 GiB: ");

    var zeroConcurrency = cli.run("prefetch", source, "--concurrency", "0");
    assertThat(zeroConcurrency.exitCode()).isEqualTo(2);
    assertThat(zeroConcurrency.stderr()).contains("--concurrency");

    var notANumber = cli.run("prefetch", source, "--concurrency", "many");
    assertThat(notANumber.exitCode()).isEqualTo(2);
    assertThat(notANumber.stderrLines()).hasSize(1);
  }

  @Test
  void unreadableRootIsARuntimeFailure() throws Exception {
    Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
    var r = Cli.withRoot(file).run("ls");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains(file.toString());

    var missing = Cli.withRoot(tmp.resolve("nowhere")).run("ls");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.stderr()).contains("nowhere");
  }
}
