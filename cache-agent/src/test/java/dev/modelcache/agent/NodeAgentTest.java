package dev.modelcache.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.agent.kserve.LocalModelInfo;
import dev.modelcache.agent.kserve.LocalModelNode;
import dev.modelcache.agent.kserve.LocalModelNodeGroup;
import dev.modelcache.agent.kserve.LocalModelNodeGroupSpec;
import dev.modelcache.agent.kserve.ModelStatus;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.spi.BackendOptions;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.gaul.s3proxy.S3Proxy;
import org.junit.jupiter.api.Test;

/**
 * The agent against a real HTTP API server (fabric8's mock server in CRUD mode) and a real S3
 * store (S3Proxy): what KServe's controller writes into the LocalModelNode spec becomes cache
 * entries, links and status.
 */
class NodeAgentTest extends AgentCluster {

  @Test
  void aModelAddedToTheSpecReachesDownloadedWithItsFilesUnderModels() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/llama/", "llama"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED));

    Path link = root.resolve("models/llama");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readSymbolicLink(link).isAbsolute())
        .as("relative, so it resolves wherever the volume is mounted")
        .isFalse();
    CacheEntry entry =
        cache.getIfPresent(ModelSource.parse("s3://models/llama/")).orElseThrow();
    assertThat(entry.pinned()).as("what the spec lists is pinned").isTrue();
    assertThat(link.toRealPath()).isEqualTo(entry.directory().toRealPath());
    assertThat(Files.size(link.resolve("shard-0.safetensors"))).isEqualTo(300_000);
    assertThat(Files.size(link.resolve("shard-1.safetensors"))).isEqualTo(70_000);
    // KServe's pod webhook mounts models/<first 16 hex digits of sha256(sourceModelUri)>.
    assertThat(root.resolve("models/" + ModelLinks.storageKey("s3://models/llama/"))
            .toRealPath())
        .isEqualTo(entry.directory().toRealPath());

    assertThat(get("/readyz")).startsWith("200");
    assertThat(get("/healthz")).startsWith("200");
    eventually(
        "metrics count the model as downloaded",
        () -> get("/metrics").contains("modelcache_agent_models{state=\"ModelDownloaded\"} 1.0"));
    String metrics = get("/metrics");
    assertThat(metrics)
        .contains("modelcache_agent_downloaded_bytes_total 370000.0")
        .contains("modelcache_cache_size_bytes 370000.0")
        .contains("modelcache_cache_free_bytes")
        .contains("modelcache_agent_download_duration_seconds_count 1")
        .contains("modelcache_agent_verification_failures_total 0.0");
  }

  @Test
  void aMissingSourceIsAnErrorWithItsReasonThenRecoversWhenItAppears() throws Exception {
    startAgent(false);
    spec(
        LocalModelInfo.of("s3://models/late/", "late"),
        LocalModelInfo.of("ftp://host/x/", "bad-scheme"),
        LocalModelInfo.of("s3://models/mistral/", "mistral"));
    LocalModelNode node = awaitNode(state("late", ModelStatus.DOWNLOAD_ERROR)
        .and(state("bad-scheme", ModelStatus.DOWNLOAD_ERROR))
        .and(state("mistral", ModelStatus.DOWNLOADED)));
    String reasons =
        node.getMetadata().getAnnotations().get(LocalModelNodeStatusWriter.REASONS_ANNOTATION);
    assertThat(reasons)
        .contains("late")
        .contains("s3://models/late/")
        .contains("bad-scheme")
        .contains("ftp");

    upload("late/", 9, 50_000);
    node = awaitNode(state("late", ModelStatus.DOWNLOADED));
    assertThat(node.getStatus().modelStatus().get("bad-scheme"))
        .isEqualTo(ModelStatus.DOWNLOAD_ERROR);
    assertThat(Files.size(root.resolve("models/late/shard-0.safetensors"))).isEqualTo(50_000);
  }

  @Test
  void aRemovedModelIsEvictedUnlessLeased() throws Exception {
    startAgent(false);
    spec(
        LocalModelInfo.of("s3://models/llama/", "llama"),
        LocalModelInfo.of("s3://models/mistral/", "mistral"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED).and(state("mistral", ModelStatus.DOWNLOADED)));
    ModelSource llama = ModelSource.parse("s3://models/llama/");
    ModelSource mistral = ModelSource.parse("s3://models/mistral/");
    try (ModelCache pod = openCache(root);
        Lease lease = pod.lease(mistral)) {
      spec();
      awaitNode(n -> n.getStatus() == null || n.getStatus().modelStatus().isEmpty());
      eventually(
          "the unleased model is evicted", () -> cache.getIfPresent(llama).isEmpty());
      assertThat(
              Files.exists(root.resolve("models/llama"), java.nio.file.LinkOption.NOFOLLOW_LINKS))
          .isFalse();
      assertThat(cache.getIfPresent(mistral)).as("leased: kept").isPresent();
      assertThat(Files.size(lease.directory().resolve("shard-0.safetensors"))).isEqualTo(200_000);
    }
    eventually(
        "the model is evicted once its lease ends",
        () -> cache.getIfPresent(mistral).isEmpty());
  }

  @Test
  void aStorageLimitTooSmallIsAnErrorThatSaysHowMuchAndFillsNothing() throws Exception {
    LocalModelNodeGroup group = new LocalModelNodeGroup();
    group.setMetadata(new ObjectMetaBuilder().withName("small-disks").build());
    group.setSpec(new LocalModelNodeGroupSpec(new Quantity("100Ki"), null, null));
    client.resource(group).create();
    startAgent(false);
    spec(new LocalModelInfo("s3://models/llama/", "llama", null, "small-disks", null, null));
    LocalModelNode node = awaitNode(state("llama", ModelStatus.DOWNLOAD_ERROR));
    String reasons =
        node.getMetadata().getAnnotations().get(LocalModelNodeStatusWriter.REASONS_ANNOTATION);
    assertThat(reasons)
        .contains("370000 bytes needed")
        .contains("102400 bytes available")
        .contains("storageLimit 102400 bytes of LocalModelNodeGroup small-disks");
    assertThat(cache.limits().maxBytes()).isEqualTo(102_400);
    assertThat(cache.list().entries()).isEmpty();
    assertThat(cache.list().downloads()).isEmpty();
    try (var files = Files.walk(root)) {
      long bytes =
          files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
      assertThat(bytes).as("bytes under the root").isLessThan(10_000);
    }
  }

  @Test
  void aChangedSourceSwapsTheLinkAtomicallyAndReleasesTheOldEntry() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/qwen-v1/", "qwen"));
    awaitNode(state("qwen", ModelStatus.DOWNLOADED));
    Path file = root.resolve("models/qwen/shard-0.safetensors");
    assertThat(Files.size(file)).isEqualTo(150_000);

    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<String> broken = new AtomicReference<>();
    long[] sizesSeen = new long[2];
    Thread reader = Thread.ofPlatform().start(() -> {
      while (!stop.get()) {
        try {
          long size = Files.size(file);
          sizesSeen[size == 150_000 ? 0 : 1]++;
        } catch (IOException e) {
          broken.compareAndSet(null, e.toString());
        }
      }
    });
    try {
      spec(LocalModelInfo.of("s3://models/qwen-v2/", "qwen"));
      awaitNode(state("qwen", ModelStatus.DOWNLOADED));
      eventually("the link points at the new source", () -> Files.size(file) == 160_000);
    } finally {
      stop.set(true);
      reader.join();
    }
    assertThat(broken.get()).as("a reader never finds models/qwen missing").isNull();
    assertThat(sizesSeen[0]).isPositive();
    eventually(
        "the old entry is evicted",
        () -> cache.getIfPresent(ModelSource.parse("s3://models/qwen-v1/")).isEmpty());
  }

  @Test
  void theWatchSurvivesTheServerClosingTheConnection() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/llama/", "llama"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED));
    int port = server.getPort();
    server.destroy(); // every connection, the watch's included, is closed
    server = newServer(port); // the same objects, served again on the same port
    spec(
        LocalModelInfo.of("s3://models/llama/", "llama"),
        LocalModelInfo.of("s3://models/mistral/", "mistral"));
    awaitNode(state("mistral", ModelStatus.DOWNLOADED));
    assertThat(Files.size(root.resolve("models/mistral/shard-0.safetensors"))).isEqualTo(200_000);
  }

  @Test
  void anUnreachableStoreIsAnErrorWithItsReasonThenRecoversWhenItComesBack() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort(); // nothing listens there once closed
    }
    cache.close();
    cache = ModelCache.builder()
        .root(root)
        .minFreeBytes(0)
        .partSizeBytes(64 << 10)
        .maxAttempts(2)
        .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
        .backendOptions(
            "s3",
            BackendOptions.NONE
                .with("endpoint", "http://127.0.0.1:" + port)
                .with("pathStyle", "true")
                .with("region", "us-east-1"))
        .build();
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/mistral/", "mistral"));
    LocalModelNode node = awaitNode(state("mistral", ModelStatus.DOWNLOAD_ERROR));
    assertThat(
            node.getMetadata().getAnnotations().get(LocalModelNodeStatusWriter.REASONS_ANNOTATION))
        .contains("mistral")
        .contains("127.0.0.1:" + port);

    S3Proxy back = serve(store, port);
    try {
      node = awaitNode(state("mistral", ModelStatus.DOWNLOADED));
      assertThat(node.getMetadata().getAnnotations())
          .doesNotContainKey(LocalModelNodeStatusWriter.REASONS_ANNOTATION);
      assertThat(Files.size(root.resolve("models/mistral/shard-0.safetensors"))).isEqualTo(200_000);
    } finally {
      back.stop();
    }
  }

  @Test
  void aScheduledVerificationFindsADamagedFileAndRepairsIt() throws Exception {
    startAgent(agentBuilder().kubernetes(client, NODE).verifyInterval(Duration.ofMillis(200)));
    spec(LocalModelInfo.of("s3://models/llama/", "llama"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED));
    Path file = root.resolve("models/llama/shard-1.safetensors").toRealPath();
    byte[] good = Files.readAllBytes(file);
    byte[] bad = good.clone();
    bad[1234] ^= 0x5a;
    file.toFile().setWritable(true); // committed files are 0444; this test runs as their owner
    Files.write(file, bad);

    eventually(
        "the damage is found",
        () -> get("/metrics").contains("modelcache_agent_verification_failures_total 1.0"));
    // While the damaged entry is replaced, the link has nothing to point at for a moment.
    eventually("the model is downloaded again", () -> {
      try {
        return java.util.Arrays.equals(
            Files.readAllBytes(root.resolve("models/llama/shard-1.safetensors")), good);
      } catch (java.nio.file.NoSuchFileException replacing) {
        return false;
      }
    });
    awaitNode(state("llama", ModelStatus.DOWNLOADED));
    assertThat(cache.verify(ModelSource.parse("s3://models/llama/")).ok()).isTrue();
  }

  @Test
  void withoutKServeAModelsFileListsWhatToKeep() throws Exception {
    Path models = tmp.resolve("models.yaml");
    Files.writeString(models, """
        models:
          - name: llama-small
            source: s3://models/llama/
          - s3://models/mistral/
        """);
    startAgent(agentBuilder().modelsFile(models));
    eventually(
        "both models are linked",
        () -> Files.exists(root.resolve("models/llama-small/shard-1.safetensors"))
            && Files.exists(root.resolve("models/mistral/shard-0.safetensors")));
    eventually("the agent is ready", () -> get("/readyz").startsWith("200"));
    assertThat(Files.readString(tmp.resolve("agent.log")))
        .contains("event=model_state model=llama-small state=ModelDownloaded");

    Files.writeString(models, "[\"s3://models/mistral/\"]\n"); // JSON too
    Files.setLastModifiedTime(
        models, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5_000));
    eventually(
        "the model dropped from the file is evicted",
        () -> cache.getIfPresent(ModelSource.parse("s3://models/llama/")).isEmpty());
    assertThat(Files.exists(
            root.resolve("models/llama-small"), java.nio.file.LinkOption.NOFOLLOW_LINKS))
        .isFalse();
    assertThat(cache.getIfPresent(ModelSource.parse("s3://models/mistral/"))).isPresent();
  }

  @Test
  void aNamespacedModelIsKeyedAsKServeKeysItAndGetsOnlyTheHashedFolder() throws Exception {
    startAgent(false);
    spec(new LocalModelInfo("s3://models/mistral/", "mistral", "team-a", null, null, null));
    awaitNode(state("team-a/mistral", ModelStatus.DOWNLOADED));
    Path hashed = root.resolve("models/" + ModelLinks.storageKey("s3://models/mistral/"));
    assertThat(Files.size(hashed.resolve("shard-0.safetensors"))).isEqualTo(200_000);
    assertThat(
            Files.exists(root.resolve("models/mistral"), java.nio.file.LinkOption.NOFOLLOW_LINKS))
        .as("another namespace may use the same name")
        .isFalse();
  }

  @Test
  void aRestartedAgentReadsWhatIsCachedFromDiskAndDownloadsNothing() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/llama/", "llama"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED));
    agent.close();
    cache.close();

    cache = openCache(root); // a new process would see only the disk
    startAgent(false);
    eventually("the restarted agent is ready", () -> get("/readyz").startsWith("200"));
    eventually(
        "it counts the model as downloaded",
        () -> get("/metrics").contains("modelcache_agent_models{state=\"ModelDownloaded\"} 1.0"));
    assertThat(get("/metrics")).contains("modelcache_agent_downloaded_bytes_total 0.0");
    assertThat(Files.readString(tmp.resolve("agent.log")))
        .contains("event=cached model=llama")
        .doesNotContain("event=downloaded");
  }
}
