package dev.modelcache.agent;

import dev.modelcache.core.ModelCache;
import dev.modelcache.core.spi.BackendOptions;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The agent in a JVM of its own, as a DaemonSet pod runs it: {@code MASTER_URL ROOT S3_ENDPOINT
 * NODE}. Prints {@code READY port=N} once started, then runs until killed.
 */
public final class AgentChild {

  private AgentChild() {}

  public static void main(String[] args) throws Exception {
    KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(
            new ConfigBuilder().withMasterUrl(args[0]).withTrustCerts(true).build())
        .build();
    ModelCache cache = ModelCache.builder()
        .root(Path.of(args[1]))
        .minFreeBytes(0)
        .partSizeBytes(64 << 10)
        // A request per block, each answered late by the restart test's slowed store: the kill
        // lands in the middle of the download.
        .requestSizeBytes(64 << 10)
        .concurrency(2)
        .backendOptions(
            "s3",
            BackendOptions.NONE
                .with("endpoint", args[2])
                .with("pathStyle", "true")
                .with("region", "us-east-1"))
        .build();
    NodeAgent agent = NodeAgent.builder()
        .cache(cache)
        .kubernetes(client, args[3])
        .httpPort(0)
        .resyncInterval(Duration.ofMillis(300))
        .retryBackoff(Duration.ofMillis(100), Duration.ofMillis(400))
        .verifyInterval(Duration.ZERO)
        .start();
    System.out.println("READY port=" + agent.httpPort());
    System.out.flush();
    Thread.currentThread().join();
  }
}
