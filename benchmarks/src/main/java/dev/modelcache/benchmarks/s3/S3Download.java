package dev.modelcache.benchmarks.s3;

import dev.modelcache.core.ModelCache;
import dev.modelcache.core.spi.RemoteObject;
import dev.modelcache.s3.S3StorageBackend;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.transfer.s3.S3TransferManager;
import software.amazon.awssdk.transfer.s3.model.CompletedDirectoryDownload;
import software.amazon.awssdk.transfer.s3.model.DownloadDirectoryRequest;

/**
 * Downloads {@code s3://bucket/prefix/} into a local directory with one of several tools, for
 * {@code benchmarks/bench s3}. Credentials come from the SDK's default chain (the driver sets
 * {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY}).
 *
 * <p>Usage: {@code S3Download TOOL ENDPOINT s3://bucket/prefix/ DEST [PART_BYTES CONCURRENCY]}
 * <ul>
 *   <li>{@code cache}: {@code ModelCache.ensure} with the s3 backend (verified, fsynced, committed)
 *   <li>{@code cache-buffered}: the same with {@code directWrites(false)}, written through the page cache
 *   <li>{@code cache-warm}: {@code cache} twice in one JVM, each into a fresh cache root; only the
 *       second is timed, with the process's CPU time over it: a download without the JVM's
 *       start-up, class loading and JIT warm-up (prints {@code STEADY seconds cpu-seconds} too)
 *   <li>{@code backend}: the s3 backend's ranged reads into preallocated files, no verification and
 *       no fsync: the backend's own ceiling
 *   <li>{@code tm-java}: {@code S3TransferManager.downloadDirectory} on the Java (Netty) client,
 *       one GET per object
 *   <li>{@code tm-java-multipart}: the same on the Java multipart client, which reads parts with
 *       {@code GET ?partNumber=} (S3Proxy answers 501)
 *   <li>{@code tm-crt}: {@code S3TransferManager.downloadDirectory} on the CRT client
 * </ul>
 * Prints one line: {@code RESULT tool bytes seconds MiB/s}.
 */
public final class S3Download {

  private S3Download() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println(
          "usage: S3Download cache|cache-buffered|cache-warm|backend|tm-java|tm-java-multipart|tm-crt ENDPOINT s3://bucket/prefix/ DEST [PART_BYTES CONCURRENCY [REQUEST_BYTES]]");
      System.exit(2);
    }
    String tool = args[0];
    URI endpoint = URI.create(args[1]);
    URI source = URI.create(args[2]);
    Path destination = Path.of(args[3]);
    int partBytes = args.length > 4 ? Integer.parseInt(args[4]) : 8 << 20;
    int concurrency = args.length > 5 ? Integer.parseInt(args[5]) : 16;
    long requestBytes =
        args.length > 6 ? Long.parseLong(args[6]) : ModelCache.DEFAULT_REQUEST_SIZE_BYTES;
    var transfer = new S3CacheDownload.Transfer(partBytes, requestBytes, concurrency);
    Files.createDirectories(destination);
    long t0 = System.nanoTime();
    long bytes = switch (tool) {
      case "cache" -> S3CacheDownload.run(endpoint, source, destination, transfer, true);
      case "cache-buffered" -> S3CacheDownload.run(endpoint, source, destination, transfer, false);
      case "cache-warm" -> S3CacheDownload.runWarm(endpoint, source, destination, transfer);
      case "backend" -> backend(endpoint, source, destination, partBytes, concurrency);
      case "tm-java" -> transferManager(Client.JAVA, endpoint, source, destination);
      case "tm-java-multipart" ->
        transferManager(Client.JAVA_MULTIPART, endpoint, source, destination);
      case "tm-crt" -> transferManager(Client.CRT, endpoint, source, destination);
      default -> throw new IllegalArgumentException("unknown tool " + tool);
    };
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        Locale.ROOT, "RESULT %s %d %.3f %.1f%n", tool, bytes, seconds, bytes / 1048576.0 / seconds);
  }

  static S3StorageBackend newBackend(URI endpoint, int concurrency) {
    return S3StorageBackend.builder()
        .endpoint(endpoint)
        .region("us-east-1")
        .maxConnections(Math.max(concurrency, 1) * 2)
        .build();
  }

  private static long backend(
      URI endpoint, URI source, Path destination, int partBytes, int concurrency) throws Exception {
    try (S3StorageBackend backend = newBackend(endpoint, concurrency)) {
      List<RemoteObject> objects = backend.list(source);
      record Part(RemoteObject object, FileChannel channel, long offsetBytes, int lengthBytes) {}
      var parts = new LinkedBlockingQueue<Part>();
      List<FileChannel> channels = new ArrayList<>();
      long total = 0;
      try {
        for (RemoteObject object : objects) {
          Path file = destination.resolve(object.relativePath());
          Files.createDirectories(file.getParent());
          FileChannel channel = FileChannel.open(
              file,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING);
          channels.add(channel);
          total += object.sizeBytes();
          for (long offset = 0; offset < object.sizeBytes(); offset += partBytes) {
            parts.add(new Part(
                object, channel, offset, (int) Math.min(partBytes, object.sizeBytes() - offset)));
          }
        }
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        List<Future<?>> workers = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
          workers.add(pool.submit(() -> {
            ByteBuffer buffer = ByteBuffer.allocateDirect(partBytes);
            Part part;
            while ((part = parts.poll()) != null) {
              buffer.clear().limit(part.lengthBytes());
              for (int attempt = 1; ; attempt++) {
                try {
                  backend.read(part.object(), part.offsetBytes(), buffer);
                  break;
                } catch (IOException e) {
                  if (attempt == 5) {
                    throw e;
                  }
                  Thread.sleep(50L * attempt);
                }
              }
              buffer.flip();
              long at = part.offsetBytes();
              while (buffer.hasRemaining()) {
                at += part.channel().write(buffer, at);
              }
            }
            return null;
          }));
        }
        try {
          for (Future<?> worker : workers) {
            worker.get();
          }
        } finally {
          pool.shutdownNow();
        }
      } finally {
        for (FileChannel channel : channels) {
          channel.close();
        }
      }
      return total;
    }
  }

  private enum Client {
    JAVA,
    JAVA_MULTIPART,
    CRT
  }

  private static long transferManager(Client kind, URI endpoint, URI source, Path destination)
      throws IOException {
    String bucket = source.getAuthority();
    String prefix = source.getPath().replaceFirst("^/", "");
    S3AsyncClient client = kind == Client.CRT
        ? S3AsyncClient.crtBuilder()
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .build()
        : S3AsyncClient.builder()
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            // The multipart client downloads with GET ?partNumber=, which S3Proxy answers 501.
            .multipartEnabled(kind == Client.JAVA_MULTIPART)
            .build();
    try (client;
        S3TransferManager manager = S3TransferManager.builder().s3Client(client).build()) {
      CompletedDirectoryDownload done = manager
          .downloadDirectory(DownloadDirectoryRequest.builder()
              .bucket(bucket)
              .listObjectsV2RequestTransformer(l -> l.prefix(prefix))
              .destination(destination)
              .build())
          .completionFuture()
          .join();
      if (!done.failedTransfers().isEmpty()) {
        throw new IllegalStateException(done.failedTransfers().size() + " transfers failed, first: "
            + done.failedTransfers().get(0).exception());
      }
    }
    try (var files = Files.walk(destination)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(p -> p.toFile().length())
          .sum();
    }
  }
}
