package dev.modelcache.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.agent.kserve.LocalModelInfo;
import dev.modelcache.agent.kserve.LocalModelNode;
import dev.modelcache.agent.kserve.LocalModelNodeGroup;
import dev.modelcache.agent.kserve.LocalModelNodeGroupSpec;
import dev.modelcache.agent.kserve.LocalModelNodeSpec;
import dev.modelcache.agent.kserve.ModelStatus;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.Lease;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.spi.BackendOptions;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * The agent against a real HTTP API server (fabric8's mock server in CRUD mode) and a real S3
 * store (S3Proxy): what KServe's controller writes into the LocalModelNode spec becomes cache
 * entries, links and status.
 */
class NodeAgentTest {

  static final String NODE = "gpu-node-1";
  static final String ACCESS_KEY = "agent-test-key";
  static final String SECRET_KEY = "agent-test-secret";
  static final Duration WAIT = Duration.ofSeconds(60);

  static S3Proxy proxy;
  static BlobStore store;
  static String endpoint;

  @TempDir Path tmp;
  KubernetesCrudDispatcher dispatcher;
  KubernetesMockServer server;
  KubernetesClient client;
  ModelCache cache;
  NodeAgent agent;
  Path root;
  final List<RecordedRequest> requests = new ArrayList<>();

  @BeforeAll
  static void startStore() throws Exception {
    store = BlobStores.create("transient", new Properties());
    proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
    proxy.start();
    while (!"STARTED".equals(proxy.getState())) {
      Thread.sleep(5);
    }
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);
    store.createContainer("models");
    upload("llama/", 1, 300_000, 70_000);
    upload("mistral/", 2, 200_000);
    upload("qwen-v1/", 3, 150_000);
    upload("qwen-v2/", 4, 160_000);
  }

  @AfterAll
  static void stopStore() throws Exception {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    proxy.stop();
  }

  static void upload(String prefix, long seed, int... sizes) throws IOException {
    Random random = new Random(seed);
    for (int i = 0; i < sizes.length; i++) {
      byte[] data = new byte[sizes[i]];
      random.nextBytes(data);
      store.putBlob(PutObjectRequest.builder().bucket("models").key(prefix + "shard-" + i + ".safetensors")
          .contentLength((long) data.length).build(), new ByteArrayInputStream(data));
    }
  }

  @BeforeEach
  void startCluster() throws IOException {
    dispatcher = new KubernetesCrudDispatcher(List.of(
        crd("LocalModelNode", "localmodelnodes", true), crd("LocalModelNodeGroup", "localmodelnodegroups", false)));
    server = newServer(0);
    client = server.createClient();
    root = Files.createDirectories(tmp.resolve("root"));
    cache = openCache(root);
  }

  static CustomResourceDefinitionContext crd(String kind, String plural, boolean statusSubresource) {
    return new CustomResourceDefinitionContext.Builder().withGroup("serving.kserve.io").withVersion("v1alpha1")
        .withScope("Cluster").withKind(kind).withPlural(plural).withName(plural + ".serving.kserve.io")
        .withStatusSubresource(statusSubresource).build();
  }

  KubernetesMockServer newServer(int port) {
    KubernetesMockServer s = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    s.init(InetAddress.getLoopbackAddress(), port);
    return s;
  }

  static ModelCache openCache(Path root) throws IOException {
    return ModelCache.builder().root(root).minFreeBytes(0).partSizeBytes(64 << 10).concurrency(4)
        .backendOptions("s3", BackendOptions.NONE.with("endpoint", endpoint).with("pathStyle", "true")
            .with("region", "us-east-1"))
        .build();
  }

  @AfterEach
  void stopCluster() {
    if (agent != null) {
      agent.close();
    }
    cache.close();
    client.close();
    server.destroy();
  }

  NodeAgent startAgent(boolean labelNode) throws IOException {
    agent = NodeAgent.builder().cache(cache).kubernetes(client, NODE).labelNode(labelNode)
        .resyncInterval(Duration.ofMillis(300)).retryBackoff(Duration.ofMillis(100), Duration.ofMillis(400))
        .verifyInterval(Duration.ZERO).httpPort(0)
        .log(new PrintStream(Files.newOutputStream(tmp.resolve("agent.log")), true)).start();
    return agent;
  }

  void spec(LocalModelInfo... models) {
    LocalModelNode node = client.resources(LocalModelNode.class).withName(NODE).get();
    if (node == null) {
      node = new LocalModelNode();
      node.setMetadata(new ObjectMetaBuilder().withName(NODE).build());
      node.setSpec(new LocalModelNodeSpec(List.of(models)));
      client.resource(node).create();
    } else {
      node.setSpec(new LocalModelNodeSpec(List.of(models)));
      client.resource(node).update();
    }
  }

  LocalModelNode awaitNode(Predicate<LocalModelNode> condition) {
    return client.resources(LocalModelNode.class).withName(NODE)
        .waitUntilCondition(n -> n != null && condition.test(n), WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  static Predicate<LocalModelNode> state(String key, ModelStatus status) {
    return n -> n.getStatus() != null && n.getStatus().modelStatus().get(key) == status;
  }

  static void eventually(String what, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.call()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT + ": " + what);
      }
      Thread.sleep(20);
    }
  }

  static String sha256(Path dir) throws Exception {
    var md = java.security.MessageDigest.getInstance("SHA-256");
    try (var files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        md.update(dir.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        md.update(Files.readAllBytes(f));
      }
    }
    return java.util.HexFormat.of().formatHex(md.digest());
  }

  String get(String path) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + path))
          .build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    }
  }

  @Test
  void aModelAddedToTheSpecReachesDownloadedWithItsFilesUnderModels() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/llama/", "llama"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED));

    Path link = root.resolve("models/llama");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readSymbolicLink(link).isAbsolute()).as("relative, so it resolves wherever the volume is mounted")
        .isFalse();
    CacheEntry entry = cache.getIfPresent(ModelSource.parse("s3://models/llama/")).orElseThrow();
    assertThat(entry.pinned()).as("what the spec lists is pinned").isTrue();
    assertThat(link.toRealPath()).isEqualTo(entry.directory().toRealPath());
    assertThat(Files.size(link.resolve("shard-0.safetensors"))).isEqualTo(300_000);
    assertThat(Files.size(link.resolve("shard-1.safetensors"))).isEqualTo(70_000);
    // KServe's pod webhook mounts models/<first 16 hex digits of sha256(sourceModelUri)>.
    assertThat(root.resolve("models/" + ModelLinks.storageKey("s3://models/llama/")).toRealPath())
        .isEqualTo(entry.directory().toRealPath());

    assertThat(get("/readyz")).startsWith("200");
    assertThat(get("/healthz")).startsWith("200");
    eventually("metrics count the model as downloaded", () -> get("/metrics")
        .contains("modelcache_agent_models{state=\"ModelDownloaded\"} 1.0"));
    String metrics = get("/metrics");
    assertThat(metrics).contains("modelcache_agent_downloaded_bytes_total 370000.0")
        .contains("modelcache_cache_size_bytes 370000.0").contains("modelcache_cache_free_bytes")
        .contains("modelcache_agent_download_duration_seconds_count 1")
        .contains("modelcache_agent_verification_failures_total 0.0");
  }

  @Test
  void aMissingSourceIsAnErrorWithItsReasonThenRecoversWhenItAppears() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/late/", "late"), LocalModelInfo.of("ftp://host/x/", "bad-scheme"),
        LocalModelInfo.of("s3://models/mistral/", "mistral"));
    LocalModelNode node = awaitNode(state("late", ModelStatus.DOWNLOAD_ERROR)
        .and(state("bad-scheme", ModelStatus.DOWNLOAD_ERROR)).and(state("mistral", ModelStatus.DOWNLOADED)));
    String reasons = node.getMetadata().getAnnotations().get(LocalModelNodeStatusWriter.REASONS_ANNOTATION);
    assertThat(reasons).contains("late").contains("s3://models/late/").contains("bad-scheme").contains("ftp");

    upload("late/", 9, 50_000);
    node = awaitNode(state("late", ModelStatus.DOWNLOADED));
    assertThat(node.getStatus().modelStatus().get("bad-scheme")).isEqualTo(ModelStatus.DOWNLOAD_ERROR);
    assertThat(Files.size(root.resolve("models/late/shard-0.safetensors"))).isEqualTo(50_000);
  }

  @Test
  void aRemovedModelIsEvictedUnlessLeased() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/llama/", "llama"), LocalModelInfo.of("s3://models/mistral/", "mistral"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED).and(state("mistral", ModelStatus.DOWNLOADED)));
    ModelSource llama = ModelSource.parse("s3://models/llama/");
    ModelSource mistral = ModelSource.parse("s3://models/mistral/");
    try (ModelCache pod = openCache(root); Lease lease = pod.lease(mistral)) {
      spec();
      awaitNode(n -> n.getStatus() == null || n.getStatus().modelStatus().isEmpty());
      eventually("the unleased model is evicted", () -> cache.getIfPresent(llama).isEmpty());
      assertThat(Files.exists(root.resolve("models/llama"), java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
      assertThat(cache.getIfPresent(mistral)).as("leased: kept").isPresent();
      assertThat(Files.size(lease.directory().resolve("shard-0.safetensors"))).isEqualTo(200_000);
    }
    eventually("the model is evicted once its lease ends", () -> cache.getIfPresent(mistral).isEmpty());
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
    String reasons = node.getMetadata().getAnnotations().get(LocalModelNodeStatusWriter.REASONS_ANNOTATION);
    assertThat(reasons).contains("370000 bytes needed").contains("102400 bytes available")
        .contains("storageLimit 102400 bytes of LocalModelNodeGroup small-disks");
    assertThat(cache.limits().maxBytes()).isEqualTo(102_400);
    assertThat(cache.list().entries()).isEmpty();
    assertThat(cache.list().downloads()).isEmpty();
    try (var files = Files.walk(root)) {
      long bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
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
    eventually("the old entry is evicted", () -> cache.getIfPresent(ModelSource.parse("s3://models/qwen-v1/")).isEmpty());
  }

  @Test
  void theWatchSurvivesTheServerClosingTheConnection() throws Exception {
    startAgent(false);
    spec(LocalModelInfo.of("s3://models/llama/", "llama"));
    awaitNode(state("llama", ModelStatus.DOWNLOADED));
    int port = server.getPort();
    server.destroy(); // every connection, the watch's included, is closed
    server = newServer(port); // the same objects, served again on the same port
    spec(LocalModelInfo.of("s3://models/llama/", "llama"), LocalModelInfo.of("s3://models/mistral/", "mistral"));
    awaitNode(state("mistral", ModelStatus.DOWNLOADED));
    assertThat(Files.size(root.resolve("models/mistral/shard-0.safetensors"))).isEqualTo(200_000);
  }
}
