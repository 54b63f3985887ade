package dev.modelcache.core;

import dev.modelcache.core.spi.BackendOptions;
import dev.modelcache.core.spi.StorageBackend;
import dev.modelcache.core.spi.StorageBackendProvider;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * A node-local cache of models, shared by every process that opens the same root.
 *
 * <pre>{@code
 * ModelCache cache = ModelCache.builder().root(Path.of("/var/cache/models")).maxBytes(500L << 30).build();
 * CacheEntry model = cache.ensure(ModelSource.parse("s3://bucket/models/llama-3-70b/"), listener);
 * try (Lease lease = cache.lease(model)) {
 *   Path dir = lease.directory(); // load from here
 * }
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * An entry is visible (to {@link #getIfPresent}, {@link #list}, {@link #ensure}) only when it is
 * complete: downloaded, verified, fsynced, its manifest written, and its directory renamed into
 * place. Many threads or processes ensuring the same model cause one download; the others wait
 * and use the result. A leased or pinned entry is never evicted. Committed files are read-only.
 *
 * <h2>Thread safety and lifecycle</h2>
 * Thread-safe. {@link #close()} stops the transfer threads (an interrupted download is resumed by
 * the next {@code ensure}, in any process) and closes the backends the cache created; it is
 * idempotent. Calls after {@code close} throw {@link IllegalStateException}.
 *
 * <p>This class checks arguments and the open state; the work is done by package-private parts
 * (see {@code Engine}), one rule each.
 */
public final class ModelCache implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(ModelCache.class.getName());

  /** Default transfer concurrency. */
  public static final int DEFAULT_CONCURRENCY = 16;
  /** Default range size: 8 MiB. */
  public static final int DEFAULT_PART_SIZE_BYTES = 8 << 20;

  /** Bytes asked for in one range request unless {@link Builder#requestSizeBytes} says otherwise. */
  public static final long DEFAULT_REQUEST_SIZE_BYTES = 32 << 20;

  /** Default attempts per range. */
  public static final int DEFAULT_MAX_ATTEMPTS = 5;

  private final Engine engine;
  private final AtomicBoolean closed = new AtomicBoolean();

  private ModelCache(Engine engine) {
    this.engine = engine;
  }

  /** A builder; {@link Builder#root} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The cache root. */
  public Path root() {
    return engine.root();
  }

  // ---------------------------------------------------------------------------------------------
  // ensure, prefetch, get, await

  /**
   * Returns the committed entry for {@code source}, downloading it first if needed, with
   * {@link EnsureOptions#DEFAULTS}. Blocks until done.
   *
   * @param listener receives the download's events, if this call downloads or joins a download of
   *     this cache; may be {@link DownloadListener#NONE}
   * @throws InsufficientSpaceException if the model cannot fit, naming bytes needed and available
   * @throws CacheTimeoutException if another process's download did not finish in time
   * @throws IntegrityException if a downloaded file does not match its checksums
   * @throws StorageException if the source cannot be read (missing, denied, changed, retries exhausted)
   * @throws InterruptedIOException if the calling thread was interrupted (that ends this caller's
   *     wait; a download other callers may share goes on)
   * @throws IOException for other I/O failures; nothing incomplete is ever committed
   */
  public CacheEntry ensure(ModelSource source, DownloadListener listener) throws IOException {
    return ensure(source, EnsureOptions.DEFAULTS, listener);
  }

  /**
   * Like {@link #ensure(ModelSource, DownloadListener)} with options: how long to wait for another
   * process, whether to verify a cached entry first, whether to pin it. When several threads of
   * this cache ensure the same model at once, the first caller's options govern the download.
   */
  public CacheEntry ensure(ModelSource source, EnsureOptions options, DownloadListener listener)
      throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(options, "options");
    checkOpen();
    return engine.ensure(source, options, listener);
  }

  /**
   * Starts ensuring {@code source} in the background. Never throws after argument checks: every
   * failure completes the future exceptionally with the exception {@code ensure} would throw.
   * Cancelling the returned future does not stop a download other callers may share.
   */
  public CompletableFuture<CacheEntry> prefetch(ModelSource source, DownloadListener listener) {
    return prefetch(source, EnsureOptions.DEFAULTS, listener);
  }

  /** {@link #prefetch(ModelSource, DownloadListener)} with options. */
  public CompletableFuture<CacheEntry> prefetch(
      ModelSource source, EnsureOptions options, DownloadListener listener) {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(options, "options");
    checkOpen();
    return engine.start(source, options, listener).copy();
  }

  /**
   * Returns the committed entry for {@code source} if there is one. Never downloads and never
   * returns an incomplete download.
   *
   * @throws ManifestCorruptException if the entry's manifest cannot be parsed
   */
  public Optional<CacheEntry> getIfPresent(ModelSource source) throws IOException {
    checkOpen();
    return engine.getIfPresent(source);
  }

  /**
   * Waits until some process commits {@code source}, without downloading anything.
   *
   * @throws CacheTimeoutException if no commit happened within {@code timeout}
   */
  public CacheEntry await(ModelSource source, Duration timeout) throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    checkOpen();
    return engine.await(source, timeout);
  }

  // ---------------------------------------------------------------------------------------------
  // leases, pins, eviction

  /**
   * Leases a committed entry: while the lease is open, no process on the node evicts it. The lease
   * lives as long as this process unless closed: its holder file is judged as {@link Liveness}
   * says, so a lease of a process that died (in any PID namespace) stops counting at once under
   * kernel locks, or after the heartbeat expiry.
   *
   * @throws EntryNotFoundException if the entry is no longer committed (it was evicted)
   * @throws CacheAccessDeniedException if this process's user may not create a lease in the root
   *     (nothing is left behind)
   */
  public Lease lease(CacheEntry entry) throws IOException {
    checkOpen();
    return engine.lease(entry);
  }

  /** Ensures {@code source} (no listener) and leases it. */
  public Lease lease(ModelSource source) throws IOException {
    return lease(ensure(source, DownloadListener.NONE));
  }

  /** Pins {@code source}: eviction never removes it, now or after it is downloaded. */
  public void pin(ModelSource source) throws IOException {
    checkOpen();
    engine.pin(source);
  }

  /** Removes a pin; returns whether there was one. */
  public boolean unpin(ModelSource source) throws IOException {
    checkOpen();
    return engine.unpin(source);
  }

  /**
   * Evicts the entry of {@code source}.
   *
   * @return false if the cache held no entry for it
   * @throws EntryInUseException if it is leased (by any process) or pinned
   */
  public boolean evict(ModelSource source) throws IOException {
    checkOpen();
    return engine.evict(source);
  }

  /** Evicts every entry that is neither leased nor pinned; returns those evicted. */
  public List<CacheEntry> evictUnused() throws IOException {
    return evictToBytes(0);
  }

  /**
   * Evicts least recently used entries that are neither leased nor pinned until the committed
   * entries total at most {@code targetBytes}, or nothing more may be evicted.
   *
   * @return the entries evicted, in eviction order
   */
  public List<CacheEntry> evictToBytes(long targetBytes) throws IOException {
    checkOpen();
    return engine.evictToBytes(targetBytes);
  }

  // ---------------------------------------------------------------------------------------------
  // list, verify, stats, settings

  /**
   * Lists committed entries (least recently used first) and, apart, downloads in progress or
   * interrupted. Entries whose manifest cannot be read are left out and logged.
   */
  public CacheListing list() throws IOException {
    checkOpen();
    return engine.list();
  }

  /**
   * Re-reads every file of the entry for {@code source} and compares it with the manifest.
   *
   * @throws EntryNotFoundException if the cache holds no entry for it
   */
  public VerificationResult verify(ModelSource source) throws IOException {
    checkOpen();
    CacheEntry entry = getIfPresent(source)
        .orElseThrow(() ->
            new EntryNotFoundException("cannot verify " + source + ": it is not in the cache"));
    return engine.verify(entry);
  }

  /** A snapshot of disk state and this instance's counters. */
  public CacheStats stats() throws IOException {
    checkOpen();
    return engine.stats();
  }

  /** The root's settings as they are now (see {@link CacheSettings}). */
  public CacheSettings settings() throws IOException {
    checkOpen();
    return engine.limits().settings();
  }

  /**
   * Changes the root's settings, which every process using the root applies from its next download
   * on (unless its own configuration overrides them). Read, changed and written under a lock, so
   * two processes changing different settings at once both take effect.
   *
   * @return the settings written
   * @throws CacheAccessDeniedException if this process's user may not write the root
   */
  public CacheSettings updateSettings(UnaryOperator<CacheSettings> change) throws IOException {
    checkOpen();
    return engine.updateSettings(change);
  }

  /**
   * The space limits in force now: this cache's builder settings where given, else the root's
   * settings file (followed when it changes), else the defaults.
   *
   * @throws CacheRootException if the root's settings file has become invalid
   */
  public CacheLimits limits() throws IOException {
    return engine.limits().current();
  }

  /**
   * How the processes on this root judge whether a lease or download holder is alive: the root's
   * recorded choice ({@link Liveness#LOCKS} or {@link Liveness#HEARTBEAT}), never {@code AUTO}.
   */
  public Liveness liveness() {
    return engine.holders().mode();
  }

  /** The root's heartbeat expiry: meaningful when {@link #liveness()} is {@link Liveness#HEARTBEAT}. */
  public Duration heartbeatExpiry() {
    return engine.holders().expiry();
  }

  /** Stops transfer threads and closes backends the cache created. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      engine.close();
    }
  }

  @Override
  public String toString() {
    return "ModelCache[" + root() + "]";
  }

  /** What this cache's downloads use of it. */
  DownloadHost host() {
    return engine;
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("cache " + root() + " is closed");
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Configures a {@link ModelCache}. Not thread-safe; {@link #build()} checks the combination.
   */
  public static final class Builder {
    private Path root;
    private boolean createRoot;
    private OptionalLong maxBytes = OptionalLong.empty();
    private Optional<FreeSpace> minFree = Optional.empty();
    private int concurrency = DEFAULT_CONCURRENCY;
    private int partSizeBytes = DEFAULT_PART_SIZE_BYTES;
    private long requestSizeBytes = DEFAULT_REQUEST_SIZE_BYTES;
    private boolean directWrites = true;
    private boolean readBack = true;
    private boolean requireSourceVerification;
    private DirectIo.Opener directOpener = DirectIo.KERNEL;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration retryInitialDelay = Duration.ofMillis(200);
    private Duration retryMaxDelay = Duration.ofSeconds(10);
    private Duration pollInterval = Duration.ofMillis(100);
    private Liveness liveness = Liveness.AUTO;
    private Duration heartbeatExpiry = HolderFiles.DEFAULT_EXPIRY;
    private boolean heartbeatExpirySet;
    private Ticker ticker = Ticker.SYSTEM;
    private final Map<String, BackendOptions> backendOptions = new HashMap<>();
    private final Map<String, StorageBackend> backendInstances = new HashMap<>();

    private Builder() {}

    /** The cache directory (required). It must exist unless {@link #createRootIfMissing()} is set. */
    public Builder root(Path root) {
      this.root = Objects.requireNonNull(root, "root");
      return this;
    }

    /**
     * Creates the root (and its parents) if missing. Off by default so that a volume that failed
     * to mount is reported rather than silently replaced by a directory on another disk.
     */
    public Builder createRootIfMissing() {
      this.createRoot = true;
      return this;
    }

    /**
     * The most bytes committed entries (and other live downloads) may take, for this process,
     * overriding the root's settings ({@link CacheSettings}); {@code 0} for no limit. Unset (the
     * default), the root's setting applies, or no limit.
     */
    public Builder maxBytes(long maxBytes) {
      if (maxBytes < 0) {
        throw new IllegalArgumentException("maxBytes must be >= 0, was " + maxBytes);
      }
      this.maxBytes = OptionalLong.of(maxBytes);
      return this;
    }

    /**
     * Free space the cache always leaves on its filesystem, for this process, overriding the root's
     * settings. Unset (the default), the root's setting applies, or 5% of the filesystem's size, at
     * most 1 GiB. {@code 0} lets the cache use the whole disk.
     */
    public Builder minFreeBytes(long minFreeBytes) {
      if (minFreeBytes < 0) {
        throw new IllegalArgumentException("minFreeBytes must be >= 0, was " + minFreeBytes);
      }
      this.minFree = Optional.of(FreeSpace.ofBytes(minFreeBytes));
      return this;
    }

    /** Like {@link #minFreeBytes}, as bytes or a percentage of the filesystem's size. */
    public Builder minFree(FreeSpace minFree) {
      this.minFree = Optional.of(Objects.requireNonNull(minFree, "minFree"));
      return this;
    }

    /**
     * Range requests in flight at once across all downloads of this cache (default 16). Transfer
     * memory is {@code concurrency x partSizeBytes}, plus 4 KiB per buffer for the alignment
     * O_DIRECT needs.
     */
    public Builder concurrency(int concurrency) {
      if (concurrency < 1 || concurrency > 1024) {
        throw new IllegalArgumentException("concurrency must be in [1, 1024], was " + concurrency);
      }
      this.concurrency = concurrency;
      return this;
    }

    /**
     * Bytes per transfer buffer and per checksummed block (default 8 MiB, at least 4 KiB, at most
     * 256 MiB): the unit that is written, journaled, read back and checked, and resumed.
     */
    public Builder partSizeBytes(int partSizeBytes) {
      if (partSizeBytes < 4096 || partSizeBytes > (256 << 20)) {
        throw new IllegalArgumentException(
            "partSizeBytes must be in [4096, 268435456], was " + partSizeBytes);
      }
      this.partSizeBytes = partSizeBytes;
      return this;
    }

    /**
     * Bytes asked for in one range request (default 32 MiB), in whole parts: a run of
     * consecutive blocks of one file, whose body is taken one transfer buffer at a time, so
     * memory stays {@code concurrency x partSizeBytes}. Fewer, larger requests cost less CPU on
     * both ends (a 2 GiB download from S3Proxy on loopback: 1.4 s of user CPU at 32 MiB, 2.3 s at
     * 8 MiB). A request never spans two files; one that fails is retried from the first block
     * not received. Rounded down to a multiple of the part size, and at least one part.
     */
    public Builder requestSizeBytes(long requestSizeBytes) {
      if (requestSizeBytes < 4096 || requestSizeBytes > (1L << 40)) {
        throw new IllegalArgumentException(
            "requestSizeBytes must be in [4096, 1099511627776], was " + requestSizeBytes);
      }
      this.requestSizeBytes = requestSizeBytes;
      return this;
    }

    /**
     * Whether downloads write whole, 4 KiB-aligned blocks with O_DIRECT (default true): from the
     * transfer buffer to the disk, without the kernel's copy into the page cache. That copy was
     * the largest single CPU cost of a download (a 4.5 GiB download from S3 used about a third less
     * CPU without it), and it leaves gigabytes of dirty pages for writeback and fsync to wait on.
     * Every block is still read back from the disk and checked, just after it is written (see
     * {@link #readBack}). A file's short last block, and every block when the part size is not a
     * multiple of 4 KiB, goes through the page cache; a file system that refuses O_DIRECT gets
     * page-cache writes for the rest of the download. Turn it off where O_DIRECT is slow, as on
     * some network file systems.
     */
    public Builder directWrites(boolean directWrites) {
      this.directWrites = directWrites;
      return this;
    }

    /**
     * Whether every block is read back from the disk just after it is written, its CRC32C compared
     * with the one computed from the bytes received (default true). The read-back catches what the
     * disk, the file system or the page cache did to the bytes on their way down, and costs a read
     * of the whole model: where the network outruns the disk (an object store on the same host or
     * rack), the disk then bounds the download, reading every byte as well as writing it. Off, a
     * block is checked as it was received: its CRC32C is recorded for {@link ModelCache#verify},
     * and where a multipart checksum has the blocks for parts ({@code partSizeBytes} equal to the
     * upload's part size, 8 MiB for most uploaders) each part's digest is computed from the bytes
     * received. A file checked against another source checksum (a single-part ETag, an S3
     * whole-object checksum, a multipart one of another part size) is still read back, in order,
     * since that digest needs the file's bytes in order. The source's checksum is checked either
     * way.
     */
    public Builder readBack(boolean readBack) {
      this.readBack = readBack;
      return this;
    }

    /**
     * Whether a download fails when any of its files cannot be verified against the source
     * (default false): the store offers no checksum for it (a {@code file:} source, an S3 object
     * encrypted with SSE-KMS), or its multipart ETag fits none of the part sizes tried. The message
     * names each file and what the store offered. Off, such a file is committed with its block
     * checksums only, recorded as {@link Integrity#UNVERIFIED}, and a warning names it once.
     */
    public Builder requireSourceVerification(boolean require) {
      this.requireSourceVerification = require;
      return this;
    }

    /** Replaces how files are opened for O_DIRECT writes: fault injection in tests. */
    Builder directOpener(DirectIo.Opener opener) {
      this.directOpener = Objects.requireNonNull(opener, "opener");
      return this;
    }

    /**
     * Attempts per block before a retryable failure fails the download (default 5); a request that
     * fails is sent again from the block it failed in.
     */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /**
     * Backoff between attempts: a random delay up to {@code initial x 2^(attempt-1)}, capped at
     * {@code max} (full jitter). Defaults 200 ms and 10 s.
     */
    public Builder retryBackoff(Duration initial, Duration max) {
      if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "retry backoff needs 0 < initial <= max, was " + initial + ", " + max);
      }
      this.retryInitialDelay = initial;
      this.retryMaxDelay = max;
      return this;
    }

    /** How often a caller waiting for another process looks for its commit (default 100 ms). */
    public Builder pollInterval(Duration pollInterval) {
      if (pollInterval.isNegative() || pollInterval.isZero()) {
        throw new IllegalArgumentException("pollInterval must be positive, was " + pollInterval);
      }
      this.pollInterval = pollInterval;
      return this;
    }

    /**
     * How the processes sharing the root judge whether a lease, a staging directory or a download
     * lock still has a live holder (default {@link Liveness#AUTO}: kernel locks on local file
     * systems, a heartbeat elsewhere). Only the first process to open a root decides; the root
     * records it, and a later explicit setting that disagrees fails {@link #build()}.
     */
    public Builder liveness(Liveness liveness) {
      this.liveness = Objects.requireNonNull(liveness, "liveness");
      return this;
    }

    /**
     * Under {@link Liveness#HEARTBEAT}: how long a holder file may go unrenewed before its holder is
     * judged dead (default 30 s; each holder renews every third of it, one {@code utimensat} per
     * holder). The expiry bounds how long a killed process's lease keeps its entry from eviction and
     * how long a killed download delays the next; a process stopped for longer than it (SIGSTOP, a
     * frozen cgroup) loses its leases. The root records the expiry with the liveness.
     */
    public Builder heartbeatExpiry(Duration expiry) {
      if (expiry.compareTo(Duration.ofMillis(300)) < 0) {
        throw new IllegalArgumentException(
            "heartbeatExpiry must be at least 300 ms, was " + expiry);
      }
      this.heartbeatExpiry = expiry;
      this.heartbeatExpirySet = true;
      return this;
    }

    /**
     * Replaces the clock that heartbeats are renewed and judged with, that waits for another
     * process's download and {@link ModelCache#await} measure their timeouts on, and that last
     * uses (the eviction order) are stamped with: tests. A {@link Ticker} also replaces the pause
     * between polls, so that a test of a wait advances time instead of sleeping.
     */
    Builder clock(InstantSource clock) {
      this.ticker = Ticker.of(Objects.requireNonNull(clock, "clock"));
      return this;
    }

    /** Settings for the backend of {@code scheme}, created through its {@link StorageBackendProvider}. */
    public Builder backendOptions(String scheme, BackendOptions options) {
      backendOptions.put(
          scheme.toLowerCase(Locale.ROOT), Objects.requireNonNull(options, "options"));
      return this;
    }

    /**
     * Uses {@code backend} for its scheme instead of one found with {@link ServiceLoader}. The
     * caller keeps ownership: the cache does not close it.
     */
    public Builder backend(StorageBackend backend) {
      backendInstances.put(backend.scheme().toLowerCase(Locale.ROOT), backend);
      return this;
    }

    /**
     * Opens the cache: checks the root, creates its layout, and removes debris of dead processes.
     *
     * @throws CacheRootException if the root is missing, not a directory, or not writable
     * @throws IllegalStateException if no root was set, or a scheme got both options and an instance
     */
    public ModelCache build() throws IOException {
      if (root == null) {
        throw new IllegalStateException("root was not set");
      }
      for (String scheme : backendOptions.keySet()) {
        if (backendInstances.containsKey(scheme)) {
          throw new IllegalStateException(
              "both backendOptions and a backend instance were given for scheme '" + scheme
                  + "'; options only configure backends the cache creates");
        }
      }
      Path r = root.toAbsolutePath().normalize();
      CacheLayout layout = CacheLayout.open(r, createRoot);
      SpaceLimits limits = new SpaceLimits(r, maxBytes, minFree);
      HolderFiles holders =
          HolderFiles.open(r, liveness, heartbeatExpiry, heartbeatExpirySet, ticker);
      DownloadSettings downloads = new DownloadSettings(
          partSizeBytes,
          (int) Math.max(1, Math.min(Integer.MAX_VALUE, requestSizeBytes / partSizeBytes)),
          concurrency,
          directWrites,
          readBack,
          requireSourceVerification,
          directOpener,
          maxAttempts,
          retryInitialDelay,
          retryMaxDelay);
      Engine engine = new Engine(
          layout,
          holders,
          limits,
          downloads,
          pollInterval,
          backendOptions,
          backendInstances,
          ticker);
      engine.cleanDebris();
      return new ModelCache(engine);
    }
  }
}
