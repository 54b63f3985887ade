package dev.modelcache.core;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The program a test runs in a separate JVM to act as another process on the node.
 *
 * <pre>
 * ensure ROOT URI PART_BYTES CONCURRENCY [GO_FILE]   ensure (after GO_FILE appears), verify, report
 * lease ROOT URI                                     ensure, lease, print LEASED, hold until stdin closes
 * await ROOT URI TIMEOUT_MS                          await another process's commit, lease, verify, report
 * evict ROOT URI                                     evict, print EVICTED or ERROR
 * holdlock ROOT URI                                  hold the download lock, never renewing its file
 * </pre>
 *
 * Output lines: READY pid=PID (as this process sees itself: 1 in a PID namespace of its own),
 * DOWNLOADED fetched resumed, DIR path, VERIFY ok|mismatches, LEASES n, ERROR class message.
 * System property {@code modelcache.test.liveness} sets the liveness a new root records.
 */
public final class CacheChild {

  private CacheChild() {}

  @SuppressWarnings("try")
  public static void main(String[] args) throws Exception {
    String command = args[0];
    Path root = Path.of(args[1]);
    ModelSource source = ModelSource.of(URI.create(args[2]));
    ModelCache.Builder builder = ModelCache.builder()
        .root(root)
        .pollInterval(java.time.Duration.ofMillis(20))
        .liveness(Liveness.valueOf(System.getProperty("modelcache.test.liveness", "AUTO")));
    if (args.length > 4) {
      builder.partSizeBytes(Integer.parseInt(args[3])).concurrency(Integer.parseInt(args[4]));
    }
    try (ModelCache cache = builder.build()) {
      System.out.println("READY pid=" + ProcessHandle.current().pid());
      System.out.flush();
      if (args.length > 5) {
        Path go = Path.of(args[5]);
        while (!Files.exists(go)) {
          Thread.sleep(5);
        }
      }
      switch (command) {
        case "ensure" -> {
          // modelcache.test.parallel: never wait for another writer, as if file locks were no-ops
          EnsureOptions options = Boolean.getBoolean("modelcache.test.parallel")
              ? EnsureOptions.DEFAULTS
                  .withWaitTimeout(java.time.Duration.ZERO)
                  .withDownloadAfterWait(true)
              : EnsureOptions.DEFAULTS;
          CacheEntry entry = cache.ensure(source, options, new DownloadListener() {
            @Override
            public void completed(CompletedEvent event) {
              DownloadSummary s = event.summary();
              System.out.println("DOWNLOADED " + s.bytesFetched() + " " + s.bytesResumed());
            }
          });
          System.out.println("DIR " + entry.directory());
          VerificationResult v = cache.verify(source);
          System.out.println("VERIFY " + (v.ok() ? "ok" : v.mismatches()));
        }
        case "lease" -> {
          CacheEntry entry = cache.ensure(source, DownloadListener.NONE);
          try (Lease lease = cache.lease(entry)) {
            System.out.println("LEASED " + lease.directory());
            System.out.flush();
            BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (in.readLine() != null) {
              // hold the lease until the parent closes our stdin
            }
          }
        }
        case "await" -> {
          CacheEntry entry =
              cache.await(source, java.time.Duration.ofMillis(Long.parseLong(args[3])));
          try (Lease lease = cache.lease(entry)) {
            System.out.println("DIR " + lease.directory());
            System.out.println(
                "LEASES " + cache.getIfPresent(source).orElseThrow().leaseCount());
            VerificationResult v = cache.verify(source);
            System.out.println("VERIFY " + (v.ok() ? "ok" : v.mismatches()));
          }
        }
        case "evict" -> System.out.println(cache.evict(source) ? "EVICTED" : "ABSENT");
        case "holdlock" -> {
          // Holds the entry's download lock and never renews the file's heartbeat: under kernel
          // locks a live holder, under heartbeats a lock kept by a filesystem for a holder that is
          // gone.
          Path lockFile = root.resolve("locks").resolve(source.cacheName() + ".download");
          try (var ch = java.nio.channels.FileChannel.open(
                  lockFile,
                  java.nio.file.StandardOpenOption.CREATE,
                  java.nio.file.StandardOpenOption.WRITE);
              var lock = ch.lock()) {
            ch.write(java.nio.ByteBuffer.wrap("pid=0\n".getBytes(StandardCharsets.US_ASCII)), 0);
            System.out.println("LOCKED");
            System.out.flush();
            BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (in.readLine() != null) {
              // hold until the parent closes our stdin
            }
          }
        }
        default -> throw new IllegalArgumentException(command);
      }
    } catch (java.io.IOException e) {
      System.out.println("ERROR " + e.getClass().getSimpleName() + " " + e.getMessage());
      System.out.flush();
      System.exit(3);
    }
    System.out.flush();
  }
}
