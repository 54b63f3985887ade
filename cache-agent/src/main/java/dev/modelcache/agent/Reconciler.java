package dev.modelcache.agent;

import dev.modelcache.agent.kserve.ModelStatus;
import dev.modelcache.core.CacheEntry;
import dev.modelcache.core.DownloadListener;
import dev.modelcache.core.EnsureOptions;
import dev.modelcache.core.EntryInUseException;
import dev.modelcache.core.EntryNotFoundException;
import dev.modelcache.core.InsufficientSpaceException;
import dev.modelcache.core.InvalidModelSourceException;
import dev.modelcache.core.ModelCache;
import dev.modelcache.core.ModelSource;
import dev.modelcache.core.VerificationResult;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Makes the cache hold what the {@link DesiredState} lists, and says how far it got.
 *
 * <p>Every decision is taken on one loop thread ({@code loop}); downloads and verifications run on
 * {@code workers}, whose size bounds how many models download at once, and hand their outcome back
 * to the loop. Each download goes through {@link ModelCache#ensure}, so one download per model and
 * node (with the other processes on the node), resume after a crash, verification and the space
 * check all apply. What the spec lists is pinned, so that making room for one model never evicts
 * another the node must hold; a model dropped from the spec is unpinned and evicted once no lease
 * holds it.
 */
final class Reconciler {

  /** Settings of the loop. */
  record Settings(Duration retryInitial, Duration retryMax, Duration verifyInterval) {}

  private final ModelCache cache;
  private final ModelLinks links;
  private final StatusSink sink;
  private final AgentMetrics metrics;
  private final AgentLog log;
  private final Clock clock;
  private final Settings settings;
  private final ScheduledExecutorService loop;
  private final ExecutorService workers;

  private final AtomicBoolean passQueued = new AtomicBoolean();
  private volatile DesiredState desired;
  private volatile Instant lastPass = Instant.EPOCH;
  private volatile boolean firstPassDone;

  // Loop thread only.
  private final Map<String, Tracked> tracked = new LinkedHashMap<>();
  private Map<String, ModelState> published = Map.of();
  private OptionalLong appliedLimit = OptionalLong.empty();
  private final Set<Path> stuckReleases = new HashSet<>();

  Reconciler(
      ModelCache cache,
      ModelLinks links,
      StatusSink sink,
      AgentMetrics metrics,
      AgentLog log,
      Clock clock,
      Settings settings,
      ScheduledExecutorService loop,
      ExecutorService workers) {
    this.cache = cache;
    this.links = links;
    this.sink = sink;
    this.metrics = metrics;
    this.log = log;
    this.clock = clock;
    this.settings = settings;
    this.loop = loop;
    this.workers = workers;
  }

  /** Replaces what the node must hold; thread-safe. The next pass acts on it. */
  void desire(DesiredState state) {
    desired = state;
    requestPass();
  }

  /** Asks for a pass on the loop; several requests before it runs make one pass. */
  void requestPass() {
    if (passQueued.compareAndSet(false, true)) {
      try {
        loop.execute(() -> {
          passQueued.set(false);
          pass();
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        passQueued.set(false); // shutting down
      }
    }
  }

  /** When the last pass ended (liveness). */
  Instant lastPass() {
    return lastPass;
  }

  /** Whether a pass has run on a desired state (readiness). */
  boolean synced() {
    return firstPassDone;
  }

  // ---------------------------------------------------------------------------------------------
  // the pass

  private void pass() {
    DesiredState state = desired;
    try {
      if (state != null) {
        applyLimit(state);
        reconcile(state);
        release();
        publish();
        firstPassDone = true;
      }
      metrics.observe(
          cache, tracked.values().stream().map(t -> t.state.status()).toList());
    } catch (IOException | RuntimeException e) {
      log.error("pass_failed", "error", AgentLog.describe(e));
    } finally {
      lastPass = clock.instant();
    }
  }

  private void applyLimit(DesiredState state) throws IOException {
    OptionalLong limit = state.storageLimitBytes();
    if (limit.isEmpty() || limit.equals(appliedLimit)) {
      return;
    }
    long bytes = limit.getAsLong();
    cache.updateSettings(s -> s.withMaxBytes(bytes));
    appliedLimit = limit;
    log.info("storage_limit", "bytes", bytes, "from", state.limitSource());
    // A model refused for want of space may fit now.
    for (Tracked t : tracked.values()) {
      if (t.spaceRefused) {
        t.retryAt = Instant.EPOCH;
      }
    }
  }

  private void reconcile(DesiredState state) throws IOException {
    Map<String, DesiredModel> wanted = new LinkedHashMap<>();
    for (DesiredModel m : state.models()) {
      wanted.putIfAbsent(m.statusKey(), m);
    }
    for (var it = tracked.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!wanted.containsKey(e.getKey())) {
        e.getValue().cancel();
        it.remove();
        log.info(
            "model_removed", "model", e.getKey(), "source", e.getValue().model.sourceUri());
      }
    }
    for (DesiredModel m : wanted.values()) {
      Tracked t = tracked.get(m.statusKey());
      if (t == null || !t.model.equals(m)) {
        if (t != null) {
          t.cancel();
          log.info(
              "model_changed",
              "model",
              m.statusKey(),
              "from",
              t.model.sourceUri(),
              "to",
              m.sourceUri());
        } else {
          log.info("model_added", "model", m.statusKey(), "source", m.sourceUri());
        }
        t = new Tracked(m);
        tracked.put(m.statusKey(), t);
      }
      step(t);
    }
    // Links no model of the spec claims any more: retire them (their entries are released below).
    Set<String> claimed = new HashSet<>();
    for (Tracked t : tracked.values()) {
      t.model.folderName().ifPresent(claimed::add);
      if (t.directory != null) { // has an entry (being repaired, perhaps)
        claimed.add(ModelLinks.storageKey(t.model.sourceUri()));
      }
    }
    for (String name : links.linkNames()) {
      if (!claimed.contains(name)) {
        links.remove(name);
        log.info("link_removed", "link", links.modelsDirectory().resolve(name));
      }
    }
  }

  private void step(Tracked t) {
    if (t.permanent || t.inFlight != null) {
      return;
    }
    Instant now = clock.instant();
    if (t.state.status() == ModelStatus.DOWNLOADED) {
      try {
        link(t, t.directory);
      } catch (IOException e) {
        fail(t, e);
        return;
      }
      if (!settings.verifyInterval().isZero()
          && !now.isBefore(t.verifiedAt.plus(settings.verifyInterval()))) {
        submitVerify(t);
      }
      return;
    }
    if (t.state.status() == ModelStatus.DOWNLOAD_ERROR && now.isBefore(t.retryAt)) {
      return;
    }
    try {
      Optional<CacheEntry> present = cache.getIfPresent(t.source);
      if (present.isPresent()) {
        cache.pin(t.source);
        downloaded(t, present.get(), null);
        return;
      }
    } catch (IOException e) {
      fail(t, e);
      return;
    }
    submitDownload(t, EnsureOptions.DEFAULTS.withPin(true));
  }

  private void submitDownload(Tracked t, EnsureOptions options) {
    t.state = ModelState.PENDING;
    t.inFlight = workers.submit(() -> {
      onLoop(() -> {
        if (current(t)) {
          t.state = ModelState.DOWNLOADING;
          publishQuietly();
        }
      });
      long started = System.nanoTime();
      try {
        long fetchedBefore = metrics.bytesFetched(cache);
        CacheEntry entry = cache.ensure(t.source, options, DownloadListener.NONE);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        long fetched = metrics.bytesFetched(cache) - fetchedBefore;
        onLoop(() -> downloadedFromWorker(t, entry, took, fetched));
      } catch (IOException | RuntimeException e) {
        onLoop(() -> failedFromWorker(t, e));
      }
    });
  }

  private void submitVerify(Tracked t) {
    t.inFlight = workers.submit(() -> {
      try {
        VerificationResult result = cache.verify(t.source);
        if (result.ok()) {
          onLoop(() -> {
            if (current(t)) {
              t.inFlight = null;
              t.verifiedAt = clock.instant();
              log.info("verified", "model", t.model.statusKey(), "bytes", result.bytesChecked());
            }
          });
          return;
        }
        metrics.verificationFailed();
        onLoop(() -> {
          if (current(t)) {
            log.warn(
                "verification_failed",
                "model",
                t.model.statusKey(),
                "mismatches",
                result.mismatches().size(),
                "first",
                result.mismatches().getFirst().path() + ": "
                    + result.mismatches().getFirst().reason());
            t.inFlight = null;
            // ensure with verify replaces a damaged entry that no lease holds.
            submitDownload(t, EnsureOptions.DEFAULTS.withPin(true).withVerify(true));
            publishQuietly();
          }
        });
      } catch (EntryNotFoundException e) {
        onLoop(() -> {
          if (current(t)) {
            t.inFlight = null;
            t.state = ModelState.PENDING;
            t.directory = null;
            requestPass();
          }
        });
      } catch (IOException | RuntimeException e) {
        onLoop(() -> failedFromWorker(t, e));
      }
    });
  }

  private void downloadedFromWorker(Tracked t, CacheEntry entry, Duration took, long fetchedBytes) {
    if (!current(t)) {
      // Removed or replaced while downloading: the pinned entry is released like a removed one.
      try {
        links.retire(entry.directory());
      } catch (IOException e) {
        log.error("retire_failed", "entry", entry.directory(), "error", AgentLog.describe(e));
      }
      requestPass();
      return;
    }
    t.inFlight = null;
    downloaded(t, entry, took);
    if (took != null) {
      metrics.downloaded(took);
      log.info(
          "downloaded",
          "model",
          t.model.statusKey(),
          "source",
          t.source,
          "bytes",
          entry.sizeBytes(),
          "fetchedBytes",
          fetchedBytes,
          "seconds",
          String.format(Locale.ROOT, "%.3f", took.toNanos() / 1e9));
    }
    publishQuietly();
    requestPass();
  }

  private void downloaded(Tracked t, CacheEntry entry, Duration took) {
    try {
      link(t, entry.directory());
    } catch (IOException e) {
      fail(t, e);
      return;
    }
    if (took == null && t.directory == null) {
      log.info(
          "cached", "model", t.model.statusKey(), "source", t.source, "bytes", entry.sizeBytes());
    }
    t.directory = entry.directory();
    t.state = ModelState.DOWNLOADED;
    t.failures = 0;
    t.spaceRefused = false;
    t.verifiedAt = clock.instant();
  }

  private void link(Tracked t, Path directory) throws IOException {
    String key = ModelLinks.storageKey(t.model.sourceUri());
    String name = t.model.folderName().orElse(key);
    if (links.point(name, directory)) {
      log.info(
          "linked",
          "model",
          t.model.statusKey(),
          "link",
          links.modelsDirectory().resolve(name),
          "entry",
          directory);
    }
    links.point(key, directory);
  }

  private void failedFromWorker(Tracked t, Exception e) {
    if (!current(t)) {
      return;
    }
    t.inFlight = null;
    if (e instanceof InterruptedIOException) {
      return;
    }
    fail(t, e);
    publishQuietly();
  }

  private void fail(Tracked t, Exception e) {
    t.failures++;
    t.spaceRefused = e instanceof InsufficientSpaceException;
    boolean permanent =
        e instanceof InvalidModelSourceException || e instanceof IllegalArgumentException;
    String reason =
        e instanceof InsufficientSpaceException ise ? noSpace(ise) : AgentLog.describe(e);
    t.state = ModelState.error(reason);
    if (permanent) {
      t.permanent = true;
      log.error(
          "model_invalid",
          "model",
          t.model.statusKey(),
          "source",
          t.model.sourceUri(),
          "reason",
          reason);
      return;
    }
    Duration delay = backoff(t.failures);
    t.retryAt = clock.instant().plus(delay);
    log.error(
        "download_failed",
        "model",
        t.model.statusKey(),
        "source",
        t.model.sourceUri(),
        "attempt",
        t.failures,
        "retryInSeconds",
        delay.toSeconds(),
        "reason",
        reason);
    try {
      loop.schedule(this::requestPass, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // shutting down
    }
  }

  private String noSpace(InsufficientSpaceException e) {
    DesiredState state = desired;
    String limit = state == null || state.storageLimitBytes().isEmpty()
        ? ""
        : String.format(
            Locale.ROOT,
            " (storageLimit %d bytes of %s)",
            state.storageLimitBytes().getAsLong(),
            state.limitSource());
    return String.format(
        Locale.ROOT,
        "not enough space: %d bytes needed, %d bytes available%s: %s",
        e.bytesNeeded(),
        e.bytesAvailable(),
        limit,
        e.getMessage());
  }

  private Duration backoff(int failures) {
    long initial = settings.retryInitial().toMillis();
    long max = settings.retryMax().toMillis();
    long millis = initial << Math.min(failures - 1, 20);
    return Duration.ofMillis(Math.max(1, Math.min(max, millis)));
  }

  // ---------------------------------------------------------------------------------------------
  // releasing what the spec dropped

  private void release() throws IOException {
    Set<Path> kept = new HashSet<>();
    Set<ModelSource> keptSources = new HashSet<>();
    for (Tracked t : tracked.values()) {
      if (t.directory != null) {
        kept.add(t.directory.toAbsolutePath().normalize());
      }
      if (t.source != null) {
        keptSources.add(t.source);
      }
    }
    var retired = links.retired();
    if (retired.isEmpty()) {
      return;
    }
    // An entry a link still serves (the old one while its replacement downloads) stays.
    for (String name : links.linkNames()) {
      links.target(name).ifPresent(kept::add);
    }
    Map<Path, CacheEntry> entries = new HashMap<>();
    for (CacheEntry e : cache.list().entries()) {
      entries.put(e.directory().toAbsolutePath().normalize(), e);
    }
    for (ModelLinks.Retired r : retired) {
      CacheEntry entry = entries.get(r.entryDirectory());
      if (kept.contains(r.entryDirectory())
          || entry == null
          || keptSources.contains(entry.source())) {
        r.forget();
        continue;
      }
      try {
        cache.unpin(entry.source());
        cache.evict(entry.source());
        r.forget();
        stuckReleases.remove(r.entryDirectory());
        log.info("evicted", "source", entry.source(), "bytes", entry.sizeBytes());
      } catch (EntryInUseException e) {
        if (stuckReleases.add(r.entryDirectory())) {
          log.info("eviction_deferred", "source", entry.source(), "reason", e.getMessage());
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // status

  private void publish() throws IOException {
    Map<String, ModelState> states = new LinkedHashMap<>();
    tracked.forEach((k, t) -> states.put(k, t.state));
    if (states.equals(published)) {
      return;
    }
    sink.publish(states);
    published = Map.copyOf(states);
  }

  private void publishQuietly() {
    try {
      publish();
    } catch (IOException | RuntimeException e) {
      log.warn("status_not_written", "error", AgentLog.describe(e));
    }
  }

  private boolean current(Tracked t) {
    return tracked.get(t.model.statusKey()) == t;
  }

  private void onLoop(Runnable action) {
    try {
      loop.execute(() -> {
        try {
          action.run();
        } catch (RuntimeException e) {
          log.error("loop_task_failed", "error", AgentLog.describe(e));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shutting down
    }
  }

  /** One model of the spec and where it stands; touched on the loop thread only. */
  private final class Tracked {
    final DesiredModel model;
    final ModelSource source;
    ModelState state = ModelState.PENDING;
    Future<?> inFlight;
    Path directory;
    Instant retryAt = Instant.EPOCH;
    Instant verifiedAt = Instant.EPOCH;
    int failures;
    boolean permanent;
    boolean spaceRefused;

    Tracked(DesiredModel model) {
      this.model = model;
      ModelSource parsed = null;
      Optional<String> badName = ModelLinks.invalidName(model.modelName());
      if (badName.isPresent()) {
        state = ModelState.error(badName.get());
        permanent = true;
      } else {
        try {
          parsed = ModelSource.parse(model.sourceUri());
        } catch (InvalidModelSourceException e) {
          state = ModelState.error(
              "invalid sourceModelUri '" + model.sourceUri() + "': " + e.getMessage());
          permanent = true;
        }
      }
      if (permanent) {
        log.error(
            "model_invalid",
            "model",
            model.statusKey(),
            "source",
            model.sourceUri(),
            "reason",
            state.reason());
      }
      this.source = parsed;
    }

    void cancel() {
      if (inFlight != null) {
        inFlight.cancel(false); // a started download finishes; its entry is then released
        inFlight = null;
      }
    }
  }
}
