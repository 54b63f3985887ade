package dev.modelcache.s3;

import java.io.IOException;
import java.net.URI;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * An in-process S3Proxy on a free loopback port with an in-memory store. Started by the tests
 * themselves (not through its JUnit extension, which deletes its storage after each test).
 */
final class S3ProxyServer implements S3Server {
  static final String ACCESS_KEY = "test-access-key";
  static final String SECRET_KEY = "test-secret-key-do-not-print";

  private final S3Proxy proxy;
  private final S3Client client;
  private final URI endpoint;

  S3ProxyServer() throws Exception {
    proxy = S3Proxy.builder()
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
    client = S3Server.plainClient(endpoint, credentials());
  }

  static StaticCredentialsProvider staticCredentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
  }

  @Override
  public Kind kind() {
    return Kind.S3PROXY;
  }

  @Override
  public URI endpoint() {
    return endpoint;
  }

  @Override
  public StaticCredentialsProvider credentials() {
    return staticCredentials();
  }

  @Override
  public String accessKey() {
    return ACCESS_KEY;
  }

  @Override
  public S3Client client() {
    return client;
  }

  @Override
  public void close() throws IOException {
    client.close();
    try {
      proxy.stop();
    } catch (Exception e) {
      throw new IOException("stopping S3Proxy failed", e);
    }
  }

  @Override
  public String toString() {
    return "S3Proxy at " + endpoint;
  }
}
