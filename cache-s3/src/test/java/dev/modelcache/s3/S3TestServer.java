package dev.modelcache.s3;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * An in-process S3Proxy on a free loopback port with an in-memory store, and a plain SDK client
 * for putting test data into it. Started by the tests themselves (not through its JUnit
 * extension, which deletes its storage after each test).
 */
final class S3TestServer implements AutoCloseable {
  static final String ACCESS_KEY = "test-access-key";
  static final String SECRET_KEY = "test-secret-key-do-not-print";

  private final S3Proxy proxy;
  private final S3Client client;
  private final URI endpoint;

  S3TestServer() throws Exception {
    proxy =
        S3Proxy.builder()
            .blobStore(BlobStores.create("transient", new Properties()))
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
      }
      Thread.sleep(5);
    }
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    client =
        S3Client.builder()
            .httpClient(Apache5HttpClient.create())
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(credentials())
            // Plain uploads: no aws-chunked framing or trailing checksums for the store to keep.
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .serviceConfiguration(c -> c.chunkedEncodingEnabled(false))
            .build();
  }

  URI endpoint() {
    return endpoint;
  }

  int port() {
    return proxy.getPort();
  }

  static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  /** A backend builder pointed at this server with the right credentials. */
  S3StorageBackend.Builder backend() {
    return S3StorageBackend.builder()
        .endpoint(endpoint)
        .region("us-east-1")
        .credentialsProvider(credentials());
  }

  S3Client client() {
    return client;
  }

  void createBucket(String bucket) {
    client.createBucket(b -> b.bucket(bucket));
  }

  void put(String bucket, String key, byte[] data) {
    client.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(data));
  }

  /** Uploads {@code data} in parts of {@code partBytes} (the last one shorter). */
  void putMultipart(String bucket, String key, byte[] data, int partBytes) {
    String uploadId =
        client.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
    List<CompletedPart> parts = new ArrayList<>();
    int number = 1;
    for (int offset = 0; offset < data.length; offset += partBytes, number++) {
      int length = Math.min(partBytes, data.length - offset);
      byte[] part = java.util.Arrays.copyOfRange(data, offset, offset + length);
      int partNumber = number;
      String etag =
          client
              .uploadPart(
                  b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(partNumber),
                  RequestBody.fromBytes(part))
              .eTag();
      parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
    }
    client.completeMultipartUpload(
        b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
  }

  @Override
  public void close() throws Exception {
    client.close();
    proxy.stop();
  }
}
