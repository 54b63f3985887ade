package dev.modelcache.agent;

import dev.modelcache.agent.kserve.LocalModelInfo;
import dev.modelcache.agent.kserve.LocalModelNode;
import dev.modelcache.agent.kserve.LocalModelNodeSpec;
import dev.modelcache.agent.kserve.ModelStatus;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.spi.BackendOptions;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
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
import java.util.HashMap;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * A cluster for the agent's tests: a real HTTP API server (fabric8's mock server in CRUD mode,
 * serving KServe's resources with the LocalModelNode status subresource) and a real S3 store
 * (S3Proxy) holding a few small models.
 */
abstract class AgentCluster {

  static final String NODE = "gpu-node-1";
  static final String ACCESS_KEY = "agent-test-key";
  static final String SECRET_KEY = "agent-test-secret";
  static final Duration WAIT = Duration.ofSeconds(60);

  /** The mock server logs every request at INFO through java.util.logging; held so the level sticks. */
  static final java.util.logging.Logger MOCK_SERVER_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  static S3Proxy proxy;
  static BlobStore store;
  static String endpoint;

  @TempDir
  Path tmp;

  KubernetesCrudDispatcher dispatcher;
  KubernetesMockServer server;
  KubernetesClient client;
  ModelCache cache;
  NodeAgent agent;
  Path root;

  @BeforeAll
  static void startStore() throws Exception {
    store = BlobStores.create("transient", new Properties());
    proxy = serve(store, 0);
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);
    store.createContainer("models");
    upload("llama/", 1, 300_000, 70_000);
    upload("mistral/", 2, 200_000);
    upload("qwen-v1/", 3, 150_000);
    upload("qwen-v2/", 4, 160_000);
  }

  /** S3Proxy serving {@code blobs} on {@code port} (0: any free one); {@code start()} returns once it listens. */
  static S3Proxy serve(BlobStore blobs, int port) throws Exception {
    S3Proxy s3 = S3Proxy.builder()
        .blobStore(blobs)
        .endpoint(URI.create("http://127.0.0.1:" + port))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .build();
    s3.start();
    return s3;
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
      store.putBlob(
          PutObjectRequest.builder()
              .bucket("models")
              .key(prefix + "shard-" + i + ".safetensors")
              .contentLength((long) data.length)
              .build(),
          new ByteArrayInputStream(data));
    }
  }

  @BeforeEach
  void startCluster() throws IOException {
    dispatcher = new KubernetesCrudDispatcher(List.of(
        crd("LocalModelNode", "localmodelnodes", true),
        crd("LocalModelNodeGroup", "localmodelnodegroups", false)));
    server = newServer(0);
    client = server.createClient();
    root = Files.createDirectories(tmp.resolve("root"));
    cache = openCache(root);
  }

  static CustomResourceDefinitionContext crd(
      String kind, String plural, boolean statusSubresource) {
    return new CustomResourceDefinitionContext.Builder()
        .withGroup("serving.kserve.io")
        .withVersion("v1alpha1")
        .withScope("Cluster")
        .withKind(kind)
        .withPlural(plural)
        .withName(plural + ".serving.kserve.io")
        .withStatusSubresource(statusSubresource)
        .build();
  }

  KubernetesMockServer newServer(int port) {
    KubernetesMockServer s = new KubernetesMockServer(
        new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    s.init(InetAddress.getLoopbackAddress(), port);
    return s;
  }

  static ModelCache openCache(Path root) throws IOException {
    return ModelCache.builder()
        .root(root)
        .minFreeBytes(0)
        .partSizeBytes(64 << 10)
        .concurrency(4)
        .backendOptions(
            "s3",
            BackendOptions.NONE
                .with("endpoint", endpoint)
                .with("pathStyle", "true")
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
    try {
      server.destroy();
    } catch (IllegalStateException e) {
      // The mock server gives its event loops a fixed time to stop, which a loaded machine can
      // exceed; what each test asserts is already checked, and the next test takes a fresh port.
      System.err.println("mock API server did not stop in time: " + e);
    }
  }

  NodeAgent startAgent(boolean labelNode) throws IOException {
    return startAgent(agentBuilder().kubernetes(client, NODE).labelNode(labelNode));
  }

  NodeAgent startAgent(NodeAgent.Builder builder) throws IOException {
    agent = builder.start();
    return agent;
  }

  /** The agent as the tests run it: quick resyncs and retries, no scheduled verification, its log in agent.log. */
  NodeAgent.Builder agentBuilder() throws IOException {
    return NodeAgent.builder()
        .cache(cache)
        .resyncInterval(Duration.ofMillis(300))
        .retryBackoff(Duration.ofMillis(100), Duration.ofMillis(400))
        .verifyInterval(Duration.ZERO)
        .httpPort(0)
        .log(new PrintStream(Files.newOutputStream(tmp.resolve("agent.log")), true));
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
    return client
        .resources(LocalModelNode.class)
        .withName(NODE)
        .waitUntilCondition(
            n -> n != null && condition.test(n), WAIT.toSeconds(), TimeUnit.SECONDS);
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
      HttpResponse<String> r = http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + path))
              .build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    }
  }
}
