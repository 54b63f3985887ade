package dev.modelcache.s3;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * A real S3 server on loopback that the tests run against, with a plain SDK client for putting
 * test data into it. Each implementation starts its server when constructed and stops it on
 * {@link #close()}; a test class starts one per server kind, not one per test.
 */
interface S3Server extends AutoCloseable {

  /** The servers the contract and fault tests run against. */
  enum Kind {
    /** S3Proxy in this JVM, with an in-memory store. */
    S3PROXY("S3Proxy"),
    /** s3rver, a Node.js server, as a process of its own with a file-system store. */
    S3RVER("s3rver");

    private final String displayName;

    Kind(String displayName) {
      this.displayName = displayName;
    }

    /** Why a server of this kind cannot be started here, or null where it can. */
    String unavailable() {
      return switch (this) {
        case S3PROXY -> null;
        case S3RVER -> S3rverServer.unavailableReason();
      };
    }

    /**
     * Skips the calling test, with the reason, where a server of this kind cannot be started
     * here. Called by each test (not only once per class): JUnit reports an assumption that
     * fails for a whole parameterized class invocation, but Maven's report counts nothing.
     */
    void assumeAvailable() {
      String reason = unavailable();
      Assumptions.assumeTrue(reason == null, reason);
    }

    /** Starts a server of this kind; see {@link #assumeAvailable()} for one that is missing. */
    S3Server start() throws Exception {
      return switch (this) {
        case S3PROXY -> new S3ProxyServer();
        case S3RVER -> S3rverServer.start();
      };
    }

    @Override
    public String toString() {
      return displayName;
    }
  }

  /**
   * Closes {@code resources} in the order given, skipping nulls; every one is closed even when an
   * earlier one fails, and the first failure is thrown at the end.
   */
  static void closeAll(AutoCloseable... resources) throws Exception {
    Exception first = null;
    for (AutoCloseable r : resources) {
      if (r == null) {
        continue;
      }
      try {
        r.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  Kind kind();

  URI endpoint();

  /** Credentials the server accepts. */
  AwsCredentialsProvider credentials();

  /** The access key id of {@link #credentials()}, for tests that sign with a wrong secret. */
  String accessKey();

  /** A plain client for putting test data into the server (see {@link #plainClient}). */
  S3Client client();

  /** A backend builder pointed at this server with the right credentials. */
  default S3StorageBackend.Builder backend() {
    return backendThrough(endpoint());
  }

  /** A backend builder pointed at {@code endpoint} (a proxy in front of this server). */
  default S3StorageBackend.Builder backendThrough(URI endpoint) {
    return S3StorageBackend.builder()
        .endpoint(endpoint)
        .region("us-east-1")
        .credentialsProvider(credentials());
  }

  default void createBucket(String bucket) {
    client().createBucket(b -> b.bucket(bucket));
  }

  default void put(String bucket, String key, byte[] data) {
    client().putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(data));
  }

  /** Uploads {@code data} in parts of {@code partBytes} (the last one shorter). */
  default void putMultipart(String bucket, String key, byte[] data, int partBytes) {
    S3Client client = client();
    String uploadId =
        client.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
    List<CompletedPart> parts = new ArrayList<>();
    int number = 1;
    for (int offset = 0; offset < data.length; offset += partBytes, number++) {
      int length = Math.min(partBytes, data.length - offset);
      byte[] part = Arrays.copyOfRange(data, offset, offset + length);
      int partNumber = number;
      String etag = client
          .uploadPart(
              b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(partNumber),
              RequestBody.fromBytes(part))
          .eTag();
      parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
    }
    client.completeMultipartUpload(
        b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
  }

  /**
   * An SDK client for uploads in plain mode: no aws-chunked framing and checksums only where an
   * operation requires them, so a store keeps exactly the bytes that were sent (s3rver stores an
   * aws-chunked body as it arrives, framing included).
   */
  static S3Client plainClient(URI endpoint, AwsCredentialsProvider credentials) {
    return plainClientBuilder(endpoint, credentials).build();
  }

  /** {@link #plainClient}'s settings, for a client that needs more (no retries, another endpoint). */
  static S3ClientBuilder plainClientBuilder(URI endpoint, AwsCredentialsProvider credentials) {
    return S3Client.builder()
        .httpClient(Apache5HttpClient.create())
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .serviceConfiguration(c -> c.chunkedEncodingEnabled(false));
  }

  /** Stops the server and deletes what it stored. */
  @Override
  void close() throws IOException;
}
