package dev.modelcache.s3;

import static dev.modelcache.s3.S3StorageBackendTest.md5OfPartMd5s;
import static dev.modelcache.s3.S3StorageBackendTest.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.Integrity;
import dev.modelcache.core.IntegrityException;
import dev.modelcache.core.ManifestFile;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.spi.SourceChecksum;
import dev.modelcache.s3.FaultInjectingProxy.Fault;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * A byte flipped on the wire is never committed: multipart objects (checked against their ETag, the
 * MD5 of their parts' MD5s, with the part size found) and single-part ones (their ETag is their MD5)
 * are fetched again and committed with the right bytes, or the download fails naming the file.
 * S3Proxy answers {@code HEAD ?partNumber=1} with 501, so the part sizes here are inferred.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultipartIntegrityTest {

  private static final int MIB = 1 << 20;
  private static final AtomicInteger MODELS = new AtomicInteger();

  private S3ProxyServer server;
  private FaultInjectingProxy proxy;
  private S3StorageBackend backend;

  @BeforeAll
  void start() throws Exception {
    server = new S3ProxyServer();
    proxy = new FaultInjectingProxy(server.endpoint());
    backend = S3StorageBackend.builder()
        .endpoint(proxy.endpoint())
        .region("us-east-1")
        .credentialsProvider(server.credentials())
        .readTimeout(Duration.ofSeconds(5))
        .build();
    server.createBucket("models");
  }

  @AfterAll
  void stop() throws Exception {
    S3Server.closeAll(backend, proxy, server);
  }

  private ModelCache.Builder cache(Path root) {
    return ModelCache.builder()
        .root(root)
        .createRootIfMissing()
        .backend(backend)
        .concurrency(4)
        .partSizeBytes(MIB)
        .maxAttempts(3)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(10));
  }

  private static ModelSource source(String prefix) throws Exception {
    return ModelSource.of(new URI("s3", "models", "/" + prefix, null));
  }

  private static void assertNothingCommitted(Path root) throws Exception {
    if (Files.isDirectory(root.resolve("entries"))) {
      try (Stream<Path> committed = Files.list(root.resolve("entries"))) {
        assertThat(committed).isEmpty();
      }
    }
  }

  @ParameterizedTest(name = "parts of {0} MiB")
  @ValueSource(ints = {8, 5, 16})
  void aFlippedByteInAMultipartObjectIsFetchedAgainAndTheRightBytesCommitted(
      int partMib, @TempDir Path root) throws Exception {
    String prefix = "mp" + MODELS.incrementAndGet() + "/";
    int partBytes = partMib * MIB;
    byte[] data = random(2 * partBytes + partBytes / 2 + 777, partMib); // a short last part
    server.putMultipart("models", prefix + "model.safetensors", data, partBytes);
    proxy.clearFaults();
    int injectedBefore = proxy.injected();
    proxy.inject(Fault.FLIP_BYTE);
    try (ModelCache cache = cache(root).build()) {
      CacheEntry entry = cache.ensure(source(prefix), DownloadListener.NONE);
      assertThat(Files.readAllBytes(entry.file("model.safetensors"))).isEqualTo(data);
      ManifestFile file = entry.manifest().file("model.safetensors").orElseThrow();
      assertThat(file.integrity()).isEqualTo(Integrity.ETAG_MULTIPART);
      assertThat(file.checksum())
          .isEqualTo(SourceChecksum.multipart(md5OfPartMd5s(data, partBytes), 3, partBytes));
      assertThat(cache.verify(source(prefix)).ok())
          .as("a later verify checks the same ETag")
          .isTrue();
    }
    assertThat(proxy.injected() - injectedBefore).as("the flip happened").isEqualTo(1);
  }

  @Test
  void aFlippedByteInASinglePartObjectIsFetchedAgain(@TempDir Path root) throws Exception {
    String prefix = "sp" + MODELS.incrementAndGet() + "/";
    byte[] data = random(2 * MIB + 11, 6);
    server.put("models", prefix + "weights.bin", data);
    proxy.clearFaults();
    proxy.inject(Fault.FLIP_BYTE);
    try (ModelCache cache = cache(root).build()) {
      CacheEntry entry = cache.ensure(source(prefix), DownloadListener.NONE);
      assertThat(Files.readAllBytes(entry.file("weights.bin"))).isEqualTo(data);
      assertThat(entry.manifest().file("weights.bin").orElseThrow().integrity())
          .isEqualTo(Integrity.ETAG_MD5);
    }
    assertThat(proxy.pendingFaults()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"multipart", "single-part"})
  void bytesCorruptedOnEveryFetchFailTheDownloadNamingTheFileAndCommitNothing(
      String kind, @TempDir Path root) throws Exception {
    String prefix = "bad" + MODELS.incrementAndGet() + "/";
    byte[] data;
    String expected;
    if (kind.equals("multipart")) {
      // 12 parts of 5 MiB, the last shorter: 5 MiB is the only part size tried that gives 12
      // parts, so a mismatch is conclusive even where the store does not say the part size.
      int partBytes = 5 * MIB;
      data = random(11 * partBytes + partBytes / 2, 7);
      server.putMultipart("models", prefix + "shard.bin", data, partBytes);
      expected = md5OfPartMd5s(data, partBytes) + "-12";
    } else {
      data = random(2 * MIB + 11, 9);
      server.put("models", prefix + "shard.bin", data);
      expected = java.util.HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("MD5").digest(data));
    }
    proxy.clearFaults();
    for (int i = 0; i < 200; i++) {
      proxy.inject(Fault.FLIP_BYTE); // every range of every fetch
    }
    try (ModelCache cache = cache(root).build()) {
      assertThatThrownBy(() -> cache.ensure(source(prefix), DownloadListener.NONE))
          .isInstanceOfSatisfying(
              IntegrityException.class, e -> assertThat(e.path()).isEqualTo("shard.bin"))
          .hasMessageContaining("shard.bin")
          .hasMessageContaining("does not match the source after 3 fetches")
          .hasMessageContaining(expected);
      assertNothingCommitted(root);
    } finally {
      proxy.clearFaults();
    }
  }

  @Test
  void aMultipartEtagNoPartSizeTriedMatchesIsUnverifiedOrRefusedOnDemand(@TempDir Path root)
      throws Exception {
    String prefix = "odd" + MODELS.incrementAndGet() + "/";
    int partBytes = 5 * MIB + 4096; // no uploader's size: the cache cannot find it
    byte[] data = random(2 * partBytes + 1234, 8);
    server.putMultipart("models", prefix + "odd.bin", data, partBytes);
    proxy.clearFaults();
    try (ModelCache strict =
        cache(root.resolve("strict")).requireSourceVerification(true).build()) {
      assertThatThrownBy(() -> strict.ensure(source(prefix), DownloadListener.NONE))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining("odd.bin: no part size tried gives the source's multipart ETag")
          .hasMessageContaining("--require-verified")
          .hasMessageContaining("nothing was committed");
      assertNothingCommitted(root.resolve("strict"));
    }
    try (ModelCache lenient = cache(root.resolve("lenient")).build()) {
      CacheEntry entry = lenient.ensure(source(prefix), DownloadListener.NONE);
      assertThat(Files.readAllBytes(entry.file("odd.bin"))).isEqualTo(data);
      ManifestFile file = entry.manifest().file("odd.bin").orElseThrow();
      assertThat(file.integrity()).isEqualTo(Integrity.UNVERIFIED);
      assertThat(file.checksum()).isNull();
      assertThat(file.etag()).endsWith("-3");
    }
  }

  @Test
  void aCompositeSha256ChecksumIsPreferredToTheEtagAndCatchesAFlippedByte(@TempDir Path root)
      throws Exception {
    String prefix = "composite" + MODELS.incrementAndGet() + "/";
    int partBytes = 5 * MIB;
    byte[] data = random(2 * partBytes + 4321, 10);
    String key = prefix + "model.safetensors";
    var client = server.client();
    String uploadId = client
        .createMultipartUpload(b -> b.bucket("models")
            .key(key)
            .checksumAlgorithm(ChecksumAlgorithm.SHA256)
            .checksumType(ChecksumType.COMPOSITE))
        .uploadId();
    java.util.List<CompletedPart> parts = new java.util.ArrayList<>();
    var outer = java.security.MessageDigest.getInstance("SHA-256");
    for (int offset = 0, number = 1; offset < data.length; offset += partBytes, number++) {
      byte[] part =
          java.util.Arrays.copyOfRange(data, offset, Math.min(data.length, offset + partBytes));
      outer.update(java.security.MessageDigest.getInstance("SHA-256").digest(part));
      int n = number;
      var uploaded = client.uploadPart(
          b -> b.bucket("models")
              .key(key)
              .uploadId(uploadId)
              .partNumber(n)
              .checksumAlgorithm(ChecksumAlgorithm.SHA256),
          RequestBody.fromBytes(part));
      parts.add(CompletedPart.builder()
          .partNumber(n)
          .eTag(uploaded.eTag())
          .checksumSHA256(uploaded.checksumSHA256())
          .build());
    }
    client.completeMultipartUpload(
        b -> b.bucket("models").key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
    String expected = java.util.HexFormat.of().formatHex(outer.digest());

    proxy.clearFaults();
    proxy.inject(Fault.FLIP_BYTE);
    try (ModelCache cache = cache(root).build()) {
      CacheEntry entry = cache.ensure(source(prefix), DownloadListener.NONE);
      assertThat(Files.readAllBytes(entry.file("model.safetensors"))).isEqualTo(data);
      ManifestFile file = entry.manifest().file("model.safetensors").orElseThrow();
      assertThat(file.checksum())
          .isEqualTo(SourceChecksum.composite("SHA-256", expected, 3, partBytes));
      assertThat(file.integrity()).isEqualTo(Integrity.SOURCE_CHECKSUM);
    }
    assertThat(proxy.pendingFaults()).isZero();
  }
}
