package dev.modelcache.core;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Decides, for one model, whether this process uses the committed entry, downloads it, or waits
 * for another process's download, and when to stop waiting.
 *
 * <h2>The protocol across processes</h2>
 * The process that takes the model's download lock ({@code locks/NAME.download}) downloads it,
 * renewing the lock's heartbeat on a heartbeat root; the others poll for the commit every
 * {@code pollInterval}. A waiter downloads beside the holder, without the lock, when
 * {@link HolderFiles#lockHolderAlive} judges the holder gone, or when its wait times out and the
 * options allow it; otherwise the timeout is a {@link CacheTimeoutException} that says how far the
 * other download got. Downloading twice is safe: each writer stages apart, and the first rename
 * commits.
 *
 * <p>Thread-safe and stateless: {@link SingleFlight} already runs one {@link #obtain} per model
 * in this cache; several caches or processes are kept apart by the download lock. Deadlines are
 * read from the {@link Ticker}, and the pauses between polls are its {@code sleep}.
 */
final class DownloadCoordinator {

  private static final System.Logger LOG = System.getLogger(DownloadCoordinator.class.getName());

  private final DownloadHost host;
  private final EntryStore store;
  private final Eviction eviction;
  private final EntryVerifier verifier;
  private final DownloadListing downloads;
  private final StatsCounter stats;
  private final Ticker ticker;
  private final Duration pollInterval;

  DownloadCoordinator(
      DownloadHost host,
      EntryStore store,
      Eviction eviction,
      EntryVerifier verifier,
      DownloadListing downloads,
      StatsCounter stats,
      Ticker ticker,
      Duration pollInterval) {
    this.host = host;
    this.store = store;
    this.eviction = eviction;
    this.verifier = verifier;
    this.downloads = downloads;
    this.stats = stats;
    this.ticker = ticker;
    this.pollInterval = pollInterval;
  }

  /** The body of ensure: use, wait for, or download the entry. Runs once per model at a time in a cache. */
  @SuppressWarnings("try") // the lock is held for the block, not used in it
  CacheEntry obtain(ModelSource source, EnsureOptions options, ListenerFanout fanout)
      throws IOException {
    String name = source.cacheName();
    if (options.pin()) {
      store.pin(source);
    }
    long deadline = ticker.nanos() + options.waitTimeout().toNanos();
    boolean verified = !options.verify();
    boolean counted = false;
    HolderFiles holders = host.holders();
    while (true) {
      Optional<CacheEntry> entry;
      try {
        entry = store.entryOf(source);
      } catch (ManifestCorruptException e) {
        LOG.log(
            Level.WARNING, "entry " + name + " is damaged (" + e.getMessage() + "); replacing it");
        eviction.replaceDamaged(source, name, CacheLayout.MANIFEST, -1, e.getMessage());
        continue;
      }
      if (entry.isPresent()) {
        if (!verified) {
          VerificationResult result = verifier.verify(entry.get());
          verified = true;
          if (!result.ok()) {
            LOG.log(
                Level.WARNING,
                "entry for " + source + " failed verification: " + result.mismatches()
                    + "; replacing it unless it is leased");
            VerificationResult.Mismatch first = result.mismatches().getFirst();
            eviction.replaceDamaged(
                source,
                name,
                first.path(),
                first.offsetBytes(),
                first.path() + " at offset " + first.offsetBytes() + ": " + first.reason());
            continue;
          }
        }
        if (!counted) {
          stats.hits.increment();
        }
        store.touch(name);
        return store.committedEntry(name).orElse(entry.get());
      }
      if (!counted) {
        stats.misses.increment();
        counted = true;
      }
      Path lockFile = host.layout().downloadLock(name);
      Optional<FileLocks.Held> lock = FileLocks.tryLock(lockFile);
      if (lock.isPresent()) {
        try (FileLocks.Held held = lock.get();
            HolderFiles.Renewal heartbeat = holders.keepAlive(lockFile)) {
          if (store.committedEntry(name).isPresent()) {
            continue;
          }
          verified = true; // what we download now is verified while writing
          return new DownloadJob(host, source, fanout).run();
        }
      }
      // Another process (or another cache in this JVM) is downloading: wait for its commit.
      if (!holders.lockHolderAlive(lockFile)) {
        // A heartbeat root, whose lock outlived a holder that stopped renewing it: safe to
        // download beside it, since each writer stages apart and the rename is the commit.
        LOG.log(
            Level.WARNING,
            "the download lock of " + source + " was not renewed within " + holders.expiry()
                + " (its holder is gone); downloading without it");
        return new DownloadJob(host, source, fanout).run();
      }
      if (ticker.nanos() - deadline >= 0) {
        if (options.downloadAfterWait()) {
          LOG.log(
              Level.INFO,
              "waited " + options.waitTimeout() + " for another download of " + source
                  + "; downloading in parallel");
          return new DownloadJob(host, source, fanout).run();
        }
        throw new CacheTimeoutException(
            "another process did not finish downloading " + source + " within "
                + options.waitTimeout() + downloads.progressNote(name),
            options.waitTimeout());
      }
      pause(source);
    }
  }

  /**
   * Waits until some process commits {@code source}, without downloading anything.
   *
   * @throws CacheTimeoutException if no commit happened within {@code timeout}
   */
  CacheEntry await(ModelSource source, Duration timeout) throws IOException {
    long deadline = ticker.nanos() + timeout.toNanos();
    String name = source.cacheName();
    while (true) {
      Optional<CacheEntry> e = store.entryOf(source);
      if (e.isPresent()) {
        store.touch(name);
        return e.get();
      }
      if (ticker.nanos() - deadline >= 0) {
        throw new CacheTimeoutException(
            "no process committed " + source + " within " + timeout + downloads.progressNote(name),
            timeout);
      }
      pause(source);
    }
  }

  private void pause(ModelSource source) throws InterruptedIOException {
    try {
      ticker.sleep(pollInterval);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for " + source);
    }
  }
}
