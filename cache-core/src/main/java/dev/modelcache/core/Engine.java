package dev.modelcache.core;

import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.StorageBackend;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * The cache behind {@link ModelCache}: owns the threads, the buffers and the parts, wires them
 * together, and is the {@link DownloadHost} every {@link DownloadJob} of the cache runs against.
 * The parts do not reach back into it, except the coordinator, which starts downloads with it as
 * their host.
 *
 * <pre>
 * ModelCache (facade, open/closed)
 *   Engine (DownloadHost)
 *     SingleFlight -> DownloadCoordinator -> DownloadJob (through DownloadHost)
 *     EntryStore (manifests, last use, leases, pins)
 *     Eviction -> EntryStore           SpaceAccounting -> Janitor, Eviction, DownloadListing
 *     EntryVerifier, DownloadListing, BackendRegistry, Janitor
 * </pre>
 *
 * <p>Thread-safe: its own fields are final and set in the constructor; each part states its own
 * thread safety.
 */
final class Engine implements DownloadHost {

  private final CacheLayout layout;
  private final HolderFiles holders;
  private final SpaceLimits limits;
  private final DownloadSettings downloadSettings;
  private final ExecutorService rangePool;
  private final ExecutorService downloadThreads;
  private final BufferPool buffers;
  private final String processTag;
  private final AtomicInteger writerSeq = new AtomicInteger();
  private final StatsCounter stats = new StatsCounter();
  private final BackendRegistry backends;
  private final EntryStore store;
  private final Eviction eviction;
  private final DownloadListing downloads;
  private final Janitor janitor;
  private final SpaceAccounting space;
  private final EntryVerifier verifier;
  private final SingleFlight flights;
  private final DownloadCoordinator coordinator;

  Engine(
      CacheLayout layout,
      HolderFiles holders,
      SpaceLimits limits,
      DownloadSettings downloadSettings,
      Duration pollInterval,
      Map<String, BackendOptions> backendOptions,
      Map<String, StorageBackend> backendInstances,
      Ticker ticker) {
    this.layout = layout;
    this.holders = holders;
    this.limits = limits;
    this.downloadSettings = downloadSettings;
    this.buffers = new BufferPool(downloadSettings.concurrency(), downloadSettings.partSizeBytes());
    AtomicInteger threadSeq = new AtomicInteger();
    this.rangePool = Executors.newFixedThreadPool(downloadSettings.concurrency(), r -> {
      Thread t = new Thread(r, "modelcache-transfer-" + threadSeq.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    // Platform threads, not virtual ones: a download lists its source, and a virtual thread that
    // blocks on a socket starts the JDK's poller, a thread parked in epoll_wait for the life of
    // the JVM. A JVM waits about 300 ms at exit for a thread in native code, which a short-lived
    // process (the command) would pay on every run.
    this.downloadThreads = Executors.newThreadPerTaskExecutor(
        Thread.ofPlatform().name("modelcache-download-", 1).daemon().factory());
    // The pid is for people; 64 random bits keep names apart across PID namespaces, where every
    // pod's entrypoint is pid 1.
    this.processTag = ProcessHandle.current().pid() + "-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong());
    this.backends = new BackendRegistry(backendOptions, backendInstances);
    this.store = new EntryStore(layout, holders, ticker, processTag);
    this.eviction = new Eviction(layout, store, stats);
    this.downloads = new DownloadListing(layout, holders);
    this.janitor = new Janitor(layout, holders, ticker);
    this.space = new SpaceAccounting(layout, limits, store, downloads, janitor, eviction);
    this.verifier = new EntryVerifier(rangePool, buffers);
    this.flights = new SingleFlight(downloadThreads);
    this.coordinator = new DownloadCoordinator(
        this, store, eviction, verifier, downloads, stats, ticker, pollInterval);
  }

  // ---------------------------------------------------------------------------------------------
  // what ModelCache offers

  CacheEntry ensure(ModelSource source, EnsureOptions options, DownloadListener listener)
      throws IOException {
    if (!options.verify()) {
      Optional<CacheEntry> hit = store.lookupQuietly(source);
      if (hit.isPresent()) {
        stats.hits.increment();
        if (options.pin()) {
          store.pin(source);
        }
        store.touch(hit.get().name());
        return store.committedEntry(hit.get().name()).orElse(hit.get());
      }
    }
    CompletableFuture<CacheEntry> future = start(source, options, listener);
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while ensuring " + source);
    } catch (ExecutionException e) {
      throw unwrap(e.getCause(), source);
    }
  }

  /** The shared future of ensuring {@code source}: the caller copies it before handing it out. */
  CompletableFuture<CacheEntry> start(
      ModelSource source, EnsureOptions options, DownloadListener listener) {
    return flights.join(
        source.cacheName(),
        listener,
        fanout -> coordinator.obtain(source, options, fanout),
        e -> new IllegalStateException("cache " + layout.root + " is closed", e));
  }

  CacheEntry await(ModelSource source, Duration timeout) throws IOException {
    return coordinator.await(source, timeout);
  }

  Optional<CacheEntry> getIfPresent(ModelSource source) throws IOException {
    return store.entryOf(source);
  }

  Lease lease(CacheEntry entry) throws IOException {
    return store.lease(entry);
  }

  void pin(ModelSource source) throws IOException {
    store.pin(source);
  }

  boolean unpin(ModelSource source) throws IOException {
    return store.unpin(source);
  }

  boolean evict(ModelSource source) throws IOException {
    return eviction.evict(source.cacheName(), true);
  }

  List<CacheEntry> evictToBytes(long targetBytes) throws IOException {
    return eviction.evictToBytes(targetBytes);
  }

  CacheListing list() throws IOException {
    List<CacheEntry> entries = store.entries();
    return new CacheListing(entries, downloads.downloads());
  }

  VerificationResult verify(CacheEntry entry) throws IOException {
    return verifier.verify(entry);
  }

  CacheStats stats() throws IOException {
    CacheListing l = list();
    CacheLimits now = limits.current();
    long evictable = 0;
    for (CacheEntry e : l.entries()) {
      if (!e.pinned() && e.leaseCount() == 0) {
        evictable += e.sizeBytes();
      }
    }
    return new CacheStats(
        l.entries().size(),
        l.entryBytes(),
        l.downloads().size(),
        now.maxBytes(),
        now.minFreeBytes(),
        space.usableBytes(),
        stats.hits.sum(),
        stats.misses.sum(),
        stats.bytesFetched.sum(),
        stats.evictions.sum(),
        holders.mode(),
        holders.expiry(),
        now,
        evictable);
  }

  SpaceLimits limits() {
    return limits;
  }

  /** Reads, changes and writes the root's settings under the root's settings lock. */
  @SuppressWarnings("try") // the lock is held for the block, not used in it
  CacheSettings updateSettings(UnaryOperator<CacheSettings> change) throws IOException {
    try (FileLocks.Held lock = FileLocks.lock(layout.settingsLock())) {
      CacheSettings updated =
          Objects.requireNonNull(change.apply(CacheSettings.read(layout.root)), "settings");
      updated.write(layout.root);
      return updated;
    } catch (AccessDeniedException e) {
      throw CacheAccessDeniedException.of(
          "change the settings of " + layout.root,
          e,
          layout.root,
          "The settings are changed by a user that may write the root, such as the node's prefetching DaemonSet");
    }
  }

  /** Removes what dead processes left; run once when the cache opens. */
  void cleanDebris() {
    janitor.cleanDebris();
  }

  /** Stops the threads (a download they were running stays staged for a resume) and closes owned backends. */
  void close() {
    downloadThreads.shutdownNow();
    for (Runnable queued : rangePool.shutdownNow()) {
      if (queued instanceof Future<?> f) {
        f.cancel(false); // wakes the download waiting on it; its staging stays for a resume
      }
    }
    backends.closeOwned();
  }

  Path root() {
    return layout.root;
  }

  private static IOException unwrap(Throwable t, ModelSource source) {
    if (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof IOException io) {
      return io;
    }
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error err) {
      throw err;
    }
    return new IOException("ensuring " + source + " failed", t);
  }

  // ---------------------------------------------------------------------------------------------
  // DownloadHost: what a download uses of the cache

  @Override
  public CacheLayout layout() {
    return layout;
  }

  @Override
  public HolderFiles holders() {
    return holders;
  }

  @Override
  public DownloadSettings settings() {
    return downloadSettings;
  }

  @Override
  public ExecutorService rangePool() {
    return rangePool;
  }

  @Override
  public BufferPool buffers() {
    return buffers;
  }

  @Override
  public StorageBackend backendFor(ModelSource source) throws IOException {
    return backends.backendFor(source);
  }

  @Override
  public Optional<CacheEntry> committedEntry(String name) throws IOException {
    return store.committedEntry(name);
  }

  @Override
  public void touch(String name) {
    store.touch(name);
  }

  @Override
  public FileLocks.Held spaceLock() throws IOException {
    return FileLocks.lock(layout.spaceLock());
  }

  @Override
  public void makeRoom(long bytesNeeded, String forName, ModelSource source) throws IOException {
    space.makeRoom(bytesNeeded, forName, source);
  }

  @Override
  public long usableBytes() {
    return space.usableBytes();
  }

  @Override
  public void countFetched(long bytes) {
    stats.bytesFetched.add(bytes);
  }

  @Override
  public String newWriterId() {
    return processTag + "-" + writerSeq.incrementAndGet();
  }
}
