package dev.modelcache.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;

/**
 * The demo's object store: an S3-compatible server (S3Proxy) on loopback, keeping objects in a
 * directory. Its types stay inside this class, so the command works without the demo's libraries
 * until {@code demo} runs.
 */
final class DemoS3Server implements AutoCloseable {

  private final S3Proxy proxy;
  private final URI endpoint;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private DemoS3Server(S3Proxy proxy, URI endpoint) {
    this.proxy = proxy;
    this.endpoint = endpoint;
  }

  /** Starts a server on a free loopback port that stores objects under {@code baseDir}. */
  static DemoS3Server start(Path baseDir) throws IOException {
    java.nio.file.Files.createDirectories(baseDir);
    var properties = new Properties();
    properties.setProperty("jclouds.filesystem.basedir", baseDir.toString());
    S3Proxy proxy = S3Proxy.builder()
        .blobStore(BlobStores.create("filesystem", properties))
        .endpoint(URI.create("http://127.0.0.1:0"))
        // Anonymous requests: the demo has no credentials to hand out.
        .awsAuthentication(AuthenticationType.NONE, null, null)
        .build();
    try {
      proxy.start();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!"STARTED".equals(proxy.getState())) {
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "the demo's S3 server did not start within 30 s (state " + proxy.getState() + ")");
        }
        Thread.sleep(5);
      }
    } catch (IOException e) {
      stopQuietly(proxy);
      throw e;
    } catch (Exception e) {
      stopQuietly(proxy);
      throw new IOException("the demo's S3 server did not start: " + e, e);
    }
    return new DemoS3Server(proxy, URI.create("http://127.0.0.1:" + proxy.getPort()));
  }

  URI endpoint() {
    return endpoint;
  }

  /** Creates a bucket (an HTTP PUT, as any S3 client would). */
  void createBucket(String bucket) throws IOException {
    send(
        HttpRequest.newBuilder(endpoint.resolve("/" + bucket))
            .PUT(HttpRequest.BodyPublishers.noBody())
            .build(),
        bucket);
  }

  /** Uploads a file as one object, streamed from disk, counting the bytes sent into {@code sent}. */
  void upload(String bucket, String key, Path file, LongConsumer sent) throws IOException {
    HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.ofFile(file);
    HttpRequest.BodyPublisher counted = new HttpRequest.BodyPublisher() {
      @Override
      public long contentLength() {
        return body.contentLength();
      }

      @Override
      public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        body.subscribe(new Flow.Subscriber<ByteBuffer>() {
          @Override
          public void onSubscribe(Flow.Subscription subscription) {
            subscriber.onSubscribe(subscription);
          }

          @Override
          public void onNext(ByteBuffer item) {
            sent.accept(item.remaining());
            subscriber.onNext(item);
          }

          @Override
          public void onError(Throwable throwable) {
            subscriber.onError(throwable);
          }

          @Override
          public void onComplete() {
            subscriber.onComplete();
          }
        });
      }
    };
    send(
        HttpRequest.newBuilder(endpoint.resolve("/" + bucket + "/" + key))
            .PUT(counted)
            .build(),
        bucket + "/" + key);
  }

  private void send(HttpRequest request, String what) throws IOException {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        throw new IOException("the demo's S3 server refused PUT " + what + ": HTTP "
            + response.statusCode() + " " + response.body());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while uploading " + what);
    }
  }

  @Override
  public void close() {
    http.close();
    stopQuietly(proxy);
  }

  private static void stopQuietly(S3Proxy proxy) {
    try {
      proxy.stop();
    } catch (Exception e) {
      // Stopping a loopback server at the end of the demo: nothing useful to do about a failure.
    }
  }
}
