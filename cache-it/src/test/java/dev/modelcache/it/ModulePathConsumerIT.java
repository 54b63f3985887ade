package dev.modelcache.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.loader.Dtype;
import dev.modelcache.loader.SafetensorsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The library as an application on the module path uses it: a consumer module that requires
 * {@code dev.modelcache.core}, {@code dev.modelcache.s3} and {@code dev.modelcache.loader} is
 * compiled with {@code javac --module-path} against the jars this build packaged (and their
 * runtime dependencies), then run as a child JVM with {@code java --module-path ... -m} and no other
 * flags. It downloads a sharded model from S3Proxy, leases it, loads it and prints each tensor's
 * SHA-256, which must be the digest of the bytes uploaded.
 */
class ModulePathConsumerIT {

  private static final String ACCESS_KEY = "consumer-access-key";
  private static final String SECRET_KEY = "consumer-secret-key";
  private static final String BUCKET = "models";
  private static final long CHILD_TIMEOUT_SECONDS = 120;

  private static S3Proxy proxy;
  private static URI endpoint;

  @BeforeAll
  static void startS3Proxy() throws Exception {
    proxy = S3Proxy.builder()
        .blobStore(BlobStores.create("transient", new Properties()))
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .build();
    proxy.start(); // Jetty's start returns once the connector listens, or throws
    if (!"STARTED".equals(proxy.getState())) {
      throw new IllegalStateException("S3Proxy is " + proxy.getState() + " after start()");
    }
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
  }

  @AfterAll
  static void stopS3Proxy() throws Exception {
    if (proxy != null) {
      proxy.stop();
    }
  }

  @Test
  void consumerModuleDownloadsLeasesAndLoadsAModelWithNoExtraFlags(@TempDir Path work)
      throws Exception {
    Map<String, byte[]> tensors = new LinkedHashMap<>();
    tensors.put("model.embed_tokens.weight", random(64 * 32 * 4, 1));
    tensors.put("model.layers.0.mlp.up_proj.weight", random(128 * 64 * 2, 2));
    tensors.put("model.norm.weight", random(32 * 4, 3));
    Path model = Files.createDirectories(work.resolve("model"));
    SafetensorsWriter.create()
        .tensor(
            "model.embed_tokens.weight",
            Dtype.F32,
            new long[] {64, 32},
            tensors.get("model.embed_tokens.weight"))
        .write(model.resolve("model-00001-of-00002.safetensors"));
    SafetensorsWriter.create()
        .tensor(
            "model.layers.0.mlp.up_proj.weight",
            Dtype.BF16,
            new long[] {128, 64},
            tensors.get("model.layers.0.mlp.up_proj.weight"))
        .tensor("model.norm.weight", Dtype.F32, new long[] {32}, tensors.get("model.norm.weight"))
        .write(model.resolve("model-00002-of-00002.safetensors"));
    Files.writeString(model.resolve("config.json"), "{\"num_hidden_layers\": 1}");
    upload(model, "llama-tiny/");

    Path classes = compileConsumer(work.resolve("consumer-classes"));
    String modulePath = modulePath() + java.io.File.pathSeparator + classes;
    Path cacheRoot = work.resolve("cache");
    ChildResult run = runChild(
        work,
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--module-path",
            modulePath,
            "-m",
            "consumer/consumer.Main",
            endpoint.toString(),
            "s3://" + BUCKET + "/llama-tiny/",
            cacheRoot.toString()));

    assertThat(run.exitCode())
        .as("consumer exit code; its stderr:%n%s", run.stderr())
        .isZero();
    List<String> expected = new ArrayList<>();
    for (var tensor : tensors.entrySet()) {
      expected.add("tensor " + tensor.getKey() + " " + sha256(tensor.getValue()));
    }
    long bytes = tensors.values().stream().mapToLong(b -> b.length).sum();
    expected.add("loaded 3 tensors " + bytes + " bytes from dev.modelcache.core");
    assertThat(run.stdout().lines().toList())
        .as("consumer stdout; its stderr:%n%s", run.stderr())
        .containsExactlyInAnyOrderElementsOf(expected);
    assertThat(cacheRoot.resolve("entries")).isDirectory();
  }

  /** The consumer's module path: every entry is a jar, none a class directory. */
  private static String modulePath() throws IOException {
    Path modules = Path.of(System.getProperty("consumer.modules"));
    try (Stream<Path> jars = Files.list(modules)) {
      List<Path> all = jars.sorted().toList();
      assertThat(all)
          .as("jars in %s", modules)
          .allMatch(p -> p.getFileName().toString().endsWith(".jar"))
          .anyMatch(p -> p.getFileName().toString().startsWith("cache-core-"))
          .anyMatch(p -> p.getFileName().toString().startsWith("cache-s3-"))
          .anyMatch(p -> p.getFileName().toString().startsWith("cache-loader-"));
      return modules.toString();
    }
  }

  private static Path compileConsumer(Path out) throws IOException {
    Path sources = Path.of(System.getProperty("consumer.sources"));
    List<String> args =
        new ArrayList<>(List.of("--module-path", modulePath(), "-d", out.toString()));
    try (Stream<Path> files = Files.walk(sources)) {
      files.filter(p -> p.toString().endsWith(".java")).map(Path::toString).forEach(args::add);
    }
    ToolProvider javac = ToolProvider.findFirst("javac")
        .orElseThrow(
            () -> new IllegalStateException("no javac in " + System.getProperty("java.home")));
    var messages = new ByteArrayOutputStream();
    try (var print = new PrintStream(messages, true, StandardCharsets.UTF_8)) {
      int status = javac.run(print, print, args.toArray(String[]::new));
      assertThat(status)
          .as("javac %s:%n%s", args, messages.toString(StandardCharsets.UTF_8))
          .isZero();
    }
    return out;
  }

  private record ChildResult(int exitCode, String stdout, String stderr) {}

  private static ChildResult runChild(Path work, List<String> command) throws Exception {
    Path stdout = work.resolve("consumer.out");
    Path stderr = work.resolve("consumer.err");
    var builder =
        new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    // Only the credentials given here: nothing from the environment this test runs in.
    builder.environment().keySet().removeIf(name -> name.startsWith("AWS_"));
    builder.environment().put("AWS_ACCESS_KEY_ID", ACCESS_KEY);
    builder.environment().put("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    builder.environment().put("AWS_EC2_METADATA_DISABLED", "true");
    builder.environment().put("AWS_CONFIG_FILE", work.resolve("no-aws-config").toString());
    builder
        .environment()
        .put("AWS_SHARED_CREDENTIALS_FILE", work.resolve("no-aws-credentials").toString());
    Process process = builder.start();
    if (!process.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      throw new AssertionError("the consumer did not finish within " + CHILD_TIMEOUT_SECONDS
          + " s: " + command + "\nstderr:\n" + Files.readString(stderr));
    }
    return new ChildResult(process.exitValue(), Files.readString(stdout), Files.readString(stderr));
  }

  private static void upload(Path model, String prefix) throws IOException {
    try (S3Client client = S3Client.builder()
        .httpClient(Apache5HttpClient.create())
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build()) {
      client.createBucket(b -> b.bucket(BUCKET));
      try (Stream<Path> files = Files.list(model)) {
        for (Path file : files.sorted().toList()) {
          client.putObject(
              b -> b.bucket(BUCKET).key(prefix + file.getFileName()), RequestBody.fromFile(file));
        }
      }
    }
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
