package dev.modelcache.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache as pods on one node use it: every child JVM runs in a PID namespace of its own, where
 * it is pid 1 (as a container's entrypoint is), some with the root mounted at another path or as
 * another user. Liveness must never be judged by a pid: here every holder has the same one.
 */
class PodsTest {

  private static final Duration START = Duration.ofSeconds(60);

  @TempDir
  Path tmp;

  @BeforeEach
  void needsNamespaces() {
    assumeTrue(Pods.unavailable() == null, () -> "skipped: " + Pods.unavailable());
  }

  private ChildJvm pod(String logName, Map<String, String> properties, String... args)
      throws Exception {
    return ChildJvm.start(
        tmp.resolve(logName),
        Pods.pidNamespace(),
        System.getProperty("java.class.path"),
        List.of(),
        properties,
        true,
        args);
  }

  @Test
  void aLeaseInOnePodBlocksEvictionFromAnotherPodAndTheHostUntilItsHolderIsKilled()
      throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 61, 300_000, 50_000);
    try (ModelCache host = ModelCache.builder().root(root).build()) {
      assertThat(host.liveness()).as("ext4 or tmpfs under the test").isEqualTo(Liveness.LOCKS);
      host.ensure(model.source(), DownloadListener.NONE);

      try (ChildJvm holder = pod(
          "holder.log", Map.of(), "lease", root.toString(), model.uri("file").toString())) {
        assertThat(holder.awaitLine("READY", START))
            .as("the holder is pid 1 in its namespace")
            .isEqualTo("READY pid=1");
        holder.awaitLine("LEASED", START);

        CacheEntry seen = host.getIfPresent(model.source()).orElseThrow();
        assertThat(seen.leaseCount()).isEqualTo(1);
        assertThat(seen.leases().getFirst().pid())
            .as("recorded for people, as the holder sees itself")
            .isEqualTo(1);
        assertThatThrownBy(() -> host.evict(model.source()))
            .isInstanceOf(EntryInUseException.class)
            .hasMessageContaining("1 live lease");
        assertThat(host.evictUnused()).isEmpty();

        try (ChildJvm other = pod(
            "other.log", Map.of(), "evict", root.toString(), model.uri("file").toString())) {
          assertThat(other.waitFor(START)).as(other.output()).isEqualTo(3);
          assertThat(other.output()).contains("READY pid=1").contains("ERROR EntryInUseException");
        }

        holder.kill(); // SIGKILL: the kernel drops its lock as it dies
        assertThat(host.getIfPresent(model.source()).orElseThrow().leaseCount())
            .as("at once")
            .isZero();
        assertThat(host.evict(model.source())).isTrue();
      }
      try (var leases = Files.walk(root.resolve("leases"))) {
        assertThat(leases.filter(Files::isRegularFile))
            .as("the dead holder's lease file was removed")
            .isEmpty();
      }
    }
  }

  @Test
  void underHeartbeatsAKilledPodsLeaseCountsUntilTheExpiry() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Duration expiry = Duration.ofSeconds(3);
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 62, 200_000);
    try (ModelCache host = ModelCache.builder()
        .root(root)
        .liveness(Liveness.HEARTBEAT)
        .heartbeatExpiry(expiry)
        .build()) {
      host.ensure(model.source(), DownloadListener.NONE);
      Path leaseDir = root.resolve("leases").resolve(model.source().cacheName());
      try (ChildJvm holder = pod(
          "holder.log", Map.of(), "lease", root.toString(), model.uri("file").toString())) {
        holder.awaitLine("LEASED", START);
        Path leaseFile;
        try (var files = Files.list(leaseDir)) {
          leaseFile = files
              .filter(p -> !p.getFileName().toString().startsWith("."))
              .findFirst()
              .orElseThrow();
        }
        // The holder renews its file every third of the expiry: wait for one renewal.
        Instant created = Files.getLastModifiedTime(leaseFile).toInstant();
        long deadline = System.nanoTime() + expiry.multipliedBy(3).toNanos();
        while (!Files.getLastModifiedTime(leaseFile).toInstant().isAfter(created)
            && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(Files.getLastModifiedTime(leaseFile).toInstant())
            .as("renewed")
            .isAfter(created);

        holder.kill();
        assertThatThrownBy(() -> host.evict(model.source()))
            .as("within the expiry the lease still counts")
            .isInstanceOf(EntryInUseException.class);
      }
      // A clock past the expiry since the last renewal: the holder is judged dead.
      try (ModelCache later = ModelCache.builder()
          .root(root)
          .clock(() -> Instant.now().plus(expiry.plusSeconds(1)))
          .build()) {
        assertThat(later.liveness()).isEqualTo(Liveness.HEARTBEAT);
        assertThat(later.evict(model.source())).isTrue();
      }
    }
  }

  @Test
  void fourPodsStartedApartDownloadOnceAndAgree() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture model =
        ModelFixture.create(tmp.resolve("model"), 63, 3 << 20, 2 << 20, 1 << 20, 99_999);
    long total = model.sizeBytes();
    Path counts = tmp.resolve("counts.txt");
    String uri = model.uri("countingfile").toString();
    // 256 KiB ranges, 2 at a time, 300 ms each: about 3.6 s, and the pods start 0.7 s apart, the
    // last one past the 1 s after which a pid-based judgement (50 polls of 20 ms here) would call
    // the lock holder "stale" and download again. Even pods
    // run the JVM as pid 1, odd ones as pid 2 under a shell, so that each sees a pid 1 that is not
    // the writer.
    List<ChildJvm> pods = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        Map<String, String> props = Map.of(
            "modelcache.test.countFile",
            counts.toString(),
            "modelcache.test.readDelayMs",
            "300",
            "modelcache.test.tag",
            "pod-" + i);
        List<String> wrapper = i % 2 == 0 ? Pods.pidNamespace() : Pods.pidNamespaceUnderAShell();
        pods.add(ChildJvm.start(
            tmp.resolve("pod-" + i + ".log"),
            wrapper,
            System.getProperty("java.class.path"),
            List.of(),
            props,
            true,
            "ensure",
            root.toString(),
            uri,
            Integer.toString(256 << 10),
            "2"));
        // The next pod starts once this download has visibly progressed: pods started apart.
        long threshold = (long) (i + 1) * (total / 5);
        long deadline = System.nanoTime() + START.toNanos();
        while (CountingFileBackend.countedBytes(counts) < threshold
            && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
      }
      List<String> dirs = new ArrayList<>();
      int downloaders = 0;
      for (ChildJvm p : pods) {
        assertThat(p.waitFor(Duration.ofSeconds(120))).as(p.output()).isZero();
        assertThat(p.output()).containsPattern("READY pid=[12]\n").contains("VERIFY ok");
        dirs.add(p.awaitLine("DIR ", Duration.ofSeconds(1)).substring(4));
        downloaders += p.output().contains("DOWNLOADED ") ? 1 : 0;
      }
      Map<String, Long> byReader = CountingFileBackend.countedBytesByReader(counts);
      assertThat(byReader).as("one pod read the source").hasSize(1);
      assertThat(CountingFileBackend.countedBytes(counts))
          .as("bytes read from the source")
          .isLessThanOrEqualTo((long) (total * 1.15));
      assertThat(downloaders).isEqualTo(1);
      assertThat(dirs).allMatch(d -> d.equals(dirs.getFirst()));
      assertThat(model.matches(Path.of(dirs.getFirst()))).isTrue();
      try (var staging = Files.list(root.resolve("staging"))) {
        assertThat(staging).as("no staging debris").isEmpty();
      }
    } finally {
      pods.forEach(ChildJvm::close);
    }
  }

  @Test
  void aDownloadKilledInOnePodIsResumedByAnother() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    ModelFixture model = ModelFixture.create(tmp.resolve("model"), 64, 3 << 20, 2 << 20, 777_777);
    long total = model.sizeBytes();
    Path counts = tmp.resolve("counts.txt");
    String uri = model.uri("countingfile").toString();
    String part = Integer.toString(256 << 10);
    try (ChildJvm first = pod(
        "first.log",
        Map.of(
            "modelcache.test.countFile",
            counts.toString(),
            "modelcache.test.readDelayMs",
            "60",
            "modelcache.test.tag",
            "first"),
        "ensure",
        root.toString(),
        uri,
        part,
        "2")) {
      long deadline = System.nanoTime() + START.toNanos();
      while (CountingFileBackend.countedBytes(counts) < total * 6 / 10
          && System.nanoTime() < deadline) {
        Thread.sleep(2);
      }
      first.kill();
      assertThat(first.output()).doesNotContain("DIR ");
    }
    try (ModelCache host = ModelCache.builder().root(root).build()) {
      assertThat(host.list().downloads()).singleElement().satisfies(d -> {
        assertThat(d.writerAlive()).as("its writer was killed").isFalse();
        assertThat(d.bytesDone()).isPositive();
      });
    }
    try (ChildJvm second = pod(
        "second.log",
        Map.of("modelcache.test.countFile", counts.toString(), "modelcache.test.tag", "second"),
        "ensure",
        root.toString(),
        uri,
        part,
        "2")) {
      assertThat(second.waitFor(Duration.ofSeconds(120))).as(second.output()).isZero();
      assertThat(second.output()).contains("VERIFY ok");
      String[] downloaded =
          second.awaitLine("DOWNLOADED ", Duration.ofSeconds(1)).split(" ");
      long fetched = Long.parseLong(downloaded[1]);
      assertThat(fetched + Long.parseLong(downloaded[2])).isEqualTo(total);
      assertThat(fetched).as("read again by the second pod").isLessThan(total / 2);
      assertThat(CountingFileBackend.countedBytesByReader(counts).get("second")).isEqualTo(fetched);
      assertThat(model.matches(
              Path.of(second.awaitLine("DIR ", Duration.ofSeconds(1)).substring(4))))
          .isTrue();
    }
  }

  @Test
  void theRootMountedAtAnotherPathSharesEntriesAndLeases() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("node/cache"));
    Path elsewhere = tmp.resolve("pod/mnt/models-cache");
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 65, 400_000, 3);
    ModelFixture b = ModelFixture.create(tmp.resolve("b"), 66, 300_000);
    try (ModelCache host = ModelCache.builder().root(root).build()) {
      host.ensure(a.source(), DownloadListener.NONE);
    }
    // A pod that sees the root only at another path downloads B, leases A, and holds the lease.
    try (ChildJvm writer = ChildJvm.start(
        tmp.resolve("writer.log"),
        Pods.withRootAt(root, elsewhere),
        System.getProperty("java.class.path"),
        List.of(),
        Map.of(),
        true,
        "ensure",
        elsewhere.toString(),
        b.uri("file").toString(),
        Integer.toString(64 << 10),
        "2")) {
      assertThat(writer.waitFor(START)).as(writer.output()).isZero();
      assertThat(writer.output())
          .contains("DIR " + elsewhere.resolve("entries"))
          .contains("VERIFY ok");
    }
    try (ChildJvm holder = ChildJvm.start(
            tmp.resolve("holder.log"),
            Pods.withRootAt(root, elsewhere),
            System.getProperty("java.class.path"),
            List.of(),
            Map.of(),
            true,
            "lease",
            elsewhere.toString(),
            a.uri("file").toString());
        ModelCache host = ModelCache.builder().root(root).build()) {
      assertThat(holder.awaitLine("LEASED", START)).contains(elsewhere.toString());
      assertThat(Files.exists(elsewhere.resolve("entries")))
          .as("the bind mount is the pod's alone")
          .isFalse();

      CacheEntry bEntry = host.getIfPresent(b.source()).orElseThrow();
      assertThat(bEntry.directory()).startsWith(root);
      assertThat(b.matches(bEntry.directory())).isTrue();
      assertThat(host.verify(b.source()).ok()).isTrue();
      assertThat(host.getIfPresent(a.source()).orElseThrow().leaseCount()).isEqualTo(1);
      assertThatThrownBy(() -> host.evict(a.source())).isInstanceOf(EntryInUseException.class);
      holder.process.getOutputStream().close();
      assertThat(holder.waitFor(START)).isZero();
      assertThat(host.evict(a.source())).isTrue();
    }
    try (var files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(p)) {
          assertThat(Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1))
              .as("%s names no absolute path of the root", p)
              .doesNotContain(elsewhere.toString())
              .doesNotContain(root.toString());
        }
      }
    }
  }

  @Test
  void anotherUserLeasesLoadsAndAwaitsWhatRootWrote() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Pods.openToAll(root, tmp);
    String classPath = Pods.classPathForAnyUser(tmp.resolve("cp"));
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 67, 250_000, 4);
    ModelFixture later = ModelFixture.create(tmp.resolve("later"), 68, 150_000);
    Pods.openToAll(tmp.resolve("a"), tmp);
    try (ModelCache host = ModelCache.builder().root(root).build()) {
      host.ensure(a.source(), DownloadListener.NONE);
      try (ChildJvm reader = ChildJvm.start(
          tmp.resolve("reader.log"),
          Pods.asUser(1000),
          classPath,
          List.of(),
          Map.of(),
          true,
          "lease",
          root.toString(),
          a.uri("file").toString())) {
        reader.awaitLine("LEASED", START);
        CacheEntry entry = host.getIfPresent(a.source()).orElseThrow();
        assertThat(entry.leases())
            .singleElement()
            .satisfies(h -> assertThat(h.uid()).isEqualTo(1000));
        assertThatThrownBy(() -> host.evict(a.source())).isInstanceOf(EntryInUseException.class);

        // The same user awaits a model that root commits while it waits, then leases and reads it.
        try (ChildJvm waiter = ChildJvm.start(
            tmp.resolve("waiter.log"),
            Pods.asUser(1000),
            classPath,
            List.of(),
            Map.of(),
            true,
            "await",
            root.toString(),
            later.uri("file").toString(),
            "60000")) {
          waiter.awaitLine("READY", START);
          host.ensure(later.source(), DownloadListener.NONE);
          assertThat(waiter.waitFor(START)).as(waiter.output()).isZero();
          assertThat(waiter.output()).contains("LEASES 1").contains("VERIFY ok");
        }
        reader.process.getOutputStream().close();
        assertThat(reader.waitFor(START)).as(reader.output()).isZero();
      }
      assertThat(host.evict(a.source())).as("its lease ended with it").isTrue();
    }
  }

  @Test
  void aUserWithoutTheRightsGetsOneClearErrorAndLeavesNoLease() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("cache"));
    Pods.openToAll(root, tmp);
    String classPath = Pods.classPathForAnyUser(tmp.resolve("cp"));
    ModelFixture a = ModelFixture.create(tmp.resolve("a"), 69, 100_000);
    try (ModelCache host = ModelCache.builder().root(root).build()) {
      host.ensure(a.source(), DownloadListener.NONE);
    }
    // A root whose leases directory another tool made for root alone.
    Files.setAttribute(root.resolve("leases"), "unix:mode", 0755);
    try (ChildJvm reader = ChildJvm.start(
        tmp.resolve("reader.log"),
        Pods.asUser(1000),
        classPath,
        List.of(),
        Map.of(),
        true,
        "lease",
        root.toString(),
        a.uri("file").toString())) {
      assertThat(reader.waitFor(START)).isEqualTo(3);
      String error = reader.awaitLine("ERROR ", Duration.ofSeconds(1));
      assertThat(error)
          .startsWith("ERROR CacheAccessDeniedException cannot lease " + a.source())
          .contains("permission denied on " + root.resolve("leases"))
          .contains("mode 0755, owner uid 0")
          .contains("uid 1000 gid 1000")
          .contains("chmod 1777");
    }
    try (var leases = Files.walk(root.resolve("leases"))) {
      assertThat(leases.filter(p -> !p.equals(root.resolve("leases"))))
          .as("nothing half-taken")
          .isEmpty();
    }
  }
}
