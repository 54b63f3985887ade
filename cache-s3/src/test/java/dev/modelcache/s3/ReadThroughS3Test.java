package dev.modelcache.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.Integrity;
import dev.modelcache.core.IntegrityException;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.loader.DigestTensorSink;
import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.Loader;
import dev.modelcache.loader.ReadThrough;
import dev.modelcache.loader.ReadThroughResult;
import dev.modelcache.loader.SafetensorsWriter;
import dev.modelcache.loader.TensorInfo;
import dev.modelcache.loader.TensorSink;
import dev.modelcache.s3.FaultInjectingProxy.Fault;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-through from S3 (S3Proxy behind a fault-injecting proxy): every tensor arrives with the
 * store's bytes and the entry is committed with the ETag checked; a byte flipped on the wire in
 * mid-stream fails the load with an {@link IntegrityException} naming the file, the sink is told,
 * and nothing is committed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadThroughS3Test {

  private static final int MIB = 1 << 20;
  private static final List<String> SHARDS =
      List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
  private static final AtomicInteger MODELS = new AtomicInteger();

  private S3ProxyServer server;
  private FaultInjectingProxy proxy;
  private S3StorageBackend backend;

  @BeforeAll
  void start() throws Exception {
    server = new S3ProxyServer();
    proxy = new FaultInjectingProxy(server.endpoint());
    backend = server
        .backendThrough(proxy.endpoint())
        .readTimeout(Duration.ofSeconds(5))
        .build();
    server.createBucket("models");
  }

  @AfterAll
  void stop() throws Exception {
    S3Server.closeAll(backend, proxy, server);
  }

  /** Two shards of three tensors, about 2.5 MiB each, uploaded whole (their ETag is their MD5); returns the prefix. */
  private String upload(Path dir) throws Exception {
    String prefix = "rt" + MODELS.incrementAndGet() + "/";
    Files.createDirectories(dir);
    java.util.SplittableRandom random = new java.util.SplittableRandom(prefix.hashCode());
    for (String shard : SHARDS) {
      SafetensorsWriter w = SafetensorsWriter.create();
      for (int t = 0; t < 3; t++) {
        byte[] data = new byte[850_000 + t * 1000];
        for (int i = 0; i < data.length; i++) {
          data[i] = (byte) random.nextInt();
        }
        w.tensor(shard.substring(6, 11) + ".t" + t, Dtype.U8, new long[] {data.length}, data);
      }
      w.write(dir.resolve(shard));
      server.put("models", prefix + shard, Files.readAllBytes(dir.resolve(shard)));
    }
    return prefix;
  }

  private ModelCache cache(Path root) throws IOException {
    return ModelCache.builder()
        .root(root)
        .createRootIfMissing()
        .backend(backend)
        .concurrency(2)
        .partSizeBytes(MIB)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(10))
        .build();
  }

  private static ModelSource source(String prefix) throws Exception {
    return ModelSource.of(new URI("s3", "models", "/" + prefix, null));
  }

  @Test
  void aMissLoadsEveryTensorFromTheStoreAndCommitsItChecked(@TempDir Path tmp) throws Exception {
    String prefix = upload(tmp.resolve("model"));
    DigestTensorSink expected = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
    Loader.builder().build().load(tmp.resolve("model"), expected);
    proxy.clearFaults();
    try (ModelCache cache = cache(tmp.resolve("cache"))) {
      DigestTensorSink sink = DigestTensorSink.of(DigestTensorSink.Algorithm.SHA_256);
      ReadThroughResult r = ReadThrough.builder(cache).build().load(source(prefix), sink);

      assertThat(sink.digests()).isEqualTo(expected.digests());
      assertThat(List.copyOf(sink.digests().keySet()))
          .isEqualTo(List.copyOf(expected.digests().keySet()));
      assertThat(r.cacheHit()).isFalse();
      CacheEntry entry = cache.getIfPresent(source(prefix)).orElseThrow();
      assertThat(r.fetchedBytes()).isEqualTo(entry.sizeBytes());
      for (String shard : SHARDS) {
        assertThat(entry.manifest().file(shard).orElseThrow().integrity())
            .isEqualTo(Integrity.ETAG_MD5);
      }
    }
  }

  @Test
  void aByteFlippedOnTheWireMidStreamFailsTheLoadTellsTheSinkAndCommitsNothing(@TempDir Path tmp)
      throws Exception {
    String prefix = upload(tmp.resolve("model"));
    proxy.clearFaults();
    int injectedBefore = proxy.injected();
    // The headers' blocks come first; the flip hits a data block later in the stream.
    proxy.beforeRangedGet(4, () -> proxy.inject(Fault.FLIP_BYTE));
    Exception[] told = new Exception[1];
    TensorSink sink = new TensorSink() {
      @Override
      public void beginTensor(TensorInfo tensor) {}

      @Override
      public void chunk(TensorInfo tensor, long offsetInTensor, MemorySegment bytes) {}

      @Override
      public void endTensor(TensorInfo tensor) {}

      @Override
      public void loadFailed(Exception cause) {
        told[0] = cause;
      }
    };
    Path root = tmp.resolve("cache");
    try (ModelCache cache = cache(root)) {
      assertThatThrownBy(() -> ReadThrough.builder(cache).build().load(source(prefix), sink))
          .isInstanceOfSatisfying(
              IntegrityException.class, e -> assertThat(SHARDS).contains(e.path()))
          .hasMessageContaining("does not match the source")
          .hasMessageContaining("nothing was committed");
      assertThat(told[0]).isInstanceOf(IntegrityException.class);
      assertThat(proxy.injected() - injectedBefore).as("the flip happened").isEqualTo(1);
      assertThat(cache.getIfPresent(source(prefix))).isEmpty();
      assertThat(cache.list().downloads()).as("no staging directory left").isEmpty();
    } finally {
      proxy.clearFaults();
    }
    try (Stream<Path> committed = Files.list(root.resolve("entries"))) {
      assertThat(committed).isEmpty();
    }
  }
}
