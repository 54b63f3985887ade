package dev.modelcache.agent;

import dev.modelcache.agent.kserve.ModelStatus;
import dev.modelcache.core.CacheStats;
import dev.modelcache.core.ModelCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's Prometheus metrics: bytes downloaded, download durations, models per state, the
 * cache's bytes and the disk's free bytes, verification failures. Gauges show what the last pass
 * of the loop saw.
 */
final class AgentMetrics {

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicLong bytesFetched = new AtomicLong();
  private final AtomicLong cacheBytes = new AtomicLong();
  private final AtomicLong freeBytes = new AtomicLong();
  private final AtomicLong limitBytes = new AtomicLong();
  private final Map<ModelStatus, AtomicLong> models = new EnumMap<>(ModelStatus.class);
  private final Timer downloads;
  private final Counter verificationFailures;

  AgentMetrics() {
    FunctionCounter.builder("modelcache.agent.downloaded", bytesFetched, AtomicLong::doubleValue)
        .baseUnit("bytes")
        .description("Bytes this agent fetched from model sources")
        .register(registry);
    Gauge.builder("modelcache.cache.size", cacheBytes, AtomicLong::doubleValue)
        .baseUnit("bytes")
        .description("Bytes of the committed cache entries")
        .register(registry);
    Gauge.builder("modelcache.cache.free", freeBytes, AtomicLong::doubleValue)
        .baseUnit("bytes")
        .description("Free bytes on the cache's file system")
        .register(registry);
    Gauge.builder("modelcache.cache.limit", limitBytes, AtomicLong::doubleValue)
        .baseUnit("bytes")
        .description("The cache's size limit, 0 for none")
        .register(registry);
    for (ModelStatus s : ModelStatus.values()) {
      if (s == ModelStatus.UNKNOWN) {
        continue;
      }
      AtomicLong n = new AtomicLong();
      models.put(s, n);
      Gauge.builder("modelcache.agent.models", n, AtomicLong::doubleValue)
          .tag("state", s.value())
          .description("Models of the spec in each state")
          .register(registry);
    }
    downloads = Timer.builder("modelcache.agent.download.duration")
        .description("How long each model's download took")
        .publishPercentileHistogram()
        .register(registry);
    verificationFailures = Counter.builder("modelcache.agent.verification.failures")
        .description("Scheduled verifications that found a damaged entry")
        .register(registry);
  }

  /** Takes the cache's numbers and counts the models by state; on the loop thread. */
  void observe(ModelCache cache, Collection<ModelStatus> states) throws IOException {
    CacheStats stats = cache.stats();
    bytesFetched.set(stats.bytesFetched());
    cacheBytes.set(stats.entryBytes());
    freeBytes.set(stats.usableBytes());
    limitBytes.set(stats.maxBytes());
    models.values().forEach(n -> n.set(0));
    for (ModelStatus s : states) {
      AtomicLong n = models.get(s);
      if (n != null) {
        n.incrementAndGet();
      }
    }
  }

  /** Bytes {@code cache} has fetched so far. */
  long bytesFetched(ModelCache cache) throws IOException {
    long fetched = cache.stats().bytesFetched();
    bytesFetched.set(fetched);
    return fetched;
  }

  void downloaded(Duration took) {
    downloads.record(took);
  }

  void verificationFailed() {
    verificationFailures.increment();
  }

  /** The metrics in Prometheus' text format. */
  String scrape() {
    return registry.scrape();
  }
}
