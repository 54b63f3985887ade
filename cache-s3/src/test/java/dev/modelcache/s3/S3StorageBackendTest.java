package dev.modelcache.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.modelcache.core.InvalidObjectKeyException;
import dev.modelcache.core.ObjectChangedException;
import dev.modelcache.core.SourceAccessDeniedException;
import dev.modelcache.core.SourceNotFoundException;
import dev.modelcache.core.StorageException;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.core.spi.SourceChecksum;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The backend's contract, against each real server. Where a server's quirk makes a promise
 * impossible, the test asserts the safe behaviour the backend shows on that server instead
 * (see the server table in docs/cache-s3.md).
 */
@ParameterizedClass(name = "on {0}")
@EnumSource(S3Server.Kind.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3StorageBackendTest {

  private static final AtomicInteger BUCKETS = new AtomicInteger();

  @Parameter
  private S3Server.Kind kind;

  private S3Server server;
  private S3StorageBackend backend;

  @BeforeParameterizedClassInvocation
  void start() throws Exception {
    if (kind.unavailable() != null) {
      return; // every test skips itself with the reason
    }
    server = kind.start();
    backend = server.backend().build();
  }

  // One instance serves every server kind in turn (PER_CLASS), so each run leaves nothing behind.
  @AfterParameterizedClassInvocation
  void stop() throws Exception {
    S3Server.closeAll(backend, server);
    backend = null;
    server = null;
  }

  @BeforeEach
  void serverRunning() {
    kind.assumeAvailable();
  }

  private String newBucket() {
    String bucket = "bucket-" + BUCKETS.incrementAndGet();
    server.createBucket(bucket);
    return bucket;
  }

  static byte[] random(int sizeBytes, long seed) {
    byte[] data = new byte[sizeBytes];
    new Random(seed).nextBytes(data);
    return data;
  }

  static String md5(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
  }

  private byte[] readAll(RemoteObject object) throws Exception {
    ByteBuffer buffer = ByteBuffer.allocate((int) object.sizeBytes());
    backend.read(object, 0, buffer);
    assertThat(buffer.hasRemaining()).isFalse();
    return buffer.array();
  }

  @Test
  void listsAndHeadsOnPlatformThreads() throws Exception {
    // A virtual thread blocking on a socket starts the JDK's I/O poller, a thread that then sits
    // in native code until the JVM exits, and a JVM waits about 300 ms at exit for such a thread:
    // every run of the command would pay it.
    String bucket = newBucket();
    for (int i = 0; i < 3; i++) {
      server.put(bucket, "model/f" + i + ".bin", random(10 + i, i));
    }
    List<Thread> requestThreads = new CopyOnWriteArrayList<>();
    var recorder = new ExecutionInterceptor() {
      @Override
      public void beforeTransmission(
          Context.BeforeTransmission context, ExecutionAttributes attributes) {
        requestThreads.add(Thread.currentThread());
      }
    };
    try (var client = S3Server.plainClientBuilder(server.endpoint(), server.credentials())
        .overrideConfiguration(o -> o.addExecutionInterceptor(recorder))
        .build()) {
      var listing = new S3Listing(client, "test credentials", 1000);

      List<RemoteObject> objects =
          listing.list(S3Location.ofSource(URI.create("s3://" + bucket + "/model/")));

      assertThat(objects).hasSize(3);
      assertThat(requestThreads).hasSizeGreaterThanOrEqualTo(4); // the listing and three HEADs
      assertThat(requestThreads).noneMatch(Thread::isVirtual);
    }
  }

  @Test
  void aMultipartObjectsPartHeadIsSentBesideItsHead() throws Exception {
    String bucket = newBucket();
    int partBytes = 5 * 1024 * 1024;
    server.putMultipart(bucket, "m/big.bin", random(2 * partBytes + 99, 5), partBytes);
    server.put(bucket, "m/small.bin", random(10, 6));
    // On S3Proxy, whose listing shows the multipart ETag, the object's plain HEAD waits until a
    // HEAD ?partNumber=1 was sent: sent after the HEAD, it never would be while the HEAD waits.
    CountDownLatch partHeadSent = new CountDownLatch(1);
    AtomicBoolean headWaitedInVain = new AtomicBoolean();
    var gate = new ExecutionInterceptor() {
      @Override
      public void beforeTransmission(
          Context.BeforeTransmission context, ExecutionAttributes attributes) {
        if (context.request() instanceof HeadObjectRequest head) {
          if (head.partNumber() != null) {
            partHeadSent.countDown();
          } else if (head.key().endsWith("big.bin") && kind == S3Server.Kind.S3PROXY) {
            try {
              if (!partHeadSent.await(10, TimeUnit.SECONDS)) {
                headWaitedInVain.set(true);
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        }
      }
    };
    try (var client = S3Server.plainClientBuilder(server.endpoint(), server.credentials())
        .overrideConfiguration(o -> o.addExecutionInterceptor(gate))
        .build()) {
      List<RemoteObject> objects = new S3Listing(client, "test credentials", 1000)
          .list(S3Location.ofSource(URI.create("s3://" + bucket + "/m/")));

      assertThat(objects).hasSize(2);
      if (kind == S3Server.Kind.S3PROXY) {
        assertThat(headWaitedInVain)
            .as("the HEAD waited for a part HEAD never sent")
            .isFalse();
        assertThat(objects.get(0).checksum().parts()).isEqualTo(3);
      } else {
        // s3rver's multipart ETag has no part count: nothing says multipart, no part HEAD.
        assertThat(partHeadSent.getCount()).isEqualTo(1);
      }
    }
  }

  @Test
  void listsEveryPageOfNestedKeysSortedAndSkipsMarkersAndSiblings() throws Exception {
    String bucket = newBucket();
    List<String> files = List.of(
        "model/config.json",
        "model/a/b/c.bin",
        "model/a/d.bin",
        "model/z.safetensors",
        "model/tokenizer/vocab.txt",
        "model/a/b/e.bin",
        "model/m.bin");
    for (int i = 0; i < files.size(); i++) {
      server.put(bucket, files.get(i), random(100 + i, i));
    }
    server.put(bucket, "model/empty-dir/", new byte[0]);
    server.put(bucket, "model-2/other.bin", random(10, 99));
    server.put(bucket, "modelx", random(10, 98));

    try (var paged = server.backend().listPageSize(2).build()) {
      List<RemoteObject> objects = paged.list(URI.create("s3://" + bucket + "/model"));

      assertThat(objects)
          .extracting(RemoteObject::relativePath)
          .containsExactly(
              "a/b/c.bin",
              "a/b/e.bin",
              "a/d.bin",
              "config.json",
              "m.bin",
              "tokenizer/vocab.txt",
              "z.safetensors");
      for (RemoteObject object : objects) {
        int index = files.indexOf("model/" + object.relativePath());
        assertThat(object.sizeBytes()).isEqualTo(100 + index);
        assertThat(object.key()).isEqualTo("s3://" + bucket + "/model/" + object.relativePath());
        assertThat(readAll(object)).isEqualTo(random(100 + index, index));
      }
    }
  }

  @Test
  void wholeBucketListsWithAnEmptyPrefix() throws Exception {
    String bucket = newBucket();
    server.put(bucket, "one.bin", random(5, 1));
    server.put(bucket, "dir/two.bin", random(6, 2));
    assertThat(backend.list(URI.create("s3://" + bucket)))
        .extracting(RemoteObject::relativePath)
        .containsExactly("dir/two.bin", "one.bin");
  }

  @Test
  void keysWithSpacesAndUnicodeListAndRead() throws Exception {
    String bucket = newBucket();
    byte[] first = random(3000, 7);
    byte[] second = random(4000, 8);
    server.put(bucket, "models/my model/sub dir/wéights ü.bin", first);
    server.put(bucket, "models/my model/日本/テンソル+%.safetensors", second);

    List<RemoteObject> objects = backend.list(new URI("s3", bucket, "/models/my model/", null));

    assertThat(objects)
        .extracting(RemoteObject::relativePath)
        .containsExactly("sub dir/wéights ü.bin", "日本/テンソル+%.safetensors");
    assertThat(readAll(objects.get(0))).isEqualTo(first);
    assertThat(readAll(objects.get(1))).isEqualTo(second);
  }

  @Test
  void singlePartObjectCarriesItsEtagAsMd5() throws Exception {
    String bucket = newBucket();
    byte[] data = random(70_000, 3);
    server.put(bucket, "m/w.bin", data);
    server.put(bucket, "m/empty.bin", new byte[0]);

    List<RemoteObject> objects = backend.list(URI.create("s3://" + bucket + "/m/"));

    RemoteObject empty = objects.get(0);
    assertThat(empty.relativePath()).isEqualTo("empty.bin");
    assertThat(empty.sizeBytes()).isZero();
    assertThat(empty.checksum().algorithm()).isEqualTo("MD5");
    assertThat(empty.checksum().hex()).isEqualTo(md5(new byte[0]));
    backend.read(empty, 0, ByteBuffer.allocate(0));

    RemoteObject object = objects.get(1);
    assertThat(object.etag()).isEqualTo(md5(data));
    assertThat(object.checksum().algorithm()).isEqualTo("MD5");
    assertThat(object.checksum().hex()).isEqualTo(md5(data));
  }

  @Test
  void multipartObjectClaimsItsMultipartEtagAndReadsAcrossPartBoundaries() throws Exception {
    String bucket = newBucket();
    int partBytes = 5 * 1024 * 1024;
    byte[] data = random(2 * partBytes + 12_345, 4);
    server.putMultipart(bucket, "m/big.bin", data, partBytes);

    RemoteObject object = backend.list(URI.create("s3://" + bucket + "/m/")).get(0);

    assertThat(object.sizeBytes()).isEqualTo(data.length);
    switch (kind) {
      case S3PROXY -> {
        // S3's multipart ETag: the MD5 of the parts' MD5s. S3Proxy answers HEAD ?partNumber=1
        // with 501, so the part size stays for the cache to find.
        assertThat(object.etag()).matches("[0-9a-f]{32}-3");
        assertThat(object.checksum())
            .isEqualTo(SourceChecksum.multipart(object.etag().substring(0, 32), 3, 0));
        assertThat(object.etag().substring(0, 32)).isEqualTo(md5OfPartMd5s(data, partBytes));
      }
      case S3RVER -> {
        // s3rver's multipart ETag is the whole object's MD5, indistinguishable from a single-part
        // one: the backend claims it, and the claim is true, so the cache's check passes on the
        // right bytes (and fails on wrong ones, as for any single-part object).
        assertThat(object.etag()).isEqualTo(md5(data));
        assertThat(object.checksum().algorithm()).isEqualTo("MD5");
        assertThat(object.checksum().hex()).isEqualTo(md5(data));
      }
    }
    ByteBuffer across = ByteBuffer.allocateDirect(1_000_000);
    long offset = partBytes - 500_000;
    backend.read(object, offset, across);
    across.flip();
    byte[] got = new byte[across.remaining()];
    across.get(got);
    assertThat(got).isEqualTo(Arrays.copyOfRange(data, (int) offset, (int) offset + 1_000_000));
    assertThat(readAll(object)).isEqualTo(data);
  }

  @Test
  void rangesAreExactIntoHeapDirectAndOffsetBuffers() throws Exception {
    String bucket = newBucket();
    byte[] data = random(1_000_003, 5);
    server.put(bucket, "m/r.bin", data);
    RemoteObject object = backend.list(URI.create("s3://" + bucket + "/m/")).get(0);
    Random random = new Random(11);

    for (int i = 0; i < 20; i++) {
      int offset = random.nextInt(data.length);
      int length = 1 + random.nextInt(data.length - offset);
      ByteBuffer dst = switch (i % 3) {
        case 0 -> ByteBuffer.allocate(length);
        case 1 -> ByteBuffer.allocateDirect(length);
        default ->
          ByteBuffer.allocate(length + 20).position(7).limit(7 + length).slice();
      };
      backend.read(object, offset, dst);
      assertThat(dst.position()).isEqualTo(dst.limit());
      dst.flip();
      byte[] got = new byte[length];
      dst.get(got);
      assertThat(got)
          .as("bytes %d+%d", offset, length)
          .isEqualTo(Arrays.copyOfRange(data, offset, offset + length));
    }
    ByteBuffer last = ByteBuffer.allocate(1);
    backend.read(object, data.length - 1, last);
    assertThat(last.get(0)).isEqualTo(data[data.length - 1]);

    assertThatThrownBy(() -> backend.read(object, data.length, ByteBuffer.allocate(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("outside");
  }

  @Test
  void theFirstByteAloneIsExactOrRefusedNeverWrong() throws Exception {
    String bucket = newBucket();
    byte[] data = random(10_000, 6);
    server.put(bucket, "m/one.bin", data);
    server.put(bucket, "m/tiny.bin", new byte[] {42});
    List<RemoteObject> objects = backend.list(URI.create("s3://" + bucket + "/m/"));
    RemoteObject object = objects.get(0);
    RemoteObject tiny = objects.get(1);

    ByteBuffer first = ByteBuffer.allocate(1);
    switch (kind) {
      case S3PROXY -> {
        backend.read(object, 0, first);
        assertThat(first.get(0)).isEqualTo(data[0]);
      }
      case S3RVER -> {
        // "Range: bytes=0-0" is answered with the whole object as a 206 (bytes 0-9999/10000):
        // the backend sees the wrong Content-Range and refuses it for good, delivering nothing.
        assertThatThrownBy(() -> backend.read(object, 0, first))
            .isInstanceOf(StorageException.class)
            .hasMessageContaining("bytes 0-0")
            .hasMessageContaining("the server sent bytes 0-9999 instead")
            .satisfies(e -> assertThat(((StorageException) e).retryable()).isFalse());
        assertThat(first.position()).isZero();
      }
    }
    // A one-byte object (bytes=0-0 is the whole object) reads on both.
    ByteBuffer whole = ByteBuffer.allocate(1);
    backend.read(tiny, 0, whole);
    assertThat(whole.get(0)).isEqualTo((byte) 42);
  }

  @Test
  void theStrongestDigestIsTheOneTheServerKeeps() throws Exception {
    String bucket = newBucket();
    byte[] data = random(50_000, 12);
    server
        .client()
        .putObject(
            b -> b.bucket(bucket).key("m/sha.bin").checksumAlgorithm(ChecksumAlgorithm.SHA256),
            RequestBody.fromBytes(data));

    RemoteObject object = backend.list(URI.create("s3://" + bucket + "/m/")).get(0);

    switch (kind) {
      case S3PROXY -> {
        assertThat(object.checksum().algorithm()).isEqualTo("SHA-256");
        assertThat(object.checksum().hex())
            .isEqualTo(
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
      }
      // s3rver drops additional checksums; the single-part ETag is still the data's MD5.
      case S3RVER -> {
        assertThat(object.checksum().algorithm()).isEqualTo("MD5");
        assertThat(object.checksum().hex()).isEqualTo(md5(data));
      }
    }
  }

  @Test
  void unsafeKeysAreRejectedNamingTheKey() throws Exception {
    // Only keys a server stores as they are can be exercised through it. S3Proxy refuses ".." and
    // a last "." (500), drops inner "." segments and cannot be sent an empty one; s3rver resolves
    // inner "." and ".." and empty segments but keeps a last "." or ".." as it is. ObjectKeys'
    // other rules are unit-tested in cache-core.
    List<String> storedAsSent = switch (kind) {
      case S3PROXY -> List.of("m/a\\b.bin");
      case S3RVER -> List.of("m/a\\b.bin", "m/sub/.", "m/sub/..");
    };
    for (String bad : storedAsSent) {
      String bucket = newBucket();
      server.put(bucket, "m/fine.bin", random(10, 1));
      server.put(bucket, bad, random(10, 2));
      assertThat(server.client().listObjectsV2(b -> b.bucket(bucket)).contents())
          .extracting(o -> o.key())
          .as("stored keys")
          .contains(bad);
      assertThatThrownBy(() -> backend.list(URI.create("s3://" + bucket + "/m/")))
          .as(bad)
          .isInstanceOf(InvalidObjectKeyException.class)
          .satisfies(e -> assertThat(((InvalidObjectKeyException) e).key()).isEqualTo(bad));
    }
  }

  @Test
  void aKeyThatIsAlsoADirectoryOfOtherKeysIsRejected() throws Exception {
    // S3 allows "m/f" beside "m/f/g", and so does s3rver; S3Proxy's store refuses the second key
    // (500), so there the check is exercised directly only.
    String bucket = newBucket();
    server.put(bucket, "m/f", random(10, 1));
    switch (kind) {
      case S3PROXY ->
        assertThatThrownBy(() -> server.put(bucket, "m/f/g", random(10, 2)))
            .isInstanceOf(S3Exception.class)
            .satisfies(e -> assertThat(((S3Exception) e).statusCode()).isEqualTo(500));
      case S3RVER -> {
        server.put(bucket, "m/f/g", random(10, 2));
        assertThatThrownBy(() -> backend.list(URI.create("s3://" + bucket + "/m/")))
            .isInstanceOf(InvalidObjectKeyException.class)
            .hasMessageContaining("'m/f'")
            .hasMessageContaining("directory");
      }
    }
    assertThatThrownBy(() -> S3Listing.checkNoFileIsADirectory(
            List.of("m/f", "m/f-2", "m/f/g"), List.of("f", "f-2", "f/g")))
        .isInstanceOf(InvalidObjectKeyException.class)
        .hasMessageContaining("'m/f'")
        .hasMessageContaining("directory");
    org.assertj.core.api.Assertions.assertThatCode(() ->
            S3Listing.checkNoFileIsADirectory(List.of("m/f-2", "m/f/g"), List.of("f-2", "f/g")))
        .doesNotThrowAnyException();
  }

  @Test
  void missingBucketNamesTheBucket() {
    assertThatThrownBy(() -> backend.list(URI.create("s3://no-such-bucket-here/model/")))
        .isInstanceOf(SourceNotFoundException.class)
        .hasMessageContaining("no-such-bucket-here");
  }

  @Test
  void emptyPrefixNamesBucketAndPrefix() throws Exception {
    String bucket = newBucket();
    server.put(bucket, "other/x.bin", random(10, 1));
    assertThatThrownBy(() -> backend.list(URI.create("s3://" + bucket + "/missing/model")))
        .isInstanceOf(SourceNotFoundException.class)
        .hasMessageContaining(bucket)
        .hasMessageContaining("missing/model/");
  }

  @Test
  void wrongCredentialsAreAccessDeniedWithoutLeakingTheSecret() throws Exception {
    String bucket = newBucket();
    server.put(bucket, "m/x.bin", random(10, 1));
    String secret = "wrong-secret-value-1234";
    try (var wrong = S3StorageBackend.builder()
        .endpoint(server.endpoint())
        .region("us-east-1")
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(server.accessKey(), secret)))
        .build()) {
      switch (kind) {
        case S3PROXY ->
          assertThatThrownBy(() -> wrong.list(URI.create("s3://" + bucket + "/m/")))
              .isInstanceOf(SourceAccessDeniedException.class)
              .hasMessageContaining(bucket)
              .hasMessageContaining("credentials")
              .hasMessageNotContaining(secret)
              .satisfies(e -> assertThat(((StorageException) e).retryable()).isFalse());
        // s3rver checks that a SigV4 access key exists, never the signature: any secret passes.
        case S3RVER ->
          assertThat(wrong.list(URI.create("s3://" + bucket + "/m/")))
              .extracting(RemoteObject::relativePath)
              .containsExactly("x.bin");
      }
      assertThat(wrong.toString()).doesNotContain(secret).doesNotContain(server.accessKey());
    }
    try (var unknownKey = S3StorageBackend.builder()
        .endpoint(server.endpoint())
        .region("us-east-1")
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create("nobody", secret)))
        .build()) {
      assertThatThrownBy(() -> unknownKey.list(URI.create("s3://" + bucket + "/m/")))
          .isInstanceOf(SourceAccessDeniedException.class)
          .hasMessageContaining(bucket)
          .hasMessageContaining("credentials")
          .hasMessageNotContaining(secret)
          .satisfies(e -> assertThat(((StorageException) e).retryable()).isFalse());
    }
  }

  @Test
  void objectOverwrittenAfterListingFailsAsChanged() throws Exception {
    String bucket = newBucket();
    byte[] data = random(100_000, 1);
    server.put(bucket, "m/x.bin", data);
    RemoteObject object = backend.list(URI.create("s3://" + bucket + "/m/")).get(0);
    backend.read(object, 0, ByteBuffer.allocate(10));

    byte[] replacement = random(100_000, 2); // same size, other bytes
    server.put(bucket, "m/x.bin", replacement);
    String replacementEtag = md5(replacement);

    ByteBuffer dst = ByteBuffer.allocate(1000);
    assertThatThrownBy(() -> backend.read(object, 500, dst))
        .isInstanceOf(ObjectChangedException.class)
        .hasMessageContaining("s3://" + bucket + "/m/x.bin")
        .hasMessageContaining(object.etag())
        .satisfies(e -> assertThat(((StorageException) e).retryable()).isFalse())
        .satisfies(e -> {
          switch (kind) {
            // The server refuses the pinned GET.
            case S3PROXY -> assertThat(e).hasMessageContaining("HTTP 412");
            // s3rver ignores If-Match and serves the new bytes; the answer's ETag gives it away.
            case S3RVER -> assertThat(e).hasMessageContaining("ETag is now " + replacementEtag);
          }
        });
    assertThat(dst.position()).isZero();
  }

  @Test
  void objectShortenedAfterListingFailsAsChanged() throws Exception {
    String bucket = newBucket();
    server.put(bucket, "m/x.bin", random(100_000, 1));
    RemoteObject object = backend.list(URI.create("s3://" + bucket + "/m/")).get(0);

    server.put(bucket, "m/x.bin", random(10_000, 2));

    ByteBuffer dst = ByteBuffer.allocate(1000);
    assertThatThrownBy(() -> backend.read(object, 50_000, dst))
        .isInstanceOf(ObjectChangedException.class)
        .hasMessageContaining("s3://" + bucket + "/m/x.bin")
        .satisfies(e -> assertThat(((StorageException) e).retryable()).isFalse())
        .satisfies(e -> {
          switch (kind) {
            case S3PROXY -> assertThat(e).hasMessageContaining("HTTP 412");
            // If-Match ignored, the range is past the new end.
            case S3RVER ->
              assertThat(e)
                  .hasMessageContaining(
                      "bytes 50000-50999 of its listed 100000 are not there (HTTP 416 InvalidRange");
          }
        });
    assertThat(dst.position()).isZero();
  }

  @Test
  void objectDeletedAfterListingIsNotFoundNamingBucketAndKey() throws Exception {
    String bucket = newBucket();
    server.put(bucket, "m/x.bin", random(1000, 1));
    RemoteObject object = backend.list(URI.create("s3://" + bucket + "/m/")).get(0);
    server.client().deleteObject(b -> b.bucket(bucket).key("m/x.bin"));

    assertThatThrownBy(() -> backend.read(object, 0, ByteBuffer.allocate(10)))
        .isInstanceOf(SourceNotFoundException.class)
        .hasMessageContaining("s3://" + bucket + "/m/x.bin");
  }

  @Test
  void closedBackendRefusesWorkAndClosesTwice() throws Exception {
    String bucket = newBucket();
    server.put(bucket, "m/x.bin", random(10, 1));
    var closing = server.backend().build();
    RemoteObject object = closing.list(URI.create("s3://" + bucket + "/m/")).get(0);
    closing.close();
    closing.close();
    assertThatThrownBy(() -> closing.read(object, 0, ByteBuffer.allocate(1)))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("closed");
  }
  /** The MD5 of the concatenated MD5s of {@code data}'s parts of {@code partBytes}. */
  static String md5OfPartMd5s(byte[] data, int partBytes) throws Exception {
    var outer = java.security.MessageDigest.getInstance("MD5");
    for (int offset = 0; offset < data.length; offset += partBytes) {
      var part = java.security.MessageDigest.getInstance("MD5");
      part.update(data, offset, Math.min(partBytes, data.length - offset));
      outer.update(part.digest());
    }
    return java.util.HexFormat.of().formatHex(outer.digest());
  }
}
