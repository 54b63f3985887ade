package dev.modelcache.benchmarks.s3;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Compares the SDK's HTTP clients for the access pattern of the s3 backend: many concurrent
 * explicit-range GETs of one large object, each written into a caller-owned direct buffer.
 *
 * <p>Usage: {@code HttpClientProbe ENDPOINT BUCKET KEY SIZE_BYTES PART_BYTES CONCURRENCY ROUNDS
 * CLIENT...} with clients among {@code apache apache5 netty crt}. Access key and secret come from
 * {@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY}. Prints one line per client and round:
 * MiB/s and CPU seconds used by this process per GiB moved.
 */
public final class HttpClientProbe {

  private HttpClientProbe() {}

  public static void main(String[] args) throws Exception {
    URI endpoint = URI.create(args[0]);
    String bucket = args[1];
    String key = args[2];
    long sizeBytes = Long.parseLong(args[3]);
    int partBytes = Integer.parseInt(args[4]);
    int concurrency = Integer.parseInt(args[5]);
    int rounds = Integer.parseInt(args[6]);
    var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(
        System.getenv("AWS_ACCESS_KEY_ID"), System.getenv("AWS_SECRET_ACCESS_KEY")));
    for (int round = 0; round < rounds; round++) {
      for (int c = 7; c < args.length; c++) {
        String client = args[c];
        Reader reader = switch (client) {
          case "apache" ->
            syncReader(
                ApacheHttpClient.builder().maxConnections(concurrency * 2).build(),
                endpoint,
                credentials);
          case "apache5" ->
            syncReader(
                Apache5HttpClient.builder().maxConnections(concurrency * 2).build(),
                endpoint,
                credentials);
          case "netty" ->
            asyncReader(S3AsyncClient.builder()
                .httpClient(NettyNioAsyncHttpClient.builder()
                    .maxConcurrency(concurrency * 2)
                    .build())
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(credentials)
                .build());
          case "crt" ->
            asyncReader(S3AsyncClient.crtBuilder()
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(credentials)
                .maxConcurrency(concurrency)
                .minimumPartSizeInBytes((long) partBytes)
                .build());
          default -> throw new IllegalArgumentException("unknown client " + client);
        };
        try (reader) {
          run(client, reader, bucket, key, sizeBytes, partBytes, concurrency);
        }
      }
    }
  }

  private static void run(
      String name,
      Reader reader,
      String bucket,
      String key,
      long sizeBytes,
      int partBytes,
      int concurrency)
      throws Exception {
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    var next = new AtomicLong();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      futures.add(pool.submit(() -> {
        ByteBuffer buffer = ByteBuffer.allocateDirect(partBytes);
        long offset;
        while ((offset = next.getAndAdd(partBytes)) < sizeBytes) {
          int length = (int) Math.min(partBytes, sizeBytes - offset);
          buffer.clear().limit(length);
          reader.read(bucket, key, offset, buffer);
          if (buffer.hasRemaining()) {
            throw new IOException("short read at " + offset);
          }
        }
        return null;
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
    double gib = sizeBytes / (double) (1L << 30);
    System.out.printf(
        Locale.ROOT,
        "%-8s part=%dMiB conc=%d %.1f MiB/s cpu=%.2f s/GiB%n",
        name,
        partBytes >> 20,
        concurrency,
        sizeBytes / (double) (1 << 20) / seconds,
        cpuSeconds / gib);
  }

  private interface Reader extends AutoCloseable {
    void read(String bucket, String key, long offset, ByteBuffer dst) throws Exception;

    @Override
    void close();
  }

  private static Reader syncReader(
      SdkHttpClient http, URI endpoint, StaticCredentialsProvider credentials) {
    S3Client s3 = S3Client.builder()
        .httpClient(http)
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(credentials)
        .build();
    return new Reader() {
      @Override
      public void read(String bucket, String key, long offset, ByteBuffer dst) throws IOException {
        GetObjectRequest request = rangeRequest(bucket, key, offset, dst.remaining());
        byte[] chunk = new byte[64 * 1024];
        try (InputStream in = s3.getObject(request)) {
          int n;
          while (dst.hasRemaining()
              && (n = in.read(chunk, 0, Math.min(chunk.length, dst.remaining()))) >= 0) {
            dst.put(chunk, 0, n);
          }
        }
      }

      @Override
      public void close() {
        s3.close();
        http.close();
      }
    };
  }

  /** A GET of {@code length} bytes of the object from {@code offset}. */
  private static GetObjectRequest rangeRequest(String bucket, String key, long offset, int length) {
    return GetObjectRequest.builder()
        .bucket(bucket)
        .key(key)
        .range("bytes=" + offset + "-" + (offset + length - 1))
        .build();
  }

  private static Reader asyncReader(S3AsyncClient s3) {
    return new Reader() {
      @Override
      public void read(String bucket, String key, long offset, ByteBuffer dst) throws Exception {
        GetObjectRequest request = rangeRequest(bucket, key, offset, dst.remaining());
        s3.getObject(request, new IntoBuffer(dst)).get();
      }

      @Override
      public void close() {
        s3.close();
      }
    };
  }

  /** Copies the body into one buffer as it arrives. */
  private static final class IntoBuffer
      implements AsyncResponseTransformer<GetObjectResponse, Void> {
    private final ByteBuffer dst;
    private CompletableFuture<Void> done;

    IntoBuffer(ByteBuffer dst) {
      this.dst = dst;
    }

    @Override
    public CompletableFuture<Void> prepare() {
      done = new CompletableFuture<>();
      return done;
    }

    @Override
    public void onResponse(GetObjectResponse response) {}

    @Override
    public void onStream(SdkPublisher<ByteBuffer> publisher) {
      publisher.subscribe(new Subscriber<ByteBuffer>() {
        @Override
        public void onSubscribe(Subscription s) {
          s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ByteBuffer b) {
          dst.put(b);
        }

        @Override
        public void onError(Throwable t) {
          done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
          done.complete(null);
        }
      });
    }

    @Override
    public void exceptionOccurred(Throwable error) {
      if (done != null) {
        done.completeExceptionally(error);
      }
    }
  }
}
