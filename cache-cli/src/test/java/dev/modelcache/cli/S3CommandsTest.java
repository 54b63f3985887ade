package dev.modelcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** {@code prefetch} and {@code await} from an S3-compatible server (embedded S3Proxy) through {@code --endpoint}. */
class S3CommandsTest {

  static final String ACCESS_KEY = "cli-test-key";
  static final String SECRET_KEY = "cli-test-secret";

  static S3Proxy proxy;
  static BlobStore store;
  static String endpoint;
  static Path model;
  static long modelBytes;

  @TempDir
  static Path shared;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startServer() throws Exception {
    store = BlobStores.create("transient", new Properties());
    proxy = S3Proxy.builder()
        .blobStore(store)
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .build();
    proxy.start();
    while (!"STARTED".equals(proxy.getState())) {
      Thread.sleep(5);
    }
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    // The SDK's default credential chain reads these first; a pod would have env vars or IRSA.
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);

    model = TestModels.sharded(shared.resolve("llama"), 512);
    store.createContainer("models");
    try (var files = Files.list(model)) {
      for (Path f : files.sorted().toList()) {
        try (InputStream in = Files.newInputStream(f)) {
          store.putBlob(
              PutObjectRequest.builder()
                  .bucket("models")
                  .key("llama 3/" + f.getFileName())
                  .contentLength(Files.size(f))
                  .build(),
              in);
        }
        modelBytes += Files.size(f);
      }
    }
  }

  @AfterAll
  static void stopServer() throws Exception {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    proxy.stop();
  }

  @Test
  void prefetchFromS3ThenHit() throws Exception {
    Cli cli = Cli.withRoot(tmp.resolve("cache"));
    String source = "s3://models/llama%203/";
    var r = cli.run(
        "prefetch",
        source,
        "--endpoint",
        endpoint,
        "--concurrency",
        "4",
        "--part-size",
        "128KiB",
        "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.json())
        .containsEntry("bytes", modelBytes)
        .containsEntry("downloadedBytes", modelBytes)
        .containsEntry("integrity", Map.of("etag-md5", 3L));
    @SuppressWarnings("unchecked")
    var files = (List<Map<String, Object>>) r.json().get("files");
    assertThat(files)
        .hasSize(3)
        .allSatisfy(f -> assertThat(f).containsEntry("integrity", "etag-md5"));
    var verify = cli.run("verify", source, "--json");
    assertThat(verify.json())
        .containsEntry("ok", true)
        .containsEntry("integrity", Map.of("etag-md5", 3L));
    Path dir = Path.of((String) r.json().get("path"));
    for (String name : List.of(
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json")) {
      assertThat(Files.mismatch(dir.resolve(name), model.resolve(name)))
          .as(name)
          .isEqualTo(-1);
    }
    var again = cli.run("prefetch", source, "--endpoint", endpoint, "--json");
    assertThat(again.json()).containsEntry("downloadedBytes", 0L);

    var inspect = cli.run("inspect", dir.toString(), "--json");
    assertThat(inspect.exitCode()).isZero();
    var load = cli.run("load", source, "--json");
    assertThat(load.exitCode()).as(load.toString()).isZero();
    assertThat(load.json()).containsEntry("bytes", 2L * 512 * 1024 + 16);
  }

  @Test
  void awaitFetchesFromS3AfterTheTimeout() {
    Cli cli = Cli.withRoot(tmp.resolve("cache"));
    var r = cli.run(
        "await",
        "s3://models/llama%203/",
        "--timeout",
        "100ms",
        "--fetch-after-timeout",
        "--endpoint",
        endpoint,
        "--json");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.json()).containsEntry("downloadedBytes", modelBytes);
  }

  @Test
  void missingBucketIsARuntimeFailureNamingIt() {
    var r = Cli.withRoot(tmp.resolve("cache"))
        .run("prefetch", "s3://no-such-bucket/llama/", "--endpoint", endpoint);
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).contains("no-such-bucket");
  }

  @Test
  void unreachableEndpointIsARuntimeFailure() throws Exception {
    int closedPort;
    try (var socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    long start = System.nanoTime();
    var r = Cli.withRoot(tmp.resolve("cache"))
        .run("prefetch", "s3://models/llama%203/", "--endpoint", "http://127.0.0.1:" + closedPort);
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.stderrLines()).hasSize(1);
    assertThat(r.stderr()).startsWith("modelcache prefetch: ").contains("127.0.0.1:" + closedPort);
    assertThat(r.stdout()).isEmpty();
    assertThat(System.nanoTime() - start).as("fails within a minute").isLessThan(60_000_000_000L);
  }

  @Test
  void badEndpointIsAUsageError() {
    var r = Cli.withRoot(tmp.resolve("cache"))
        .run("prefetch", "s3://models/llama/", "--endpoint", "ftp://example");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderrLines())
        .containsExactly(
            "modelcache prefetch: --endpoint 'ftp://example' is not an http:// or https:// URL");
  }
}
