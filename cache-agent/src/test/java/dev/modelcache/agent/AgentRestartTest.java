package dev.modelcache.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.modelcache.agent.kserve.LocalModelInfo;
import dev.modelcache.agent.kserve.ModelStatus;
import dev.modelcache.core.DownloadStatus;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.junit.jupiter.api.Test;

/**
 * The agent killed (SIGKILL) in the middle of a download resumes it when it starts again: it
 * fetches only what the first process had not written, and the model reaches the downloaded state.
 */
class AgentRestartTest extends AgentCluster {

  static final int MODEL_BYTES = 4 << 20;

  @Test
  void anAgentKilledMidDownloadResumesOnRestart() throws Exception {
    upload("big/", 11, MODEL_BYTES);
    // A store that answers each read 40 ms late, so that the kill lands in the middle.
    S3Proxy slow = serve(slowed(store, 40), 0);
    String slowEndpoint = "http://127.0.0.1:" + slow.getPort();
    try {
      spec(LocalModelInfo.of("s3://models/big/", "big"));
      long doneAtKill;
      try (Child first =
          Child.start(tmp.resolve("first.log"), server.url("/"), root, slowEndpoint)) {
        first.awaitLine("READY");
        eventually(
            "the first agent has written part of the model", () -> bytesDone() >= MODEL_BYTES / 4);
        first.process.destroyForcibly().waitFor();
        doneAtKill = bytesDone();
      }
      assertThat(doneAtKill).isBetween((long) MODEL_BYTES / 4, (long) MODEL_BYTES - 1);
      assertThat(cache.list().entries()).isEmpty();

      try (Child second =
          Child.start(tmp.resolve("second.log"), server.url("/"), root, slowEndpoint)) {
        int port = Integer.parseInt(second.awaitLine("READY").replaceAll(".*port=", ""));
        awaitNode(state("big", ModelStatus.DOWNLOADED));
        assertThat(Files.size(root.resolve("models/big/shard-0.safetensors")))
            .isEqualTo(MODEL_BYTES);
        Pattern counter =
            Pattern.compile("(?m)^modelcache_agent_downloaded_bytes_total ([0-9.E]+)$");
        java.util.concurrent.atomic.AtomicLong fetchedBytes =
            new java.util.concurrent.atomic.AtomicLong();
        eventually("the restarted agent reports the bytes it fetched", () -> {
          Matcher m = counter.matcher(scrape(port));
          fetchedBytes.set(m.find() ? (long) Double.parseDouble(m.group(1)) : 0);
          return fetchedBytes.get() > 0;
        });
        long fetched = fetchedBytes.get();
        // What the first process wrote is kept; at most the ranges in flight at the kill are
        // fetched again.
        assertThat(fetched)
            .as("bytes the restarted agent fetched")
            .isLessThanOrEqualTo(MODEL_BYTES - doneAtKill + 2 * (64 << 10));
      }
      assertThat(cache
              .verify(dev.modelcache.core.ModelSource.parse("s3://models/big/"))
              .ok())
          .isTrue();
    } finally {
      slow.stop();
    }
  }

  long bytesDone() throws IOException {
    return cache.list().downloads().stream()
        .mapToLong(DownloadStatus::bytesDone)
        .max()
        .orElse(0);
  }

  String scrape(int port) throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }

  /** S3Proxy's own latency middleware around {@code store}, {@code millis} per read. */
  static BlobStore slowed(BlobStore store, long millis) throws Exception {
    Class<?> latency = Class.forName("org.gaul.s3proxy.middleware.LatencyBlobStore");
    Properties props = new Properties();
    props.setProperty("s3proxy.latency-blobstore.get.latency", Long.toString(millis));
    Object latencies = latency.getMethod("parseLatencies", Properties.class).invoke(null, props);
    Object speeds =
        latency.getMethod("parseSpeeds", Properties.class).invoke(null, new Properties());
    Method wrap =
        latency.getDeclaredMethod("newLatencyBlobStore", BlobStore.class, Map.class, Map.class);
    wrap.setAccessible(true);
    return (BlobStore) wrap.invoke(null, store, latencies, speeds);
  }

  /** A real JVM running {@link AgentChild} with this test's java and class path. */
  record Child(Process process, Path log) implements AutoCloseable {

    static Child start(Path log, String masterUrl, Path root, String endpoint) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(ProcessHandle.current().info().command().orElseThrow());
      cmd.addAll(List.of(
          "-XX:-UsePerfData",
          "-Xmx256m",
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseSerialGC",
          "--enable-native-access=ALL-UNNAMED",
          "-Daws.accessKeyId=" + ACCESS_KEY,
          "-Daws.secretAccessKey=" + SECRET_KEY,
          "-cp",
          System.getProperty("java.class.path"),
          AgentChild.class.getName(),
          masterUrl,
          root.toString(),
          endpoint,
          NODE));
      Process p = new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      return new Child(p, log);
    }

    String awaitLine(String prefix) throws Exception {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline) {
        String out = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        for (String line : out.split("\n")) {
          if (line.startsWith(prefix)) {
            return line;
          }
        }
        if (!process.isAlive()) {
          throw new AssertionError("the agent exited with " + process.exitValue() + ":\n" + out);
        }
        Thread.sleep(10);
      }
      throw new AssertionError("no '" + prefix + "' line within " + WAIT);
    }

    @Override
    public void close() throws Exception {
      process.destroyForcibly().waitFor();
    }
  }
}
