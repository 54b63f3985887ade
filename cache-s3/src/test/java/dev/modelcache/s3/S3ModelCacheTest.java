package dev.modelcache.s3;

import static dev.modelcache.s3.S3StorageBackendTest.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.DownloadSummary;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.ObjectChangedException;
import dev.modelcache.s3.FaultInjectingProxy.Fault;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** Whole downloads through ModelCache and its engine, from each real S3 server, with real faults. */
@ParameterizedClass(name = "on {0}")
@EnumSource(S3Server.Kind.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3ModelCacheTest {

  private static final int PART_BYTES = 256 * 1024;
  private static final AtomicInteger MODELS = new AtomicInteger();

  @Parameter
  private S3Server.Kind kind;

  private S3Server server;
  private FaultInjectingProxy proxy;
  private S3StorageBackend backend;

  @BeforeParameterizedClassInvocation
  void start() throws Exception {
    if (kind.unavailable() != null) {
      return; // every test skips itself with the reason
    }
    server = kind.start();
    proxy = new FaultInjectingProxy(server.endpoint());
    backend = server
        .backendThrough(proxy.endpoint())
        .readTimeout(Duration.ofSeconds(2))
        .build();
    server.createBucket("models");
  }

  // One instance serves every server kind in turn (PER_CLASS), so each run leaves nothing behind.
  @AfterParameterizedClassInvocation
  void stop() throws Exception {
    S3Server.closeAll(backend, proxy, server);
    backend = null;
    proxy = null;
    server = null;
  }

  @BeforeEach
  void serverRunning() {
    kind.assumeAvailable();
  }

  /** A cache whose requests are two parts long: every file of more than two parts takes several. */
  private ModelCache cache(Path root) throws Exception {
    return cache(root, 2 * PART_BYTES);
  }

  private ModelCache cache(Path root, long requestBytes) throws Exception {
    return ModelCache.builder()
        .root(root)
        .createRootIfMissing()
        .backend(backend)
        .concurrency(4)
        .partSizeBytes(PART_BYTES)
        .requestSizeBytes(requestBytes)
        .maxAttempts(4)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(20))
        .build();
  }

  /** Uploads a model of every kind of object under a fresh prefix; returns path -> bytes. */
  private Map<String, byte[]> uploadModel(String prefix) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("config.json", "{\"layers\": 2}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    files.put("model-00001-of-00002.safetensors", random(3 * 1024 * 1024 + 5, 1));
    files.put("model-00002-of-00002.safetensors", random(11 * 1024 * 1024 + 3, 2));
    files.put("empty.bin", new byte[0]);
    files.put("tokenizer/nested/deeper/vocab.txt", random(70_000, 3));
    files.put("sub dir/wéights ü+%.bin", random(400_000, 4));
    files.put("日本/テンソル.bin", random(123_457, 5));
    for (var file : files.entrySet()) {
      String key = prefix + file.getKey();
      if (file.getKey().startsWith("model-00002")) {
        server.putMultipart("models", key, file.getValue(), 5 * 1024 * 1024);
      } else {
        server.put("models", key, file.getValue());
      }
    }
    return files;
  }

  private static ModelSource source(String prefix) throws Exception {
    return ModelSource.of(new URI("s3", "models", "/" + prefix, null));
  }

  private static void assertIdentical(CacheEntry entry, Map<String, byte[]> files)
      throws Exception {
    assertThat(entry.manifest().files()).hasSize(files.size());
    for (var file : files.entrySet()) {
      assertThat(Files.readAllBytes(entry.file(file.getKey())))
          .as(file.getKey())
          .isEqualTo(file.getValue());
    }
  }

  private static void assertNothingCommitted(ModelCache cache, ModelSource source, Path root)
      throws Exception {
    assertThat(cache.getIfPresent(source)).isEmpty();
    Path entries = root.resolve("entries");
    if (Files.isDirectory(entries)) {
      try (Stream<Path> committed = Files.list(entries)) {
        assertThat(committed).isEmpty();
      }
    }
  }

  @Test
  void multiFileModelRoundTripsByteForByte(@TempDir Path root) throws Exception {
    String prefix = "m" + MODELS.incrementAndGet() + "/my model/";
    Map<String, byte[]> files = uploadModel(prefix);
    try (ModelCache cache = cache(root)) {
      CacheEntry entry = cache.ensure(source(prefix), new DownloadListener() {});
      assertIdentical(entry, files);
      assertThat(cache.getIfPresent(source(prefix))).isPresent();
    }
  }

  @Test
  void transientFaultsAreRetriedByTheEngineAndTheModelIsExact(@TempDir Path root) throws Exception {
    String prefix = "m" + MODELS.incrementAndGet() + "/";
    Map<String, byte[]> files = uploadModel(prefix);
    int injectedBefore = proxy.injected();
    proxy.inject(
        Fault.SLOW_DOWN,
        Fault.RESET_MID_BODY,
        Fault.TRUNCATE_BODY,
        Fault.INTERNAL_ERROR,
        Fault.STALL_MID_BODY);
    try (ModelCache cache = cache(root)) {
      CacheEntry entry = cache.ensure(source(prefix), new DownloadListener() {});
      assertIdentical(entry, files);
    }
    assertThat(proxy.injected() - injectedBefore).isEqualTo(5);
  }

  @Test
  void aRequestCutShortIsResumedAtTheFirstBlockNotReceived(@TempDir Path root) throws Exception {
    String prefix = "m" + MODELS.incrementAndGet() + "/";
    byte[] data = random(8 * PART_BYTES + 11, 7);
    server.put("models", prefix + "weights.bin", data);
    // One request for the whole file; the proxy ends its body after half (four blocks and 5 bytes).
    proxy.inject(Fault.TRUNCATE_BODY);
    int exchangesBefore = proxy.exchanges().size();
    var summary = new AtomicReference<DownloadSummary>();
    try (ModelCache cache = cache(root, 9 * PART_BYTES)) { // its nine blocks in one request
      CacheEntry entry = cache.ensure(source(prefix), new DownloadListener() {
        @Override
        public void completed(CompletedEvent event) {
          summary.set(event.summary());
        }
      });
      assertIdentical(entry, Map.of("weights.bin", data));
    }
    List<String> ranges =
        proxy.exchanges().subList(exchangesBefore, proxy.exchanges().size()).stream()
            .filter(e -> e.requestLine().startsWith("GET ") && e.requestHeader("range") != null)
            .map(e -> e.requestHeader("range"))
            .toList();
    assertThat(ranges)
        .containsExactly(
            "bytes=0-" + (data.length - 1), "bytes=" + 4 * PART_BYTES + "-" + (data.length - 1));
    // The four blocks received whole were kept, not fetched again (a piece cut short is not
    // counted: the backend hands back none of its bytes).
    assertThat(summary.get().bytesFetched()).isEqualTo(data.length);
  }

  @Test
  void flippedByteInASinglePartObjectIsCaughtAndFetchedAgain(@TempDir Path root) throws Exception {
    String prefix = "m" + MODELS.incrementAndGet() + "/";
    byte[] data = random(2 * 1024 * 1024 + 11, 6);
    server.put("models", prefix + "weights.bin", data);
    proxy.inject(Fault.FLIP_BYTE);
    try (ModelCache cache = cache(root)) {
      CacheEntry entry = cache.ensure(source(prefix), new DownloadListener() {});
      assertIdentical(entry, Map.of("weights.bin", data));
    }
    assertThat(proxy.pendingFaults()).isZero();
  }

  @Test
  void objectOverwrittenDuringTheDownloadFailsCleanlyWithNothingCommitted(@TempDir Path root)
      throws Exception {
    String prefix = "m" + MODELS.incrementAndGet() + "/";
    Map<String, byte[]> files = uploadModel(prefix);
    String replaced = prefix + "model-00002-of-00002.safetensors";
    // After a few ranges, replace the large multipart shard with other bytes of the same size.
    proxy.beforeRangedGet(
        6,
        () -> server.put(
            "models", replaced, random(files.get("model-00002-of-00002.safetensors").length, 99)));
    try (ModelCache cache = cache(root)) {
      assertThatThrownBy(() -> cache.ensure(source(prefix), new DownloadListener() {}))
          .isInstanceOf(ObjectChangedException.class)
          .hasMessageContaining("s3://models/" + replaced);
      assertNothingCommitted(cache, source(prefix), root);

      // The next attempt lists the new version and completes consistently.
      files.put(
          "model-00002-of-00002.safetensors",
          random(files.get("model-00002-of-00002.safetensors").length, 99));
      CacheEntry entry = cache.ensure(source(prefix), new DownloadListener() {});
      assertIdentical(entry, files);
    }
  }
}
