package dev.modelcache.cli;

import dev.modelcache.agent.NodeAgent;
import dev.modelcache.core.FreeSpace;
import dev.modelcache.core.ModelCache;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code modelcache agent}: the node agent, as a DaemonSet's container runs it. It runs until the
 * JVM is told to stop (SIGTERM), then stops watching and serving; downloads in progress resume at
 * the next start.
 */
@Command(
    name = "agent",
    description = {
      "Run the node agent: keep this node's cache holding what KServe's LocalModelNode for the node lists",
      "(NODE_NAME, from the downward API), and write each model's state into its status; or, with",
      "--models FILE, the models a YAML or JSON file lists. Serves /metrics, /healthz and /readyz on --port.",
      "Each model is linked at ROOT/models/NAME. Runs until SIGTERM."
    })
final class AgentCommand implements Callable<Integer> {

  @ParentCommand
  ModelcacheCommand app;

  @Option(
      names = "--node-name",
      paramLabel = "NAME",
      description = "This node's name, which is also its LocalModelNode's (default: $NODE_NAME).")
  String nodeName;

  @Option(
      names = "--models",
      paramLabel = "FILE",
      description =
          "Keep the models this YAML or JSON file lists instead of following KServe (re-read when it changes).")
  Path modelsFile;

  @Option(
      names = "--node-group",
      paramLabel = "NAME",
      description =
          "The LocalModelNodeGroup whose storageLimit applies (default: the group the models name, else the "
              + "groups whose volume node affinity selects this node).")
  String nodeGroup;

  @Option(
      names = "--label-node",
      description = "Label the Node model.modelcache.dev/NAME=true for each model it holds.")
  boolean labelNode;

  @Option(
      names = "--max-parallel",
      paramLabel = "N",
      description = "Models downloaded at once (default: 2).")
  int maxParallel = 2;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "Port of /metrics, /healthz and /readyz (default: 9090; 0: none).")
  int port = 9090;

  @Option(
      names = "--resync",
      paramLabel = "DURATION",
      description = "Look at everything again this often (default: 60s).")
  TimeSpan resync = new TimeSpan(java.time.Duration.ofSeconds(60));

  @Option(
      names = "--verify-every",
      paramLabel = "DURATION",
      description =
          "Re-read each cached model against its manifest this often and repair it (default: 24h; 0: never).")
  TimeSpan verifyEvery = new TimeSpan(java.time.Duration.ofHours(24));

  @Option(
      names = "--retry-after",
      paramLabel = "DURATION",
      description =
          "First retry of a failed download after this long, doubling up to 5m (default: 10s).")
  TimeSpan retryAfter = new TimeSpan(java.time.Duration.ofSeconds(10));

  @Mixin
  TransferOptions transfer = new TransferOptions();

  @Option(
      names = "--min-free",
      paramLabel = "SIZE|PCT",
      converter = FreeSpaceArgument.Converter.class,
      description =
          "Free space to leave on the disk, e.g. 50GiB or 5% (default: the cache's setting).")
  FreeSpace minFree;

  @Override
  public Integer call() throws IOException, UsageException, InterruptedException {
    if (app.json()) {
      throw new UsageException(
          "agent runs until stopped and writes log lines; --json does not apply");
    }
    String node = nodeName != null ? nodeName : app.context().env().get("NODE_NAME");
    if (modelsFile == null && (node == null || node.isBlank())) {
      throw new UsageException(
          "agent needs this node's name: --node-name NAME or $NODE_NAME (in a pod, from the "
              + "downward API: fieldRef spec.nodeName), or --models FILE to run without KServe");
    }
    if (modelsFile != null && (labelNode || nodeGroup != null)) {
      throw new UsageException((labelNode ? "--label-node" : "--node-group")
          + " needs KServe; it does not apply with --models");
    }
    if (modelsFile != null && !Files.isRegularFile(modelsFile)) {
      throw new UsageException("--models " + modelsFile + ": no such file");
    }
    if (port < 0 || port > 65535) {
      throw new UsageException("--port " + port + ": must be 0..65535");
    }
    if (maxParallel < 1) {
      throw new UsageException("--max-parallel " + maxParallel + ": must be at least 1");
    }
    if (resync.duration().isZero()) {
      throw new UsageException("--resync must be more than 0");
    }
    if (retryAfter.duration().isZero()) {
      throw new UsageException("--retry-after must be more than 0");
    }
    ModelCache.Builder builder = ModelCache.builder().root(app.root()).createRootIfMissing();
    applyTo(builder);
    ModelCache cache = builder.build();
    KubernetesClient client = null;
    NodeAgent agent = null;
    boolean success = false;
    try {
      NodeAgent.Builder agentBuilder = NodeAgent.builder()
          .cache(cache)
          .maxParallelDownloads(maxParallel)
          .resyncInterval(resync.duration())
          .verifyInterval(verifyEvery.duration())
          .retryBackoff(
              retryAfter.duration(), max(retryAfter.duration(), java.time.Duration.ofMinutes(5)))
          .log(app.context().err());
      if (port > 0) {
        agentBuilder.httpPort(port);
      }
      if (modelsFile != null) {
        agentBuilder.modelsFile(modelsFile);
      } else {
        client = new KubernetesClientBuilder().build();
        agentBuilder.kubernetes(client, node).nodeGroup(nodeGroup).labelNode(labelNode);
      }
      agent = agentBuilder.start();
      success = true;
    } finally {
      if (!success) {
        if (client != null) {
          client.close();
        }
        cache.close();
      }
    }
    CountDownLatch stopped = new CountDownLatch(1);
    NodeAgent running = agent;
    KubernetesClient k8s = client;
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
      running.close();
      if (k8s != null) {
        k8s.close();
      }
      cache.close();
      stopped.countDown();
    }));
    stopped.await();
    return ExitCode.OK.status();
  }

  private static java.time.Duration max(java.time.Duration a, java.time.Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private void applyTo(ModelCache.Builder builder) throws UsageException {
    transfer.applyTo(builder);
    if (minFree != null) {
      builder.minFree(minFree);
    }
    if (transfer.namesStore()) {
      builder.backendOptions("s3", transfer.s3Options());
    }
  }
}
