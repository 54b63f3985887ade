package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.spi.RemoteObject;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input gets its own exception and leaves nothing corrupt behind. */
class BadInputTest {

  @TempDir
  Path tmp;

  private ModelCache open(Path root, TestBackend backend) throws Exception {
    return ModelCache.builder()
        .root(root)
        .backend(backend)
        .partSizeBytes(64 << 10)
        .concurrency(4)
        .retryBackoff(java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(5))
        .build();
  }

  // --- the root -----------------------------------------------------------------------------

  @Test
  void aMissingRootIsReportedNotCreated() {
    Path missing = tmp.resolve("not-mounted");
    assertThatThrownBy(() -> ModelCache.builder().root(missing).build())
        .isInstanceOf(CacheRootException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
    assertThat(missing).doesNotExist();
  }

  @Test
  void aRootUnderARegularFileOrARegularFileIsUnusable() throws Exception {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    assertThatThrownBy(() -> ModelCache.builder()
            .root(file.resolve("cache"))
            .createRootIfMissing()
            .build())
        .isInstanceOf(CacheRootException.class)
        .hasMessageContaining("cannot be created");
    assertThatThrownBy(() -> ModelCache.builder().root(file).build())
        .isInstanceOf(CacheRootException.class)
        .hasMessageContaining("not a directory");
    assertThat(Files.readString(file)).isEqualTo("x");
  }

  @Test
  void aReadOnlyRootIsUnwritable() throws Exception {
    try (Tmpfs ro = Tmpfs.mount(tmp.resolve("ro"), "ro,size=1m")) {
      assertThatThrownBy(() -> ModelCache.builder().root(ro.dir).build())
          .isInstanceOf(CacheRootException.class)
          .hasMessageContaining("not writable");
    }
  }

  @Test
  void contradictoryBuilderSettingsFailFast() {
    assertThatThrownBy(() -> ModelCache.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("root");
    assertThatThrownBy(() -> ModelCache.builder()
            .root(tmp)
            .backend(new TestBackend())
            .backendOptions("test", dev.modelcache.core.spi.BackendOptions.NONE)
            .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'test'");
    assertThatThrownBy(() -> ModelCache.builder().partSizeBytes(100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("partSizeBytes");
    assertThatThrownBy(() -> ModelCache.builder().concurrency(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("concurrency");
    assertThatThrownBy(() -> ModelCache.builder().maxBytes(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void createRootIfMissingCreatesIt() throws Exception {
    try (ModelCache cache =
        ModelCache.builder().root(tmp.resolve("a/b/c")).createRootIfMissing().build()) {
      assertThat(cache.root().resolve("entries")).isDirectory();
    }
  }

  // --- damaged entries ---------------------------------------------------------------------

  @Test
  void aModifiedFileIsReportedAndReplacedByEnsureWithVerification() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 1, 300_000, 70_000);
    try (ModelCache cache =
        open(Files.createDirectories(tmp.resolve("cache")), new TestBackend())) {
      ModelSource source = TestBackend.source(m);
      CacheEntry e = cache.ensure(source, DownloadListener.NONE);
      Path shard = e.file("shard-0.bin");
      makeWritable(shard);
      try (RandomAccessFile raf = new RandomAccessFile(shard.toFile(), "rw")) {
        raf.seek(200_000);
        raf.write(~m.files.get("shard-0.bin")[200_000]);
      }

      VerificationResult v = cache.verify(source);
      assertThat(v.ok()).isFalse();
      assertThat(v.mismatches()).singleElement().satisfies(mm -> {
        assertThat(mm.path()).isEqualTo("shard-0.bin");
        assertThat(mm.offsetBytes()).isEqualTo(196_608); // the 64 KiB block holding byte 200000
        assertThat(mm.reason()).contains("CRC32C");
      });
      assertThat(cache.ensure(source, DownloadListener.NONE).directory())
          .as("plain ensure trusts the entry")
          .isEqualTo(e.directory());

      CacheEntry replaced =
          cache.ensure(source, EnsureOptions.DEFAULTS.withVerify(true), DownloadListener.NONE);
      assertThat(m.matches(replaced.directory())).isTrue();
      assertThat(cache.verify(source).ok()).isTrue();
    }
  }

  @Test
  void aTruncatedFileIsReportedAndReplaced() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 2, 100_000, 50_000);
    try (ModelCache cache =
        open(Files.createDirectories(tmp.resolve("cache")), new TestBackend())) {
      ModelSource source = TestBackend.source(m);
      CacheEntry e = cache.ensure(source, DownloadListener.NONE);
      makeWritable(e.file("shard-1.bin"));
      try (RandomAccessFile raf = new RandomAccessFile(e.file("shard-1.bin").toFile(), "rw")) {
        raf.setLength(10_000);
      }
      assertThat(cache.verify(source).mismatches()).singleElement().satisfies(mm -> {
        assertThat(mm.path()).isEqualTo("shard-1.bin");
        assertThat(mm.offsetBytes()).isEqualTo(10_000);
        assertThat(mm.reason()).contains("length is 10000 bytes, expected 50000");
      });
      CacheEntry replaced =
          cache.ensure(source, EnsureOptions.DEFAULTS.withVerify(true), DownloadListener.NONE);
      assertThat(m.matches(replaced.directory())).isTrue();
    }
  }

  @Test
  void aDamagedEntryThatIsLeasedIsNotReplacedUnderItsReader() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 3, 10_000);
    try (ModelCache cache =
        open(Files.createDirectories(tmp.resolve("cache")), new TestBackend())) {
      ModelSource source = TestBackend.source(m);
      CacheEntry e = cache.ensure(source, DownloadListener.NONE);
      try (Lease lease = cache.lease(e)) {
        makeWritable(e.file("shard-0.bin"));
        Files.write(e.file("shard-0.bin"), new byte[10_000]);
        assertThatThrownBy(() -> cache.ensure(
                source, EnsureOptions.DEFAULTS.withVerify(true), DownloadListener.NONE))
            .isInstanceOfSatisfying(IntegrityException.class, ie -> {
              assertThat(ie.path()).isEqualTo("shard-0.bin");
              assertThat(ie.offsetBytes()).isZero();
            })
            .hasMessageContaining("leased");
        assertThat(lease.directory()).isDirectory();
      }
    }
  }

  @Test
  void aManifestThatDoesNotParseIsReportedAndTheEntryReplaced() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 4, 20_000);
    try (ModelCache cache =
        open(Files.createDirectories(tmp.resolve("cache")), new TestBackend())) {
      ModelSource source = TestBackend.source(m);
      CacheEntry e = cache.ensure(source, DownloadListener.NONE);
      Path manifest = e.directory().resolveSibling("manifest.json");
      makeWritable(manifest);
      Files.writeString(manifest, "{\"format\": 1, \"source\": ");

      assertThatThrownBy(() -> cache.getIfPresent(source))
          .isInstanceOf(ManifestCorruptException.class)
          .hasMessageContaining(manifest.toString())
          .hasMessageContaining("invalid JSON");
      assertThat(cache.list().entries())
          .as("a damaged entry is not listed as usable")
          .isEmpty();

      CacheEntry replaced = cache.ensure(source, DownloadListener.NONE);
      assertThat(m.matches(replaced.directory())).isTrue();
      assertThat(cache.getIfPresent(source)).isPresent();
    }
  }

  // --- the source ------------------------------------------------------------------------------

  @Test
  void aSourceFileRewrittenDuringTheDownloadFailsWithoutCommittingAMix() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 5, 1 << 20, 1 << 20);
    TestBackend backend = new TestBackend();
    AtomicInteger reads = new AtomicInteger();
    byte[] v2 = new byte[1 << 20];
    new java.util.Random(99).nextBytes(v2);
    backend.hook = (o, off, attempt) -> {
      if (reads.incrementAndGet() == 5) {
        Path p = m.dir.resolve("shard-0.bin");
        FileTime t = Files.getLastModifiedTime(p);
        m.put("shard-0.bin", v2); // same size, new bytes: a new version
        Files.setLastModifiedTime(p, FileTime.from(t.toInstant().plusSeconds(1)));
      }
    };
    Path root = Files.createDirectories(tmp.resolve("cache"));
    try (ModelCache cache = open(root, backend)) {
      ModelSource source = TestBackend.source(m);
      assertThatThrownBy(() -> cache.ensure(source, DownloadListener.NONE))
          .isInstanceOf(ObjectChangedException.class)
          .hasMessageContaining("shard-0.bin");
      assertThat(cache.getIfPresent(source)).isEmpty();
      assertThat(cache.list().downloads())
          .as("the mixed partial copy is discarded")
          .isEmpty();

      CacheEntry e = cache.ensure(source, DownloadListener.NONE);
      assertThat(m.matches(e.directory())).as("only the new version").isTrue();
    }
  }

  @Test
  void aSourceFileThatGrowsDuringTheDownloadFails() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 6, 1 << 20);
    TestBackend backend = new TestBackend();
    AtomicInteger reads = new AtomicInteger();
    backend.hook = (o, off, attempt) -> {
      if (reads.incrementAndGet() == 3) {
        Files.write(
            m.dir.resolve("shard-0.bin"), new byte[100], java.nio.file.StandardOpenOption.APPEND);
      }
    };
    try (ModelCache cache = open(Files.createDirectories(tmp.resolve("cache")), backend)) {
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOf(ObjectChangedException.class)
          .hasMessageContaining("changed after it was listed");
      assertThat(cache.list().entries()).isEmpty();
      assertThat(cache.list().downloads()).isEmpty();
    }
  }

  @Test
  void unsafeKeysAreRejectedAndNothingIsWrittenOutsideTheRoot() throws Exception {
    ModelFixture m = ModelFixture.create(tmp.resolve("m"), 7, 1000, 2000);
    Path root = Files.createDirectories(tmp.resolve("deep/cache"));
    List<String> bad = List.of(
        "../escape.bin",
        "../../../escape.bin",
        "/tmp/escape.bin",
        "a/../../escape.bin",
        "back\\slash.bin",
        "nul\0.bin",
        "bell\u0007.bin",
        "line\nfeed.bin",
        "./dot.bin",
        "a//b.bin",
        "C:/escape.bin",
        "");
    TestBackend backend = new TestBackend();
    try (ModelCache cache = open(root, backend)) {
      for (String path : bad) {
        backend.listing = list -> {
          List<RemoteObject> out = new ArrayList<>(list);
          RemoteObject first = out.getFirst();
          out.set(
              0, new RemoteObject(first.key(), path, first.sizeBytes(), first.etag(), null, null));
          return out;
        };
        assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
            .as("key path %s", path)
            .isInstanceOf(InvalidObjectKeyException.class)
            .hasMessageContaining("unsafe object key");
      }
      backend.listing = list -> {
        List<RemoteObject> out = new ArrayList<>(list);
        RemoteObject first = out.getFirst();
        out.add(new RemoteObject(
            first.key(), first.relativePath() + "/inner.bin", 1, first.etag(), null, null));
        return out;
      };
      assertThatThrownBy(() -> cache.ensure(TestBackend.source(m), DownloadListener.NONE))
          .isInstanceOf(InvalidObjectKeyException.class)
          .hasMessageContaining("both a file and a directory");
      assertThat(cache.list().entries()).isEmpty();
      assertThat(cache.list().downloads()).isEmpty();
      assertThat(backend.reads.get()).isZero();
    }
    try (var walk = Files.walk(tmp)) {
      assertThat(walk.filter(p -> p.getFileName().toString().contains("escape")))
          .isEmpty();
    }
    assertThat(Path.of("/tmp/escape.bin")).doesNotExist();
  }

  @Test
  void sourceFilesWithUnsafeNamesAreRejectedByTheFileBackend() throws Exception {
    for (String name : List.of("back\\slash.bin", "bell\u0007.bin")) {
      Path dir =
          Files.createDirectories(tmp.resolve("src-" + name.length() + "-" + name.hashCode()));
      Files.write(dir.resolve("ok.bin"), new byte[10]);
      Files.write(dir.resolve(name), new byte[10]);
      try (ModelCache cache = ModelCache.builder()
          .root(Files.createDirectories(tmp.resolve("c" + name.hashCode())))
          .build()) {
        assertThatThrownBy(() -> cache.ensure(ModelSource.of(dir.toUri()), DownloadListener.NONE))
            .isInstanceOf(InvalidObjectKeyException.class)
            .satisfies(e -> assertThat(((InvalidObjectKeyException) e).key()).endsWith(name));
        assertThat(cache.list().entries()).isEmpty();
      }
    }
  }

  @Test
  void anEmptyPrefixAndMalformedSourcesAreRejected() {
    for (String s : List.of("file:///", "s3://bucket/", "s3://bucket", "file:////")) {
      assertThatThrownBy(() -> ModelSource.parse(s))
          .as(s)
          .isInstanceOf(InvalidModelSourceException.class)
          .hasMessageContaining("empty prefix");
    }
    assertThatThrownBy(() -> ModelSource.parse("models/llama"))
        .isInstanceOf(InvalidModelSourceException.class)
        .hasMessageContaining("no scheme");
    assertThatThrownBy(() -> ModelSource.parse("s3://b/x/../y/"))
        .isInstanceOf(InvalidModelSourceException.class)
        .hasMessageContaining("'..'");
    assertThatThrownBy(() -> ModelSource.parse("s3://b/x?versionId=1"))
        .isInstanceOf(InvalidModelSourceException.class)
        .hasMessageContaining("query");
    assertThatThrownBy(() -> ModelSource.parse("s3:b"))
        .isInstanceOf(InvalidModelSourceException.class);
  }

  @Test
  void anUnknownSchemeOrAMissingSourceFailsWithNothingLeft() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    try (ModelCache cache = ModelCache.builder().root(root).build()) {
      assertThatThrownBy(
              () -> cache.ensure(ModelSource.parse("nosuch://b/m/"), DownloadListener.NONE))
          .isInstanceOf(InvalidModelSourceException.class)
          .hasMessageContaining("nosuch")
          .hasMessageContaining("file");
      assertThatThrownBy(() ->
              cache.ensure(ModelSource.of(tmp.resolve("absent").toUri()), DownloadListener.NONE))
          .isInstanceOf(SourceNotFoundException.class)
          .hasMessageContaining("absent");
      assertThat(cache.list().downloads()).isEmpty();
      assertThat(cache.list().entries()).isEmpty();
    }
  }

  private static void makeWritable(Path file) throws Exception {
    Files.setPosixFilePermissions(file.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
  }
}
