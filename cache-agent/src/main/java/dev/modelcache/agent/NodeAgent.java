package dev.modelcache.agent;

import dev.modelcache.core.ModelCache;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The node agent: keeps a node's cache holding what the node must hold, and says how far it got.
 *
 * <p>With KServe ({@link Builder#kubernetes}), what the node must hold is the spec of the
 * {@code LocalModelNode} named after it, and each model's state goes into that object's status with
 * KServe's values, so that KServe's controller and the InferenceServices that use the cache work
 * unchanged; the node group's {@code storageLimit} becomes the cache's size limit. Without KServe
 * ({@link Builder#modelsFile}), a file lists the models and the states go to the log.
 *
 * <p>Each model is linked at {@code ROOT/models/NAME} (and at KServe's hashed folder name) to its
 * cache entry. Downloads go through the {@link ModelCache}, a bounded number at a time. Optionally
 * an HTTP port serves {@code /metrics}, {@code /healthz} and {@code /readyz}.
 *
 * <p>{@link #close()} stops the agent (downloads in progress are abandoned and resume at the next
 * start); the cache and the Kubernetes client stay the caller's to close.
 */
public final class NodeAgent implements AutoCloseable {

  private final ScheduledExecutorService loop;
  private final ExecutorService workers;
  private final Reconciler reconciler;
  private final LocalModelNodeSource kserve;
  private final HealthServer http;
  private final Duration livenessTimeout;
  private final Clock clock;

  private NodeAgent(Builder b) throws IOException {
    clock = b.clock;
    AgentLog log = new AgentLog(b.log, clock);
    loop = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("modelcache-agent-loop").daemon().factory());
    workers = Executors.newFixedThreadPool(
        b.maxParallelDownloads,
        Thread.ofPlatform().name("modelcache-agent-download-", 0).daemon().factory());
    livenessTimeout = b.resyncInterval.multipliedBy(3).plusSeconds(30);
    AgentMetrics metrics = new AgentMetrics();
    ModelLinks links = new ModelLinks(b.cache.root());
    StatusSink sink;
    if (b.client != null) {
      kserve = new LocalModelNodeSource(
          b.client, b.nodeName, new NodeGroupLimit(b.client, b.nodeName, b.nodeGroup), log);
      sink =
          new LocalModelNodeStatusWriter(b.client, b.nodeName, kserve::current, b.labelNode, log);
    } else {
      kserve = null;
      sink = states -> states.forEach((k, s) ->
          log.info("model_state", "model", k, "state", s.status().value(), "reason", s.reason()));
    }
    reconciler = new Reconciler(
        b.cache,
        links,
        sink,
        metrics,
        log,
        clock,
        new Reconciler.Settings(b.retryInitial, b.retryMax, b.verifyInterval),
        loop,
        workers);
    boolean success = false;
    try {
      http = b.httpPort < 0
          ? null
          : new HealthServer(b.httpPort, metrics::scrape, this::alive, this::ready);
      log.info(
          "agent_started",
          "root",
          b.cache.root(),
          "mode",
          kserve != null ? "kserve" : "models-file",
          "node",
          b.nodeName == null ? "" : b.nodeName,
          "port",
          http == null ? "none" : http.port(),
          "maxParallelDownloads",
          b.maxParallelDownloads);
      if (kserve != null) {
        kserve.start(b.resyncInterval, reconciler::desire);
      } else {
        Path file = b.modelsFile;
        FileTime[] seen = {null};
        loop.scheduleWithFixedDelay(
            () -> {
              try {
                FileTime modified = Files.getLastModifiedTime(file);
                if (!modified.equals(seen[0])) {
                  reconciler.desire(ModelsFile.read(file));
                  seen[0] = modified;
                  log.info("models_file_read", "file", file);
                }
              } catch (IOException | RuntimeException e) {
                // Logged and tried again at the next poll: an exception escaping this task would
                // end
                // the schedule, and the file would never be followed again.
                log.error("models_file_unreadable", "file", file, "error", AgentLog.describe(e));
              }
            },
            0,
            Math.min(b.resyncInterval.toMillis(), 10_000),
            TimeUnit.MILLISECONDS);
      }
      loop.scheduleWithFixedDelay(
          reconciler::requestPass,
          b.resyncInterval.toMillis(),
          b.resyncInterval.toMillis(),
          TimeUnit.MILLISECONDS);
      success = true;
    } finally {
      if (!success) {
        shutdownExecutors();
      }
    }
  }

  /** A builder; {@link Builder#cache} and one of {@link Builder#kubernetes} or {@link Builder#modelsFile} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The port of {@code /metrics}, {@code /healthz} and {@code /readyz}, or -1 if there is none. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  /** Whether the spec has been read and acted on once. */
  public boolean ready() {
    return reconciler.synced();
  }

  /** Whether the agent's loop has run recently. */
  public boolean alive() {
    Instant last = reconciler.lastPass();
    return last.equals(Instant.EPOCH)
        || Duration.between(last, clock.instant()).compareTo(livenessTimeout) < 0;
  }

  /** Stops watching, serving and downloading. Idempotent. */
  @Override
  public void close() {
    if (kserve != null) {
      kserve.close();
    }
    if (http != null) {
      http.close();
    }
    shutdownExecutors();
  }

  private void shutdownExecutors() {
    loop.shutdownNow();
    workers.shutdownNow();
  }

  /** Configures a {@link NodeAgent}. */
  public static final class Builder {
    private ModelCache cache;
    private KubernetesClient client;
    private String nodeName;
    private Path modelsFile;
    private String nodeGroup;
    private boolean labelNode;
    private int maxParallelDownloads = 2;
    private Duration resyncInterval = Duration.ofSeconds(60);
    private Duration verifyInterval = Duration.ofHours(24);
    private Duration retryInitial = Duration.ofSeconds(10);
    private Duration retryMax = Duration.ofMinutes(5);
    private int httpPort = -1;
    private PrintStream log = System.err;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** The cache to fill (required); the caller keeps ownership. */
    public Builder cache(ModelCache cache) {
      this.cache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /**
     * Follow KServe: the LocalModelNode named {@code nodeName} (the node's name, from the downward
     * API's {@code spec.nodeName}) through {@code client}, which the caller keeps ownership of.
     */
    public Builder kubernetes(KubernetesClient client, String nodeName) {
      this.client = Objects.requireNonNull(client, "client");
      if (nodeName == null || nodeName.isBlank()) {
        throw new IllegalArgumentException(
            "nodeName must name this node (NODE_NAME from the downward API), was '" + nodeName
                + "'");
      }
      this.nodeName = nodeName;
      return this;
    }

    /** Keep the models this YAML or JSON file lists (see {@code docs/cache-agent.md}); re-read when it changes. */
    public Builder modelsFile(Path file) {
      this.modelsFile = Objects.requireNonNull(file, "file");
      return this;
    }

    /** The LocalModelNodeGroup whose {@code storageLimit} applies, instead of finding it. */
    public Builder nodeGroup(String name) {
      this.nodeGroup = name;
      return this;
    }

    /** Label the Node with {@code model.modelcache.dev/NAME=true} for each model it holds (default off). */
    public Builder labelNode(boolean label) {
      this.labelNode = label;
      return this;
    }

    /** How many models download at once (default 2); each download has the cache's own concurrency. */
    public Builder maxParallelDownloads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxParallelDownloads must be >= 1, was " + n);
      }
      this.maxParallelDownloads = n;
      return this;
    }

    /** How often everything is looked at again, whatever the events (default 60 s). */
    public Builder resyncInterval(Duration interval) {
      if (interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("resyncInterval must be positive, was " + interval);
      }
      this.resyncInterval = interval;
      return this;
    }

    /** How often each cached model is re-read against its manifest (default 24 h; zero: never). */
    public Builder verifyInterval(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("verifyInterval must be >= 0, was " + interval);
      }
      this.verifyInterval = interval;
      return this;
    }

    /** The delay before the first retry of a failed download, doubling up to {@code max} (default 10 s, 5 min). */
    public Builder retryBackoff(Duration initial, Duration max) {
      if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "retryBackoff needs 0 < initial <= max, was " + initial + ", " + max);
      }
      this.retryInitial = initial;
      this.retryMax = max;
      return this;
    }

    /** Serve {@code /metrics}, {@code /healthz} and {@code /readyz} on this port (0: any free one; default none). */
    public Builder httpPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("httpPort must be 0..65535, was " + port);
      }
      this.httpPort = port;
      return this;
    }

    /** Where the log lines go (default stderr). */
    public Builder log(PrintStream out) {
      this.log = Objects.requireNonNull(out, "out");
      return this;
    }

    Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * Starts the agent: it returns at once and works in the background.
     *
     * @throws IllegalStateException if the cache, or the choice between KServe and a models file,
     *     is missing or ambiguous
     * @throws IOException if the HTTP port cannot be bound
     */
    public NodeAgent start() throws IOException {
      if (cache == null) {
        throw new IllegalStateException("cache(...) is required");
      }
      if ((client == null) == (modelsFile == null)) {
        throw new IllegalStateException(
            client == null
                ? "one of kubernetes(client, nodeName) or modelsFile(path) is required"
                : "kubernetes(client, nodeName) and modelsFile(path) exclude each other");
      }
      if (labelNode && client == null) {
        throw new IllegalStateException("labelNode(true) needs kubernetes(client, nodeName)");
      }
      return new NodeAgent(this);
    }
  }

  @Override
  public String toString() {
    return "NodeAgent[httpPort=" + httpPort() + ", ready=" + ready() + "]";
  }
}
